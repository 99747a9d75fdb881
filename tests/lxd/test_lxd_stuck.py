"""Issue 10.4: a trickling or silent LXD holds no exporter thread past the scrape deadline.

Before issue 15 a trickling LXD left 4 threads per scrape behind (10 -> 810 after 200 scrapes) and a
silent one queued 273 threads behind a lock with 10 parallel scrapes. Every read is now bounded by the
deadline as a whole (the core's HTTP session and watchdog), and each collector is an `Exclusive` gate: a
scrape whose previous scrape of the same collector is stuck answers `up 0` (reason busy) at once.
Since the jobs run on reused workers (core/workers.py) a finished job's thread waits idle for the next
one: the calls end at the deadline, and the threads stay few.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from exporters.core import Deadline, parse_config
from exporters.core.scrape import ErrorCounters, run_jobs
from exporters.core.workers import WORKERS
from exporters.lxd.config import Config
from exporters.lxd.main import COLLECTORS, Runtime
from lab.lxd_fake import FakeLXD, Route
from lab.proc import Lab, wait_for

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "lxd"
PATHS = (
    "/1.0",
    "/1.0/instances",
    "/1.0/metrics",
    "/1.0/cluster/members",
    "/1.0/storage-pools",
    "/1.0/projects",
)


def ours() -> int:
    """Calls of the scrapes still running (run_jobs names them `scrape collector=...`)."""
    return sum(1 for t in threading.enumerate() if t.name.startswith("scrape "))


def settled(base: int, peak: int, started: int, most: int) -> str:
    """The calls all end (at their deadline, give or take the watchdog's wake-up); at most `most` ran at
    once, and no more threads than that were started: the rest were reused."""
    wait_for(lambda: ours() == base, 3, "the scrape calls to end")
    assert peak <= base + most, peak
    new = WORKERS.started - started
    assert new <= most, new
    return f"at most {peak - base} calls running, 0 after, {new} threads started"


def fake(lab: Lab, kind: str) -> FakeLXD:
    body = (FIX / "instances_recursion2_allprojects.json").read_bytes()
    # trickle: 64 bytes every 50 ms, about 16 s for the whole answer; silent: accepts, never answers
    route = Route(body, drip=0.05) if kind == "trickle" else Route(body, delay=600)
    return FakeLXD(lab, dict.fromkeys(PATHS, route))


def scrape(rt: Runtime, seconds: float, errors: ErrorCounters) -> dict[str, float]:
    fams = run_jobs(rt.jobs(None), Deadline(seconds), "colo_lxd", errors)
    return {s.labels["collector"]: s.value for f in fams if f.name == "colo_lxd_up" for s in f.samples}


@pytest.mark.parametrize("kind", ["trickle", "silent"])
def test_200_scrapes_leave_no_thread_behind(lab: Lab, kind: str) -> None:
    f = fake(lab, kind)
    rt = Runtime(parse_config(Config, {"socket": f.socket}))
    lab.callback(rt.close)
    errors = ErrorCounters(("timeout", "busy", "connect"))
    base, peak, started = ours(), 0, WORKERS.started
    t0 = time.monotonic()
    for _ in range(200):
        up = scrape(rt, 0.05, errors)
        assert set(up) == set(COLLECTORS)
        assert not any(v for c, v in up.items() if c != "disk")  # disk: no data yet, nothing waited for
        peak = max(peak, ours())
    took = time.monotonic() - t0
    threads = settled(base, peak, started, 2 * len(COLLECTORS))
    assert took < 200 * 0.05 + 15, took
    print(f"{kind}: 200 scrapes in {took:.1f}s, {threads}")


def test_ten_parallel_scrapes_of_a_silent_lxd(lab: Lab) -> None:
    f = fake(lab, "silent")
    rt = Runtime(parse_config(Config, {"socket": f.socket}))
    lab.callback(rt.close)
    errors = ErrorCounters(("timeout", "busy", "connect"))
    base, started = ours(), WORKERS.started
    peak = 0
    stop = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, ours())
            time.sleep(0.01)

    w = threading.Thread(target=watch)
    w.start()
    t0 = time.monotonic()
    try:
        for _ in range(3):  # rounds of 10 at once, each round on the previous round's stuck state
            with ThreadPoolExecutor(10) as pool:
                ups = list(pool.map(lambda _: scrape(rt, 0.5, errors), range(10)))
            assert all(not any(v for c, v in up.items() if c != "disk") for up in ups)
    finally:
        stop.set()
        w.join()
    took = time.monotonic() - t0
    # each round's scrapes run their jobs at most side by side, and all are back by the deadline
    threads = settled(base, peak, started, 10 * len(COLLECTORS))
    assert took < 3 * 0.5 + 5, took
    print(f"silent, 3 x 10 parallel scrapes in {took:.1f}s, {threads}")
