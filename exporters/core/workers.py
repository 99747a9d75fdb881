"""Reused threads for the short concurrent calls of a scrape (jobs, shared fetches, HTTP handlers).

A thread started for each call makes the peer slower: measured on a 2-core machine, five threads started
just before a request to LXD's `/1.0/metrics` made its answer take 60 ms instead of 38 ms (the same five
threads, idle since earlier, cost nothing). So a call runs on an idle worker if there is one, else on a
new worker, which stays for the next calls; a worker idle for `IDLE_SECONDS` exits. A call that never
returns keeps its worker, as a thread of its own would be kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .log import get_logger

log = get_logger("exporters.core.workers")

IDLE_SECONDS = 300.0  # a worker unused this long exits
MAX_IDLE = 64  # idle workers kept at most (beyond, a worker exits when its call ends)
IDLE_NAME = "idle worker"  # an idle worker's thread name (a busy one has its call's name)


class Task:
    """One call handed to a worker: `wait()` for it like `Thread.join()`, `running()` like `is_alive()`."""

    __slots__ = ("_done", "fn", "name")

    def __init__(self, fn: Callable[[], object], name: str) -> None:
        self.fn, self.name = fn, name
        self._done = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(None if timeout is None else max(0.0, timeout))

    def running(self) -> bool:
        return not self._done.is_set()

    def execute(self) -> None:
        try:
            self.fn()
        except BaseException as e:  # noqa: BLE001 - a worker outlives what it runs
            log.error("unexpected error in a worker", task=self.name, err=f"{type(e).__name__}: {e}")
        finally:
            self.fn = _nothing  # drop what the call holds
            self._done.set()


class _Worker:
    __slots__ = ("task", "wake")

    def __init__(self, task: Task) -> None:
        self.task: Task | None = task
        self.wake = threading.Condition(threading.Lock())


class Workers:
    def __init__(self, idle_seconds: float = IDLE_SECONDS, max_idle: int = MAX_IDLE) -> None:
        self.idle_seconds, self.max_idle = idle_seconds, max_idle
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []  # the last one is the most recently used
        self.started = 0  # threads started so far

    def run(self, fn: Callable[[], object], name: str = "call") -> Task:
        """Start `fn()` on a worker. Its exceptions are logged, never raised: catch what matters in `fn`."""
        task = Task(fn, name)
        with self._lock:
            w = self._idle.pop() if self._idle else None
            if w is None:
                self.started += 1
        if w is None:
            threading.Thread(target=self._loop, args=(_Worker(task),), name=name, daemon=True).start()
            return task
        with w.wake:
            w.task = task
            w.wake.notify()
        return task

    def _loop(self, w: _Worker) -> None:
        me = threading.current_thread()
        while True:
            task = w.task
            if task is not None:
                me.name = task.name
                task.execute()
                me.name = IDLE_NAME
            with w.wake:
                w.task = None
                with self._lock:
                    if len(self._idle) >= self.max_idle:
                        return
                    self._idle.append(w)
                while w.task is None:
                    if w.wake.wait(self.idle_seconds):
                        continue
                    with self._lock:  # idle too long: leave, unless run() took it meanwhile
                        if w in self._idle:
                            self._idle.remove(w)
                            return
                    # run() took it from the list and hands its call over as soon as we wait again


# The process's workers, shared by core and the exporters.
WORKERS = Workers()


def _nothing() -> None:
    pass
