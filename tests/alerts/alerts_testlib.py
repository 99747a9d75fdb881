"""Helpers for the promtool unit tests of the generated rules (alerts/*.yml).

Each test module lists `CASES` (promtool `tests:` entries) built with `series`, `check` and `alert`; `run`
writes them beside a copy of nothing (the rule files are the committed ones) and runs `promtool test rules`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lab.prometheus import promtool
from mixin import config

import testlib

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "alerts"
BASE = config.ALERTS["runbook_base"]


def series(metric: str, values: str, **labels: str) -> dict[str, str]:
    """An input series: `series("up", "1 0x5", job="colo-frr", instance="r1:9474")`."""
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{metric}{{{inner}}}" if labels else metric, "values": values}


def alert(labels: dict[str, str], summary: str, description: str, name: str) -> dict[str, Any]:
    return {
        "exp_labels": labels,
        "exp_annotations": {
            "summary": summary,
            "description": description,
            "runbook_url": f"{BASE}#{name.lower()}",
        },
    }


def check(at: str, name: str, *expected: tuple[dict[str, str], str, str]) -> dict[str, Any]:
    """At `at`, alert `name` fires exactly `expected`: (labels, summary, description) each; none if empty."""
    return {
        "eval_time": at,
        "alertname": name,
        "exp_alerts": [alert(lbl, s, d, name) for lbl, s, d in expected],
    }


def quiet_then(
    quiet: str, at: str, name: str, *expected: tuple[dict[str, str], str, str]
) -> list[dict[str, Any]]:
    """Alert `name` still quiet at `quiet` (its `for:` runs), then firing exactly `expected` at `at`."""
    return [check(quiet, name), check(at, name, *expected)]


# What every exporter family's <X>ExporterDown and <X>ExporterScrapeSlow say, per exporter.
PROGRAM = {k: f"colo-{k}-exporter" for k in testlib.EXPORTERS} | {"node": "node_exporter"}
WATCHES = {
    "lxd": "the LXD servers",
    "snmp": "the switches",
    "bmc": "the BMCs",
    "frr": "the routers",
    "node": "the server",
}
DOWN_SEVERITY = {"lxd": "warning", "snmp": "critical", "bmc": "warning", "frr": "warning", "node": "warning"}


def monitoring(exporter: str, job: str, instance: str, severity: str, **labels: str) -> dict[str, str]:
    """The labels of an alert about the monitoring itself (a scrape target of `exporter`)."""
    return {
        "job": job,
        "instance": instance,
        **labels,
        "severity": severity,
        "object": "monitoring",
        "exporter": exporter,
    }


def exporter_down(exporter: str, job: str, instance: str, **labels: str) -> tuple[dict[str, str], str, str]:
    """<X>ExporterDown for one target Prometheus cannot scrape: (labels, summary, description)."""
    if exporter not in WATCHES or exporter not in DOWN_SEVERITY:
        raise KeyError(f"{exporter}: add it to WATCHES and DOWN_SEVERITY in tests/alerts/alerts_testlib.py")
    program = PROGRAM[exporter]
    return (
        monitoring(exporter, job, instance, DOWN_SEVERITY[exporter], **labels),
        f"{program} scrape {job}/{instance} fails",
        f"Prometheus cannot scrape {instance} (job {job}) from {program}: nothing is known about "
        f"{WATCHES[exporter]} it watches (the target's last error is on Prometheus' targets page).",
    )


def scrape_slow(exporter: str, job: str, instance: str, took: str) -> tuple[dict[str, str], str, str]:
    """<X>ExporterScrapeSlow for one target whose scrapes take `took` (as the alert humanizes it)."""
    return (
        monitoring(exporter, job, instance, "warning"),
        f"Scrapes of {instance} (job {job}) take {took}",
        f"{PROGRAM[exporter]} answers {instance} close to the scrape timeout; a little slower and the scrape "
        "fails as a whole. Raise scrape_timeout, or find what is slow in the exporter's "
        "scrape_duration_seconds per source.",
    )


def switch_unreachable(target: str) -> tuple[dict[str, str], str, str]:
    """SnmpSwitchUnreachable for `target`, probed as itself (instance = target) in job colo-snmp."""
    return (
        {
            "job": "colo-snmp",
            "instance": target,
            "target": target,
            "severity": "critical",
            "object": "switch",
        },
        f"Switch {target} does not answer SNMP",
        f"colo-snmp-exporter cannot read {target} (the exporter's log and colo_snmp_scrape_errors_total say "
        "why). Its link alerts keep their last state and are inhibited meanwhile.",
    )


def case(interval: str, inputs: list[dict[str, str]], checks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"interval": interval, "input_series": inputs, "alert_rule_test": checks}


def run(
    tmp_path: Path,
    name: str,
    rule_files: list[Path],
    cases: list[dict[str, Any]],
    evaluation_interval: str = "1m",
) -> None:
    doc = {
        "rule_files": [str(p) for p in rule_files],
        "evaluation_interval": evaluation_interval,
        "tests": cases,
    }
    f = tmp_path / f"{name}_test.yml"
    f.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    code, out = promtool("test", "rules", str(f))
    assert code == 0, out


def fired_names(cases: list[dict[str, Any]]) -> set[str]:
    """The alert names some check expects to fire."""
    return {c["alertname"] for t in cases for c in t["alert_rule_test"] if c["exp_alerts"]}


def link_rules() -> Path:
    """The link vocabulary's recording rules, which the link alerts are written on."""
    return ROOT / "rules" / "links.yml"
