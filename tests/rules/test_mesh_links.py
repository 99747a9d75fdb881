"""The link vocabulary on real peers: the lab mesh (three server namespaces, bonds of two veth pairs,
traffic) read by node_exporter inside each, scraped by Prometheus with rules/links.yml. One member pulled
shows the link degraded on both sides; both pulled, down on both sides; restored, up again."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.mesh import start_mesh
from lab.proc import Lab, run, wait_for
from lab.prometheus import Prometheus

ROOT = Path(__file__).resolve().parents[2]
LINK = "server1-server2"
pytestmark = [pytest.mark.root, pytest.mark.peer("prometheus-node-exporter")]


@pytest.fixture(scope="module")
def rack(module_lab: Lab) -> tuple:
    mesh = start_mesh(module_lab)
    prom = Prometheus(module_lab, mesh.scrape_configs(), [str(ROOT / "rules" / "links.yml")], interval="1s")
    prom.wait_targets_up(timeout=30)
    return mesh, prom


def _by_side(prom: Prometheus, expr: str) -> dict[str, float]:
    return {
        r["metric"].get("side", r["metric"].get("instance")): float(r["value"][1]) for r in prom.query(expr)
    }


def _wait(prom: Prometheus, expr: str, want: dict[str, float], what: str) -> None:
    wait_for(
        lambda: _by_side(prom, expr) == want, 20, f"{what}: {expr} == {want} (last {_by_side(prom, expr)})"
    )


def test_every_side_of_every_link_at_rest(rack: tuple) -> None:
    mesh, prom = rack
    sides = {(s.server, s.link) for ss in mesh.sides.values() for s in ss}
    assert len(sides) == 6
    wait_for(lambda: len(prom.query("colo:link_receive_bits:rate5m > 0")) == 6, 30, "traffic on every side")
    for name, want in (("colo:link_up", 1), ("colo:link_members", 2), ("colo:link_members_up", 2)):
        got = {(r["metric"]["side"], r["metric"]["link"]): float(r["value"][1]) for r in prom.query(name)}
        assert got == dict.fromkeys(sides, want), name
    for r in prom.query("colo:link_up"):
        m = r["metric"]
        assert m["role"] == "mesh" and m["interface"].startswith("mesh") and m["job"] == "node", m
        assert m["instance"] == m["side"]  # the scrape names the server
    # about 3 Mb/s each way on server1-server2 (rate[5m] of a young series reads low: compare with [5s])
    rx = _by_side(
        prom,
        'rate(node_network_receive_bytes_total{instance="server1", device="mesh2"}[5s]) * 8'
        ' or rate(node_network_receive_bytes_total{instance="server2", device="mesh1"}[5s]) * 8',
    )
    assert len(rx) == 2 and all(1e6 < v < 6e6 for v in rx.values()), rx
    assert _by_side(prom, f'colo:link_speed_bits{{link="{LINK}"}}') == {"server1": 1e10, "server2": 1e10}
    util = _by_side(prom, f'colo:link_utilisation:ratio5m{{link="{LINK}"}}')
    assert len(util) == 2 and all(0 < v < 0.001 for v in util.values()), util
    assert len(prom.query('colo:link_member_up{member=~"mesh.[ab]"} == 1')) == 12


def test_one_member_pulled_is_degraded_both_pulled_is_down(rack: tuple) -> None:
    mesh, prom = rack
    both = lambda v: {"server1": v, "server2": v}  # noqa: E731
    sel = f'{{link="{LINK}"}}'
    try:
        mesh.member_down("server1", "server2", "a")
        _wait(prom, f"colo:link_members_up{sel}", both(1), "one member down")
        assert _by_side(prom, f"colo:link_up{sel}") == both(1)
        assert _by_side(prom, f'colo:link_member_up{{link="{LINK}", member=~"mesh.a"}}') == both(0)
        # traffic goes on over the other member
        wait_for(
            lambda: (lambda d: len(d) == 2 and all(v > 0 for v in d.values()))(
                _by_side(
                    prom,
                    'rate(node_network_transmit_bytes_total{instance="server1", device="mesh2b"}[5s])'
                    ' or rate(node_network_transmit_bytes_total{instance="server2", device="mesh1b"}[5s])',
                )
            ),
            15,
            "traffic on the b members",
        )
        mesh.member_down("server1", "server2", "b")
        _wait(prom, f"colo:link_up{sel}", both(0), "both members down")
        assert _by_side(prom, f"colo:link_members_up{sel}") == both(0)
        assert _by_side(prom, f"colo:link_members{sel}") == both(2)
        wait_for(
            lambda: (lambda d: len(d) == 2 and all(v >= 1 for v in d.values()))(
                _by_side(prom, f"colo:link_flaps:changes10m{sel}")
            ),
            15,
            "the flap counted on both sides",
        )
        # the other links did not move
        assert len(prom.query(f'colo:link_up{{link!="{LINK}"}} == 1')) == 4
    finally:
        mesh.member_up("server1", "server2", "a")
        mesh.member_up("server1", "server2", "b")
    _wait(prom, f"colo:link_members_up{sel}", both(2), "restored")
    _wait(prom, f"colo:link_up{sel}", both(1), "restored")


def test_a_bond_shut_on_purpose_is_admin_down(rack: tuple) -> None:
    """`ip link set <bond> down` (the operator's shut) clears IFF_UP, which node_exporter's
    node_network_flags shows: colo:link_admin_up 0 on that side only, and the side is down."""
    mesh, prom = rack
    link = "server1-server3"
    sel = f'{{link="{link}"}}'
    bond = next(s.bond for s in mesh.sides["server1"] if s.link == link)
    assert _by_side(prom, f"colo:link_admin_up{sel}") == {"server1": 1, "server3": 1}
    try:
        run(["ip", "-n", mesh.ns("server1"), "link", "set", bond, "down"])
        _wait(prom, f"colo:link_admin_up{sel}", {"server1": 0, "server3": 1}, "server1's bond shut")
        assert _by_side(prom, f'colo:link_up{{link="{link}", side="server1"}}') == {"server1": 0}
    finally:
        run(["ip", "-n", mesh.ns("server1"), "link", "set", bond, "up"])
    _wait(prom, f"colo:link_admin_up{sel}", {"server1": 1, "server3": 1}, "restored")
    _wait(prom, f"colo:link_up{sel}", {"server1": 1, "server3": 1}, "restored")
