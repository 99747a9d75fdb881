"""When to read the instance list (`/1.0/instances?recursion=1`) again. Pure: no I/O, no clock of its own.

The list is kept and re-read when it is older than `max_age`, or when what the daemon's `/1.0/metrics`
shows (read every scrape anyway) contradicts it: the instances that answer there — running or frozen,
with their project, name and member — are not the running ones of the list (a start, stop, move, rename
or a new running instance), or, with `scope: cluster`, a member's status changed (its instances move,
or come back as Error).

Two things make the comparison lie, and neither may cost a re-read every scrape:

* LXD and Incus keep a `/1.0/metrics` answer for 8 s after building it, so an answer can predate the
  list it is compared with. After each read, an answer that still disagrees in the same way is trusted
  only once it is certainly newer than the list (`METRICS_CACHE` seconds after it).
* Some running instances never appear in `/1.0/metrics` (LXD 5.0 leaves out a VM whose agent does not
  answer). A disagreement seen in an answer newer than the list, and still there after one more read of
  the list that did not change it, is settled: it causes no further reads until either side changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

Key = tuple[str, str, str]  # project, name, location (the member, or "none" on a standalone server)

# LXD and Incus serve a /1.0/metrics answer up to 8 s after building it; 2 s more for the build itself.
METRICS_CACHE = 10.0
RUNNING = ("running", "frozen")  # the statuses /1.0/metrics reports (both daemons list frozen instances)
REASONS = ("age", "changed", "unverified")


@dataclass(frozen=True)
class Seen:
    """What this scrape's `/1.0/metrics` answers showed."""

    running: frozenset[Key]  # instances with counters, keyed by the member that answered
    locations: frozenset[str]  # the members whose answer was read
    at: float  # when the answers were read (monotonic)
    members: frozenset[tuple[str, str]] | None = None  # (member, status), with scope cluster


@dataclass(frozen=True)
class Listed:
    """One read of the instance list, and what is built from it once."""

    instances: list[Any]  # parse.Instance
    families: list[Any]  # the metric families built from them
    at: float  # when the answer was read (monotonic)
    running: frozenset[Key]
    members: frozenset[tuple[str, str]] | None = None  # as Seen.members at the time of the read


@dataclass(frozen=True)
class _Mismatch:
    observed: frozenset[Key]
    expected: frozenset[Key]
    until: float  # before this, an answer that disagrees the same way may predate the list


class ListCache:
    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self.listed: Listed | None = None
        self._pending: _Mismatch | None = None  # a disagreement seen after the last read
        self._settled: tuple[frozenset[Key], frozenset[Key]] | None = None
        self._lock = threading.Lock()
        self._reads = dict.fromkeys(REASONS, 0)

    def note_read(self, reason: str) -> None:
        """Count a read of the list (made or tried) and why."""
        with self._lock:
            self._reads[reason] = self._reads.get(reason, 0) + 1

    def reads_so_far(self) -> dict[str, int]:
        with self._lock:
            return dict(self._reads)

    def age(self, now: float) -> float | None:
        listed = self.listed
        return None if listed is None else now - listed.at

    def reason(self, now: float, seen: Seen | None) -> str | None:
        """Why the list must be read now (`age`, `unverified`, `changed`), or None to use the one kept."""
        with self._lock:
            listed = self.listed
            if listed is None or now - listed.at >= self.max_age:
                return "age"
            if seen is None:
                return "unverified"  # /1.0/metrics could not be read: nothing to check the list against
            if seen.members is not None and seen.members != listed.members:
                return "changed"
            observed, expected = seen.running, _expected(listed, seen)
            if observed == expected or (observed, expected) == self._settled:
                return None
            p = self._pending
            if p is not None and (p.observed, p.expected) == (observed, expected) and seen.at < p.until:
                return None  # the same disagreement, in an answer that may predate the list
            return "changed"

    def store(self, listed: Listed, seen: Seen | None, reason: str) -> None:
        """Keep a new read of the list; `seen` and `reason` are what `reason()` was given and said."""
        with self._lock:
            p, self._pending = self._pending, None
            self.listed = listed
            if seen is None:
                return
            observed, expected = seen.running, _expected(listed, seen)
            if observed == expected:
                self._settled = None
            elif (observed, expected) == self._settled:
                pass
            elif (
                reason == "changed"
                and p is not None
                and (p.observed, p.expected) == (observed, expected)
                and seen.at >= p.until
            ):
                # An answer built after the last read disagreed, and this read changed nothing.
                self._settled = (observed, expected)
            else:
                self._pending = _Mismatch(observed, expected, listed.at + METRICS_CACHE)


def _expected(listed: Listed, seen: Seen) -> frozenset[Key]:
    """The list's running instances on the members whose /1.0/metrics was read."""
    if all(k[2] in seen.locations for k in listed.running):
        return listed.running
    return frozenset(k for k in listed.running if k[2] in seen.locations)
