"""Issue 9 §1: no request ever leaves the configured BMC, no redirect is followed, no password in a URL,
and Redfish sessions do not pile up on the BMC across reloads or stay behind after SIGTERM."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml

from lab.bmc import PASSWORD, USER
from lab.bmc_hostile import GOOD, HostileRedfish, Tripwire, concat_port_pair
from lab.bmc_redfish import RedfishServer
from lab.exporter import ExporterProc, parse, value
from lab.proc import Lab

from testlib import config_check

ROOT = Path(__file__).resolve().parent.parent.parent
AUTH = {"lab": {"user": USER, "password": PASSWORD}}
LB = {"target": "h", "source": "redfish"}


@pytest.fixture(scope="module")
def hostile(module_lab: Lab) -> tuple[Tripwire, HostileRedfish]:
    p, q = concat_port_pair()  # the service on P, the tripwire on P*10+9: "9/redfish/v1" lands there
    trip = Tripwire(q)
    module_lab.callback(trip.close)
    bmc = HostileRedfish(trip, port=p)
    module_lab.callback(bmc.close)
    return trip, bmc


def _exporter(lab: Lab, bmc: HostileRedfish, login: str = "session") -> ExporterProc:
    target = {"url": bmc.url, "auth": "lab", "login": login, "insecure_http": True, "timeout": "2s"}
    return ExporterProc(lab, "bmc", {"auths": AUTH, "targets": {"h": {"redfish": target}}})


def _probe(exp: ExporterProc, target: str = "h") -> dict:
    return parse(exp.probe(target, headers={"X-Prometheus-Scrape-Timeout-Seconds": "8"}))


@pytest.mark.parametrize("login", ["session", "basic"])
def test_hostile_links_never_leave_the_bmc(
    lab: Lab, hostile: tuple[Tripwire, HostileRedfish], login: str
) -> None:
    trip, bmc = hostile
    bmc.redirects = set()
    exp = _exporter(lab, bmc, login)
    for _ in range(2):
        m = _probe(exp)
        assert value(m, "colo_bmc_up", **LB) == 1
        assert value(m, "colo_bmc_temperature_celsius", sensor=GOOD["temperature"][0], **LB) == 31
        assert value(m, "colo_bmc_fan_speed_rpm", sensor=GOOD["fan"][0], **LB) == 4100
        assert value(m, "colo_bmc_psu_health", sensor=GOOD["psu"], **LB) == 0
        assert value(m, "colo_bmc_system_power_watts", **LB) == 250
    assert value(m, "colo_bmc_scrape_errors_total", reason="bad_link") >= 30
    # Every request the service got is a plain Redfish path; nothing reached the tripwire.
    sent = [p for _, p in bmc.requests]
    assert sent and all(p.startswith("/redfish") and "@" not in p and "//" not in p for p in sent), sent
    log = exp.log_text()
    assert "bad_link" in log and PASSWORD not in log
    exp.proc.stop()
    if login == "session":  # the logout went to the session's own path, not to its hostile Location
        assert bmc.stats()["sessions"] == 0 and bmc.stats()["logouts"] >= 1
    assert trip.touched() == ""


def test_redirects_are_never_followed(lab: Lab, hostile: tuple[Tripwire, HostileRedfish]) -> None:
    trip, bmc = hostile
    exp = _exporter(lab, bmc)
    bmc.redirects = {"GET", "POST", "DELETE"}
    m = _probe(exp)
    assert value(m, "colo_bmc_up", **LB) == 0
    assert value(m, "colo_bmc_scrape_errors_total", reason="http") >= 1
    # Login works, then only the logout DELETE is redirected (with the token in the request).
    bmc.redirects = set()
    assert value(_probe(exp), "colo_bmc_up", **LB) == 1
    bmc.redirects = {"DELETE"}
    before = bmc.stats()["logouts"]
    exp.proc.stop()
    assert bmc.stats()["logouts"] == before
    assert "logout refused" in exp.log_text()
    bmc.redirects = set()
    assert trip.touched() == ""


def _check(tmp_path: Path, target: dict) -> subprocess.CompletedProcess:
    p = tmp_path / "bmc.yml"
    p.write_text(yaml.safe_dump({"auths": AUTH, "targets": {"t": {"redfish": {"auth": "lab", **target}}}}))
    return config_check("bmc", p)


def test_password_in_url_refused_without_echo(tmp_path: Path) -> None:
    r = _check(tmp_path, {"url": "https://admin:S3cret-in-url@10.0.0.5"})
    assert r.returncode == 1
    assert "targets.t.redfish.url" in r.stderr and "password in it" in r.stderr
    assert "S3cret-in-url" not in r.stdout + r.stderr
    r = _check(tmp_path, {"url": "https://admin@10.0.0.5"})
    assert r.returncode == 1 and "user name" in r.stderr


def test_plain_http_needs_insecure_http(tmp_path: Path, lab: Lab) -> None:
    r = _check(tmp_path, {"url": "http://10.0.0.5"})
    assert r.returncode == 1 and "insecure_http: true" in r.stderr
    assert _check(tmp_path, {"url": "http://10.0.0.5", "insecure_http": True}).returncode == 0
    exp = ExporterProc(
        lab,
        "bmc",
        {
            "auths": AUTH,
            "targets": {"t": {"redfish": {"url": "http://10.0.0.5", "auth": "lab", "insecure_http": True}}},
        },
    )
    assert "password crosses the network in clear" in exp.log_text()


def _reload(exp: ExporterProc, config: dict) -> None:
    assert exp.config_file is not None
    exp.config_file.write_text(yaml.safe_dump(config))
    code, body = _post(exp, "/-/reload")
    assert code == 200, body


def _post(exp: ExporterProc, path: str) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(exp.url + path, data=b"", method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_sessions_after_reloads_and_sigterm(lab: Lab) -> None:
    rfs = RedfishServer(lab, name="bmc-sec-sessions")
    port = rfs.url.rsplit(":", 1)[1]

    def cfg(host: str) -> dict:
        return {
            "auths": AUTH,
            "targets": {
                name: {"redfish": {"url": f"http://{host}:{port}", "auth": "lab", "insecure_http": True}}
                for name in ("a", "b")
            },
        }

    exp = ExporterProc(lab, "bmc", cfg("127.0.0.1"))
    for t in ("a", "b"):
        assert value(_probe(exp, t), "colo_bmc_up", target=t, source="redfish") == 1
    assert rfs.stats()["sessions"] == 2
    # Six reloads that keep each target's URL and credentials: the sessions are kept, no new login.
    for _ in range(6):
        _reload(exp, cfg("127.0.0.1"))
        for t in ("a", "b"):
            assert value(_probe(exp, t), "colo_bmc_up", target=t, source="redfish") == 1
    assert rfs.stats()["sessions"] == 2 and rfs.stats()["logins"] == 2
    # Six reloads that change the URL: each new runtime logs in and deletes the old session at once.
    for i in range(6):
        _reload(exp, cfg("localhost" if i % 2 == 0 else "127.0.0.1"))
        for t in ("a", "b"):
            assert value(_probe(exp, t), "colo_bmc_up", target=t, source="redfish") == 1
        time.sleep(0.3)  # the old session's DELETE runs beside the scrape
        assert rfs.stats()["sessions"] == 2, rfs.stats()
    assert rfs.stats()["logins"] == 2 + 12 and rfs.stats()["logouts"] == 12
    # A reload that drops target b deletes its session at once (not when the old runtime is closed).
    only_a = cfg("127.0.0.1")
    del only_a["targets"]["b"]
    _reload(exp, only_a)
    for _ in range(30):
        if rfs.stats()["sessions"] == 1:
            break
        time.sleep(0.1)
    assert rfs.stats()["sessions"] == 1 and rfs.stats()["logouts"] == 13
    assert value(_probe(exp, "a"), "colo_bmc_up", target="a", source="redfish") == 1
    t0 = time.monotonic()
    exp.proc.stop()
    assert time.monotonic() - t0 < 5
    assert rfs.stats()["sessions"] == 0 and rfs.stats()["logouts"] == 14


def test_sigterm_logs_out_in_parallel_within_the_budget(
    lab: Lab, hostile: tuple[Tripwire, HostileRedfish]
) -> None:
    trip, bmc = hostile
    rfs = RedfishServer(lab, name="bmc-sec-sigterm")
    targets = {
        f"ok{i}": {"redfish": {"url": rfs.url, "auth": "lab", "insecure_http": True}} for i in range(4)
    }
    # Each target name has its own session; two hung BMCs never answer their logout.
    targets["hung1"] = {"redfish": {"url": bmc.url, "auth": "lab", "insecure_http": True}}
    targets["hung2"] = {"redfish": {"url": bmc.url + "/redfish/v1", "auth": "lab", "insecure_http": True}}
    exp = ExporterProc(lab, "bmc", {"auths": AUTH, "targets": targets})
    for t in targets:
        assert value(_probe(exp, t), "colo_bmc_up", target=t, source="redfish") == 1
    assert rfs.stats()["sessions"] == 4
    bmc.hang = {"DELETE"}
    try:
        t0 = time.monotonic()
        exp.proc.stop()
        took = time.monotonic() - t0
    finally:
        bmc.hang = set()
    assert took < 5, took
    assert rfs.stats()["sessions"] == 0
    assert trip.touched() == ""
