"""Scrape runner: jobs run at once, each bounded by the scrape deadline; self-metrics wrap each job.

A `Job` is one unit that can be up or down on its own: one SNMP target, one BMC source, one FRR daemon,
one LXD collector. Its `labels` identify it in `<ns>_up` and `<ns>_scrape_duration_seconds`. It returns
metric families, or raises `ScrapeError(reason, message)`. A job still running at the deadline is reported
`up 0` with reason `timeout` and its late result is dropped; the jobs that finished are kept.
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from .log import get_logger
from .workers import WORKERS

log = get_logger("exporters.core.scrape")

# Reasons every exporter has (`Malformed` raises `malformed`); an exporter adds its own (auth, connect, ...).
BASE_REASONS = ("timeout", "internal", "busy", "malformed")


class ScrapeError(Exception):
    """A job failed for a reason worth counting: `reason` is a short label value, `message` is for the log."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Malformed(ScrapeError):
    """The peer's answer cannot be understood (reason `malformed`)."""

    def __init__(self, message: str) -> None:
        super().__init__("malformed", message)


class Tally:
    """Entries a job skipped while it still succeeded, by reason (see `Deadline.skip`)."""

    __slots__ = ("counts", "lock")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()


# Messages already logged at warn by `Deadline.skip`; bounded so a peer cannot grow it for ever.
_SEEN: set[tuple[str, str]] = set()
_SEEN_MAX = 10_000
_SEEN_LOCK = threading.Lock()


class Deadline:
    """An absolute point on the monotonic clock, and the tally of entries skipped under it."""

    __slots__ = ("at", "tally")

    def __init__(self, seconds: float, tally: Tally | None = None) -> None:
        self.at = time.monotonic() + seconds
        self.tally = tally

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def timeout(self, cap: float | None = None, doing: str = "the next read") -> float:
        """The time left as a socket timeout (at most `cap`); `ScrapeError("timeout")` when none is left."""
        left = self.at - time.monotonic()
        if left <= 0.001:
            raise ScrapeError("timeout", f"deadline reached before {doing}")
        return left if cap is None else min(left, cap)

    def within(self, seconds: float | None) -> Deadline:
        """This deadline, or `seconds` from now if that comes first (same tally)."""
        d = Deadline(0, self.tally)
        d.at = self.at if seconds is None else min(self.at, time.monotonic() + seconds)
        return d

    def skip(self, reason: str, message: str) -> None:
        """One entry skipped while the job goes on: counted in `<ns>_scrape_errors_total{reason}`, and
        logged at warn the first time this message is seen (at debug after that)."""
        if self.tally is not None:
            with self.tally.lock:
                self.tally.counts[reason] = self.tally.counts.get(reason, 0) + 1
        key = (reason, message)
        with _SEEN_LOCK:
            first = key not in _SEEN
            if first:
                if len(_SEEN) >= _SEEN_MAX:
                    _SEEN.clear()
                _SEEN.add(key)
        (log.warning if first else log.debug)("entry skipped", reason=reason, err=message)


class Exclusive:
    """One scrape at a time of one target; a scrape stuck past its own deadline is not waited for.

    `with gate.enter(deadline):` waits, bounded by `deadline`, while another scrape of the target runs,
    but raises `ScrapeError("busy")` at once when that scrape is already past its deadline (its peer is
    stuck), so scrapes of a stuck peer answer at once instead of queueing threads."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holder_at: float | None = None

    @contextlib.contextmanager
    def enter(self, deadline: Deadline) -> Iterator[None]:
        with self._cond:
            while self._holder_at is not None:
                now = time.monotonic()
                if now >= self._holder_at:
                    raise ScrapeError(
                        "busy", "the previous scrape of this target is still stuck past its deadline"
                    )
                if now >= deadline.at:
                    raise ScrapeError(
                        "timeout", "deadline reached waiting for the previous scrape of this target"
                    )
                self._cond.wait(min(deadline.at, self._holder_at) - now)
            self._holder_at = deadline.at
        try:
            yield
        finally:
            with self._cond:
                self._holder_at = None
                self._cond.notify()


@dataclass
class Job:
    labels: dict[str, str]
    run: Callable[[Deadline], Iterable[Metric]]
    timeout: float | None = None  # per-target timeout; the scrape deadline applies regardless


@dataclass
class ErrorCounters:
    """`<ns>_scrape_errors_total{reason}`, kept per scope (a probe target, or "" for /metrics)."""

    reasons: tuple[str, ...]
    _counts: dict[tuple[str, str], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inc(self, scope: str, reason: str, n: int = 1) -> None:
        with self._lock:
            self._counts[(scope, reason)] = self._counts.get((scope, reason), 0) + n

    def family(self, ns: str, scope: str | None) -> CounterMetricFamily:
        """The counter for one scope, or summed over all scopes (`None`)."""
        fam = CounterMetricFamily(
            f"{ns}_scrape_errors", "Scrapes that failed, by reason, since start.", labels=["reason"]
        )
        totals: dict[str, int] = dict.fromkeys(self.reasons, 0)
        with self._lock:
            for (s, reason), n in self._counts.items():
                if scope is None or s == scope:
                    totals[reason] = totals.get(reason, 0) + n
        for reason, n in totals.items():
            fam.add_metric([reason], n)
        return fam


class _Slot:
    """One job (run on a worker, see workers.py) and what came back. The exception itself is not kept: its
    traceback's frames hold the job's locals (a peer's whole reply), and a stored exception kept them alive
    through a cycle."""

    __slots__ = ("deadline", "error", "job", "result", "seconds", "trace")

    def __init__(self, job: Job, deadline: Deadline) -> None:
        self.job = job
        self.deadline = deadline.within(job.timeout)
        self.deadline.tally = Tally()
        self.result: list[Metric] | None = None
        self.error: tuple[str, str] | None = None  # (reason, message); reason "internal" for the unexpected
        self.trace = ""
        self.seconds = 0.0

    def __call__(self) -> None:
        t0 = time.perf_counter()
        try:
            self.result = list(self.job.run(self.deadline))
        except ScrapeError as e:
            self.error = (e.reason, e.message)
            _clear(e)
        except BaseException as e:  # noqa: BLE001 - reported per job, never kills the scrape
            self.error = ("internal", f"{type(e).__name__}: {e}")
            if log.enabled("debug"):
                self.trace = "".join(traceback.format_exception(e))
            _clear(e)
        self.seconds = time.perf_counter() - t0


def _clear(e: BaseException) -> None:
    """Drop the locals of every frame in the exception's chain (they may hold a peer's reply)."""
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if cur.__traceback__ is not None:
            traceback.clear_frames(cur.__traceback__)
            cur.__traceback__ = None
        cur = cur.__cause__ or cur.__context__


def merge(families: Iterable[Metric]) -> list[Metric]:
    """One family per name (several jobs emit the same metric), in first-seen order.

    Families passed in are not modified (a job may hand out cached ones)."""
    out: dict[str, Metric] = {}
    copied: set[str] = set()
    for fam in families:
        have = out.get(fam.name)
        if have is None:
            out[fam.name] = fam
        elif have.type != fam.type:
            log.error("metric emitted with two types; dropping the second", metric=fam.name)
        else:
            if fam.name not in copied:
                have = out[fam.name] = _copy(have)
                copied.add(fam.name)
            have.samples.extend(fam.samples)
    return list(out.values())


def _copy(fam: Metric) -> Metric:
    new = Metric(fam.name, fam.documentation, fam.type, fam.unit)
    new.samples = list(fam.samples)
    return new


def run_jobs(
    jobs: list[Job],
    deadline: Deadline,
    ns: str,
    errors: ErrorCounters,
    scope: str = "",
    reserve: float = 0.0,
    render_rate: Callable[[], float] | None = None,
    on_cut: Callable[[float], None] | None = None,
) -> list[Metric]:
    """Run jobs concurrently until the deadline; return their families plus up and duration per job.

    `reserve`: seconds kept back from the jobs for the work after them (rendering the answer), at most half
    of the time left. `render_rate()`: seconds one sample takes to render (asked only for large answers).
    A job that finished but whose samples could no longer be rendered before the deadline is reported
    down (a late answer is thrown away whole by Prometheus, every other source's series with it); then
    `on_cut` is told how long rendering all of them would have taken (to keep that much back next time)."""
    t0 = time.perf_counter()
    end = deadline
    if reserve > 0:
        deadline = deadline.within(max(0.0, deadline.remaining() - min(reserve, deadline.remaining() / 2)))
    slots = [_Slot(j, deadline) for j in jobs]
    tasks = [WORKERS.run(s, f"scrape {_desc(s.job.labels)}") for s in slots]
    for s, t in zip(slots, tasks, strict=True):
        t.wait(s.deadline.remaining())
    if render_rate is not None:
        needed = _cut_unrenderable(slots, end, render_rate)
        if needed and on_cut is not None:
            on_cut(needed)
    label_names = sorted({k for j in jobs for k in j.labels})
    up = GaugeMetricFamily(
        f"{ns}_up", "1 if the last scrape of this source succeeded, else 0.", labels=label_names
    )
    dur = GaugeMetricFamily(
        f"{ns}_scrape_duration_seconds", "Time this source's scrape took.", labels=label_names
    )
    families: list[Metric] = []
    for s, task in zip(slots, tasks, strict=True):
        values = [s.job.labels.get(k, "") for k in label_names]
        ok = False
        if task.running():
            elapsed = time.perf_counter() - t0
            errors.inc(scope, "timeout")
            log.warning("scrape timed out; reporting down", **s.job.labels, after_seconds=round(elapsed, 3))
            dur.add_metric(values, elapsed)
        else:
            dur.add_metric(values, s.seconds)
            tally = s.deadline.tally
            if tally is not None:
                with tally.lock:
                    for reason, n in tally.counts.items():
                        errors.inc(scope, reason, n)
            if s.error is None:
                ok = True
                families.extend(s.result or ())
            else:
                reason, message = s.error
                errors.inc(scope, reason)
                if reason == "internal":
                    log.error("scrape failed with an unexpected error", **s.job.labels, err=message)
                    if s.trace:
                        log.debug("traceback", exc=s.trace)
                else:
                    log.warning("scrape failed", **s.job.labels, reason=reason, err=message)
        s.result = None
        up.add_metric(values, 1.0 if ok else 0.0)
    families.append(up)
    families.append(dur)
    return merge(families)


def _cut_unrenderable(slots: list[_Slot], end: Deadline, render_rate: Callable[[], float]) -> float:
    """Drop the largest finished results until the rest can be rendered before `end`; if any was, the
    seconds rendering all of them would have taken, else 0."""
    done = [(sum(len(f.samples) for f in s.result), s) for s in slots if s.result is not None]
    total = sum(n for n, _ in done)
    if total < 10_000:
        return 0.0
    rate = render_rate()
    needed, left = total * rate, total
    for n, s in sorted(done, key=lambda d: -d[0]):
        if left * rate <= end.remaining() or n < 1000:
            break
        left -= n
        s.result = None
        s.error = ("timeout", f"answered, but its {n} samples could not be rendered before the deadline")
    return needed if left < total else 0.0


def _desc(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items())
