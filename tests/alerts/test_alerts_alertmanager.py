"""alerts/alertmanager.yml: amtool-clean, routes by rack object then severity, and the inhibition rules
name alerts that exist. (That routes, grouping and inhibitions do what they say with real notifications is
tests/alerts/test_alerts_e2e.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import mixin
from lab.alertmanager import amtool, lab_config

from alerts_testlib import ALERTS

AM = ALERTS / "alertmanager.yml"


def test_check_config() -> None:
    code, out = amtool("check-config", str(AM))
    assert code == 0 and "SUCCESS" in out, out


def test_lab_config_keeps_routes_and_inhibitions(tmp_path: Path) -> None:
    cfg = lab_config("http://127.0.0.1:1", group_wait="2s", group_interval="4s")
    shipped = yaml.safe_load(AM.read_text())
    assert cfg["inhibit_rules"] == shipped["inhibit_rules"]
    assert cfg["route"]["routes"] == shipped["route"]["routes"]
    f = tmp_path / "am.yml"
    f.write_text(yaml.safe_dump(cfg))
    code, out = amtool("check-config", str(f))
    assert code == 0, out


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        ({"severity": "critical", "object": "link", "alertname": "LinkDown"}, "page"),
        ({"severity": "warning", "object": "link", "alertname": "LinkDegraded"}, "email"),
        ({"severity": "critical", "object": "server", "alertname": "BmcFanStopped"}, "page"),
        ({"severity": "warning", "object": "monitoring", "alertname": "FrrExporterDown"}, "email"),
        ({"severity": "critical", "object": "monitoring", "alertname": "SnmpExporterDown"}, "page"),
        (
            {"severity": "info", "object": "cluster", "alertname": "LxdClusterMemberInMaintenance"},
            "blackhole",
        ),
        ({"severity": "warning", "object": "somethingelse"}, "email"),
    ],
)
def test_routes(labels: dict[str, str], receiver: str) -> None:
    args = [f"{k}={v}" for k, v in labels.items()]
    code, out = amtool(
        "config", "routes", "test", f"--config.file={AM}", f"--verify.receivers={receiver}", *args
    )
    assert code == 0, out


def test_inhibitions_name_existing_alerts() -> None:
    names = {
        r["alert"]
        for p in mixin.alert_rule_files()
        for g in yaml.safe_load(p.read_text())["groups"]
        for r in g["rules"]
        if "alert" in r
    }
    for rule in yaml.safe_load(AM.read_text())["inhibit_rules"]:
        for m in rule["source_matchers"] + rule["target_matchers"]:
            k, op, v = re.fullmatch(r'(\w+)(=~|!~|!=|=)"(.*)"', m).groups()
            if k == "alertname":
                hits = {n for n in names if re.fullmatch(v, n)}
                assert hits if op in ("=", "=~") else hits != names, (m, rule)
