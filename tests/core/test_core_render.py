"""The answer fits in Prometheus' timeout (issue 11 point 5): the time the last answer of a scope took to
render is kept back from the jobs of the next scrape of that scope."""

from __future__ import annotations

import time

from lab.exporter import parse, value

from core_testlib import Peer, Toy, toy_config


def _own_series(body: str) -> str:
    """The exporter's own series of a big answer (parsing all 20,000 would take seconds here)."""
    skip = ("colo_toy_extra", "# HELP colo_toy_extra", "# TYPE colo_toy_extra")
    return "\n".join(ln for ln in body.splitlines() if not ln.startswith(skip))


def test_render_time_is_kept_back_from_the_jobs(lab) -> None:
    cfg = toy_config(big=Peer(), slow=Peer(delay=30))
    cfg["targets"]["slow"]["timeout"] = "30s"
    toy = Toy(lab, {**cfg, "samples": 20_000}, args=["--single"])  # /metrics: both targets, 20,000 series

    def scrape(timeout: str) -> tuple[float, dict]:
        t0 = time.monotonic()
        code, body, _ = toy.request("/metrics", headers={"X-Prometheus-Scrape-Timeout-Seconds": timeout})
        took = time.monotonic() - t0
        assert code == 200
        return took, parse(_own_series(body))

    scrape("1")  # the exporter learns how long this answer takes to render
    took, s = scrape("2")  # deadline 1.5 s
    slow = value(s, "colo_toy_scrape_duration_seconds", target="slow")
    assert value(s, "colo_toy_up", target="slow") == 0 and value(s, "colo_toy_up", target="big") == 1
    assert slow < 1.45, f"the jobs ran until {slow:.2f}s of a 1.5 s deadline: no time kept back to render"
    assert took < 2.0, f"answered after {took:.2f}s, past Prometheus' 2 s timeout"
