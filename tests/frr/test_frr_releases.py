"""Every value of every reply of each FRR release line the exporter covers (7.5, 8.4, 9.1, 10.x), in the
layouts that release writes. tests/fixtures/frr/README.md says where each fixture comes from; the
expected values below were read off the fixtures' JSON, not off the parser."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from exporters.frr import collector
from exporters.frr.parse_bfd import BfdCounters, BfdPeer, parse_bfd
from exporters.frr.parse_bgp import AfCounters, Neighbor, SummaryPeer, parse_neighbors, parse_summary
from exporters.frr.parse_vrrp import VrrpRouter, parse_vrrp
from exporters.frr.parse_zebra import RouteCount, parse_route_summary, parse_version
from lab.exporter import find, parse, value
from lab.prometheus import check_metrics

from frr_testlib import expose

F = Path(__file__).resolve().parent.parent / "fixtures" / "frr"
DIRS = {"7.5": F / "7.5", "8.4": F / "shared" / "r1" / "established", "9.1": F / "9.1", "10.3": F / "10.3"}
RELEASES = list(DIRS)
EPOCH = 1795819676


def read(release: str, name: str) -> bytes:
    if release == "8.4" and name.startswith("show_bgp_vrf_default_"):
        return (F / "captured" / "r1" / "established" / name).read_bytes()
    return (DIRS[release] / name).read_bytes()


Msgs = tuple[tuple[str, int], ...]


def msgs(*counts: int) -> tuple[tuple[str, int], ...]:
    return tuple(
        zip(
            ("open", "update", "keepalive", "notification", "route_refresh", "capability"),
            counts,
            strict=True,
        )
    )


# --- FRR 8.4.4, captured; the other releases differ from it as listed in expected() ------------------
NO_AFI = "No AFI/SAFI activated for peer"
PROV4, PROV6 = "PROV core1 AS64500 transit (v4)", "PROV core1 AS64500 transit (v6)"
CUST_DESC = "CUST-A in vrf CUST (inactive vrf)"
Z = msgs(0, 0, 0, 0, 0, 0)


# fmt: off
def _summary_84() -> list[SummaryPeer]:
    def sp(vrf: str, af: str, peer: str, ras: str, rcv: int, snt: int, epoch: int | None, desc: str,
           up: int, dropped: int, state: str = "Established") -> SummaryPeer:
        return SummaryPeer(vrf, af, peer, ras, "64501", state, False, rcv, snt, epoch, desc, up, dropped)

    return [
        sp("default", "ipv4Unicast", "10.0.0.3", "64501", 4, 4, EPOCH, "iBGP r2 (v4)", 1, 0),
        sp("default", "ipv4Unicast", "192.0.2.0", "64500", 2, 5, EPOCH, PROV4, 1, 0),
        sp("default", "ipv6Unicast", "2001:db8:0:1::1", "64500", 2, 3, EPOCH + 1, PROV6, 2, 1),
        sp("default", "ipv6Unicast", "2001:db8:a::3", "64501", 3, 3, EPOCH, "iBGP r2 (v6)", 1, 0),
        sp("CUST", "ipv4Unicast", "10.1.1.1", "64600", 0, 0, None, CUST_DESC, 0, 0, "Idle"),
    ]


def _neighbors_84() -> list[Neighbor]:
    def nb(vrf: str, peer: str, ras: str, state: str, epoch: int | None, desc: str, rcv: Msgs, snt: Msgs,
           up: int, dropped: int, reset: str, bfd: str | None, af: str, acc: int, sent: int | None
           ) -> Neighbor:
        return Neighbor(vrf, peer, ras, "64501", state, False, epoch, desc, rcv, snt, up, dropped, reset,
                        None, bfd, ((af, AfCounters(acc, sent)),))

    return [
        nb("default", "10.0.0.3", "64501", "Established", EPOCH, "iBGP r2 (v4)",
           msgs(1, 3, 1, 0, 0, 0), msgs(1, 3, 1, 0, 0, 0), 1, 0, NO_AFI, "Up", "ipv4Unicast", 4, 4),
        nb("default", "192.0.2.0", "64500", "Established", EPOCH, PROV4,
           msgs(1, 10, 1, 0, 3, 0), msgs(1, 13, 1, 0, 3, 0), 1, 0, "Waiting for peer OPEN", "Up",
           "ipv4Unicast", 2, 5),
        nb("default", "2001:db8:0:1::1", "64500", "Established", EPOCH + 1, PROV6,
           msgs(1, 9, 1, 0, 3, 0), msgs(2, 10, 1, 0, 3, 0), 2, 1, NO_AFI, None, "ipv6Unicast", 2, 3),
        nb("default", "2001:db8:a::3", "64501", "Established", EPOCH, "iBGP r2 (v6)",
           msgs(1, 3, 1, 0, 0, 0), msgs(1, 3, 1, 0, 0, 0), 1, 0, NO_AFI, None, "ipv6Unicast", 3, 3),
        nb("CUST", "10.1.1.1", "64600", "Idle", None, CUST_DESC, Z, Z, 0, 0, NO_AFI, None,
           "ipv4Unicast", 0, None),
    ]


BFD_84 = [
    BfdPeer("default", "192.0.2.0", "192.0.2.1", "to-prov", False, "up", 4, None, "ok",
            BfdCounters(1, 0, 19, 20)),
    BfdPeer("default", "10.0.0.3", "10.0.0.2", "lan0", False, "up", 4, None, "ok",
            BfdCounters(1, 0, 21, 21)),
]
VRRP_84 = [
    VrrpRouter("lan0", 10, "ipv4", "vrrp4-10", "Master", 200, 2, 3, 0, False),
    VrrpRouter("lan0", 10, "ipv6", "vrrp6-10", "Master", 200, 2, 2, 0, False),
]
ROUTES_84 = {
    "ipv4": [RouteCount("kernel", 2, 2), RouteCount("connected", 3, 3), RouteCount("ebgp", 2, 2),
             RouteCount("ibgp", 1, 1)],
    "ipv6": [RouteCount("kernel", 1, 1), RouteCount("connected", 7, 7), RouteCount("ebgp", 2, 2),
             RouteCount("ibgp", 0, 0)],
}
# FRR 7.5: r2's admin-down peer, moved to r1.
SHUT_SUMMARY_75 = SummaryPeer("default", "ipv4Unicast", "192.0.2.99", "64599", "64501", "Idle", True, 0, None,
                              None, None, 0, 0)
SHUT_NEIGHBOR_75 = Neighbor("default", "192.0.2.99", "64599", "64501", "Idle", True, None,
                            "decommissioned peer (admin down)", Z, Z, 0, 0, NO_AFI, None, None,
                            (("ipv4Unicast", AfCounters(0, None)),))
# fmt: on


def expected(release: str) -> dict[str, object]:
    summary, neighbors = _summary_84(), _neighbors_84()
    routes = {k: list(v) for k, v in ROUTES_84.items()}
    version = {"7.5": "7.5.1", "8.4": "8.4.4", "9.1": "9.1.3", "10.3": "10.3.1-g5f3ad48"}[release]
    if release == "7.5":
        # No desc, peerState or localAs per peer (the local AS is the block's `as`); no pfxSnt for a peer
        # that was never up; r2's admin-down peer moved to this router, with only "Idle (Admin)" to say so.
        summary = [
            dataclasses.replace(
                s, description=None, advertised=s.advertised if s.state == "Established" else None
            )
            for s in summary
        ]
        summary.insert(2, SHUT_SUMMARY_75)
        neighbors.insert(4, SHUT_NEIGHBOR_75)
    if release in ("9.1", "10.3"):
        # VRF CUST in `as-notation dot`: AS 1.10 (65546) and a peer 2.500 (131572), written as strings.
        summary[-1] = dataclasses.replace(summary[-1], remote_as="131572", local_as="65546")
        neighbors[-1] = dataclasses.replace(neighbors[-1], remote_as="131572", local_as="65546")
    if release == "10.3":
        routes["ipv4"].insert(2, RouteCount("local", 3, 3))
        routes["ipv6"].insert(2, RouteCount("local", 7, 7))
    return {
        "summary": summary,
        "neighbors": neighbors,
        "bfd": BFD_84,
        "vrrp": VRRP_84,
        "routes": routes,
        "version": version,
    }


@pytest.mark.parametrize("release", RELEASES)
def test_every_value_of_every_reply(release: str) -> None:
    want = expected(release)
    assert parse_summary(read(release, "show_bgp_vrf_all_summary.json")) == want["summary"]
    per_family = parse_summary(read(release, "show_bgp_vrf_all_ipv4_unicast_summary.json")) + parse_summary(
        read(release, "show_bgp_vrf_all_ipv6_unicast_summary.json"), "ipv6Unicast"
    )
    # The two layouts say the same (the order is the reply's: per VRF, then per family).
    key = lambda p: (p.vrf, p.afi_safi, p.peer)  # noqa: E731
    assert sorted(per_family, key=key) == sorted(want["summary"], key=key)  # type: ignore[arg-type]
    assert parse_neighbors(read(release, "show_bgp_vrf_all_neighbors.json")) == want["neighbors"]
    bfd = parse_bfd(read(release, "show_bfd_peers.json"), read(release, "show_bfd_peers_counters.json"))
    assert bfd == want["bfd"]
    assert parse_vrrp(read(release, "show_vrrp.json")) == want["vrrp"]
    routes = {
        "ipv4": parse_route_summary(read(release, "show_ip_route_summary.json")),
        "ipv6": parse_route_summary(read(release, "show_ipv6_route_summary.json")),
    }
    assert routes == want["routes"]
    assert parse_version(read(release, "show_version.txt")) == want["version"]


@pytest.mark.parametrize("release", RELEASES)
def test_exposition_of_each_release(release: str) -> None:
    summary = parse_summary(read(release, "show_bgp_vrf_all_summary.json"))
    neighbors = parse_neighbors(read(release, "show_bgp_vrf_all_neighbors.json"))
    ns = "colo_frr"
    fams = list(collector.bgp(ns, "r1", summary, neighbors))
    fams += collector.bfd(
        ns,
        "r1",
        parse_bfd(read(release, "show_bfd_peers.json"), read(release, "show_bfd_peers_counters.json")),
    )
    fams += collector.vrrp(ns, "r1", parse_vrrp(read(release, "show_vrrp.json")))
    fams += collector.zebra(
        ns,
        "r1",
        parse_version(read(release, "show_version.txt")),
        {"ipv4": parse_route_summary(read(release, "show_ip_route_summary.json"))},
    )
    text = expose(fams)
    assert check_metrics(text) == []
    s = parse(text)
    prov = {"vrf": "default", "peer": "192.0.2.0", "peer_as": "64500", "local_as": "64501"}
    assert value(s, "colo_frr_bgp_peer_up", **prov) == 1
    assert value(s, "colo_frr_bgp_peer_established_timestamp_seconds", **prov) == EPOCH
    assert value(s, "colo_frr_bgp_peer_received_prefixes", afi_safi="ipv4Unicast", **prov) == 2
    assert value(s, "colo_frr_bgp_peer_accepted_prefixes", afi_safi="ipv4Unicast", **prov) == 2
    assert value(s, "colo_frr_bgp_peer_advertised_prefixes", afi_safi="ipv4Unicast", **prov) == 5
    assert value(s, "colo_frr_bgp_peer_messages_sent_total", type="update", **prov) == 13
    assert value(s, "colo_frr_bgp_peer_bfd_up", **prov) == 1
    assert value(s, "colo_frr_bfd_peer_session_down_total", peer="192.0.2.0") == 0
    assert value(s, "colo_frr_vrrp_state", family="ipv6") == 2
    cust = {"vrf": "CUST", "peer": "10.1.1.1"}
    ((lbl, up),) = find(s, "colo_frr_bgp_peer_up", **cust)
    assert up == 0
    assert (lbl["peer_as"], lbl["local_as"]) == (
        ("131572", "65546") if release in ("9.1", "10.3") else ("64600", "64501")
    )
    # CUST's never-up peer: 7.5 writes no pfxSnt for it (no series), 8.4+ a true 0 (no update group).
    sent = find(s, "colo_frr_bgp_peer_advertised_prefixes", **cust)
    assert [v for _, v in sent] == ([] if release == "7.5" else [0])
    if release == "7.5":
        shut = {"peer": "192.0.2.99", "peer_as": "64599"}
        assert value(s, "colo_frr_bgp_peer_admin_shutdown", **shut) == 1
        assert value(s, "colo_frr_bgp_peer_state", **shut) == 1
    assert value(s, "colo_frr_version_info", version=expected(release)["version"]) == 1  # type: ignore[arg-type]
