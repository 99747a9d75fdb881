"""Parsers and the collector on captured real FRR 8.4 output, and on the other documented layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exporters.frr import collector
from exporters.frr.parse_bfd import parse_bfd
from exporters.frr.parse_bgp import parse_advertised_to, parse_neighbors, parse_summary
from exporters.frr.parse_common import ParseError, asn
from exporters.frr.parse_vrrp import parse_vrrp
from exporters.frr.parse_zebra import parse_route_summary, parse_version
from lab.exporter import find, parse, value
from lab.prometheus import check_metrics

from frr_testlib import expose

NS = "colo_frr"
F = Path(__file__).resolve().parent.parent / "fixtures" / "frr"
SHARED, CAPTURED, BUILT = F / "shared", F / "captured", F / "constructed"


def read(path: Path) -> bytes:
    return path.read_bytes()


def by_peer(items: list, af: str | None = None) -> dict:
    return {(x.vrf, x.peer): x for x in items if af is None or x.afi_safi == af}


# --- BGP summary ---------------------------------------------------------------------------------


def test_summary_nested_layout_all_vrfs_and_families() -> None:
    peers = parse_summary(read(SHARED / "r1/established/show_bgp_vrf_all_summary.json"))
    assert {(p.vrf, p.afi_safi, p.peer) for p in peers} == {
        ("default", "ipv4Unicast", "10.0.0.3"),
        ("default", "ipv4Unicast", "192.0.2.0"),
        ("default", "ipv6Unicast", "2001:db8:0:1::1"),
        ("default", "ipv6Unicast", "2001:db8:a::3"),
        ("CUST", "ipv4Unicast", "10.1.1.1"),
    }
    prov = by_peer(peers)[("default", "192.0.2.0")]
    assert (prov.state, prov.remote_as, prov.local_as, prov.received, prov.advertised) == (
        "Established",
        "64500",
        "64501",
        2,
        5,
    )
    assert prov.description == "PROV core1 AS64500 transit (v4)"
    cust = by_peer(peers)[("CUST", "10.1.1.1")]
    assert (cust.state, cust.admin_shutdown, cust.state_epoch) == ("Idle", False, None)


def test_summary_flat_per_family_layout_real() -> None:
    v4 = parse_summary(
        read(SHARED / "r2/established/show_bgp_vrf_all_ipv4_unicast_summary.json"), "ipv4Unicast"
    )
    v6 = parse_summary(
        read(SHARED / "r2/established/show_bgp_vrf_all_ipv6_unicast_summary.json"), "ipv6Unicast"
    )
    assert {p.afi_safi for p in v4} == {"ipv4Unicast"} and {p.afi_safi for p in v6} == {"ipv6Unicast"}
    shut = by_peer(v4)[("default", "192.0.2.99")]
    assert shut.admin_shutdown and shut.state == "Idle"
    assert by_peer(v6)[("default", "2001:db8:0:2::1")].state == "Established"


def test_summary_flat_old_layout_with_unnumbered_peer() -> None:
    peers = by_peer(parse_summary(read(BUILT / "flat_vrf_all_ipv4_unicast_summary.json")))
    assert set(peers) == {("default", "192.0.2.0"), ("default", "swp1"), ("default", "192.0.2.99")}
    swp1 = peers[("default", "swp1")]
    assert (swp1.local_as, swp1.remote_as, swp1.received, swp1.connections_dropped) == (
        "64501",
        "64502",
        5,
        1,
    )
    idle = peers[("default", "192.0.2.99")]
    assert idle.admin_shutdown and idle.advertised is None


def test_summary_asdot_numbers_become_asplain() -> None:
    peers = by_peer(parse_summary(read(BUILT / "asdot_vrf_all_summary.json")))
    assert peers[("default", "192.0.2.0")].remote_as == str(2 * 65536 + 500)
    assert peers[("default", "192.0.2.0")].local_as == str(65536 + 10)
    assert peers[("default", "10.0.0.3")].remote_as == "64501"


def test_summary_epoch_is_last_change_not_establishment() -> None:
    # prov shut r1's session: r1's peer went Active 9 s before the capture; the epoch moved with it.
    peers = by_peer(parse_summary(read(SHARED / "r1/prov-nbr-shutdown/show_bgp_vrf_all_summary.json")))
    down = peers[("default", "192.0.2.0")]
    still = peers[("default", "10.0.0.3")]
    assert down.state == "Active" and still.state == "Established"
    assert down.state_epoch > still.state_epoch


@pytest.mark.parametrize(
    "asn_in,out",
    [
        (64500, "64500"),
        ("64500", "64500"),
        ("1.10", "65546"),
        ("0.65000", "65000"),
        (4294967295, "4294967295"),
    ],
)
def test_asn(asn_in: object, out: str) -> None:
    assert asn(asn_in, "x") == out


@pytest.mark.parametrize("bad", [None, -1, "1.70000", "AS1", True, 2**32, 1.5])
def test_asn_rejects(bad: object) -> None:
    with pytest.raises(ParseError):
        asn(bad, "x")


# --- BGP neighbors -------------------------------------------------------------------------------


def test_neighbors_established() -> None:
    ns = by_peer(parse_neighbors(read(SHARED / "r1/reestablished/show_bgp_vrf_all_neighbors.json")))
    assert len(ns) == 5
    prov = ns[("default", "192.0.2.0")]
    assert prov.up and not prov.admin_shutdown and prov.established_epoch and prov.bfd_status == "Up"
    assert prov.connections_dropped == 1 and prov.connections_established == 2
    assert dict(prov.families)["ipv4Unicast"].accepted == 2
    assert dict(prov.families)["ipv4Unicast"].sent is not None
    assert dict(prov.messages_received)["notification"] == 2
    cust = ns[("CUST", "10.1.1.1")]
    assert not cust.up and cust.bfd_status is None and cust.established_epoch is None


def test_neighbors_remote_shutdown_and_admin_shutdown() -> None:
    r1 = by_peer(parse_neighbors(read(SHARED / "r1/prov-nbr-shutdown/show_bgp_vrf_all_neighbors.json")))
    p = r1[("default", "192.0.2.0")]
    assert (p.state, p.admin_shutdown, p.last_notification) == (
        "Active",
        False,
        "Cease/Administrative Shutdown",
    )
    assert p.established_epoch is None
    prov = by_peer(parse_neighbors(read(SHARED / "prov/prov-nbr-shutdown/show_bgp_vrf_all_neighbors.json")))
    assert prov[("default", "192.0.2.1")].admin_shutdown
    assert not prov[("default", "192.0.2.3")].admin_shutdown


def test_neighbors_unnumbered_and_single_vrf_layouts() -> None:
    (n,) = parse_neighbors(read(BUILT / "unnumbered_vrf_all_neighbors.json"))
    assert (n.peer, n.remote_as, n.local_as, n.last_reset) == ("swp1", "131572", "65546", "Interface down")
    assert dict(n.families)["ipv6Unicast"].sent == 2
    (s,) = parse_neighbors(read(BUILT / "single_vrf_neighbors.json"))
    assert (s.vrf, s.peer, s.state, s.connections_dropped) == ("default", "192.0.2.0", "Active", 1)


def test_advertised_to() -> None:
    est = CAPTURED / "r1/established"
    assert parse_advertised_to(
        read(est / "show_bgp_vrf_default_ipv4_unicast_203_0_113_0_24.json"), "203.0.113.0/24"
    ) == {"192.0.2.0", "10.0.0.3"}
    assert parse_advertised_to(
        read(est / "show_bgp_vrf_default_ipv6_unicast_2001_db8_100_48.json"), "2001:db8:100::/48"
    ) == {"2001:db8:0:1::1", "2001:db8:a::3"}
    assert (
        parse_advertised_to(
            read(est / "show_bgp_vrf_default_ipv4_unicast_192_0_2_128_25.json"), "192.0.2.128/25"
        )
        == set()
    )
    assert (
        parse_advertised_to(
            read(est / "show_bgp_vrf_NOPE_ipv4_unicast_203_0_113_0_24.json"), "203.0.113.0/24"
        )
        is None
    )
    # An answer about another prefix (a longest match) is not this prefix being advertised.
    other = json.dumps({"prefix": "203.0.113.0/25", "advertisedTo": {"192.0.2.0": {}}})
    assert parse_advertised_to(other, "203.0.113.0/24") == set()


def test_bgpd_without_bgp_configured() -> None:
    d = CAPTURED / "empty-bgpd"
    assert parse_summary(read(d / "show_bgp_vrf_all_summary.json")) == []
    assert parse_neighbors(read(d / "show_bgp_vrf_all_neighbors.json")) == []
    lookup = read(d / "show_bgp_vrf_default_ipv4_unicast_203_0_113_0_24.json")
    assert parse_advertised_to(lookup, "203.0.113.0/24") is None


# --- BFD, VRRP, zebra ----------------------------------------------------------------------------


def test_bfd_blackholed_link() -> None:
    d = CAPTURED / "r1/link-blackholed"
    peers = {
        p.peer: p
        for p in parse_bfd(read(d / "show_bfd_peers.json"), read(d / "show_bfd_peers_counters.json"))
    }
    down = peers["192.0.2.0"]
    assert down.counters is not None
    assert (down.status, down.uptime, down.counters.session_up, down.counters.session_down) == (
        "down",
        None,
        1,
        1,
    )
    assert down.downtime is not None and down.interface == "to-prov" and down.local == "192.0.2.1"
    assert peers["10.0.0.3"].status == "up" and peers["10.0.0.3"].uptime is not None


def test_bfd_empty_and_without_counters() -> None:
    assert parse_bfd(read(SHARED / "prov/prov-bgpd-killed/show_bfd_peers.json")) == []
    (p, _) = parse_bfd(read(SHARED / "r1/established/show_bfd_peers.json"))
    assert p.counters is None


def test_vrrp_master_backup_and_takeover() -> None:
    r1 = parse_vrrp(read(SHARED / "r1/established/show_vrrp.json"))
    assert [(v.family, v.status, v.priority) for v in r1] == [
        ("ipv4", "Master", 200),
        ("ipv6", "Master", 200),
    ]
    r2 = parse_vrrp(read(SHARED / "r2/established/show_vrrp.json"))
    assert {v.status for v in r2} == {"Backup"} and r2[0].adverts_received > 0
    after = parse_vrrp(read(CAPTURED / "r2/vrrp-master-stopped/show_vrrp.json"))
    assert {v.status for v in after} == {"Master"}
    assert all(a.transitions > b.transitions for a, b in zip(after, r2, strict=True))


def test_zebra() -> None:
    d = CAPTURED / "r1/established"
    routes = {r.protocol: r for r in parse_route_summary(read(d / "show_ip_route_summary.json"))}
    assert routes["ebgp"].rib == 2 and routes["connected"].fib == 3
    assert parse_version(read(d / "show_version.txt")) == "8.4.4"
    with pytest.raises(ParseError):
        parse_version(b"Quagga 1.2")


# --- malformed -------------------------------------------------------------------------------------

GOOD = read(SHARED / "r1/established/show_bgp_vrf_all_summary.json")


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"   \n",
        GOOD[: len(GOOD) // 2],
        b"% BGP instance not found",
        b"[]",
        b'"x"',
        json.dumps({"default": {"ipv4Unicast": {"as": 1, "peers": []}}}).encode(),
        json.dumps(
            {"default": {"ipv4Unicast": {"as": 1, "peers": {"1.1.1.1": {"state": 6, "remoteAs": 1}}}}}
        ).encode(),
        json.dumps(
            {
                "default": {
                    "ipv4Unicast": {
                        "as": 1,
                        "peers": {"1.1.1.1": {"state": "Established", "remoteAs": 1, "pfxRcd": "12"}},
                    }
                }
            }
        ).encode(),
        json.dumps(
            {"default": {"ipv4Unicast": {"as": 1, "peers": {"1.1.1.1": {"state": "Established"}}}}}
        ).encode(),
        b"[" * 100000,
    ],
)
def test_malformed_summary_is_a_parse_error(text: bytes) -> None:
    with pytest.raises(ParseError):
        parse_summary(text)


@pytest.mark.parametrize(
    "fn,text",
    [
        (
            parse_neighbors,
            b'{"default": {"vrfName": "default", "1.1.1.1": {"bgpState": "Established", "remoteAs": 1, '
            b'"localAs": 2, "messageStats": []}}}',
        ),
        (parse_neighbors, b'{"default": {"vrfName": "default", "1.1.1.1": {"remoteAs": 1}}}'),
        (parse_bfd, b'{"peer": "1.1.1.1"}'),
        (parse_bfd, b'[{"status": "up"}]'),
        (parse_vrrp, b'[{"vrid": "ten", "interface": "lan0"}]'),
        (
            parse_vrrp,
            b'[{"vrid": 10, "interface": "lan0", "v4": {"status": "Master", "stats": {"adverTx": -0.5}}}]',
        ),
        (parse_route_summary, b'{"routes": [{"type": "bgp", "rib": null, "fib": 1}]}'),
    ],
)
def test_malformed_other_replies(fn: object, text: bytes) -> None:
    with pytest.raises(ParseError):
        fn(text)  # type: ignore[operator]


# --- collector -------------------------------------------------------------------------------------


def test_collector_bgp_on_real_output_is_valid_and_exact() -> None:
    d = SHARED / "r1/prov-nbr-shutdown"
    summary = parse_summary(read(d / "show_bgp_vrf_all_summary.json"))
    neighbors = parse_neighbors(read(d / "show_bgp_vrf_all_neighbors.json"))
    fams = list(
        collector.bgp(NS, "r1", summary, neighbors, [("default", "203.0.113.0/24", "192.0.2.0", False)])
    )
    text = expose(fams)
    assert check_metrics(text) == []
    s = parse(text)
    lbl = {
        "frr_instance": "r1",
        "vrf": "default",
        "peer": "192.0.2.0",
        "peer_as": "64500",
        "local_as": "64501",
    }
    assert value(s, "colo_frr_bgp_peer_up", **lbl) == 0
    assert value(s, "colo_frr_bgp_peer_state", **lbl) == 3  # Active
    assert value(s, "colo_frr_bgp_peer_admin_shutdown", **lbl) == 0
    assert value(s, "colo_frr_bgp_peer_connections_dropped_total", **lbl) == 1
    down_at = value(s, "colo_frr_bgp_peer_down_timestamp_seconds", **lbl)
    assert down_at == by_peer(summary)[("default", "192.0.2.0")].state_epoch
    assert not [
        x
        for x in s
        if x[0] == "colo_frr_bgp_peer_established_timestamp_seconds" and ("peer", "192.0.2.0") in x[1]
    ]
    assert value(s, "colo_frr_bgp_peer_messages_received_total", type="notification", **lbl) == 2
    assert value(s, "colo_frr_bgp_peer_received_prefixes", afi_safi="ipv4Unicast", **lbl) == 0
    assert (
        value(
            s,
            "colo_frr_bgp_peer_last_reset_info",
            reason="BGP Notification received",
            notification="Cease/Administrative Shutdown",
            **lbl,
        )
        == 1
    )
    ibgp = {**lbl, "peer": "10.0.0.3", "peer_as": "64501"}
    assert value(s, "colo_frr_bgp_peer_up", **ibgp) == 1
    assert value(s, "colo_frr_bgp_peer_received_prefixes", afi_safi="ipv4Unicast", **ibgp) == 4
    assert value(s, "colo_frr_bgp_peer_accepted_prefixes", afi_safi="ipv4Unicast", **ibgp) == 4
    # With prov gone, r1 sends r2 only its own two prefixes (summary pfxSnt and sentPrefixCounter agree).
    assert value(s, "colo_frr_bgp_peer_advertised_prefixes", afi_safi="ipv4Unicast", **ibgp) == 2
    est = value(s, "colo_frr_bgp_peer_established_timestamp_seconds", **ibgp)
    assert est == by_peer(neighbors)[("default", "10.0.0.3")].established_epoch
    assert value(s, "colo_frr_bgp_prefix_advertised", prefix="203.0.113.0/24", peer="192.0.2.0") == 0


def test_collector_description_label_is_opt_in() -> None:
    d = SHARED / "r1/established"
    summary = parse_summary(read(d / "show_bgp_vrf_all_summary.json"))
    neighbors = parse_neighbors(read(d / "show_bgp_vrf_all_neighbors.json"))
    plain = parse(expose(collector.bgp(NS, "r1", summary, neighbors)))
    assert all("description" not in dict(lbl) for _, lbl in plain)
    described = parse(expose(collector.bgp(NS, "r1", summary, neighbors, description_label=True)))
    assert (
        value(
            described, "colo_frr_bgp_peer_up", peer="192.0.2.0", description="PROV core1 AS64500 transit (v4)"
        )
        == 1
    )


def test_collector_bfd_vrrp_zebra_are_valid() -> None:
    d = CAPTURED / "r1/link-blackholed"
    fams = list(
        collector.bfd(
            NS, "r1", parse_bfd(read(d / "show_bfd_peers.json"), read(d / "show_bfd_peers_counters.json"))
        )
    )
    fams += list(
        collector.vrrp(NS, "r2", parse_vrrp(read(CAPTURED / "r2/vrrp-master-stopped/show_vrrp.json")))
    )
    e = CAPTURED / "r1/established"
    fams += list(
        collector.zebra(
            NS,
            "r1",
            parse_version(read(e / "show_version.txt")),
            {
                "ipv4": parse_route_summary(read(e / "show_ip_route_summary.json")),
                "ipv6": parse_route_summary(read(e / "show_ipv6_route_summary.json")),
            },
        )
    )
    text = expose(fams)
    assert check_metrics(text) == []
    s = parse(text)
    assert value(s, "colo_frr_bfd_peer_up", peer="192.0.2.0") == 0
    assert value(s, "colo_frr_bfd_peer_session_down_total", peer="192.0.2.0") == 1
    assert value(s, "colo_frr_bfd_peer_up", peer="10.0.0.3") == 1
    assert value(s, "colo_frr_vrrp_state", frr_instance="r2", family="ipv4", vrid="10", interface="lan0") == 2
    assert value(s, "colo_frr_vrrp_transitions_total", frr_instance="r2", family="ipv6") == 4
    assert value(s, "colo_frr_rib_routes", family="ipv4", protocol="ebgp") == 2
    assert value(s, "colo_frr_version_info", version="8.4.4") == 1


# --- keys that moved between releases, and entries that cost only themselves ----------------------


def test_received_prefixes_from_older_key_names() -> None:
    old = by_peer(parse_summary(read(BUILT / "summary_prefixReceivedCount_6.0.json")))
    assert old[("default", "192.0.2.0")].received == 2
    assert old[("default", "10.0.0.3")].received == 0
    # No pfxSnt, no connection counters in that release: unknown, not 0.
    assert old[("default", "192.0.2.0")].advertised is None
    assert old[("default", "192.0.2.0")].connections_established is None
    (both,) = parse_summary(read(BUILT / "summary_both_prefix_keys_7.3.json"))
    assert (both.vrf, both.afi_safi, both.received, both.advertised) == ("default", "ipv4Unicast", 2, 5)
    # A summary without any received-prefix key gives no series, not a 0.
    fams = collector.bgp(
        NS, "r1", parse_summary(b'{"default": {"peers": {"p": {"remoteAs": 1, "state": "Idle"}}}}'), None
    )
    s = parse(expose(fams))
    assert value(s, "colo_frr_bgp_peer_up", peer="p") == 0
    assert not find(s, "colo_frr_bgp_peer_received_prefixes")


def test_summary_without_vrf_level() -> None:
    peers = parse_summary(read(BUILT / "ip_bgp_summary_no_vrf_level.json"))
    assert {(p.vrf, p.afi_safi, p.peer, p.received) for p in peers} == {
        ("default", "ipv4Unicast", "192.168.0.2", 3),
        ("default", "ipv4Multicast", "192.168.0.2", 0),
    }


def test_established_time_from_milliseconds_when_no_epoch() -> None:
    now = 1_700_000_600.0
    s = by_peer(parse_summary(read(BUILT / "no_epoch_summary.json"), now=now))
    assert s[("default", "192.0.2.0")].state_epoch == 1_700_000_000  # 600 s ago
    assert s[("default", "10.0.0.3")].state_epoch == 1_700_000_570  # went down 30 s ago
    assert s[("default", "10.0.0.9")].state_epoch is None  # "never"
    # Without a clock nothing is made up.
    assert (
        by_peer(parse_summary(read(BUILT / "no_epoch_summary.json")))[("default", "192.0.2.0")].state_epoch
        is None
    )
    (n,) = parse_neighbors(read(BUILT / "no_epoch_neighbors.json"), now=now)
    assert n.established_epoch == 1_700_000_000
    out = parse(expose(collector.bgp(NS, "r1", list(s.values()), [n])))
    assert value(out, "colo_frr_bgp_peer_established_timestamp_seconds", peer="192.0.2.0") == 1_700_000_000
    # Sessions from the summary alone (the neighbors command failed).
    out = parse(expose(collector.bgp(NS, "r1", list(s.values()), None)))
    assert value(out, "colo_frr_bgp_peer_established_timestamp_seconds", peer="192.0.2.0") == 1_700_000_000
    assert value(out, "colo_frr_bgp_peer_down_timestamp_seconds", peer="10.0.0.3") == 1_700_000_570
    assert not find(out, "colo_frr_bgp_peer_down_timestamp_seconds", peer="10.0.0.9")


def test_one_malformed_neighbor_entry_is_skipped_and_reported() -> None:
    skipped: list[str] = []
    ns = by_peer(parse_neighbors(read(BUILT / "neighbors_one_malformed_entry.json"), skip=skipped.append))
    assert set(ns) == {("default", "192.0.2.0"), ("default", "10.0.0.3")}
    assert len(skipped) == 3
    assert any("192.0.2.2" in m and "bgpState is missing" in m for m in skipped)
    assert any("192.0.2.4" in m and "remoteAs" in m for m in skipped)
    assert any("CUST/10.1.1.1" in m and "bgpState is not a string" in m for m in skipped)
    assert ns[("default", "192.0.2.0")].established_epoch == 1_700_000_000
    # Strict (the default): the same reply is an error as a whole.
    with pytest.raises(ParseError):
        parse_neighbors(read(BUILT / "neighbors_one_malformed_entry.json"))


def test_malformed_entries_elsewhere_cost_only_themselves() -> None:
    skipped: list[str] = []
    summary = {
        "default": {
            "ipv4Unicast": {
                "as": 64501,
                "peers": {
                    "192.0.2.0": {"remoteAs": 64500, "state": "Established", "pfxRcd": 2},
                    "192.0.2.2": {"remoteAs": 64500, "state": "Established", "pfxRcd": "two"},
                },
            },
            "ipv6Unicast": [],
        }
    }
    assert [p.peer for p in parse_summary(json.dumps(summary), skip=skipped.append)] == ["192.0.2.0"]
    bfd = b'[{"peer": "192.0.2.0", "status": "up"}, {"status": "up"}, 7]'
    assert [p.peer for p in parse_bfd(bfd, skip=skipped.append)] == ["192.0.2.0"]
    vrrp = json.dumps(
        [
            {"vrid": "ten", "interface": "lan0"},
            {
                "vrid": 10,
                "interface": "lan0",
                "v4": {"status": "Master", "addresses": ["10.0.0.1"]},
                "v6": {"status": 2},
            },
        ]
    )
    assert [(r.vrid, r.family) for r in parse_vrrp(vrrp, skip=skipped.append)] == [(10, "ipv4")]
    routes = (
        b'{"routes": [{"type": "bgp", "rib": null, "fib": 1}, {"type": "connected", "rib": 3, "fib": 3}]}'
    )
    assert [r.protocol for r in parse_route_summary(routes, skip=skipped.append)] == ["connected"]
    assert len(skipped) == 7, skipped  # 2 + 2 + 2 + 1: each counted once


def test_vrrp_family_without_addresses_is_not_configured() -> None:
    vr = json.loads(read(SHARED / "r1/established/show_vrrp.json"))
    vr[0]["v6"]["addresses"] = []
    vr[0]["v6"]["status"] = "Initialize"
    assert [r.family for r in parse_vrrp(json.dumps(vr))] == ["ipv4"]


@pytest.mark.parametrize(
    "text,version",
    [
        ("FRRouting 7.5.1 (r1).\nCopyright 1996-2005 Kunihiro Ishiguro, et al.\n", "7.5.1"),
        ("FRRouting 10.3.1 () on Linux(6.12.48+deb13-amd64).\n", "10.3.1"),
        (
            "FRRouting 7.5+cl5.2.0u0 (router).\nCopyright 1996-2005 Kunihiro Ishiguro, et al.\n",
            "7.5+cl5.2.0u0",
        ),
        ("FRRouting 9.1_git (router) on Linux(6.12.43-talos).\n", "9.1_git"),
        ("FRRouting 10.4-dev-g1a2b3c4d-dirty (r1) on Linux(6.1).\r\n", "10.4-dev-g1a2b3c4d-dirty"),
    ],
)
def test_version_of_packaged_distribution_and_git_builds(text: str, version: str) -> None:
    assert parse_version(text) == version


def test_a_late_parse_stops_at_the_check() -> None:
    from lab.frr_fake import big_bgpd

    text = big_bgpd(600)["show bgp vrf all neighbors json"]
    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise TimeoutError("deadline")

    with pytest.raises(TimeoutError):
        parse_neighbors(text, check=check)
    assert len(calls) == 2
