"""End to end: Debian's Prometheus scrapes an exporter through the multi-target relabelling."""

from __future__ import annotations

from lab.proc import wait_for
from lab.prometheus import Prometheus

from core_testlib import Toy, toy_config


def probe_job(job: str, exporter: str, targets: list[str], path: str = "/probe") -> dict:
    """The scrape config README documents for multi-target exporters."""
    return {
        "job_name": job,
        "metrics_path": path,
        "static_configs": [{"targets": targets}],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": exporter},
        ],
    }


def test_prometheus_scrapes_probe_targets(lab, peer) -> None:
    toy = Toy(lab, toy_config(sw1=peer, sw2=peer))
    prom = Prometheus(
        lab,
        [
            probe_job("toy", f"127.0.0.1:{toy.port}", ["sw1", "sw2"]),
            {"job_name": "toy-exporter", "static_configs": [{"targets": [f"127.0.0.1:{toy.port}"]}]},
        ],
        interval="1s",
    )
    targets = prom.wait_targets_up(timeout=60)
    assert {t["labels"]["instance"] for t in targets} == {"sw1", "sw2", f"127.0.0.1:{toy.port}"}
    got = wait_for(lambda: prom.query("colo_toy_reading_celsius"), 30, "series in Prometheus")
    assert {r["metric"]["instance"] for r in got} == {"sw1", "sw2"}
    assert all(r["value"][1] == "42" for r in got)
    up = prom.query('colo_toy_up{job="toy"}')
    assert {(r["metric"]["target"], r["value"][1]) for r in up} == {("sw1", "1"), ("sw2", "1")}
    assert prom.query("colo_toy_build_info")[0]["metric"]["version"] == "0.1.0"
