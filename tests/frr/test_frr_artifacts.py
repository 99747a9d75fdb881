"""The Grafana dashboard, the example config, and the docs' metrics reference against what the exporter
really exposes (the alert rules: tests/alerts)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from exporters.frr import collector
from exporters.frr.parse_bfd import parse_bfd
from exporters.frr.parse_bgp import parse_neighbors, parse_summary
from exporters.frr.parse_vrrp import parse_vrrp
from exporters.frr.parse_zebra import parse_route_summary, parse_version

from test_frr_parse import CAPTURED, SHARED, expose, read

ROOT = Path(__file__).resolve().parent.parent.parent


def test_example_config_passes_config_check() -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "exporters.frr.main",
            f"--config.file={ROOT / 'examples' / 'frr.yml'}",
            "--config.check",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert "config OK" in r.stdout
    unit = (ROOT / "examples" / "systemd" / "colo-frr-exporter.service").read_text()
    assert "SupplementaryGroups=frrvty" in unit and "colo-frr-exporter" in unit


def _all_metric_names() -> set[str]:
    ns = "colo_frr"
    e = SHARED / "r1/prov-nbr-shutdown"
    fams = list(
        collector.bgp(
            ns,
            "r1",
            parse_summary(read(e / "show_bgp_vrf_all_summary.json")),
            parse_neighbors(read(e / "show_bgp_vrf_all_neighbors.json")),
            [("default", "203.0.113.0/24", "192.0.2.0", True)],
        )
    )
    d = CAPTURED / "r1/established"
    fams += list(
        collector.bfd(
            ns, "r1", parse_bfd(read(d / "show_bfd_peers.json"), read(d / "show_bfd_peers_counters.json"))
        )
    )
    fams += list(collector.vrrp(ns, "r1", parse_vrrp(read(d / "show_vrrp.json"))))
    fams += list(
        collector.zebra(
            ns,
            "r1",
            parse_version(read(d / "show_version.txt")),
            {"ipv4": parse_route_summary(read(d / "show_ip_route_summary.json"))},
        )
    )
    fams += list(collector.collector_success(ns, "r1", "zebra", {"version": True}))
    names = set(re.findall(r"^# TYPE (\S+)", expose(fams), re.M))
    return names | {
        "colo_frr_up",
        "colo_frr_scrape_duration_seconds",
        "colo_frr_scrape_errors_total",
        "colo_frr_build_info",
        "colo_frr_config_last_reload_successful",
        "colo_frr_config_last_reload_success_timestamp_seconds",
    }


def test_every_metric_is_in_the_docs() -> None:
    doc = (ROOT / "docs" / "frr.md").read_text()
    missing = []
    for name in sorted(_all_metric_names()):
        # The exposition names counters without _total in TYPE lines and info metrics without _info.
        variants = {name, name + "_total", name + "_info"}
        if not any(f"`{v}`" in doc for v in variants):
            missing.append(name)
    assert not missing, f"not documented in docs/frr.md: {missing}"
    assert "frrvty" in doc and "configuration" in doc


def test_dashboard_is_provisionable() -> None:
    d = json.loads((ROOT / "grafana" / "frr.json").read_text())
    assert d["uid"] == "colo-frr" and d["schemaVersion"] == 39 and "colo" in d["tags"]
    assert "id" not in d or d["id"] is None
    tvars = {v["name"]: v for v in d["templating"]["list"]}
    assert tvars["datasource"]["type"] == "datasource" and tvars["datasource"]["query"] == "prometheus"
    panels = list(d["panels"])
    panels += [c for p in d["panels"] for c in p.get("panels", [])]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    rows = [p["title"] for p in panels if p["type"] == "row"]
    assert (
        any("BGP" in r or "Router" in r for r in rows)
        and any("BFD" in r for r in rows)
        and any("VRRP" in r for r in rows)
    )
    names = _all_metric_names()
    used = set()
    for p in panels:
        if p["type"] == "row":
            continue
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
        for t in p["targets"]:
            assert t["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            used |= set(re.findall(r"colo_frr_[a-z_]+", t["expr"]))
    unknown = {
        u
        for u in used
        if u not in names and u.removesuffix("_total") not in names and u.removesuffix("_info") not in names
    }
    assert not unknown, unknown
    for v in tvars.values():
        if v["type"] == "query":
            assert v["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    text = json.dumps(d)
    for site in ("cf", "r1", "prov", "192.0.2"):
        assert f'"{site}"' not in text
