"""The scrape runner in-process: merging, failures, deadlines."""

from __future__ import annotations

import time

from prometheus_client.core import GaugeMetricFamily

from exporters.core import Families, Job, ScrapeError
from exporters.core.scrape import Deadline, ErrorCounters, merge, run_jobs


def fam(value: float, label: str) -> GaugeMetricFamily:
    f = GaugeMetricFamily("colo_t_x", "x", labels=["l"])
    f.add_metric([label], value)
    return f


def test_merge_joins_same_name_and_leaves_inputs_alone() -> None:
    a, b = fam(1, "a"), fam(2, "b")
    (m,) = merge([a, b])
    assert [s.labels["l"] for s in m.samples] == ["a", "b"]
    assert len(a.samples) == 1 and len(b.samples) == 1


def test_run_jobs_reports_each_job() -> None:
    def ok(_d: Deadline) -> Families:
        f = Families("colo_t")
        f.gauge("x", "x", ["l"]).add_metric(["ok"], 1)
        return f

    def boom(_d: Deadline) -> Families:
        raise KeyError("surprise")

    def refused(_d: Deadline) -> Families:
        raise ScrapeError("auth", "no")

    def hangs(d: Deadline) -> Families:
        time.sleep(3)
        return Families("colo_t")

    errors = ErrorCounters(("timeout", "internal", "auth"))
    t0 = time.monotonic()
    out = {
        f.name: f
        for f in run_jobs(
            [
                Job({"j": "ok"}, ok),
                Job({"j": "boom"}, boom),
                Job({"j": "refused"}, refused),
                Job({"j": "hangs"}, hangs, timeout=0.3),
            ],
            Deadline(5),
            "colo_t",
            errors,
        )
    }
    assert time.monotonic() - t0 < 1.5
    up = {s.labels["j"]: s.value for s in out["colo_t_up"].samples}
    assert up == {"ok": 1, "boom": 0, "refused": 0, "hangs": 0}
    assert [s.labels["l"] for s in out["colo_t_x"].samples] == ["ok"]
    counts = {s.labels["reason"]: s.value for s in errors.family("colo_t", None).samples}
    assert counts == {"timeout": 1, "internal": 1, "auth": 1}


def test_deadline_within() -> None:
    d = Deadline(10)
    assert 0.9 < d.within(1).remaining() <= 1
    assert 9 < d.within(None).remaining() <= 10
    assert d.within(100).at == d.at
