"""Basic auth is not a CPU weapon (issue 10 point 8): results are cached and one bcrypt runs at a time.

A wrong password used to cost a full bcrypt every time, in parallel: 8 clients held the exporter at ~2 cores.
CPU is compared per request (a bcrypt costs the same CPU time however loaded the machine is).
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
import urllib.error
import urllib.request

import pytest
import yaml

from lab.proc import Lab

from core_testlib import Toy, bcrypt_hash, cpu_seconds, toy_config

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def toy(module_lab: Lab) -> Toy:
    from core_testlib import Peer

    web = module_lab.workdir / "web.yml"
    # cost 10, as `htpasswd -nBC 10` makes and the docs recommend: ~60 ms of CPU per check
    web.write_text(yaml.safe_dump({"basic_auth_users": {"prometheus": bcrypt_hash(PASSWORD, rounds=10)}}))
    return Toy(module_lab, toy_config(sw1=Peer()), args=[f"--web.config.file={web}"])


def _get(toy: Toy, password: str, path: str = "/-/healthy") -> int:
    auth = base64.b64encode(f"prometheus:{password}".encode()).decode()
    req = urllib.request.Request(toy.url + path, headers={"Authorization": f"Basic {auth}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def _attack(toy: Toy, passwords, seconds: float, clients: int = 8) -> tuple[float, int]:
    """`clients` threads sending wrong passwords for `seconds`: (cores the exporter used, requests)."""
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    count = [0]

    def client() -> None:
        while time.monotonic() < stop:
            with lock:
                pw = next(passwords)
            assert _get(toy, pw) == 401
            with lock:
                count[0] += 1

    c0, t0 = cpu_seconds(toy.proc.pid), time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (cpu_seconds(toy.proc.pid) - c0) / (time.monotonic() - t0), count[0]


def test_repeated_wrong_password_is_cached(toy: Toy) -> None:
    assert _get(toy, PASSWORD) == 200
    c0 = cpu_seconds(toy.proc.pid)
    cores, n = _attack(toy, itertools.repeat("wrong"), 1.5)
    per_request = (cpu_seconds(toy.proc.pid) - c0) / n
    assert per_request < 0.010, (
        f"{per_request * 1000:.1f} ms of CPU per request ({n} requests, {cores:.2f} cores)"
    )


def test_distinct_wrong_passwords_cost_at_most_one_core(toy: Toy) -> None:
    assert _get(toy, PASSWORD) == 200
    counter = itertools.count()
    passwords = (f"guess-{i}" for i in counter)
    result = {}

    def legit() -> None:  # Prometheus with the right password, during the attack
        time.sleep(0.5)
        t0 = time.monotonic()
        result["code"] = _get(toy, PASSWORD, "/probe?target=sw1")
        result["took"] = time.monotonic() - t0

    th = threading.Thread(target=legit)
    th.start()
    cores, n = _attack(toy, passwords, 1.5)
    th.join()
    assert cores < 1.25, f"{cores:.2f} cores for {n} distinct wrong passwords"
    assert result["code"] == 200 and result["took"] < 1.0, result


class _CountingBcrypt:
    """bcrypt.checkpw that records how many run at once and how often it ran (it sleeps, as bcrypt does
    without the GIL)."""

    def __init__(self, real) -> None:
        self.real, self.now, self.most, self.calls = real, 0, 0, 0
        self.lock = threading.Lock()

    def __call__(self, password: bytes, hashed: bytes) -> bool:
        with self.lock:
            self.now += 1
            self.calls += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(0.02)
            return self.real(password, hashed)
        finally:
            with self.lock:
                self.now -= 1


def _security(monkeypatch, **users: str):
    import bcrypt

    from exporters.core import webconfig

    counting = _CountingBcrypt(bcrypt.checkpw)
    monkeypatch.setattr(webconfig.bcrypt, "checkpw", counting)
    cfg = webconfig.WebConfig(basic_auth_users={u: bcrypt_hash(p) for u, p in users.items()})
    return webconfig.WebSecurity(cfg), counting


def _header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_one_bcrypt_at_a_time(monkeypatch) -> None:
    sec, counting = _security(monkeypatch, prometheus=PASSWORD)
    threads = [
        threading.Thread(target=sec.check_basic_auth, args=(_header("prometheus", f"guess-{i}"),))
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counting.calls == 8 and counting.most == 1, (counting.calls, counting.most)


def test_results_are_cached_for_a_bounded_time_and_number(monkeypatch) -> None:
    from exporters.core import webconfig

    sec, counting = _security(monkeypatch, prometheus=PASSWORD)
    for _ in range(3):
        assert sec.check_basic_auth(_header("prometheus", PASSWORD))
        assert not sec.check_basic_auth(_header("prometheus", "wrong"))
        assert not sec.check_basic_auth(_header("nobody", "wrong"))
    assert counting.calls == 3  # once per distinct (user, hash, password)
    monkeypatch.setattr(webconfig, "AUTH_CACHE_SECONDS", 0.2)
    time.sleep(0.3)
    assert sec.check_basic_auth(_header("prometheus", PASSWORD)) and counting.calls == 4  # expired
    monkeypatch.setattr(webconfig, "AUTH_CACHE_SECONDS", 300.0)
    monkeypatch.setattr(webconfig, "AUTH_CACHE_SIZE", 10)
    n = webconfig.AUTH_CACHE_SIZE
    for i in range(n + 5):
        sec.check_basic_auth(_header("prometheus", f"guess-{i}"))
    calls = counting.calls
    sec.check_basic_auth(_header("prometheus", "guess-0"))
    assert counting.calls == calls + 1  # the oldest failure was evicted
    assert (
        sec.check_basic_auth(_header("prometheus", PASSWORD)) and counting.calls == calls + 1
    )  # not evicted by failures
