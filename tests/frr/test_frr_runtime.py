"""The runtime without FRR: which commands go to which daemon, the per-family summary, expected
advertisements in an unknown VRF, and the vtysh transport and fallback (with a stand-in vtysh)."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from exporters.core import Deadline, ScrapeError, parse_config
from exporters.frr.config import Config
from exporters.frr.daemons import NEIGHBORS, SUMMARY_PER_FAMILY, prefix_commands
from exporters.frr.main import Runtime
from lab.exporter import parse, value
from lab.frr_fake import FakeVty

from frr_testlib import expose

BGP_SUMMARY_V4, BGP_SUMMARY_V6 = SUMMARY_PER_FAMILY
BGP_NEIGHBORS = NEIGHBORS[0][0]

F = Path(__file__).resolve().parent.parent / "fixtures" / "frr"
R2 = F / "shared" / "r2" / "established"
R1C = F / "captured" / "r1" / "established"


def run(rt: Runtime, inst: str, daemon: str) -> dict:
    fams = list(rt.collect(inst, daemon, Deadline(5)))
    return parse(expose(fams))


def test_per_family_summary_and_unknown_vrf_advertisement(sock_dir: str) -> None:
    cfg = parse_config(
        Config,
        {
            "bgp_summary": "per-family",
            "instances": {
                "r2": {
                    "socket_dir": sock_dir,
                    "daemons": ["bgpd"],
                    "expected_advertisements": [
                        {"prefix": "203.0.113.0/24", "peers": ["192.0.2.2"], "vrf": "NOPE"}
                    ],
                }
            },
        },
    )
    rt = Runtime(cfg)
    unknown = prefix_commands("NOPE", "ipv4", "203.0.113.0/24")[0][0]
    fake = FakeVty(
        None,
        sock_dir,
        "bgpd",
        {
            BGP_SUMMARY_V4: (R2 / "show_bgp_vrf_all_ipv4_unicast_summary.json").read_bytes(),
            BGP_SUMMARY_V6: (R2 / "show_bgp_vrf_all_ipv6_unicast_summary.json").read_bytes(),
            BGP_NEIGHBORS: (R2 / "show_bgp_vrf_all_neighbors.json").read_bytes(),
        },
    )
    # FRR answers an unknown VRF with a warning status and a JSON warning: not advertised, not a failure.
    fake.replies[unknown] = (R1C / "show_bgp_vrf_NOPE_ipv4_unicast_203_0_113_0_24.json").read_bytes()
    fake.status[unknown] = int((R1C / "show_bgp_vrf_NOPE_ipv4_unicast_203_0_113_0_24.status").read_text())
    try:
        s = run(rt, "r2", "bgpd")
    finally:
        fake.close()
    assert fake.commands == ["enable", BGP_SUMMARY_V4, BGP_SUMMARY_V6, BGP_NEIGHBORS, unknown]
    lbl = {"frr_instance": "r2", "vrf": "default", "peer": "2001:db8:0:2::1"}
    assert value(s, "colo_frr_bgp_peer_received_prefixes", afi_safi="ipv6Unicast", **lbl) == 2
    assert value(s, "colo_frr_bgp_peer_received_prefixes", afi_safi="ipv4Unicast", peer="192.0.2.2") == 2
    assert value(s, "colo_frr_bgp_prefix_advertised", vrf="NOPE", peer="192.0.2.2") == 0


def _fake_vtysh(tmp_path: Path, rc: int = 0) -> Path:
    """A stand-in vtysh: checks its argument list and prints the captured reply for `-c CMD`."""
    script = tmp_path / "vtysh"
    script.write_text(f"""#!{sys.executable}
import re, sys
a = sys.argv[1:]
assert a[0] == "--vty_socket" and a[2] == "-d" and a[4] == "-c" and len(a) == 6, a
open({str(tmp_path / "calls")!r}, "a").write(" ".join(a[3:]) + "\\n")
if {rc}:
    print(a[3] + " is not running"); sys.exit({rc})
slug = re.sub(r"[^A-Za-z0-9]+", "_", a[5].replace(" json", "")).strip("_")
for ext in ("json", "txt"):
    try:
        sys.stdout.write(open({str(R1C)!r} + "/" + slug + "." + ext).read()); break
    except FileNotFoundError:
        pass
else:
    print("% Unknown command: " + a[5]); sys.exit(1)
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_vtysh_transport_and_fallback(tmp_path: Path, sock_dir: str) -> None:
    vtysh = _fake_vtysh(tmp_path)
    cfg = parse_config(
        Config,
        {"transport": "vtysh", "vtysh_path": str(vtysh), "instances": {"r1": {"socket_dir": sock_dir}}},
    )
    s = run(Runtime(cfg), "r1", "zebra")
    assert value(s, "colo_frr_version_info", version="8.4.4") == 1
    assert (tmp_path / "calls").read_text().splitlines()[0] == "zebra -c show version"
    # Socket transport with fallback: no socket here, so vtysh answers.
    cfg = parse_config(
        Config,
        {"vtysh_fallback": True, "vtysh_path": str(vtysh), "instances": {"r1": {"socket_dir": sock_dir}}},
    )
    s = run(Runtime(cfg), "r1", "vrrpd")
    assert value(s, "colo_frr_vrrp_state", family="ipv4") == 2
    # Without fallback the missing socket is the error.
    cfg = parse_config(Config, {"vtysh_path": str(vtysh), "instances": {"r1": {"socket_dir": sock_dir}}})
    with pytest.raises(ScrapeError) as e:
        run(Runtime(cfg), "r1", "vrrpd")
    assert e.value.reason == "connect"


def test_vtysh_daemon_not_running(tmp_path: Path, sock_dir: str) -> None:
    cfg = parse_config(
        Config,
        {
            "transport": "vtysh",
            "vtysh_path": str(_fake_vtysh(tmp_path, rc=1)),
            "instances": {"r1": {"socket_dir": sock_dir}},
        },
    )
    with pytest.raises(ScrapeError) as e:
        run(Runtime(cfg), "r1", "bgpd")
    assert e.value.reason == "connect" and "bgpd is not running" in e.value.message
    cfg = parse_config(
        Config,
        {
            "transport": "vtysh",
            "vtysh_path": str(tmp_path / "nothing"),
            "instances": {"r1": {"socket_dir": sock_dir}},
        },
    )
    with pytest.raises(ScrapeError) as e:
        run(Runtime(cfg), "r1", "bgpd")
    assert e.value.reason == "vtysh"


def test_default_instance_paths() -> None:
    cfg = parse_config(Config, {"instances": {"default": {}, "edge": {}, "x": {"pathspace": "y"}}})
    assert cfg.socket_dir("default") == "/var/run/frr"
    assert cfg.socket_dir("edge") == "/var/run/frr/edge"
    assert cfg.socket_dir("x") == "/var/run/frr/y"
    assert [j.labels for j in Runtime(parse_config(Config, {})).jobs(None)] == [
        {"frr_instance": "default", "daemon": d} for d in ("bgpd", "bfdd", "vrrpd", "zebra")
    ]
