"""Reused worker threads (exporters/core/workers.py): calls run at once, workers are reused, idle ones
leave, a stuck call keeps only its own worker, an error costs only its call."""

from __future__ import annotations

import threading
import time

from exporters.core.workers import Workers


def test_calls_run_at_once_and_workers_are_reused() -> None:
    pool = Workers()
    gate = threading.Barrier(4, timeout=5)
    tasks = [pool.run(gate.wait, f"c{i}") for i in range(4)]  # all four must run together to pass
    assert all(t.wait(5) for t in tasks)
    assert pool.started == 4
    again = [pool.run(lambda: None) for _ in range(4)]
    assert all(t.wait(5) for t in again) and not any(t.running() for t in again)
    assert pool.started <= 5  # the four idle ones took the new calls (one may still be on its way back)


def test_a_stuck_call_keeps_only_its_worker_and_wait_times_out() -> None:
    pool = Workers()
    release = threading.Event()
    stuck = pool.run(release.wait, "stuck")
    assert not stuck.wait(0.05) and stuck.running()
    assert pool.run(lambda: None).wait(5)  # another call still runs, on another worker
    release.set()
    assert stuck.wait(5)


def test_an_error_is_logged_and_the_worker_goes_on(caplog) -> None:
    pool = Workers()

    def boom() -> None:
        raise RuntimeError("peer said no")

    assert pool.run(boom, "boom").wait(5)
    out: list[int] = []
    assert pool.run(lambda: out.append(1)).wait(5)
    assert out == [1] and pool.started == 1
    assert any("peer said no" in str(r.__dict__) for r in caplog.records)


def test_idle_workers_leave_and_the_pool_starts_new_ones() -> None:
    pool = Workers(idle_seconds=0.05)
    assert pool.run(lambda: None).wait(5)
    deadline = time.monotonic() + 5
    while pool._idle and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not pool._idle
    assert pool.run(lambda: None).wait(5) and pool.started == 2


def test_at_most_max_idle_workers_stay() -> None:
    pool = Workers(max_idle=2)
    gate = threading.Barrier(5, timeout=5)
    assert all(t.wait(5) for t in [pool.run(gate.wait) for _ in range(5)])
    deadline = time.monotonic() + 5
    while len(pool._idle) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert len(pool._idle) == 2


def test_a_call_handed_over_as_an_idle_worker_times_out_still_runs() -> None:
    # Many rounds around the idle timeout: run() may take a worker that has just timed out.
    pool = Workers(idle_seconds=0.002)
    for _ in range(300):
        assert pool.run(lambda: None).wait(5)
        time.sleep(0.002)
