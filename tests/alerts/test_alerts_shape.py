"""The generated rule files as a whole: current with their source, valid (also scaled for the lab), every
alert labelled for routing, described, with a runbook anchor that docs/alerts.md has, and unit-tested."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

import mixin
import mixin.alerts as mixin_alerts
from lab.prometheus import promtool
from mixin.alerts.alertmanager import GROUPING

from alerts_testlib import ALERTS, BASE, ROOT, fired_names
from testlib import EXPORTERS

RULE_FILES = mixin.alert_rule_files()
DOC = ROOT / "docs" / "alerts.md"
UNIT_MODULES = (*EXPORTERS, "links", "node", "ceph", "exporters")


def alerts() -> list[dict]:
    return [
        r
        for p in RULE_FILES
        for g in yaml.safe_load(p.read_text())["groups"]
        for r in g["rules"]
        if "alert" in r
    ]


def test_committed_files_are_generated_and_current() -> None:
    out = mixin_alerts.outputs()
    assert sorted(out) == sorted(f"alerts/{p.name}" for p in [*RULE_FILES, ALERTS / "alertmanager.yml"])
    stale = [path for path, text in out.items() if (ROOT / path).read_text() != text]
    assert not stale, f"run `python -m mixin.build`: {stale}"


@pytest.mark.parametrize("scale", [1.0, 1 / 20])
def test_rules_pass_promtool(tmp_path: Path, scale: float) -> None:
    for path, text in mixin_alerts.outputs(scale).items():
        if path.endswith("alertmanager.yml"):
            continue
        f = tmp_path / Path(path).name
        f.write_text(text)
        code, out = promtool("check", "rules", str(f))
        assert code == 0, out


def alert_headings() -> list[str]:
    """The `#### Name` headings of docs/alerts.md's "The alerts" section."""
    text = DOC.read_text()
    section = text[text.index("\n## The alerts\n") :]
    section = section[: section.find("\n## ", 1)]
    return re.findall(r"^#### (\w+)$", section, re.M)


def test_every_alert_routes_and_explains_itself() -> None:
    anchors = {h.lower() for h in alert_headings()}
    for r in alerts():
        name, labels, ann = r["alert"], r["labels"], r["annotations"]
        assert labels["severity"] in ("critical", "warning", "info"), name
        assert labels["object"] in GROUPING, name
        assert ann.get("summary") and ann.get("description"), name
        assert ann["runbook_url"] == f"{BASE}#{name.lower()}", name
        assert name.lower() in anchors, f"docs/alerts.md has no section for {name}"


def test_docs_describe_each_alert_once_and_no_other() -> None:
    headings = alert_headings()
    assert len(headings) == len(set(headings)), "an alert is described twice"
    assert set(headings) == {r["alert"] for r in alerts()}


def test_every_alert_is_unit_tested() -> None:
    covered: set[str] = set()
    for m in UNIT_MODULES:
        covered |= fired_names(importlib.import_module(f"test_alerts_{m}").CASES)
    missing = {r["alert"] for r in alerts()} - covered
    assert not missing, f"no promtool case fires {sorted(missing)}"
