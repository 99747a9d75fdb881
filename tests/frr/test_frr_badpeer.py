"""The real exporter process against lying daemons: each bad daemon is `up 0` with a logged reason and
a counted error, the good ones keep reporting, and the scrape ends at its deadline."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lab.exporter import ExporterProc, find, parse, value
from lab.frr_fake import FakeVty
from lab.proc import Lab

from frr_testlib import socket_dir
from testlib import config_check

CAPTURED = Path(__file__).resolve().parent.parent / "fixtures" / "frr" / "captured" / "r1" / "established"
SHARED = Path(__file__).resolve().parent.parent / "fixtures" / "frr" / "shared" / "r1" / "established"

ZEBRA = {
    "show version": (CAPTURED / "show_version.txt").read_bytes(),
    "show ip route summary json": (CAPTURED / "show_ip_route_summary.json").read_bytes(),
    "show ipv6 route summary json": (CAPTURED / "show_ipv6_route_summary.json").read_bytes(),
}
BGP = {
    "show bgp vrf all summary json": (SHARED / "show_bgp_vrf_all_summary.json").read_bytes(),
    "show bgp vrf all neighbors json": (SHARED / "show_bgp_vrf_all_neighbors.json").read_bytes(),
}
BFD = {
    "show bfd peers json": (SHARED / "show_bfd_peers.json").read_bytes(),
    "show bfd peers counters json": (SHARED / "show_bfd_peers_counters.json").read_bytes(),
}


def scrape(exp: ExporterProc, timeout: float = 2.0) -> tuple[dict, float]:
    t0 = time.monotonic()
    body = exp.metrics(headers={"X-Prometheus-Scrape-Timeout-Seconds": str(timeout)})
    return parse(body), time.monotonic() - t0


def errors(s: dict, reason: str) -> float:
    return value(s, "colo_frr_scrape_errors_total", reason=reason)


def test_each_bad_daemon_is_down_with_its_reason(lab: Lab) -> None:
    """A daemon that cannot be talked to is `up 0` with its reason; one that answers, however badly, is
    `up 1`, and each of its commands succeeds or fails on its own."""
    a, b = socket_dir(lab, "a"), socket_dir(lab, "b")
    FakeVty(lab, a, "bgpd", BGP, mode="nonjson")
    FakeVty(lab, a, "bfdd", BFD, mode="silent")
    FakeVty(lab, a, "zebra", ZEBRA)  # vrrpd: no socket at all
    FakeVty(lab, b, "bgpd", BGP, mode="truncate")
    FakeVty(lab, b, "bfdd", {}, mode="ok")  # every command unknown (status 2)
    FakeVty(lab, b, "zebra", {**ZEBRA, "show version": b"% Unknown command: show version\n"})  # status 0
    FakeVty(lab, b, "vrrpd", {"show vrrp json": b'[{"vrid": 10, "interface": "lan0", "v4": {"status":'})
    exp = ExporterProc(lab, "frr", {"instances": {"a": {"socket_dir": a}, "b": {"socket_dir": b}}})
    s, took = scrape(exp, 2.0)
    assert took < 2.5, f"scrape took {took:.1f}s with a 2s timeout"
    up = {
        (lbl["frr_instance"], lbl["daemon"]): v
        for (n, lbl_), v in s.items()
        if n == "colo_frr_up"
        for lbl in [dict(lbl_)]
    }
    assert up == {
        ("a", "bgpd"): 1,  # answered, though nothing it said was JSON
        ("a", "bfdd"): 0,
        ("a", "vrrpd"): 0,
        ("a", "zebra"): 1,
        ("b", "bgpd"): 0,
        ("b", "bfdd"): 1,  # knows none of the commands: a fact about its release
        ("b", "vrrpd"): 1,
        ("b", "zebra"): 1,
    }
    ok = {
        (lbl["frr_instance"], lbl["daemon"], lbl["collector"]): v
        for lbl, v in find(s, "colo_frr_collector_success")
    }
    assert ok == {
        ("a", "bgpd", "summary"): 0,
        ("a", "bgpd", "neighbors"): 0,
        ("a", "zebra", "version"): 1,
        ("a", "zebra", "routes_ipv4"): 1,
        ("a", "zebra", "routes_ipv6"): 1,
        ("b", "bfdd", "peers"): 0,
        ("b", "bfdd", "counters"): 0,
        ("b", "vrrpd", "vrrp"): 0,
        ("b", "zebra", "version"): 0,
        ("b", "zebra", "routes_ipv4"): 1,
        ("b", "zebra", "routes_ipv6"): 1,
    }
    assert value(s, "colo_frr_rib_routes", frr_instance="a", family="ipv4", protocol="ebgp") == 2
    assert value(s, "colo_frr_rib_routes", frr_instance="b", family="ipv4", protocol="ebgp") == 2
    assert not find(s, "colo_frr_version_info", frr_instance="b")
    # No partial data from a failed daemon or command.
    assert not [k for k in s if k[0].startswith("colo_frr_bgp_") or k[0].startswith("colo_frr_vrrp_")]
    assert errors(s, "malformed") == 3  # a/bgpd's two replies, b/vrrpd half JSON
    assert errors(s, "timeout") == 1  # a/bfdd silent
    assert errors(s, "connect") == 1  # a/vrrpd no socket
    assert errors(s, "protocol") == 1  # b/bgpd truncated
    assert errors(s, "command") == 1  # b/zebra's % line; b/bfdd's unknown commands are not errors
    log = exp.log_text()
    for words in (
        "not JSON",
        "no such socket",
        "truncated",
        "does not know this command",
        "% Unknown command",
    ):
        assert words in log, words
    assert exp.proc.alive()
    # The exporter keeps serving, and counts again; the unknown commands are not asked again.
    s2, _ = scrape(exp, 2.0)
    assert errors(s2, "timeout") == 2 and value(s2, "colo_frr_up", frr_instance="a", daemon="zebra") == 1
    assert errors(s2, "command") == 2 and errors(s2, "malformed") == 6
    assert exp.log_text().count("does not know this command") == 2  # b/bfdd's two, once each


def test_default_deadline_without_header_and_trickling_daemon(lab: Lab) -> None:
    d = socket_dir(lab, "c")
    FakeVty(lab, d, "bgpd", BGP, mode="trickle")
    exp = ExporterProc(
        lab,
        "frr",
        {"instances": {"c": {"socket_dir": d, "daemons": ["bgpd"]}}},
        args=["--scrape.default-timeout=1.5s"],
    )
    t0 = time.monotonic()
    s = parse(exp.metrics())
    assert time.monotonic() - t0 < 3.5
    assert value(s, "colo_frr_up", frr_instance="c", daemon="bgpd") == 0
    assert errors(s, "timeout") == 1


@pytest.mark.parametrize(
    "cfg,words",
    [
        ({"instances": {"a": {"pathspace": "x"}, "b": {"pathspace": "x"}}}, "same pathspace"),
        (
            {"instances": {"a": {"expected_advertisements": [{"prefix": "203.0.113.1/24", "peers": ["p"]}]}}},
            "203.0.113.0/24",
        ),
        ({"instances": {"a": {"daemons": ["bgpd", "ospfd"]}}}, "daemons"),
        (
            {
                "instances": {
                    "a": {
                        "daemons": ["zebra"],
                        "expected_advertisements": [{"prefix": "203.0.113.0/24", "peers": ["p"]}],
                    }
                }
            },
            "needs bgpd",
        ),
        ({"transport": "ssh"}, "transport"),
        (
            {
                "instances": {
                    "a": {
                        "expected_advertisements": [
                            {"prefix": "203.0.113.0/24", "peers": ["p"], "vrf": "x\u0000configure terminal"}
                        ]
                    }
                }
            },
            "not a VRF name",
        ),
        (
            {
                "instances": {
                    "a": {
                        "expected_advertisements": [{"prefix": "203.0.113.0/24", "peers": ["10.0.0.1 json"]}]
                    }
                }
            },
            "not an address or interface",
        ),
        ({"instances": {"a": {"pathspace": "../x"}}}, "plain name"),
    ],
)
def test_config_errors_are_clear(lab: Lab, tmp_path: Path, cfg: dict, words: str) -> None:
    import yaml

    f = tmp_path / "frr.yml"
    f.write_text(yaml.safe_dump(cfg))
    r = config_check("frr", f)
    assert r.returncode == 1
    assert words in r.stderr + r.stdout, r.stderr
