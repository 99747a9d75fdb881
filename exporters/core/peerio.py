"""Peer I/O bounded by the deadline as a whole, not per read.

A socket timeout restarts on every byte, so a peer that trickles one byte at a time holds a blocking read
for ever. Two tools close that gap:

* `guard(sock, deadline)`: a process-wide watchdog shuts the socket down when the deadline passes, which
  wakes any thread blocked on it (connect, TLS handshake, send, recv), whatever library is reading.
* `read_body(read, deadline, limit, where)`: the one bounded reader for a peer's answer.

`scope(deadline)` arms every socket that `arm()` is called on in this thread until the scope ends; the
HTTP session in `http.py` uses it so that pooled connections are guarded for each request.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator

from .scrape import Deadline, Malformed, ScrapeError

CHUNK = 256 * 1024


class Guard:
    """One armed socket; `fired` says whether the watchdog shut it down."""

    __slots__ = ("armed", "at", "fired", "sock")

    def __init__(self, sock: socket.socket, at: float) -> None:
        self.sock, self.at = sock, at
        self.armed = True
        self.fired = False

    def cancel(self) -> None:
        self.armed = False


class _Watchdog:
    """One daemon thread with a heap of guards ordered by deadline; cancelled guards are dropped lazily."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Guard]] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, sock: socket.socket, at: float) -> Guard:
        g = Guard(sock, at)
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="peer-io watchdog", daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, (at, next(self._seq), g))
            if self._heap[0][2] is g:
                self._cond.notify()
        return g

    def pending(self) -> int:
        with self._cond:
            return sum(1 for _, _, g in self._heap if g.armed)

    def _run(self) -> None:
        with self._cond:
            while True:
                heap = self._heap
                while heap and not heap[0][2].armed:
                    heapq.heappop(heap)
                if not heap:
                    self._cond.wait()
                    continue
                wait = heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                g = heapq.heappop(heap)[2]
                g.armed = False
                g.fired = True
                # The base class' shutdown, also for an SSLSocket: it only touches the file descriptor.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(g.sock, socket.SHUT_RDWR)


WATCHDOG = _Watchdog()


@contextlib.contextmanager
def guard(sock: socket.socket, deadline: Deadline) -> Iterator[Guard]:
    """Shut `sock` down if it is still in use when `deadline` passes."""
    g = WATCHDOG.arm(sock, deadline.at)
    try:
        yield g
    finally:
        g.cancel()


class Scope:
    """The sockets armed in one thread for one deadline (see `scope`)."""

    __slots__ = ("_ids", "deadline", "guards")

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self.guards: list[Guard] = []
        self._ids: set[int] = set()

    def add(self, sock: socket.socket) -> None:
        if id(sock) not in self._ids:
            self._ids.add(id(sock))
            self.guards.append(WATCHDOG.arm(sock, self.deadline.at))

    @property
    def fired(self) -> bool:
        return any(g.fired for g in self.guards)

    def close(self) -> None:
        for g in self.guards:
            g.cancel()


_local = threading.local()


@contextlib.contextmanager
def scope(deadline: Deadline) -> Iterator[Scope]:
    """Until the block ends, every socket passed to `arm()` in this thread is guarded by `deadline`."""
    prev = getattr(_local, "scope", None)
    sc = _local.scope = Scope(deadline)
    try:
        yield sc
    finally:
        _local.scope = prev
        sc.close()


def arm(sock: socket.socket | None) -> None:
    """Guard `sock` by the current thread's scope, if there is one (called by connection classes)."""
    sc: Scope | None = getattr(_local, "scope", None)
    if sc is not None and sock is not None:
        sc.add(sock)


def read_body(read: Callable[[int], bytes], deadline: Deadline, limit: int, where: str) -> bytes:
    """Read until EOF: `Malformed` past `limit` bytes, `ScrapeError("timeout")` once the deadline passed.

    `read(n)` returns up to n bytes and b"" at the end; guard the socket so a single read cannot outlive
    the deadline."""
    parts: list[bytes] = []
    size = 0
    while True:
        if deadline.expired():
            raise ScrapeError("timeout", f"{where}: answer not complete at the deadline ({size} bytes read)")
        chunk = read(CHUNK)
        if not chunk:
            if deadline.expired():  # the watchdog may have ended the stream: not a whole answer
                raise ScrapeError("timeout", f"{where}: answer cut at the deadline ({size} bytes read)")
            return b"".join(parts)
        size += len(chunk)
        if size > limit:
            raise Malformed(f"{where}: answer larger than {_size(limit)}")
        parts.append(chunk)


def _size(n: int) -> str:
    for unit, div in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= div and n % div == 0:
            return f"{n // div} {unit}"
    return f"{n} bytes"
