"""Scaling a multi-target exporter out (docs/deploy.md): two colo-snmp-exporters, the switches spread over
them by Prometheus' `hashmod` on `__param_target`, each switch scraped exactly once.

Two layouts, with the relabelling docs/deploy.md gives: two Prometheus servers that each keep their
shard and scrape their own exporter, and one Prometheus that sends each shard to its exporter. Both
must split the same way (the hash is of the target name only)."""

from __future__ import annotations

from typing import Any

import pytest

from lab import snmp as snmp_lab
from lab.exporter import ExporterProc
from lab.proc import Lab, wait_for
from lab.prometheus import Prometheus

pytestmark = pytest.mark.slow

SWITCHES = [f"sw{i:02d}" for i in range(12)]


def _probe_relabel() -> list[dict[str, Any]]:
    return [
        {"source_labels": ["__address__"], "target_label": "__param_target"},
        {"source_labels": ["__param_target"], "target_label": "instance"},
        {
            "source_labels": ["__param_target"],
            "modulus": 2,
            "target_label": "__tmp_shard",
            "action": "hashmod",
        },
    ]


def _job(relabel: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "job_name": "colo-snmp",
        "metrics_path": "/probe",
        "static_configs": [{"targets": SWITCHES}],
        "relabel_configs": _probe_relabel() + relabel,
    }


def _scraped(prom: Prometheus) -> dict[str, int]:
    """instance -> the exporter port that scraped it, once every target is up and has data."""
    targets = prom.wait_targets_up(60)
    out = {t["labels"]["instance"]: int(t["scrapeUrl"].split("/")[2].rsplit(":", 1)[1]) for t in targets}
    assert len(out) == len(targets), "a switch is scraped twice by one Prometheus"

    def have_data() -> list[dict[str, Any]] | None:
        rows = prom.query('count by (instance) (colo_snmp_up{job="colo-snmp"} == 1)')
        return rows if len(rows) == len(out) else None

    rows = wait_for(have_data, 30, "every switch's colo_snmp_up 1", interval=0.5)
    assert {r["metric"]["instance"] for r in rows} == set(out)  # type: ignore[union-attr]
    return out


def test_two_exporters_each_switch_scraped_exactly_once(module_lab: Lab) -> None:
    agent = snmp_lab.start_snmpd(module_lab, name="shard-snmpd")
    config = {
        "auths": {"v2": agent.auths()["v2"]},
        "targets": {name: agent.target("v2", lldp=False, lag=False) for name in SWITCHES},
    }
    exporters = [ExporterProc(module_lab, "snmp", config, log_level="info") for _ in range(2)]
    address = [f"127.0.0.1:{e.port}" for e in exporters]

    # Layout 1: one Prometheus per shard, each keeping its shard and scraping its own exporter.
    shard_servers = [
        Prometheus(
            module_lab,
            [
                _job(
                    [
                        {"source_labels": ["__tmp_shard"], "regex": str(i), "action": "keep"},
                        {"target_label": "__address__", "replacement": address[i]},
                    ]
                )
            ],
            interval="1s",
            name=f"prometheus-shard{i}",
        )
        for i in range(2)
    ]
    # Layout 2: one Prometheus, each shard sent to its exporter.
    one_server = Prometheus(
        module_lab,
        [
            _job(
                [
                    {
                        "source_labels": ["__tmp_shard"],
                        "regex": str(i),
                        "target_label": "__address__",
                        "replacement": address[i],
                    }
                    for i in range(2)
                ]
            )
        ],
        interval="1s",
        name="prometheus-one",
    )

    per_shard = [_scraped(p) for p in shard_servers]
    assert per_shard[0] and per_shard[1], f"hashmod left a shard empty: {per_shard}"
    assert not set(per_shard[0]) & set(per_shard[1]), "a switch is scraped by both Prometheus servers"
    assert set(per_shard[0]) | set(per_shard[1]) == set(SWITCHES), "a switch is scraped by neither"
    for i, shard in enumerate(per_shard):
        assert set(shard.values()) == {exporters[i].port}, f"shard {i} scraped another exporter: {shard}"

    together = _scraped(one_server)
    assert set(together) == set(SWITCHES)
    assert together == {**per_shard[0], **per_shard[1]}, "the two layouts split the switches differently"
