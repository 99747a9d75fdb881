"""alerts/frr.yml under promtool: sessions (down, flapping, prefixes), BFD, VRRP (with the routers in the
labels), advertisements; a down session explains its BFD peer and advertisement; the blind window while
the exporter is down."""

from __future__ import annotations

from pathlib import Path

from alerts_testlib import ALERTS, case, check, exporter_down, quiet_then, run, scrape_slow, series

RULES = [ALERTS / "frr.yml"]
H1 = {"job": "colo-frr", "instance": "h1:9474", "frr_instance": "r1"}
PROV = {**H1, "vrf": "default", "peer": "192.0.2.0", "peer_as": "64500", "local_as": "64501"}
IBGP = {**H1, "vrf": "default", "peer": "10.0.0.3", "peer_as": "64501", "local_as": "64501"}
R2_OFF = {
    "job": "colo-frr",
    "instance": "h2:9474",
    "frr_instance": "r2",
    "vrf": "default",
    "peer": "192.0.2.99",
    "peer_as": "64599",
    "local_as": "64501",
}


def router(severity: str, labels: dict[str, str], **more: str) -> dict[str, str]:
    return {**labels, **more, "severity": severity, "object": "router"}


def session_down(s: dict[str, str]) -> tuple[dict[str, str], str, str]:
    return (
        router("critical", s),
        f"BGP session {s['frr_instance']} -> {s['peer']} (AS{s['peer_as']}) is down",
        f"The BGP session from {s['frr_instance']} (vrf {s['vrf']}) to {s['peer']} AS{s['peer_as']} is not "
        "Established and not admin shutdown here; colo_frr_bgp_peer_state and "
        "colo_frr_bgp_peer_last_reset_info "
        "say more.",
    )


# A provider shuts our session: down, not admin down here -> alert. Our own admin-down peer: none.
SESSION = case(
    "30s",
    [
        series("colo_frr_bgp_peer_up", "1 1 0x7", **PROV),
        series("colo_frr_bgp_peer_admin_shutdown", "0x9", **PROV),
        series("colo_frr_bgp_peer_up", "0x9", **R2_OFF),
        series("colo_frr_bgp_peer_admin_shutdown", "1x9", **R2_OFF),
    ],
    [check("1m30s", "FrrBgpSessionDown"), check("3m", "FrrBgpSessionDown", session_down(PROV))],
)

# The blind window: the session is down, then the exporter stops for 30 minutes (every colo_frr_* series
# goes), then it is back with the session up. The session alert holds meanwhile (FrrExporterDown takes
# over, and inhibits it in Alertmanager), and resolves resolve_delay (2m) after the session is up again.
EXPORTER = exporter_down("frr", "colo-frr", "h1:9474")
BLIND = case(
    "1m",
    [
        series("up", "1x9 0x30 1x10", job="colo-frr", instance="h1:9474"),
        series("colo_frr_up", "1x9 _x30 1x10", **H1, daemon="bgpd"),
        series("colo_frr_bgp_peer_up", "1 0x8 _x30 1x10", **PROV),
        series("colo_frr_bgp_peer_admin_shutdown", "0x9 _x30 0x10", **PROV),
    ],
    [
        check("5m", "FrrBgpSessionDown", session_down(PROV)),
        check("10m", "FrrBgpSessionDown", session_down(PROV)),
        check("13m", "FrrExporterDown", EXPORTER),
        check("35m", "FrrBgpSessionDown", session_down(PROV)),
        check("41m", "FrrBgpSessionDown", session_down(PROV)),
        check("41m", "FrrExporterDown"),
        check("43m", "FrrBgpSessionDown"),
    ],
)

# Flapping: two drops within 30 minutes; one drop alone is not flapping.
FLAPPING = (
    router("warning", PROV),
    "BGP session r1 -> 192.0.2.0 is flapping",
    "The session from r1 to 192.0.2.0 (vrf default) dropped 2 times in 30m.",
)
FLAP = case(
    "1m",
    [
        series("colo_frr_bgp_peer_connections_dropped_total", "0 0 0 1 1 1 1 1 1 1 2 2 2 2 2", **PROV),
        series("colo_frr_bgp_peer_connections_dropped_total", "0 0 0 1 1 1 1 1 1 1 1 1 1 1 1", **IBGP),
    ],
    quiet_then("8m", "14m", "FrrBgpSessionFlapping", FLAPPING),
)

# Prefixes received drop to 0 on an up session; a session that never sent any does not alert. Another
# drops to a fifth of what it sent (low, not zero); a small table is left out.
V4 = {"afi_safi": "ipv4Unicast"}
R2_PROV = {
    "job": "colo-frr",
    "instance": "h2:9474",
    "frr_instance": "r2",
    "vrf": "default",
    "peer": "192.0.2.2",
    "peer_as": "64500",
    "local_as": "64501",
}
SMALL = {**R2_PROV, "peer": "192.0.2.4"}
PREFIXES = case(
    "1m",
    [
        series("colo_frr_bgp_peer_received_prefixes", "2 2 2 0x20", **PROV, **V4),
        series("colo_frr_bgp_peer_up", "1x23", **PROV),
        series("colo_frr_bgp_peer_received_prefixes", "0x23", **IBGP, **V4),
        series("colo_frr_bgp_peer_up", "1x23", **IBGP),
        series("colo_frr_bgp_peer_received_prefixes", "1000x60 200x30", **R2_PROV, **V4),
        series("colo_frr_bgp_peer_up", "1x90", **R2_PROV),
        series("colo_frr_bgp_peer_received_prefixes", "8x60 1x30", **SMALL, **V4),
        series("colo_frr_bgp_peer_up", "1x90", **SMALL),
    ],
    [
        check("5m", "FrrBgpPrefixesReceivedZero"),
        check(
            "10m",
            "FrrBgpPrefixesReceivedZero",
            (
                router("critical", PROV, **V4),
                "No prefixes from 192.0.2.0 on r1 (ipv4Unicast)",
                "The session to 192.0.2.0 AS64500 is up but the prefixes received in ipv4Unicast dropped to "
                "0.",
            ),
        ),
        check("70m", "FrrBgpPrefixesReceivedLow"),
        check(
            "80m",
            "FrrBgpPrefixesReceivedLow",
            (
                router("warning", R2_PROV, **V4),
                "Few prefixes from 192.0.2.2 on r2 (ipv4Unicast)",
                "192.0.2.2 AS64500 sends 200 prefixes in ipv4Unicast, under 50% of its average over the last "
                "1d: a filter, a partial outage at the peer, or a maximum-prefix limit.",
            ),
        ),
    ],
)

# BFD down alerts; an admin-shutdown BFD session does not; nor one whose BGP session is down (the session
# alert says it).
BFD_PROV = {**H1, "vrf": "default", "peer": "192.0.2.0", "local": "192.0.2.1", "interface": "to-prov"}
BFD_LAN = {**H1, "vrf": "default", "peer": "10.0.0.3", "local": "10.0.0.2", "interface": "lan0"}
BFD_R2 = {**BFD_PROV, "peer": "192.0.2.2", "local": "192.0.2.3", "instance": "h2:9474", "frr_instance": "r2"}
BFD = case(
    "30s",
    [
        series("colo_frr_bfd_peer_up", "1 0x5", **BFD_PROV),
        series("colo_frr_bfd_peer_admin_shutdown", "0x6", **BFD_PROV),
        series("colo_frr_bfd_peer_up", "0x6", **BFD_LAN),
        series("colo_frr_bfd_peer_admin_shutdown", "1x6", **BFD_LAN),
        series("colo_frr_bfd_peer_up", "1 0x5", **BFD_R2),
        series("colo_frr_bfd_peer_admin_shutdown", "0x6", **BFD_R2),
        series("colo_frr_bgp_peer_up", "1 0x5", **R2_PROV),
    ],
    [
        check(
            "2m",
            "FrrBfdPeerDown",
            (
                router("critical", BFD_PROV),
                "BFD peer 192.0.2.0 of r1 is down",
                "BFD from r1 (to-prov) to 192.0.2.0 is down: the link or the peer does not answer. (A BGP "
                "session down to the same peer alerts instead.)",
            ),
        ),
    ],
)


def vrrp(r: str, h: str) -> dict[str, str]:
    return {
        "job": "colo-frr",
        "instance": h,
        "frr_instance": r,
        "interface": "lan0",
        "vrid": "10",
        "family": "ipv4",
    }


# VRRP across two routers (two exporters): normal, then no master, then two masters; each alert names its
# router (both go into one notification: the router route groups by object).
VR1, VR2 = vrrp("r1", "h1:9474"), vrrp("r2", "h2:9474")
NO_MASTER = [
    (
        router("critical", v),
        "VRRP vrid 10 (ipv4) has no master",
        "No router is VRRP master for vrid 10 (ipv4): the default gateway is gone. "
        f"{v['frr_instance']} "
        "(lan0) is in state 1 (0 Initialize, 1 Backup).",
    )
    for v in (VR1, VR2)
]
TWO_MASTERS = [
    (
        router("critical", v),
        "VRRP vrid 10 (ipv4) has several masters",
        f"{v['frr_instance']} (lan0) is master of vrid 10 (ipv4), and so is another router: they "
        "do "
        "not hear each other (split brain).",
    )
    for v in (VR1, VR2)
]
VRRP = case(
    "30s",
    [
        series("colo_frr_vrrp_state", "2 2 2 2 1 1 1 1 1 2 2 2 2 2 2", **VR1),
        series("colo_frr_vrrp_state", "1 1 1 1 1 1 1 1 1 2 2 2 2 2 2", **VR2),
    ],
    [
        *quiet_then("1m", "3m30s", "FrrVrrpNoMaster", *NO_MASTER),
        *quiet_then("3m30s", "7m", "FrrVrrpTwoMasters", *TWO_MASTERS),
    ],
)

# Expected advertisement missing (while its session is up; a down session explains its own), daemon down,
# exporter down.
ADV = {**H1, "vrf": "default", "prefix": "203.0.113.0/24"}
OTHERS = case(
    "1m",
    [
        series("colo_frr_bgp_prefix_advertised", "1 1 0x8", **ADV, peer="192.0.2.0"),
        series("colo_frr_bgp_peer_up", "1x10", **PROV),
        series("colo_frr_bgp_prefix_advertised", "1 1 0x8", **ADV, peer="10.0.0.3"),
        series("colo_frr_bgp_peer_up", "1 1 0x8", **IBGP),
        series("colo_frr_up", "1 0 0 0 0 0 0 0 0 0", **H1, daemon="bfdd"),
        series("colo_frr_up", "1x10", **H1, daemon="bgpd"),
        series("up", "1x10", job="colo-frr", instance="h1:9474"),
        series("up", "1 1 0x8", job="colo-frr", instance="h2:9474"),
        series("up", "0x10", job="node", instance="h3:9100"),
    ],
    [
        check(
            "8m",
            "FrrExpectedAdvertisementMissing",
            (
                router("critical", ADV, peer="192.0.2.0"),
                "203.0.113.0/24 is not advertised to 192.0.2.0 by r1",
                "r1 (vrf default) does not advertise 203.0.113.0/24 to 192.0.2.0, as the exporter's config "
                "expects, while the session is up.",
            ),
        ),
        check(
            "4m",
            "FrrDaemonDown",
            (
                router("critical", H1, daemon="bfdd"),
                "FRR bfdd of r1 does not answer",
                "The exporter on h1:9474 cannot read bfdd of FRR instance r1 (daemon stopped, socket "
                "missing, "
                "permission, or a bad reply: see colo_frr_scrape_errors_total and the exporter's log). Its "
                "session alerts keep their last state.",
            ),
        ),
        check("5m", "FrrExporterDown", exporter_down("frr", "colo-frr", "h2:9474")),
        check("5m", "FrrBgpSessionDown", session_down(IBGP)),
    ],
)

PREFIXES_ZERO_IBGP = (
    router("critical", IBGP, **V4),
    "No prefixes from 10.0.0.3 on r1 (ipv4Unicast)",
    "The session to 10.0.0.3 AS64501 is up but the prefixes received in ipv4Unicast dropped to 0.",
)
ADVERT_MISSING_IBGP = (
    router("critical", ADV, peer="10.0.0.3"),
    "203.0.113.0/24 is not advertised to 10.0.0.3 by r1",
    "r1 (vrf default) does not advertise 203.0.113.0/24 to 10.0.0.3, as the exporter's config expects, while "
    "the session is up.",
)

SLOW = case(
    "1m",
    [series("scrape_duration_seconds", "9x20", job="colo-frr", instance="h1:9474")],
    [check("16m", "FrrExporterScrapeSlow", scrape_slow("frr", "colo-frr", "h1:9474", "9s"))],
)


def success(collector: str, values: str, daemon: str = "bgpd", base: dict[str, str] = H1) -> dict[str, str]:
    return series("colo_frr_collector_success", values, **base, daemon=daemon, collector=collector)


def failing(collector: str, daemon: str = "bgpd", **more: str) -> tuple[dict[str, str], str, str]:
    return (
        {
            **H1,
            "daemon": daemon,
            "collector": collector,
            **more,
            "severity": "warning",
            "object": "monitoring",
            "exporter": "frr",
        },
        f"FRR {daemon} of r1: collector {collector} fails",
        f"{daemon} of r1 answers, but its {collector} command has failed for 5m (an error status, a `%` line "
        'or a reply that is not FRR\'s JSON: colo_frr_scrape_errors_total{reason="command"|"malformed"} '
        "and the exporter's log say which). The alerts on what it reads keep their last known state "
        "meanwhile.",
    )


# bgpd answers (colo_frr_up 1) but its summary, neighbors and one advertisement lookup fail from 9m to 28m
# (an error status every scrape, counted): the session, prefix and advertisement alerts are blind, like
# while the exporter is down. They keep their last known state (no "resolved" nobody checked), and
# FrrCollectorFailing says which collectors fail. Back at 29m: the session is up again, the prefixes
# back; both resolve resolve_delay (2m) later. On h2, bfdd's `counters` is a command that FRR release
# does not know: 0 from the start, never counted as an error, never alerting.
ADV_IBGP = {**ADV, "peer": "10.0.0.3"}
ADV_COLLECTOR = "advertised:default:203.0.113.0/24"
H2 = {"job": "colo-frr", "instance": "h2:9474", "frr_instance": "r2"}
COLLECTORS = case(
    "1m",
    [
        series("up", "1x40", job="colo-frr", instance="h1:9474"),
        series("colo_frr_up", "1x40", **H1, daemon="bgpd"),
        success("summary", "1x8 0x20 1x11"),
        success("neighbors", "1x8 0x20 1x11"),
        success(ADV_COLLECTOR, "1x8 0x20 1x11"),
        series(
            "colo_frr_scrape_errors_total",
            "0x8 3+3x19 60x11",
            job="colo-frr",
            instance="h1:9474",
            reason="command",
        ),
        series("colo_frr_bgp_peer_up", "1 1 0x6 _x20 1x11", **PROV),
        series("colo_frr_bgp_peer_admin_shutdown", "0x8 _x20 0x11", **PROV),
        series("colo_frr_bgp_peer_up", "1x8 _x20 1x11", **IBGP),
        series("colo_frr_bgp_peer_admin_shutdown", "0x8 _x20 0x11", **IBGP),
        series("colo_frr_bgp_peer_received_prefixes", "5 5 5 0x5 _x20 5x11", **IBGP, **V4),
        series("colo_frr_bgp_prefix_advertised", "1 0x7 _x20 1x11", **ADV_IBGP),
        series("up", "1x40", job="colo-frr", instance="h2:9474"),
        series("colo_frr_up", "1x40", **H2, daemon="bfdd"),
        success("peers", "1x40", "bfdd", H2),
        success("counters", "0x40", "bfdd", H2),
        series("colo_frr_scrape_errors_total", "0x40", job="colo-frr", instance="h2:9474", reason="command"),
    ],
    [
        check("5m", "FrrBgpSessionDown", session_down(PROV)),
        check("8m", "FrrBgpPrefixesReceivedZero", PREFIXES_ZERO_IBGP),
        check("8m", "FrrExpectedAdvertisementMissing", ADVERT_MISSING_IBGP),
        check("12m", "FrrCollectorFailing"),
        check(
            "15m",
            "FrrCollectorFailing",
            failing("summary"),
            failing("neighbors"),
            failing(ADV_COLLECTOR, vrf="default", prefix="203.0.113.0/24"),
        ),
        check("20m", "FrrBgpSessionDown", session_down(PROV)),
        check("20m", "FrrBgpPrefixesReceivedZero", PREFIXES_ZERO_IBGP),
        check("20m", "FrrExpectedAdvertisementMissing", ADVERT_MISSING_IBGP),
        check("30m", "FrrBgpSessionDown", session_down(PROV)),
        check("33m", "FrrBgpSessionDown"),
        check("33m", "FrrBgpPrefixesReceivedZero"),
        check("33m", "FrrExpectedAdvertisementMissing"),
        check("33m", "FrrCollectorFailing"),
    ],
)

# r1 is VRRP master, r2 backup. r1's exporter stops for 10 minutes: r1's state is not known, but it was
# master and r2 still hears it (it stays backup): no "no master" page. Then (14m) r1 really goes and r2
# takes over: one master, no alert either; r1 back at 24m as backup.
VRRP_BLIND = case(
    "30s",
    [
        series("up", "1x8 0x20 1x20", job="colo-frr", instance="h1:9474"),
        series("colo_frr_vrrp_state", "2x8 _x20 1x20", **VR1),
        success("vrrp", "1x8 _x20 1x20", "vrrpd"),
        series("colo_frr_vrrp_state", "1x28 2x20", **VR2),
        success("vrrp", "1x48", "vrrpd", H2),
    ],
    [
        *(check(t, "FrrVrrpNoMaster") for t in ("6m", "10m", "13m30s", "20m")),
        check("20m", "FrrVrrpTwoMasters"),
    ],
)

CASES = [SESSION, BLIND, FLAP, PREFIXES, BFD, VRRP, OTHERS, SLOW, COLLECTORS, VRRP_BLIND]


def test_frr_alerts(tmp_path: Path) -> None:
    run(tmp_path, "frr", RULES, CASES, evaluation_interval="30s")
