"""Per-command collectors against lying daemons: each command succeeds or fails on its own, an unknown
command falls back by itself and is not sent again until the daemon restarts, one bad entry costs only
itself. Real FRR 8.4 replies (tests/fixtures/frr) served by the fake vty daemon."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from exporters.core import Deadline, ScrapeError, parse_config
from exporters.core.scrape import Tally
from exporters.frr.config import Config
from exporters.frr.daemons import NEIGHBORS, SUMMARY_ALL, SUMMARY_PER_FAMILY
from exporters.frr.main import Runtime
from lab.exporter import Samples, find, parse, value
from lab.frr_fake import FakeVty

from frr_testlib import expose

F = Path(__file__).resolve().parent.parent / "fixtures" / "frr"
R1 = F / "shared" / "r1" / "established"
R1C = F / "captured" / "r1" / "established"
V4, V6 = SUMMARY_PER_FAMILY
PREFIX = "show bgp vrf default ipv4 unicast 203.0.113.0/24 json"
NOPE = "show bgp vrf NOPE ipv4 unicast 203.0.113.0/24 json"


def bgp_replies() -> dict[str, bytes]:
    return {
        SUMMARY_ALL[0]: (R1 / "show_bgp_vrf_all_summary.json").read_bytes(),
        V4: (R1 / "show_bgp_vrf_all_ipv4_unicast_summary.json").read_bytes(),
        V6: (R1 / "show_bgp_vrf_all_ipv6_unicast_summary.json").read_bytes(),
        NEIGHBORS[0][0]: (R1 / "show_bgp_vrf_all_neighbors.json").read_bytes(),
        PREFIX: (R1C / "show_bgp_vrf_default_ipv4_unicast_203_0_113_0_24.json").read_bytes(),
    }


def runtime(sock_dir: str, daemons: list[str], **extra: object) -> Runtime:
    inst = {
        "socket_dir": sock_dir,
        "daemons": daemons,
        "expected_advertisements": [{"prefix": "203.0.113.0/24", "peers": ["192.0.2.0"]}]
        if "bgpd" in daemons
        else [],
    }
    return Runtime(parse_config(Config, {"instances": {"r1": inst}, **extra}))


def scrape(rt: Runtime, daemon: str) -> tuple[Samples, dict[str, int]]:
    d = Deadline(5, Tally())
    fams = list(rt.collect("r1", daemon, d))
    assert d.tally is not None
    return parse(expose(fams)), dict(d.tally.counts)


def success(s: Samples, daemon: str) -> dict[str, float]:
    return {lbl["collector"]: v for lbl, v in find(s, "colo_frr_collector_success", daemon=daemon)}


def bgp_series(s: Samples) -> dict:
    """Every BGP series except those whose values move (messages, times)."""
    return {k: v for k, v in s.items() if k[0].startswith("colo_frr_bgp_") and "timestamp" not in k[0]}


def test_all_families_summary_unknown_falls_back_to_per_family(
    sock_dir: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="exporters.frr")
    fake = FakeVty(None, sock_dir, "bgpd", bgp_replies())
    try:
        want, _ = scrape(runtime(sock_dir, ["bgpd"]), "bgpd")
        del fake.replies[SUMMARY_ALL[0]]  # an FRR that does not have it
        fake.commands.clear()
        rt = runtime(sock_dir, ["bgpd"])
        got, errors = scrape(rt, "bgpd")
        first = list(fake.commands)
        fake.commands.clear()
        again, _ = scrape(rt, "bgpd")
        second = list(fake.commands)
    finally:
        fake.close()
    # Same scrape: the unknown command, then the per-family pair on the same connection.
    assert first == ["enable", SUMMARY_ALL[0], NEIGHBORS[0][0], PREFIX, V4, V6]
    assert second == ["enable", V4, V6, NEIGHBORS[0][0], PREFIX]
    assert bgp_series(got) == bgp_series(want) == bgp_series(again)
    assert (
        value(got, "colo_frr_bgp_peer_received_prefixes", peer="2001:db8:0:1::1", afi_safi="ipv6Unicast") == 2
    )
    assert success(got, "bgpd") == {"summary": 1, "neighbors": 1, "advertised:default:203.0.113.0/24": 1}
    assert errors == {}  # a fact about the release, not an error
    told = [r for r in caplog.records if "does not know" in r.getMessage()]
    assert len(told) == 1 and told[0].levelno == logging.INFO
    assert told[0].kv["command"] == SUMMARY_ALL[0]  # type: ignore[attr-defined]


def test_show_ip_bgp_spelling_and_restart(sock_dir: str) -> None:
    replies = bgp_replies()
    replies["show ip bgp vrf all neighbors json"] = replies.pop(NEIGHBORS[0][0])
    fake = FakeVty(None, sock_dir, "bgpd", replies)
    rt = runtime(sock_dir, ["bgpd"])
    try:
        s, _ = scrape(rt, "bgpd")
        assert success(s, "bgpd")["neighbors"] == 1
        assert value(s, "colo_frr_bgp_peer_bfd_up", peer="192.0.2.0") == 1
        fake.commands.clear()
        scrape(rt, "bgpd")
        assert NEIGHBORS[0][0] not in fake.commands
    finally:
        fake.close()
    # The daemon restarts (a new socket file, perhaps a new release): everything is asked again.
    fake = FakeVty(None, sock_dir, "bgpd", bgp_replies())
    try:
        s, _ = scrape(rt, "bgpd")
        assert fake.commands == ["enable", SUMMARY_ALL[0], NEIGHBORS[0][0], PREFIX]
        assert success(s, "bgpd")["neighbors"] == 1
    finally:
        fake.close()


def test_unreachable_daemon_is_asked_everything_again(sock_dir: str) -> None:
    fake = FakeVty(None, sock_dir, "zebra", {"show version": (R1C / "show_version.txt").read_bytes()})
    rt = runtime(sock_dir, ["zebra"])
    try:
        s, _ = scrape(rt, "zebra")
        assert success(s, "zebra") == {"version": 1, "routes_ipv4": 0, "routes_ipv6": 0}
        assert value(s, "colo_frr_version_info", version="8.4.4") == 1
    finally:
        fake.close()
    with pytest.raises(ScrapeError):
        scrape(rt, "zebra")
    fake = FakeVty(None, sock_dir, "zebra", {"show version": b"FRRouting 8.4.4 (r1) on Linux(6.1).\n"})
    fake.replies["show ip route summary json"] = (R1C / "show_ip_route_summary.json").read_bytes()
    try:
        s, _ = scrape(rt, "zebra")
        assert "show ip route summary json" in fake.commands
        assert success(s, "zebra") == {"version": 1, "routes_ipv4": 1, "routes_ipv6": 0}
    finally:
        fake.close()


def test_command_without_equivalent_costs_only_itself(sock_dir: str) -> None:
    bfd = {"show bfd peers json": (R1 / "show_bfd_peers.json").read_bytes()}
    fake = FakeVty(None, sock_dir, "bfdd", bfd)  # no `peers counters`
    rt = runtime(sock_dir, ["bfdd"])
    try:
        s, errors = scrape(rt, "bfdd")
        fake.commands.clear()
        s2, _ = scrape(rt, "bfdd")
    finally:
        fake.close()
    assert success(s, "bfdd") == {"peers": 1, "counters": 0} == success(s2, "bfdd")
    assert fake.commands == ["enable", "show bfd peers json"]
    assert errors == {}
    assert value(s, "colo_frr_bfd_peer_up", peer="192.0.2.0") == 1
    assert not find(s, "colo_frr_bfd_peer_session_down_total")  # not a made-up 0


def test_failed_and_malformed_commands_are_counted_and_retried(sock_dir: str) -> None:
    replies = bgp_replies()
    replies[NEIGHBORS[0][0]] = b'{"default": {"vrfId": 0, "vrfName": "default", "192.0.2.0": {'  # half
    fake = FakeVty(None, sock_dir, "bgpd", replies)
    fake.replies[PREFIX] = b"% BGP instance not found\n"
    fake.status[PREFIX] = 1
    rt = runtime(sock_dir, ["bgpd"])
    try:
        s, errors = scrape(rt, "bgpd")
        fake.commands.clear()
        scrape(rt, "bgpd")
    finally:
        fake.close()
    assert success(s, "bgpd") == {"summary": 1, "neighbors": 0, "advertised:default:203.0.113.0/24": 0}
    assert errors == {"malformed": 1, "command": 1}
    assert fake.commands == ["enable", SUMMARY_ALL[0], NEIGHBORS[0][0], PREFIX]  # retried: not a version fact
    # Sessions from the summary alone: state, prefixes in and out; nothing from the neighbors reply.
    lbl = {"peer": "192.0.2.0", "vrf": "default"}
    assert value(s, "colo_frr_bgp_peer_up", **lbl) == 1
    assert value(s, "colo_frr_bgp_peer_received_prefixes", **lbl) == 2
    assert value(s, "colo_frr_bgp_peer_advertised_prefixes", **lbl) == 5
    assert value(s, "colo_frr_bgp_peer_admin_shutdown", vrf="CUST", peer="10.1.1.1") == 0
    assert not find(s, "colo_frr_bgp_peer_bfd_up") and not find(s, "colo_frr_bgp_peer_accepted_prefixes")
    assert not find(s, "colo_frr_bgp_prefix_advertised")  # the lookup failed: no 0 claimed


def test_warning_with_json_is_an_answer(sock_dir: str) -> None:
    replies = bgp_replies()
    replies[NOPE] = (R1C / "show_bgp_vrf_NOPE_ipv4_unicast_203_0_113_0_24.json").read_bytes()
    fake = FakeVty(None, sock_dir, "bgpd", replies)
    fake.status[NOPE] = int((R1C / "show_bgp_vrf_NOPE_ipv4_unicast_203_0_113_0_24.status").read_text())
    rt = Runtime(
        parse_config(
            Config,
            {
                "instances": {
                    "r1": {
                        "socket_dir": sock_dir,
                        "daemons": ["bgpd"],
                        "expected_advertisements": [
                            {"prefix": "203.0.113.0/24", "peers": ["p"], "vrf": "NOPE"}
                        ],
                    }
                }
            },
        )
    )
    try:
        s, errors = scrape(rt, "bgpd")
    finally:
        fake.close()
    assert success(s, "bgpd")["advertised:NOPE:203.0.113.0/24"] == 1
    assert value(s, "colo_frr_bgp_prefix_advertised", vrf="NOPE", peer="p") == 0
    assert errors == {}


def test_one_bad_entry_costs_only_itself(sock_dir: str) -> None:
    replies = bgp_replies()
    replies[NEIGHBORS[0][0]] = (F / "constructed" / "neighbors_one_malformed_entry.json").read_bytes()
    fake = FakeVty(None, sock_dir, "bgpd", replies)
    rt = runtime(sock_dir, ["bgpd"])
    try:
        s, errors = scrape(rt, "bgpd")
    finally:
        fake.close()
    assert success(s, "bgpd")["neighbors"] == 1
    assert errors == {"malformed": 3}
    peers = {lbl["peer"] for lbl, _ in find(s, "colo_frr_bgp_peer_state")}
    # The two good entries of the constructed reply, plus the summary's peers it lacks.
    assert {"192.0.2.0", "10.0.0.3"} <= peers
    assert value(s, "colo_frr_bgp_peer_state", peer="10.0.0.3") == 3
    assert not find(s, "colo_frr_bgp_peer_bfd_up", peer="192.0.2.2")
    assert not find(s, "colo_frr_bgp_peer_connections_established_total", peer="192.0.2.2")


def test_per_family_first_when_configured(sock_dir: str) -> None:
    fake = FakeVty(None, sock_dir, "bgpd", bgp_replies())
    try:
        s, _ = scrape(runtime(sock_dir, ["bgpd"], bgp_summary="per-family"), "bgpd")
    finally:
        fake.close()
    assert fake.commands[:3] == ["enable", V4, V6]
    assert value(s, "colo_frr_bgp_peer_received_prefixes", peer="2001:db8:a::3", afi_safi="ipv6Unicast") == 3
