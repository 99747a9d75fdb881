"""End to end against real FRR 8.4 routers in network namespaces: the exporter follows what happens.

The tests share one rack and run in file order; the destructive ones (bgpd killed, VRRP master
stopped) come last.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.exporter import ExporterProc, find, parse, value
from lab.frr import ANYCAST_V4, ANYCAST_V6, DAEMONS, FrrRack
from lab.frr_fake import VtyProxy
from lab.proc import Lab, free_port, port_open, wait_for
from lab.prometheus import check_metrics

from frr_testlib import exporter_config, one, scrape, until

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = [pytest.mark.root, pytest.mark.peer("frr"), pytest.mark.slow]


def peer(instance: str, p: str, **kw: str) -> dict[str, str]:
    return {"frr_instance": instance, "vrf": "default", "peer": p, **kw}


def test_established_rack(rack: FrrRack, exporter: ExporterProc) -> None:
    body = exporter.metrics(headers={"X-Prometheus-Scrape-Timeout-Seconds": "5"})
    assert check_metrics(body) == []
    s = parse(body)
    for r in ("prov", "r1", "r2"):
        for d in DAEMONS[r]:
            assert value(s, "colo_frr_up", frr_instance=r, daemon=d) == 1, (r, d)
    assert not find(s, "colo_frr_up", frr_instance="prov", daemon="vrrpd")  # not configured: not down
    now = time.time()
    for p, asn in (
        ("192.0.2.0", "64500"),
        ("2001:db8:0:1::1", "64500"),
        ("10.0.0.3", "64501"),
        ("2001:db8:a::3", "64501"),
    ):
        lbl = peer("r1", p, peer_as=asn, local_as="64501")
        assert value(s, "colo_frr_bgp_peer_up", **lbl) == 1
        assert value(s, "colo_frr_bgp_peer_state", **lbl) == 6
        assert now - 600 < value(s, "colo_frr_bgp_peer_established_timestamp_seconds", **lbl) <= now + 2
    afi = {"192.0.2.0": "ipv4Unicast", "2001:db8:0:1::1": "ipv6Unicast"}
    for p, af in afi.items():
        # prov sends a default route and its own prefix; r1 sends its aggregate(s) and what r2 gave it.
        assert value(s, "colo_frr_bgp_peer_received_prefixes", **peer("r1", p), afi_safi=af) == 2
        assert value(s, "colo_frr_bgp_peer_accepted_prefixes", **peer("r1", p), afi_safi=af) == 2
        assert value(s, "colo_frr_bgp_peer_advertised_prefixes", **peer("r1", p), afi_safi=af) >= 2
    assert value(s, "colo_frr_bgp_peer_bfd_up", **peer("r1", "192.0.2.0")) == 1
    assert not find(s, "colo_frr_bgp_peer_bfd_up", **peer("r1", "2001:db8:0:1::1"))
    # The second VRF's peer never comes up (no kernel VRF here) and is not admin down.
    cust = {"frr_instance": "r1", "vrf": "CUST", "peer": "10.1.1.1", "peer_as": "64600"}
    assert value(s, "colo_frr_bgp_peer_up", **cust) == 0
    assert value(s, "colo_frr_bgp_peer_admin_shutdown", **cust) == 0
    shut = peer("r2", "192.0.2.99", peer_as="64599")
    assert value(s, "colo_frr_bgp_peer_up", **shut) == 0
    assert value(s, "colo_frr_bgp_peer_admin_shutdown", **shut) == 1
    assert value(s, "colo_frr_bfd_peer_up", frr_instance="r1", peer="192.0.2.0", interface="to-prov") == 1
    assert value(s, "colo_frr_bfd_peer_up", frr_instance="prov", peer="2001:db8:0:2::2") == 1
    for fam in ("ipv4", "ipv6"):
        assert (
            value(s, "colo_frr_vrrp_state", frr_instance="r1", vrid="10", family=fam, interface="lan0") == 2
        )
        assert (
            value(s, "colo_frr_vrrp_state", frr_instance="r2", vrid="10", family=fam, interface="lan0") == 1
        )
        assert value(s, "colo_frr_vrrp_priority", frr_instance="r1", vrid="10", family=fam) == 200
    assert value(s, "colo_frr_rib_routes", frr_instance="r1", family="ipv4", protocol="ebgp") == 2
    assert value(s, "colo_frr_version_info", frr_instance="r1", version="8.4.4") == 1
    for r, v4, v6 in (("r1", "192.0.2.0", "2001:db8:0:1::1"), ("r2", "192.0.2.2", "2001:db8:0:2::1")):
        assert value(s, "colo_frr_bgp_prefix_advertised", frr_instance=r, prefix=ANYCAST_V4, peer=v4) == 1
        assert value(s, "colo_frr_bgp_prefix_advertised", frr_instance=r, prefix=ANYCAST_V6, peer=v6) == 1


def test_a_command_the_daemon_lacks_costs_only_itself(
    rack: FrrRack, exporter: ExporterProc, module_lab: Lab
) -> None:
    """Real FRR 8.4 daemons behind a proxy that answers three commands as unknown, as an FRR release
    without them would: bgpd falls back to the per-family summaries by itself, bfdd loses only its
    counters, zebra only its IPv6 routes; every other series of those daemons stays as it is."""
    d = Path("/tmp") / f"colo-frr-{os.getpid()}-proxy"
    d.mkdir(exist_ok=True)
    module_lab.callback(shutil.rmtree, d, True)
    refused = {
        "bgpd": {"show bgp vrf all summary json"},
        "bfdd": {"show bfd peers counters json"},
        "zebra": {"show ipv6 route summary json"},
    }
    proxies = {
        daemon: VtyProxy(module_lab, rack.run_dir("r1") / f"{daemon}.vty", d, daemon, cmds)
        for daemon, cmds in refused.items()
    }
    cfg = exporter_config(rack)
    cfg["instances"] = {"r1": {**cfg["instances"]["r1"], "socket_dir": str(d), "daemons": list(refused)}}
    lacking = ExporterProc(module_lab, "frr", cfg, log_level="info")
    s, direct = scrape(lacking), scrape(exporter)
    for daemon in refused:
        assert value(s, "colo_frr_up", frr_instance="r1", daemon=daemon) == 1
    ok = {lbl["collector"]: v for lbl, v in find(s, "colo_frr_collector_success", frr_instance="r1")}
    assert ok == {
        "summary": 1,  # from `show bgp vrf all ipv4|ipv6 unicast summary json`
        "neighbors": 1,
        f"advertised:default:{ANYCAST_V4}": 1,
        f"advertised:default:{ANYCAST_V6}": 1,
        "peers": 1,
        "counters": 0,
        "version": 1,
        "routes_ipv4": 1,
        "routes_ipv6": 0,
    }
    assert set(proxies["bgpd"].commands) >= {"show bgp vrf all ipv4 unicast summary json"}
    assert "does not know this command" in lacking.log_text()

    def series(samples: dict, prefix: str, keep: tuple[str, ...] = ()) -> dict:
        return {
            k: (v if k[0] in keep else None)
            for k, v in samples.items()
            if k[0].startswith(prefix) and ("frr_instance", "r1") in k[1]
        }

    stable = (
        "colo_frr_bgp_peer_up",
        "colo_frr_bgp_peer_state",
        "colo_frr_bgp_peer_admin_shutdown",
        "colo_frr_bgp_peer_received_prefixes",
        "colo_frr_bgp_peer_accepted_prefixes",
        "colo_frr_bgp_peer_advertised_prefixes",
        "colo_frr_bgp_prefix_advertised",
        "colo_frr_bfd_peer_up",
        "colo_frr_rib_routes",
        "colo_frr_version_info",
    )
    # Every BGP series, with the same values where they do not move between two scrapes.
    assert series(s, "colo_frr_bgp_", stable) == series(direct, "colo_frr_bgp_", stable)
    counters = ("colo_frr_bfd_peer_session_up_total", "colo_frr_bfd_peer_session_down_total")
    counters += (
        "colo_frr_bfd_peer_control_packets_received_total",
        "colo_frr_bfd_peer_control_packets_sent_total",
    )
    bfd = {k: v for k, v in series(direct, "colo_frr_bfd_", stable).items() if k[0] not in counters}
    assert series(s, "colo_frr_bfd_", stable) == bfd and bfd
    assert not find(s, "colo_frr_bfd_peer_session_down_total", frr_instance="r1")
    zebra = {
        k: v
        for k, v in series(direct, "colo_frr_", stable).items()
        if k[0] in ("colo_frr_rib_routes", "colo_frr_fib_routes", "colo_frr_version_info")
    }
    v4 = {k: v for k, v in zebra.items() if ("family", "ipv6") not in k[1]}
    got = {
        k: v
        for k, v in series(s, "colo_frr_", stable).items()
        if k[0] in ("colo_frr_rib_routes", "colo_frr_fib_routes", "colo_frr_version_info")
    }
    assert got == v4 and len(v4) < len(zebra)


def test_vtysh_transport_reports_the_same(rack: FrrRack, exporter: ExporterProc, module_lab: Lab) -> None:
    via = ExporterProc(module_lab, "frr", exporter_config(rack, transport="vtysh"))
    a, b = scrape(exporter), scrape(via)
    for name in (
        "colo_frr_bgp_peer_up",
        "colo_frr_bgp_peer_admin_shutdown",
        "colo_frr_vrrp_state",
        "colo_frr_bfd_peer_up",
        "colo_frr_bgp_prefix_advertised",
        "colo_frr_up",
    ):
        sa = {k: v for k, v in a.items() if k[0] == name}
        sb = {k: v for k, v in b.items() if k[0] == name}
        assert sa and sa == sb, name


def _as_nobody(lab: Lab, rack: FrrRack, groups: str | None) -> str:
    port = free_port()
    cfg = rack.dir / f"exporter-nobody-{port}.yml"  # pytest's tmp dirs are root-only
    cfg.write_text(f"instances:\n  r1:\n    pathspace: {rack.inst('r1')}\n    daemons: [bgpd]\n")
    cfg.chmod(0o644)
    ident = ["--reuid=nobody", "--regid=nogroup"] + (["--groups=" + groups] if groups else ["--clear-groups"])
    p = lab.start(
        f"frr-exporter-nobody-{port}",
        [
            "setpriv",
            *ident,
            sys.executable,
            "-m",
            "exporters",
            "frr",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--config.file={cfg}",
        ],
        cwd=ROOT,
    )
    wait_for(lambda: p.check_alive() and port_open("127.0.0.1", port), 30, "exporter as nobody", log=p.log)
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    p.stop()
    return text + p.log.read_text()


def test_permission_needs_the_frrvty_group(rack: FrrRack, module_lab: Lab) -> None:
    probe = [
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        sys.executable,
        "-c",
        "import yaml",
    ]
    if subprocess.run(probe, capture_output=True, cwd=ROOT, timeout=60, check=False).returncode != 0:
        pytest.skip("user nobody cannot run this Python (its directory is private)")
    out = _as_nobody(module_lab, rack, None)
    s = parse(out[: out.index("# EOF")] if "# EOF" in out else out.split("\nts=")[0])
    assert value(s, "colo_frr_up", frr_instance="r1", daemon="bgpd") == 0
    assert value(s, "colo_frr_scrape_errors_total", reason="permission") == 1
    assert "frrvty" in out
    out = _as_nobody(module_lab, rack, "frrvty")
    s = parse(out.split("\nts=")[0])
    assert value(s, "colo_frr_up", frr_instance="r1", daemon="bgpd") == 1


def test_neighbor_shutdown_and_reestablish(rack: FrrRack, exporter: ExporterProc) -> None:
    r1_prov = peer("r1", "192.0.2.0", peer_as="64500")
    before = scrape(exporter)
    dropped0 = value(before, "colo_frr_bgp_peer_connections_dropped_total", **r1_prov)
    est0 = value(before, "colo_frr_bgp_peer_established_timestamp_seconds", **r1_prov)
    rack.neighbor_shutdown("prov", 64500, "192.0.2.1", message="maintenance CHG-1")
    s = until(
        exporter, lambda s: one(s, "colo_frr_bgp_peer_up", **r1_prov) == 0, 15, "r1 sees prov's shutdown"
    )
    # On r1 the session is down and not admin down (the provider shut it): the alert must fire.
    assert value(s, "colo_frr_bgp_peer_admin_shutdown", **r1_prov) == 0
    assert value(s, "colo_frr_bgp_peer_down_timestamp_seconds", **r1_prov) >= est0
    assert not find(s, "colo_frr_bgp_peer_established_timestamp_seconds", **r1_prov)
    assert find(
        s, "colo_frr_bgp_peer_last_reset_info", **r1_prov, notification="Cease/Administrative Shutdown"
    )
    # On prov it is admin down: no alert.
    prov_r1 = peer("prov", "192.0.2.1", peer_as="64501")
    s = until(
        exporter, lambda s: one(s, "colo_frr_bgp_peer_admin_shutdown", **prov_r1) == 1, 10, "prov admin down"
    )
    assert value(s, "colo_frr_bgp_peer_up", **prov_r1) == 0
    assert value(s, "colo_frr_bgp_peer_state", **prov_r1) == 1
    rack.neighbor_shutdown("prov", 64500, "192.0.2.1", down=False)
    s = until(
        exporter,
        lambda s: (
            one(s, "colo_frr_bgp_peer_up", **r1_prov) == 1
            and one(s, "colo_frr_bgp_peer_received_prefixes", **r1_prov, afi_safi="ipv4Unicast") == 2
        ),
        30,
        "the session to come back with its prefixes",
    )
    assert value(s, "colo_frr_bgp_peer_connections_dropped_total", **r1_prov) == dropped0 + 1
    assert value(s, "colo_frr_bgp_peer_established_timestamp_seconds", **r1_prov) >= est0


def test_expected_advertisement_missing(rack: FrrRack, exporter: ExporterProc) -> None:
    # r2 announces the same aggregate over iBGP, so withdrawing r1's `network` would not stop r1 from
    # advertising it: filter it outbound instead, as a wrong route-map would.
    lbl = {"frr_instance": "r1", "prefix": ANYCAST_V4, "peer": "192.0.2.0"}
    rack.configure(
        "r1",
        f"ip prefix-list COLO-ANYCAST seq 5 permit {ANYCAST_V4}",
        "route-map ALLOW-ALL deny 5",
        "match ip address prefix-list COLO-ANYCAST",
    )
    try:
        s = until(
            exporter, lambda s: one(s, "colo_frr_bgp_prefix_advertised", **lbl) == 0, 30, "filtered out"
        )
        assert (
            value(
                s,
                "colo_frr_bgp_prefix_advertised",
                frr_instance="r1",
                prefix=ANYCAST_V6,
                peer="2001:db8:0:1::1",
            )
            == 1
        )
    finally:
        rack.configure("r1", "no route-map ALLOW-ALL deny 5")
    until(exporter, lambda s: one(s, "colo_frr_bgp_prefix_advertised", **lbl) == 1, 30, "advertised again")


def test_link_blackholed_bfd_takes_the_session_down(rack: FrrRack, exporter: ExporterProc) -> None:
    r1_v4 = peer("r1", "192.0.2.0", peer_as="64500")
    r1_v6 = peer("r1", "2001:db8:0:1::1", peer_as="64500")
    until(
        exporter,
        lambda s: one(s, "colo_frr_bfd_peer_up", frr_instance="r1", peer="192.0.2.0") == 1,
        20,
        "BFD up",
    )
    downs0 = value(
        scrape(exporter), "colo_frr_bfd_peer_session_down_total", frr_instance="r1", peer="192.0.2.0"
    )
    rack.blackhole("prov", "to-r1")
    try:
        s = until(
            exporter,
            lambda s: (
                one(s, "colo_frr_bfd_peer_up", frr_instance="r1", peer="192.0.2.0") == 0
                and one(s, "colo_frr_bgp_peer_up", **r1_v4) == 0
            ),
            15,
            "BFD to drop the v4 session",
        )
        assert (
            value(s, "colo_frr_bfd_peer_session_down_total", frr_instance="r1", peer="192.0.2.0")
            == downs0 + 1
        )
        # The v6 session has no BFD: it waits for its hold timer (180 s) and is still up.
        assert value(s, "colo_frr_bgp_peer_up", **r1_v6) == 1
        assert value(s, "colo_frr_bgp_peer_admin_shutdown", **r1_v4) == 0
    finally:
        rack.blackhole("prov", "to-r1", on=False)


def test_bgpd_killed_only_bgpd_is_down(rack: FrrRack, exporter: ExporterProc) -> None:
    errs0 = value(scrape(exporter), "colo_frr_scrape_errors_total", reason="connect")
    rack.kill_daemon("prov", "bgpd", signal.SIGKILL)
    s = scrape(exporter)
    assert value(s, "colo_frr_up", frr_instance="prov", daemon="bgpd") == 0
    assert value(s, "colo_frr_up", frr_instance="prov", daemon="bfdd") == 1
    assert value(s, "colo_frr_up", frr_instance="prov", daemon="zebra") == 1
    assert value(s, "colo_frr_scrape_errors_total", reason="connect") >= errs0 + 1
    assert not find(s, "colo_frr_bgp_peer_up", frr_instance="prov")
    assert "bgpd.vty" in exporter.log_text()
    s = until(
        exporter,
        lambda s: one(s, "colo_frr_bgp_peer_up", **peer("r2", "192.0.2.2", peer_as="64500")) == 0,
        20,
        "r2 to lose its provider session",
    )
    assert value(s, "colo_frr_bgp_peer_up", **peer("r2", "10.0.0.2", peer_as="64501")) == 1


def test_vrrp_master_stopped_backup_takes_over(rack: FrrRack, exporter: ExporterProc) -> None:
    t0 = value(scrape(exporter), "colo_frr_vrrp_transitions_total", frr_instance="r2", family="ipv4")
    rack.kill_daemon("r1", "vrrpd", signal.SIGTERM)
    s = until(
        exporter,
        lambda s: all(
            one(s, "colo_frr_vrrp_state", frr_instance="r2", family=f) == 2 for f in ("ipv4", "ipv6")
        ),
        15,
        "r2 to become VRRP master",
    )
    assert value(s, "colo_frr_up", frr_instance="r1", daemon="vrrpd") == 0
    assert value(s, "colo_frr_up", frr_instance="r1", daemon="bgpd") == 1
    assert not find(s, "colo_frr_vrrp_state", frr_instance="r1")
    assert value(s, "colo_frr_vrrp_transitions_total", frr_instance="r2", family="ipv4") > t0
