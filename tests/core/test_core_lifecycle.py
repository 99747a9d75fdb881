"""The process' life: start, reload and stop (issue 10 point 3), with the toy exporter as a real process."""

from __future__ import annotations

import contextlib
import http.client
import signal
import subprocess
import sys
import threading
import time

from lab.exporter import ROOT, parse, value
from lab.proc import port_open, wait_for

from core_testlib import Peer, Toy, toy_config


def test_sighup_while_starting_does_not_kill_the_exporter(lab, peer) -> None:
    # How long this machine takes to reach our code at all (the interpreter's own start, which no Python
    # program can shorten); from then on a SIGHUP must never kill the exporter.
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-c", "import exporters"], cwd=ROOT, check=True)
    boot = time.monotonic() - t0
    toy = Toy(lab, {**toy_config(sw1=peer), "build_delay": "1s"}, wait=False)  # a slow start
    start = time.monotonic()
    time.sleep(2 * boot + 0.1)  # with a margin: this start may be slower than the one measured
    sent = 0
    while not port_open("127.0.0.1", toy.port):
        assert toy.proc.alive(), (
            f"killed by a SIGHUP {time.monotonic() - start:.2f}s after start{toy.proc.tail()}"
        )
        toy.proc.popen.send_signal(signal.SIGHUP)
        sent += 1
        time.sleep(0.05)
        assert time.monotonic() - start < 30, "never started listening"
    assert sent >= 3 and toy.proc.alive()
    assert toy.request("/probe?target=sw1")[0] == 200
    # A SIGHUP that came while starting is honoured once the exporter is up.
    wait_for(lambda: "config reloaded" in toy.log(), 10, "the reload asked for during start")


def test_reloads_are_serialised_and_the_last_one_wins(lab, peer) -> None:
    toy = Toy(lab, toy_config(sw1=peer))
    toy.write({**toy_config(slow_cfg=peer), "build_delay": "1.2s"})
    toy.proc.popen.send_signal(signal.SIGHUP)
    time.sleep(0.3)  # the slow reload is building
    toy.write(toy_config(fast_cfg=peer))
    toy.proc.popen.send_signal(signal.SIGHUP)
    wait_for(lambda: toy.log().count("config reloaded") >= 2, 15, "both reloads")
    time.sleep(0.3)
    assert toy.request("/probe?target=fast_cfg")[0] == 200, "the last config is not in force"
    assert toy.request("/probe?target=slow_cfg")[0] == 400
    assert value(parse(toy.request("/metrics")[1]), "colo_toy_config_last_reload_successful") == 1


def test_old_runtime_is_closed_as_soon_as_no_scrape_uses_it(lab) -> None:
    slow = Peer(delay=1.5)
    toy = Toy(lab, {**toy_config(sw1=slow), "marker": "gen1"})
    done = {}

    def scrape() -> None:
        done["code"] = toy.request("/probe?target=sw1")[0]
        done["at"] = time.monotonic()

    th = threading.Thread(target=scrape)
    th.start()
    time.sleep(0.5)  # the scrape is using gen1
    toy.write({**toy_config(sw1=slow), "marker": "gen2"})
    assert toy.request("/-/reload", method="POST")[0] == 200
    time.sleep(0.5)
    assert "marker=gen1" not in toy.log(), "closed while a scrape still used it"
    th.join()
    assert done["code"] == 200
    wait_for(lambda: "marker=gen1" in toy.log(), 2, "the old runtime to be closed after its last scrape")
    # With no scrape in flight the old runtime is closed at once.
    toy.write({**toy_config(sw1=slow), "marker": "gen3"})
    t0 = time.monotonic()
    assert toy.request("/-/reload", method="POST")[0] == 200
    wait_for(lambda: "marker=gen2" in toy.log(), 2, "the old runtime to be closed")
    assert time.monotonic() - t0 < 1.0


def test_sigterm_with_scrapes_in_flight_exits_within_5s(lab) -> None:
    silent = Peer(delay=60)
    cfg = {**toy_config(sw1=silent), "close_delay": "60s"}  # the peer hangs, and so does close()
    cfg["targets"]["sw1"]["timeout"] = "30s"
    toy = Toy(lab, cfg)

    def scrape() -> None:  # cut off by the shutdown: no answer is the expected outcome
        with contextlib.suppress(OSError, http.client.HTTPException):
            toy.request(
                "/probe?target=sw1", headers={"X-Prometheus-Scrape-Timeout-Seconds": "30"}, timeout=40
            )

    for _ in range(3):
        threading.Thread(target=scrape, daemon=True).start()
    time.sleep(0.5)
    t0 = time.monotonic()
    toy.proc.popen.send_signal(signal.SIGTERM)
    try:
        toy.proc.popen.wait(15)
    except subprocess.TimeoutExpired:
        raise AssertionError("still running 15 s after SIGTERM") from None
    took = time.monotonic() - t0
    assert took <= 5.0, f"took {took:.1f}s to exit"
    assert toy.proc.popen.returncode == 0
    assert "shutdown budget" in toy.log()
