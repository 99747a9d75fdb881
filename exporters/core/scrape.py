"""Scrape runner: jobs run at once, each bounded by the scrape deadline; self-metrics wrap each job.

A `Job` is one unit that can be up or down on its own: one SNMP target, one BMC source, one FRR daemon,
one LXD collector. Its `labels` identify it in `<ns>_up` and `<ns>_scrape_duration_seconds`. It returns
metric families, or raises `ScrapeError(reason, message)`. A job still running at the deadline is reported
`up 0` with reason `timeout` and its late result is dropped; the jobs that finished are kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from .log import get_logger

log = get_logger("exporters.core.scrape")

# Reasons every exporter has; an exporter adds its own (auth, connect, malformed, ...).
BASE_REASONS = ("timeout", "internal")


class ScrapeError(Exception):
    """A job failed for a reason worth counting: `reason` is a short label value, `message` is for the log."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Deadline:
    """An absolute point on the monotonic clock."""

    __slots__ = ("at",)

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def within(self, seconds: float | None) -> Deadline:
        """This deadline, or `seconds` from now if that comes first."""
        d = Deadline(0)
        d.at = self.at if seconds is None else min(self.at, time.monotonic() + seconds)
        return d


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

    def inc(self, scope: str, reason: str) -> None:
        with self._lock:
            self._counts[(scope, reason)] = self._counts.get((scope, reason), 0) + 1

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
    __slots__ = ("deadline", "error", "job", "result", "seconds", "thread")

    def __init__(self, job: Job, deadline: Deadline) -> None:
        self.job = job
        self.deadline = deadline.within(job.timeout)
        self.thread = threading.Thread(target=self, daemon=True, name=f"scrape {_desc(job.labels)}")
        self.result: list[Metric] | None = None
        self.error: BaseException | None = None
        self.seconds = 0.0

    def __call__(self) -> None:
        t0 = time.perf_counter()
        try:
            self.result = list(self.job.run(self.deadline))
        except BaseException as e:  # noqa: BLE001 - reported per job, never kills the scrape
            self.error = e
        self.seconds = time.perf_counter() - t0


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
    jobs: list[Job], deadline: Deadline, ns: str, errors: ErrorCounters, scope: str = ""
) -> list[Metric]:
    """Run jobs concurrently until the deadline; return their families plus up and duration per job."""
    t0 = time.perf_counter()
    slots = [_Slot(j, deadline) for j in jobs]
    for s in slots:
        s.thread.start()
    for s in slots:
        s.thread.join(s.deadline.remaining())
    label_names = sorted({k for j in jobs for k in j.labels})
    up = GaugeMetricFamily(
        f"{ns}_up", "1 if the last scrape of this source succeeded, else 0.", labels=label_names
    )
    dur = GaugeMetricFamily(
        f"{ns}_scrape_duration_seconds", "Time this source's scrape took.", labels=label_names
    )
    families: list[Metric] = []
    for s in slots:
        values = [s.job.labels.get(k, "") for k in label_names]
        ok = False
        if s.thread.is_alive():
            elapsed = time.perf_counter() - t0
            errors.inc(scope, "timeout")
            log.warning("scrape timed out; reporting down", **s.job.labels, after_seconds=round(elapsed, 3))
            dur.add_metric(values, elapsed)
        else:
            dur.add_metric(values, s.seconds)
            if isinstance(s.error, ScrapeError):
                errors.inc(scope, s.error.reason)
                log.warning("scrape failed", **s.job.labels, reason=s.error.reason, err=s.error.message)
            elif s.error is not None:
                errors.inc(scope, "internal")
                log.error(
                    "scrape failed with an unexpected error",
                    **s.job.labels,
                    err=f"{type(s.error).__name__}: {s.error}",
                )
                log.debug("traceback", exc=_traceback(s.error))
            else:
                ok = True
                families.extend(s.result or ())
        up.add_metric(values, 1.0 if ok else 0.0)
    families.append(up)
    families.append(dur)
    return merge(families)


def _desc(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items())


def _traceback(e: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(e))
