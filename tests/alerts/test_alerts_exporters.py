"""The exporter-down alerts never expire: each <X>ExporterDown, taken from the committed rule files as
they are, still fires after 26 hours of outage (they used to resolve after 24 h, when their
max_over_time(...[1d]) of the exporter's own metrics ran out)."""

from __future__ import annotations

from pathlib import Path

import yaml

from alerts_testlib import ALERTS, case, check, exporter_down, run, series

FAMILIES = {"lxd": "Lxd", "snmp": "Snmp", "bmc": "Bmc", "frr": "Frr", "node": "Node"}
JOBS = {"lxd": "colo-lxd", "snmp": "colo-snmp-exporter", "bmc": "colo-bmc", "frr": "colo-frr", "node": "node"}


def down_rules(tmp_path: Path) -> Path:
    """Only the *ExporterDown rules (unchanged), so that 26 hours of evaluation stay quick."""
    rules = []
    for name in FAMILIES:
        for g in yaml.safe_load((ALERTS / f"{name}.yml").read_text())["groups"]:
            rules += [r for r in g["rules"] if r.get("alert", "").endswith("ExporterDown")]
    assert len(rules) == len(FAMILIES), [r["alert"] for r in rules]
    path = tmp_path / "exporter_down.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "down", "rules": rules}]}, sort_keys=False))
    return path


def expected(key: str) -> tuple[dict[str, str], str, str]:
    return exporter_down(key, JOBS[key], "mon1:1")


DAY = case(
    "4m",
    [series("up", "1 0x400", job=JOBS[k], instance="mon1:1") for k in FAMILIES],
    [
        *(check("15m", f"{p}ExporterDown", expected(k)) for k, p in FAMILIES.items()),
        *(check("26h", f"{p}ExporterDown", expected(k)) for k, p in FAMILIES.items()),
    ],
)
CASES = [DAY]


def test_exporter_down_never_expires(tmp_path: Path) -> None:
    run(tmp_path, "exporter_down", [down_rules(tmp_path)], CASES, evaluation_interval="4m")
