"""LLDP neighbours on the right port: lldpRemLocalPortNum mapped through lldpLocPortTable (Dell OS10, Arista,
a Linux host with lldpd), LLDP-V2-MIB where LLDP-MIB is absent, LAG members from LLDP; on the recordings in
tests/fixtures/snmp (parsed, then served by snmpsim to the exporter)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporters.snmp import lldp
from exporters.snmp import parse as P
from lab.exporter import find, parse, value
from lab.snmp_gen import column, read_snmprec

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "snmp"


def recording(name: str):
    rec = read_snmprec((FIX / f"{name}.snmprec").read_text())
    tables = {n: P.by_index(column(rec, o)) for n, o in P.COLUMNS.items()}
    interfaces = P.parse_interfaces(tables, {})
    cols = {n: column(rec, o) for n, o in lldp.COLUMNS.items()}
    phys = P.by_index(column(rec, lldp.IF_PHYS_ADDRESS))
    return interfaces, cols, phys


def by_port(name: str, phys: bool = True):
    interfaces, cols, ph = recording(name)
    names = {i.index: i.name for i in interfaces}
    return [
        (names[n.ifindex], n.system_name, n.port_id)
        for n in lldp.neighbors(cols, interfaces, ph if phys else None)
    ]


def test_dell_os10_port_numbers_are_not_ifindexes():
    interfaces, cols, _ = recording("lldp-dell-os10")
    used = {idx[1] for idx, _ in cols["rem_sys_name"]}
    assert used == {4, 612, 616, 628, 632} and not used & {
        i.index for i in interfaces
    }  # the shape of the issue
    assert by_port("lldp-dell-os10") == [
        ("mgmt1/1/1", "oob-sw1", "Gi1/0/6"),
        ("ethernet1/1/25", "leaf2", "ethernet1/1/25"),
        ("ethernet1/1/26", "leaf2", "ethernet1/1/26"),
        ("ethernet1/1/29", "core-1", "517"),
        ("ethernet1/1/30", "Not Advertised", "TenGigabitEthernet 1/43"),
    ]


def test_arista_port_numbers_named_by_interface_name():
    assert by_port("lldp-arista-eos") == [
        ("Management1/1", "mgmt-sw1", "Ethernet41"),
        ("Ethernet3/1", "srv123", "p255p1"),
        ("Ethernet3/1", "srv123", "macvlan-bond0"),
    ]


def itf(index: int, name: str, descr: str = "", alias: str = "") -> P.Interface:
    return P.Interface(index, name, descr or name, alias, 6, 1500, None, 1, 1, None, (), True)


def test_local_table_says_nothing_that_matches_then_ifindex():
    # Arista's other shape (cloudvision-go tests): port numbers are ifIndexes, ids are short names.
    interfaces = [itf(3001, "Ethernet3/1"), itf(3002, "Management1/2")]
    cols = {
        "loc_id_subtype": [((3001,), lldp.NAME), ((3002,), lldp.NAME)],
        "loc_id": [((3001,), b"Eth3/1"), ((3002,), b"Mgmt1/2")],
        "rem_sys_name": [((0, 3001, 3), b"srv"), ((0, 3002, 4), b"srv")],
    }
    assert lldp.local_ports(cols, interfaces) == {3001: 3001, 3002: 3002}


def test_names_win_over_a_colliding_ifindex():
    # Port number 1 is Gi1/0/1 by lldpLocPortTable, while ifIndex 1 is a VLAN: the name decides.
    interfaces = [
        itf(1, "Vl1", "Vlan1"),
        itf(10101, "Gi1/0/1", "GigabitEthernet1/0/1"),
        itf(10102, "Gi1/0/2"),
    ]
    cols = {
        "loc_id_subtype": [((1,), lldp.LOCAL), ((2,), lldp.NAME), ((3,), lldp.ALIAS)],
        "loc_id": [((1,), b"1"), ((2,), b"Gi1/0/2"), ((3,), b"no such alias")],
        "loc_desc": [((1,), b"GigabitEthernet1/0/1"), ((3,), b"")],
        "rem_sys_name": [((0, 1, 1), b"a"), ((0, 2, 2), b"b"), ((0, 3, 3), b"c"), ((0, 99, 4), b"d")],
    }
    assert lldp.local_ports(cols, interfaces) == {1: 10101, 2: 10102}  # 3 and 99 name nothing
    skipped = []
    got = lldp.neighbors(cols, interfaces, None, lambda reason, msg: skipped.append((reason, msg)))
    assert [(n.ifindex, n.system_name) for n in got] == [(10101, "a"), (10102, "b")]
    assert skipped and skipped[0][0] == "malformed" and "2 LLDP neighbours" in skipped[0][1]


def test_duplicate_names_are_not_trusted():
    interfaces = [itf(1, "port 1"), itf(2, "port 1")]
    cols = {"loc_id": [((7,), b"port 1")], "rem_sys_name": [((0, 7, 1), b"x")]}
    assert lldp.local_ports(cols, interfaces) == {}


def test_v2_mib_where_lldp_mib_is_absent():
    assert by_port("lldp-v2-only") == [
        ("ethernet1/1", "mgmt-sw1", "Ethernet5"),  # listed under two destination addresses, once here
        ("ethernet1/13", "tor-a", "Ethernet46"),
        ("ethernet1/14", "tor-b", "Ethernet46"),
    ]


def test_v2_mib_is_not_read_when_lldp_mib_has_neighbours():
    interfaces, cols, _ = recording("lldp-v2-only")
    cols["rem_sys_name"] = [((0, 18, 9), b"classic")]
    assert [(n.ifindex, n.system_name) for n in lldp.neighbors(cols, interfaces)] == [(18, "classic")]


def test_linux_host_with_lldpd():
    expect = [("srv1-eth0", "srv2", "f6:32:1f:0c:9b:6d"), ("srv1-eth1", "srv2", "8a:e8:ed:e3:c5:7a")]
    assert by_port("lldpd-host") == expect  # by MAC (lldpLocPortIdSubtype 3 = ifPhysAddress)
    assert by_port("lldpd-host", phys=False) == expect  # by lldpLocPortDesc
    interfaces, cols, ph = recording("lldpd-host")
    assert lldp.names_by_mac(cols)
    assert {n.port_descr for n in lldp.neighbors(cols, interfaces, ph)} == {"srv2-eth0", "srv2-eth1"}
    assert lldp.lag_members(cols, interfaces, ph) == {}  # lldpXdot3LocLinkAggPortId 0: no bond


def test_bond_members_from_lldp():
    interfaces, cols, ph = recording("lldpd-bond")
    names = {i.index: i.name for i in interfaces}
    members = lldp.lag_members(cols, interfaces, ph)
    assert {names[m]: names[a] for m, a in members.items()} == {"eno1": "bond0", "eno2": "bond0"}
    # the members share the bond's MAC in ifPhysAddress: the ports are found by their description
    assert by_port("lldpd-bond") == [
        ("eno1", "srv2", "52:54:00:22:00:01"),
        ("eno2", "srv2", "52:54:00:22:00:02"),
    ]
    assert P.parse_lag([], [], interfaces, members) == members  # no IEEE8023-LAG-MIB, no ifStackTable


@pytest.mark.parametrize(
    ("subtype", "raw", "text"),
    [
        (lldp.MAC, bytes.fromhex("f6321f0c9b6d"), "f6:32:1f:0c:9b:6d"),
        (lldp.NETWORK, bytes([1, 192, 0, 2, 52]), "192.0.2.52"),
        (lldp.NETWORK, bytes([2]) + bytes.fromhex("20010db8000000000000000000000001"), "2001:db8::1"),
        (lldp.NETWORK, bytes([1, 192, 1]), "0x01C001"),
        (lldp.NAME, b"Ethernet46", "Ethernet46"),
        (lldp.MAC, b"not a mac", "not a mac"),
        (None, b"\xff\xfe", "0xFFFE"),
    ],
)
def test_port_ids_as_people_write_them(subtype, raw, text):
    assert lldp.port_id(subtype, raw) == text


@pytest.mark.parametrize(
    ("target", "expect"),
    [
        (
            "lldp_dell",
            {("mgmt1/1/1", "oob-sw1"), ("ethernet1/1/25", "leaf2"), ("ethernet1/1/30", "Not Advertised")},
        ),
        ("lldp_arista", {("Management1/1", "mgmt-sw1"), ("Ethernet3/1", "srv123")}),
        ("lldp_v2", {("ethernet1/1", "mgmt-sw1"), ("ethernet1/13", "tor-a")}),
        ("lldpd_host", {("srv1-eth0", "srv2"), ("srv1-eth1", "srv2")}),
    ],
)
def test_neighbours_over_the_wire(exporter, target, expect):
    s = parse(exporter.probe(target))
    assert value(s, "colo_snmp_up", target=target) == 1
    got = {(lbl["ifname"], lbl["remote_system"]) for lbl, _ in find(s, "colo_snmp_lldp_neighbor_info")}
    assert expect <= got, got
    assert all(lbl["ifname"] for lbl, _ in find(s, "colo_snmp_lldp_neighbor_info"))


def test_bond_members_over_the_wire(exporter):
    s = parse(exporter.probe("lldpd_bond"))
    members = {
        (lbl["ifname"], lbl["lag_ifname"]) for lbl, _ in find(s, "colo_snmp_interface_lag_member_info")
    }
    assert members == {("eno1", "bond0"), ("eno2", "bond0")}
