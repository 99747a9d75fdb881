"""grafana/lxd.json: provisioning-ready, and every metric it (or an alert) names is one the exporter emits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from exporters.lxd import collector, metrics_text, parse

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "lxd"
DASH = ROOT / "grafana" / "lxd.json"
CORE = {
    "colo_lxd_up",
    "colo_lxd_scrape_duration_seconds",
    "colo_lxd_scrape_errors_total",
    "colo_lxd_build_info",
    "colo_lxd_config_last_reload_successful",
    "colo_lxd_config_last_reload_success_timestamp_seconds",
}


def emitted() -> set[str]:
    load = lambda n: json.loads((FIX / n).read_text())  # noqa: E731
    ns = "colo_lxd"
    insts = parse.instances(load("instances_vm_and_edge_cases.json"))
    counters = metrics_text.parse((FIX / "metrics_vm_and_edge_cases_node1.txt").read_text())[0]
    fams = [
        *collector.instance_families(ns, insts),
        *collector.counter_families(ns, [("node1", counters)]),
        *collector.disk_families(ns, insts, 1.0),
        *collector.cluster_families(
            ns,
            parse.Server("node1", "5.0.2", True, True),
            parse.members(load("cluster_members_three_synthetic.json")),
        ),
        *collector.pool_families(
            ns,
            [parse.Pool("default", "dir", "Created")],
            [("default", "node1", parse.pool_usage(load("storage_pool_default_resources.json")))],
        ),
        *collector.project_families(ns, parse.projects(load("projects.json")), []),
    ]
    return {s.name for f in fams for s in f.samples} | CORE


def exprs(node: object) -> list[str]:
    if isinstance(node, dict):
        return ([node["expr"]] if isinstance(node.get("expr"), str) else []) + [
            e for v in node.values() for e in exprs(v)
        ]
    if isinstance(node, list):
        return [e for v in node for e in exprs(v)]
    return []


def panels(d: dict) -> list[dict]:
    out = []
    for p in d["panels"]:
        out.append(p)
        out += p.get("panels", [])
    return out


def test_dashboard_shape() -> None:
    d = json.loads(DASH.read_text())
    assert d["uid"] == "colo-lxd" and d["tags"] == ["colo"] and d["schemaVersion"] == 39
    ds = [v for v in d["templating"]["list"] if v["name"] == "datasource"]
    assert ds and ds[0]["type"] == "datasource" and ds[0]["query"] == "prometheus"
    ids = [p["id"] for p in panels(d)]
    assert len(ids) == len(set(ids))
    for p in panels(d):
        if p["type"] != "row":
            assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
            for t in p["targets"]:
                assert t["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    for v in d["templating"]["list"][1:]:
        assert v["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_dashboard_and_alerts_name_only_emitted_metrics() -> None:
    names = emitted()
    rules = yaml.safe_load((ROOT / "alerts" / "lxd.yml").read_text())
    used = exprs(json.loads(DASH.read_text())) + [r["expr"] for g in rules["groups"] for r in g["rules"]]
    for e in used:
        for m in re.findall(r"\bcolo_lxd_[a-z_]+", e):
            assert m in names, f"{m} (in {e!r}) is not a metric the exporter emits"
