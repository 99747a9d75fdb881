"""Host agents for the mesh: net-snmp on a Linux server (with lldpd as its AgentX subagent) read through the
exporter, in network namespaces made here: the mesh links with their roles, the neighbour on each link,
and, where the kernel can make one, a Linux bond with its members."""

from __future__ import annotations

import pytest

from lab.exporter import ExporterProc, find, parse, value
from lab.proc import PeerMissing
from lab.snmp_host import start_hosts

# How a port rule names a host's mesh links: by ifName, members and bond alike.
PORTS = [
    {"ifname": "enp1s0", "role": "mesh", "link": "srv2-a"},
    {"ifname": "enp2s0", "role": "mesh", "link": "srv2-b"},
    {"ifname": "bond0", "role": "mesh", "link": "srv2"},
]


def probe(lab, hosts):
    cfg = {
        "auths": hosts.agent.auths(),
        "targets": {"srv1": hosts.agent.target("v2", ports=PORTS, timeout="2s")},
    }
    e = ExporterProc(lab, "snmp", cfg)
    return parse(e.probe("srv1"))


def test_host_links_roles_and_lldp(snmp_lab):
    hosts = start_hosts(snmp_lab)
    s = probe(snmp_lab, hosts)
    assert value(s, "colo_snmp_up", target="srv1") == 1
    links = {
        (lbl["ifname"], lbl["role"], lbl["link"])
        for lbl, _ in find(s, "colo_snmp_interface_info", role="mesh")
    }
    assert links == {("enp1s0", "mesh", "srv2-a"), ("enp2s0", "mesh", "srv2-b")}
    for name, link in (("enp1s0", "srv2-a"), ("enp2s0", "srv2-b")):
        assert value(s, "colo_snmp_interface_oper_status", ifname=name) == 1
        (nb,) = [lbl for lbl, _ in find(s, "colo_snmp_lldp_neighbor_info", ifname=name)]
        # lldpd names the peer's port by MAC and describes it by its interface name
        assert (nb["remote_system"], nb["remote_port_descr"], nb["link"]) == ("srv2", name, link)
        assert len(nb["remote_port"].split(":")) == 6
    # net-snmp has no ifStackTable and no IEEE8023-LAG-MIB; lldpd says these links are in no aggregate
    assert not find(s, "colo_snmp_interface_lag_member_info")


def test_linux_bond_members(snmp_lab):
    try:
        hosts = start_hosts(snmp_lab, bond=True)
    except PeerMissing as e:  # a property of this machine's kernel, not a package to install
        pytest.skip(str(e))
    s = probe(snmp_lab, hosts)
    assert value(s, "colo_snmp_up", target="srv1") == 1
    members = {
        (lbl["ifname"], lbl["lag_ifname"], lbl["role"])
        for lbl, _ in find(s, "colo_snmp_interface_lag_member_info")
    }
    assert members == {("enp1s0", "bond0", "mesh"), ("enp2s0", "bond0", "mesh")}
    assert value(s, "colo_snmp_interface_info", ifname="bond0", role="mesh", link="srv2") == 1
