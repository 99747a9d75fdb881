"""The example config and the docs' metrics reference against what the exporter really exposes (the
alert rules: tests/alerts; the dashboard checks: tests/dashboards)."""

from __future__ import annotations

import re
from pathlib import Path

from exporters.frr import collector
from exporters.frr.parse_bfd import parse_bfd
from exporters.frr.parse_bgp import parse_neighbors, parse_summary
from exporters.frr.parse_vrrp import parse_vrrp
from exporters.frr.parse_zebra import parse_route_summary, parse_version

from frr_testlib import expose
from test_frr_parse import CAPTURED, SHARED, read
from testlib import config_check

ROOT = Path(__file__).resolve().parent.parent.parent


def test_example_config_passes_config_check() -> None:
    r = config_check("frr", ROOT / "examples" / "frr.yml")
    assert r.returncode == 0, r.stderr
    assert "config OK" in r.stdout
    unit = (ROOT / "examples" / "systemd" / "colo-frr-exporter.service").read_text()
    # The vty sockets need the frrvty group: the package's postinst adds the unit's user to it where the
    # group exists (a SupplementaryGroups= line would fail the unit on hosts without it).
    assert "User=colo-frr-exporter" in unit
    assert "frrvty" in (ROOT / "packaging" / "build.sh").read_text()


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
