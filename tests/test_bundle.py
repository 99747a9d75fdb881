"""The shipped bundle: alert rules load in Prometheus, dashboards provision as they are, and every
colo_* metric they use is documented in that exporter's metrics reference."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import mixin
from lab.prometheus import promtool

from testlib import EXPORTERS

ROOT = Path(__file__).resolve().parent.parent
RULES = mixin.rule_files()  # alerts/alertmanager.yml is not one: tests/alerts checks it with amtool
DASHBOARDS = sorted((ROOT / "grafana").glob("*.json"))
METRIC = re.compile(rf"\bcolo_({'|'.join(EXPORTERS)})_[a-z0-9_]+")
# Suffixes Prometheus adds to series names that the reference documents without.
SUFFIXES = ("_bucket", "_count", "_sum", "_info")


def _documented(name: str) -> bool:
    doc = ROOT / "docs" / f"{name.split('_')[1]}.md"
    if not doc.exists():
        return False
    text = doc.read_text()
    return name in text or any(name.endswith(s) and name[: -len(s)] in text for s in SUFFIXES)


@pytest.mark.parametrize("path", RULES, ids=lambda p: p.name)
def test_rules_pass_promtool(path: Path) -> None:
    rc, out = promtool("check", "rules", str(path))
    assert rc == 0, out


@pytest.mark.parametrize("path", RULES + DASHBOARDS, ids=lambda p: p.name)
def test_metrics_used_are_documented(path: Path) -> None:
    missing = sorted({m.group(0) for m in METRIC.finditer(path.read_text())} - {""})
    missing = [m for m in missing if not _documented(m)]
    assert not missing, f"{path.name} uses metrics the docs do not describe: {missing}"


def _panels(d: dict) -> list[dict]:
    out = []
    for p in d.get("panels", []):
        out.append(p)
        out.extend(p.get("panels", []))
    return out


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_provisions_as_is(path: Path) -> None:
    d = json.loads(path.read_text())
    assert d["uid"] == f"colo-{path.stem}" and "colo" in d.get("tags", [])
    assert d.get("schemaVersion", 0) >= 36 and d.get("title")
    assert "id" not in d or d["id"] is None, "provisioned dashboards carry no numeric id"
    tvars = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    assert tvars["datasource"]["type"] == "datasource" and tvars["datasource"]["query"] == "prometheus"
    for p in _panels(d):
        if p.get("type") == "row":
            continue
        assert p.get("datasource", {}).get("uid") == "${datasource}", f"panel {p.get('title')!r}"
        for t in p.get("targets", []):
            assert t.get("expr"), f"panel {p.get('title')!r} has a target without a query"
            ds = t.get("datasource")
            assert ds is None or ds.get("uid") == "${datasource}", f"panel {p.get('title')!r}"


def test_dashboard_uids_unique() -> None:
    uids = [json.loads(p.read_text())["uid"] for p in DASHBOARDS]
    assert len(uids) == len(set(uids))
