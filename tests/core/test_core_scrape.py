"""The scrape runner in-process: merging, failures, deadlines."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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


class _Blob:
    """A big reply a job held when it failed."""

    def __init__(self) -> None:
        self.data = bytearray(8 * 2**20)


def test_a_failed_jobs_reply_is_freed_at_once() -> None:
    """The stored exception kept the job's frames (and the reply in them) alive through a cycle until the
    garbage collector ran, which big byte buffers never trigger: FRR grew to 2-4 GB."""
    import gc
    import weakref

    refs: list[weakref.ref] = []

    def fails(_d: Deadline) -> Families:
        blob = _Blob()
        refs.append(weakref.ref(blob))
        try:
            raise ValueError("inner")
        except ValueError as e:
            blob.err = e  # type: ignore[attr-defined] - a cycle inside the job: blob -> e -> frame -> blob
            raise ScrapeError("malformed", "bad reply") from e

    def crashes(_d: Deadline) -> Families:
        blob = _Blob()
        refs.append(weakref.ref(blob))
        raise RuntimeError("surprise")

    gc.disable()
    try:
        for _ in range(3):
            run_jobs(
                [Job({"j": "a"}, fails), Job({"j": "b"}, crashes)],
                Deadline(2),
                "colo_t",
                ErrorCounters(("timeout", "internal", "malformed")),
            )
        assert [r() for r in refs] == [None] * 6
    finally:
        gc.enable()


def test_deadline_timeout() -> None:
    d = Deadline(5)
    assert 4 < d.timeout() <= 5
    assert d.timeout(cap=0.5) == 0.5
    gone = Deadline(0)
    try:
        gone.timeout(doing="sending 'show bgp'")
    except ScrapeError as e:
        assert e.reason == "timeout" and "sending 'show bgp'" in e.message
    else:
        raise AssertionError("no timeout")


def test_skipped_entries_are_counted_and_the_job_stays_up() -> None:
    from exporters.core import Malformed

    def odd(d: Deadline) -> Families:
        f = Families("colo_t")
        for peer in ("a", "b", "c"):
            if peer == "b":
                d.within(1).skip("malformed", "peer b has no bgpState")
                continue
            f.gauge("x", "x", ["l"]).add_metric([peer], 1)
        return f

    def bad(_d: Deadline) -> Families:
        raise Malformed("not JSON")

    errors = ErrorCounters(("timeout", "internal", "malformed"))
    for _ in range(2):
        out = {
            f.name: f
            for f in run_jobs([Job({"j": "odd"}, odd), Job({"j": "bad"}, bad)], Deadline(2), "colo_t", errors)
        }
    assert {s.labels["j"]: s.value for s in out["colo_t_up"].samples} == {"odd": 1, "bad": 0}
    assert [s.labels["l"] for s in out["colo_t_x"].samples] == ["a", "c"]
    counts = {s.labels["reason"]: s.value for s in errors.family("colo_t", None).samples}
    assert counts["malformed"] == 4  # 2 skipped entries + 2 failed jobs


def test_reserve_leaves_time_for_rendering() -> None:
    def slow(d: Deadline) -> Families:
        time.sleep(max(0.0, d.remaining() - 0.05))
        return Families("colo_t")

    t0 = time.monotonic()
    run_jobs(
        [Job({"j": "s"}, slow)], Deadline(1.0), "colo_t", ErrorCounters(("timeout", "internal")), reserve=0.4
    )
    assert 0.45 < time.monotonic() - t0 < 0.75


def test_an_answer_too_large_to_render_in_time_is_cut() -> None:
    def big(n: int) -> Callable[[Deadline], Families]:
        def run(_d: Deadline) -> Families:
            f = Families("colo_t")
            g = f.gauge("x", "x", ["l"])
            for i in range(n):
                g.add_metric([str(i)], i)
            return f

        return run

    errors = ErrorCounters(("timeout", "internal"))
    jobs = [Job({"j": "big"}, big(20_000)), Job({"j": "small"}, big(5))]
    # 20,000 samples at 0.1 ms each need 2 s to render, 1 s is left: the large one is cut, the small one kept.
    told: list[float] = []
    out = {
        f.name: f
        for f in run_jobs(jobs, Deadline(1.0), "colo_t", errors, render_rate=lambda: 1e-4, on_cut=told.append)
    }
    assert told == [20_005 * 1e-4]  # what the whole answer would have needed: kept back next time
    assert {s.labels["j"]: s.value for s in out["colo_t_up"].samples} == {"big": 0, "small": 1}
    assert len(out["colo_t_x"].samples) == 5
    assert {s.labels["reason"]: s.value for s in errors.family("colo_t", None).samples}["timeout"] == 1
    # Fast enough to render: both kept; and the rate is not even asked for small answers.
    out = {f.name: f for f in run_jobs(jobs, Deadline(1.0), "colo_t", errors, render_rate=lambda: 1e-6)}
    assert len(out["colo_t_x"].samples) == 20_005
    run_jobs(jobs[1:], Deadline(1.0), "colo_t", errors, render_rate=lambda: 1 / 0)


def test_render_estimate_is_not_lowered_by_a_cut_answer(tmp_path: Path) -> None:
    from exporters.core.app import App, ExporterSpec

    @dataclass(frozen=True)
    class Cfg:
        pass

    fail = [False]

    class Rt:
        def __init__(self, _c: Cfg) -> None:
            pass

        def targets(self) -> list[str]:
            return []

        def jobs(self, _t: str | None) -> list[Job]:
            def run(_d: Deadline) -> Families:
                if fail[0]:
                    raise ScrapeError("timeout", "cut")
                return Families("colo_t")

            return [Job({"j": "a"}, run)]

        def close(self) -> None:
            pass

    spec = ExporterSpec("t", "t", 1, Cfg, Rt, error_reasons=("timeout",))
    (tmp_path / "c.yml").write_text("{}\n")
    app = App(spec, str(tmp_path / "c.yml"))
    app.scrape(None, Deadline(1))
    app.note_render("", 0.3)
    fail[0] = True
    app.scrape(None, Deadline(1))
    app.note_render("", 0.01)  # the cut answer is small: the whole one still needs 0.3 s
    assert app._render[""] == 0.3
    fail[0] = False
    app.scrape(None, Deadline(1))
    app.note_render("", 0.2)
    assert app._render[""] == 0.2
    assert app.render_rate() > 0


def test_exclusive_waits_for_a_running_scrape_but_not_for_a_stuck_one() -> None:
    import threading

    from exporters.core.scrape import Exclusive

    gate = Exclusive()
    order: list[str] = []

    def hold(seconds: float, deadline: float, name: str) -> None:
        with gate.enter(Deadline(deadline)):
            order.append(name)
            time.sleep(seconds)

    th = threading.Thread(target=hold, args=(0.3, 2.0, "first"))
    th.start()
    time.sleep(0.05)
    hold(0, 2.0, "second")  # waits for the first, which is within its deadline
    th.join()
    assert order == ["first", "second"]

    stuck = threading.Thread(target=hold, args=(1.5, 0.2, "stuck"))  # runs past its own deadline
    stuck.start()
    time.sleep(0.4)
    t0 = time.monotonic()
    try:
        hold(0, 2.0, "late")
    except ScrapeError as e:
        assert e.reason == "busy"
    else:
        raise AssertionError("waited for a stuck scrape")
    assert time.monotonic() - t0 < 0.05
    stuck.join()
    hold(0, 1.0, "after")
    assert order[-1] == "after"
