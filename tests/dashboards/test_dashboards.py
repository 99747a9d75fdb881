"""The generated dashboards (grafana/*.json, from mixin/dashboards/): provisioning-ready, consistent, with
the review's fixes held, linked to each other, and naming only metrics the exporters emit.

Moved here from tests/lxd/test_lxd_dashboard.py and tests/frr/test_frr_artifacts.py (their assertions
kept), plus the rack view's own."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from mixin import dashboards
from mixin.dashboards.core import DS, panels_of

from testlib import EXPORTERS

ROOT = Path(__file__).resolve().parents[2]
BOARDS = {name: json.loads((ROOT / "grafana" / f"{name}.json").read_text()) for name in dashboards.BOARDS}
CODES = re.compile(
    r"_(state|status|health|up|health_rollup|power_on|present|advertised)\b|colo:link_up|member_up"
)


def _exprs(board: dict) -> list[str]:
    return [t["expr"] for p in panels_of(board) for t in p.get("targets", [])]


def test_committed_json_is_what_the_generator_writes() -> None:
    for name, fn in dashboards.BOARDS.items():
        assert BOARDS[name] == fn(), f"grafana/{name}.json is stale: run `python -m mixin.build`"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_dashboard_shape(name: str) -> None:
    d = BOARDS[name]
    assert d["uid"] == f"colo-{name}" and d["tags"] == ["colo"] and d["schemaVersion"] == 39
    assert "id" not in d or d["id"] is None
    assert d["title"].startswith("Colo / "), d["title"]
    tvars = d["templating"]["list"]
    assert (
        tvars[0]["name"] == "datasource"
        and tvars[0]["type"] == "datasource"
        and tvars[0]["query"] == "prometheus"
    )
    for v in tvars[1:]:
        assert v["datasource"] == DS, v["name"]
    ids = [p["id"] for p in panels_of(d)]
    assert len(ids) == len(set(ids))
    for p in panels_of(d):
        if p["type"] == "row":
            continue
        assert p["datasource"] == DS, p["title"]
        assert p.get("description", "").strip(), f"{name}: panel {p['title']!r} has no description"
        assert p["targets"], p["title"]
        for t in p["targets"]:
            assert t["datasource"] == DS and t["expr"], p["title"]


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_review_fixes(name: str) -> None:
    d = BOARDS[name]
    for p in panels_of(d):
        if p["type"] == "row":
            continue
        unit = p["fieldConfig"]["defaults"].get("unit")
        exprs = [t["expr"] for t in p["targets"]]
        assert unit != "rpm", f"{p['title']}: Grafana's rpm is reads per minute; fans are rotrpm"
        if "fan_speed_rpm" in " ".join(exprs):
            assert unit == "rotrpm", p["title"]
        for e in exprs:
            assert not re.search(r"(^|[^\w)])-\s*rate\(", e), (
                f"{p['title']}: plot outbound below the axis with a negative-Y override, not -rate()"
            )
            if p["type"] == "stat" and e.startswith("count("):
                assert e.endswith("or vector(0)"), f"{p['title']}: a count says No data instead of 0: {e}"
        shown = [e for e in exprs if CODES.search(e) and not re.match(r"(count|sum)\b", e)]  # codes as values
        if p["type"] in ("stat", "state-timeline") and shown:
            assert p["fieldConfig"]["defaults"].get("mappings"), f"{p['title']}: codes without value mappings"
        hidden = {k for t in p.get("transformations", []) for k in t["options"].get("excludeByName", {})}
        if p["type"] == "table" and [e for e in shown if "ALERTS" not in e] and "Value" not in hidden:
            props = [pr["id"] for o in p["fieldConfig"]["overrides"] for pr in o["properties"]]
            assert "mappings" in props or p["fieldConfig"]["defaults"].get("mappings"), p["title"]
    outbound = [
        p
        for p in panels_of(d)
        if p["type"] == "timeseries"
        and p["fieldConfig"]["defaults"].get("unit") in ("bps", "Bps", "pps", "iops")
        and any(t.get("legendFormat", "").endswith((" out", " write", " writes")) for t in p["targets"])
    ]
    for p in outbound:
        if "negative-Y" in json.dumps(p["fieldConfig"]["overrides"]):
            continue
        pytest.fail(f"{p['title']}: outbound series not drawn below the axis")


def test_links_between_dashboards_keep_time_and_variables() -> None:
    for name, d in BOARDS.items():
        (link,) = [lk for lk in d["links"] if lk["type"] == "dashboards"]
        assert link["tags"] == ["colo"] and link["keepTime"] and link["includeVars"], name
    rack_links = {lk["url"].split("?")[0] for p in panels_of(BOARDS["rack"]) for lk in p.get("links", [])}
    assert rack_links >= {f"/d/colo-{n}" for n in EXPORTERS}, rack_links
    for n in EXPORTERS:
        urls = [lk["url"] for p in panels_of(BOARDS[n]) for lk in p.get("links", [])]
        assert any(u.startswith("/d/colo-rack?") for u in urls), n
        assert all("${__url_time_range}" in u and "${datasource:queryparam}" in u for u in urls), n


def test_rack_rows_in_the_issues_order() -> None:
    rows = [p["title"] for p in BOARDS["rack"]["panels"] if p["type"] == "row"]
    order = [
        "Alerts",
        "Links: WAN",
        "Links: uplinks",
        "Links: mesh",
        "WAN billing",
        "Servers",
        "Routers",
        "LXD",
        "Ceph",
        "Services: HAProxy, unbound, NSD",
    ]
    assert rows == order
    collapsed = {p["title"] for p in BOARDS["rack"]["panels"] if p["type"] == "row" and p["collapsed"]}
    assert collapsed == {"Ceph", "Services: HAProxy, unbound, NSD"}  # mixin/config.py RACK_SOURCES
    for p in BOARDS["rack"]["panels"]:
        if (
            p["type"] == "row"
            and p["title"] not in ("Alerts", "WAN billing")
            and not p["title"].startswith("Links")
        ):
            first = (
                p["panels"]
                or [q for q in BOARDS["rack"]["panels"] if q["gridPos"]["y"] == p["gridPos"]["y"] + 1]
            )[0]
            assert first["title"].endswith(": source") and "install" in first["description"], p["title"]


def test_links_rows_use_only_the_link_vocabulary() -> None:
    for p in panels_of(BOARDS["rack"]):
        if p["type"] != "row" and (
            "link" in p["title"].lower() or p["title"].split(":")[0] in ("Traffic", "Utilisation", "State")
        ):
            for e in (t["expr"] for t in p["targets"]):
                assert not re.search(r"\b(colo_snmp|node_network)_", e), f"{p['title']}: {e}"


# --- per exporter (from tests/lxd/test_lxd_dashboard.py and tests/frr/test_frr_artifacts.py) ----------------


LXD_CORE = {
    "colo_lxd_up",
    "colo_lxd_scrape_duration_seconds",
    "colo_lxd_scrape_errors_total",
    "colo_lxd_build_info",
    "colo_lxd_config_last_reload_successful",
    "colo_lxd_config_last_reload_success_timestamp_seconds",
}


def _lxd_emitted() -> set[str]:
    from exporters.lxd import collector, metrics_text, parse

    fix = ROOT / "tests" / "fixtures" / "lxd"
    load = lambda n: json.loads((fix / n).read_text())  # noqa: E731
    ns = "colo_lxd"
    insts = parse.instances(load("instances_vm_and_edge_cases.json"))
    counters = metrics_text.parse((fix / "metrics_vm_and_edge_cases_node1.txt").read_text())[0]
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
    return {s.name for f in fams for s in f.samples} | LXD_CORE


def test_lxd_dashboard_and_alerts_name_only_emitted_metrics() -> None:
    names = _lxd_emitted()
    rules = yaml.safe_load((ROOT / "alerts" / "lxd.yml").read_text())
    used = (
        _exprs(BOARDS["lxd"])
        + _exprs(BOARDS["rack"])
        + [r["expr"] for g in rules["groups"] for r in g["rules"]]
    )
    pending = {
        "disk_read_bytes_total",
        "disk_written_bytes_total",
        "disk_reads_completed_total",
        "disk_writes_completed_total",
    }  # test_queries.NOT_YET_EMITTED
    for e in used:
        for m in re.findall(r"\bcolo_lxd_[a-z_]+", e):
            assert m in names or m.removeprefix("colo_lxd_instance_") in pending, (
                f"{m} (in {e!r}) is not emitted"
            )


def test_frr_dashboard_is_provisionable() -> None:
    d = BOARDS["frr"]
    rows = [p["title"] for p in panels_of(d) if p["type"] == "row"]
    assert (
        any("BGP" in r or "Router" in r for r in rows)
        and any("BFD" in r for r in rows)
        and any("VRRP" in r for r in rows)
    )
    sys.path.insert(0, str(ROOT / "tests" / "frr"))
    from test_frr_artifacts import _all_metric_names

    names = _all_metric_names()
    used = {m for b in ("frr", "rack") for e in _exprs(BOARDS[b]) for m in re.findall(r"colo_frr_[a-z_]+", e)}
    unknown = {
        u
        for u in used
        if u not in names and u.removesuffix("_total") not in names and u.removesuffix("_info") not in names
    }
    assert not unknown, unknown
    text = json.dumps(d)
    for site in ("cf", "r1", "prov", "192.0.2"):
        assert f'"{site}"' not in text


def test_bmc_dashboard_shows_the_core_readings() -> None:
    """(from tests/bmc/test_bmc_config.py) temperatures, fans, power and PSU health are all on it."""
    text = (ROOT / "grafana" / "bmc.json").read_text()
    for metric in (
        "colo_bmc_temperature_celsius",
        "colo_bmc_fan_speed_rpm",
        "colo_bmc_system_power_watts",
        "colo_bmc_psu_health",
        "colo_bmc_psu_input_watts",
    ):
        assert metric in text
