"""The exporter process against real agents: net-snmp snmpd (this machine's interfaces) and snmpsim."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from lab.exporter import find, parse, value
from lab.prometheus import check_metrics


def proc_net_dev() -> dict[str, tuple[int, int]]:
    out = {}
    for line in Path("/proc/net/dev").read_text().splitlines()[2:]:
        name, rest = line.split(":", 1)
        f = rest.split()
        out[name.strip()] = (int(f[0]), int(f[8]))
    return out


@pytest.mark.parametrize("target", ["local", "local3"])
def test_snmpd_octets_match_proc_net_dev(exporter, target):
    # snmpd caches the kernel's numbers for a few seconds: read /proc well before the scrape, and after.
    before = proc_net_dev()
    time.sleep(4)
    s = parse(exporter.probe(target))
    after = proc_net_dev()
    assert value(s, "colo_snmp_up", target=target) == 1
    assert value(s, "colo_snmp_system_info", sys_name="colo-lab-snmpd") == 1
    names = {lbl["ifname"] for lbl, _ in find(s, "colo_snmp_interface_info")}
    # Other jobs on this machine add and remove veth interfaces: compare those that stayed.
    assert "lo" in names, names
    checked = 0
    for name, (rx1, tx1) in after.items():
        if name not in names or name not in before or not name.startswith(("lo", "eth", "ifb", "lxdbr")):
            continue
        rx0, tx0 = before[name]
        rx = value(s, "colo_snmp_interface_receive_bytes_total", ifname=name)
        tx = value(s, "colo_snmp_interface_transmit_bytes_total", ifname=name)
        assert rx0 <= rx <= rx1, (name, rx0, rx, rx1)
        assert tx0 <= tx <= tx1, (name, tx0, tx, tx1)
        assert value(s, "colo_snmp_interface_counters_64bit", ifname=name) == 1
        checked += 1
    assert checked >= 1
    assert value(s, "colo_snmp_interface_oper_status", ifname="lo") == 1


def test_output_passes_promtool(exporter):
    for target in ("local3", "sw54"):
        assert check_metrics(exporter.probe(target)) == []


def test_sw54_interfaces_roles_lag_lldp(exporter):
    s = parse(exporter.probe("sw54v3"))
    assert value(s, "colo_snmp_up", target="sw54v3") == 1
    assert value(s, "colo_snmp_interfaces") == 56
    assert len(find(s, "colo_snmp_interface_info")) == 56
    # roles: by ifAlias regex (with \1), ifName, ifIndex
    assert value(s, "colo_snmp_interface_oper_status", role="wan", link="hive") == 1
    assert {lbl["link"] for lbl, _ in find(s, "colo_snmp_interface_info", role="mesh")} == {"srv2", "srv3"}
    assert value(s, "colo_snmp_interface_oper_status", ifname="Gi1/0/3", role="mesh") == 7  # lowerLayerDown
    assert value(s, "colo_snmp_interface_oper_status", ifname="Gi1/0/6") == 6  # notPresent
    assert value(s, "colo_snmp_interface_oper_status", role="uplink", link="srv1-b") == 2
    assert value(s, "colo_snmp_interface_speed_bytes", ifname="Te1/1/1") == 10e9 / 8
    # LAG membership from IEEE8023-LAG-MIB
    members = {
        (lbl["ifname"], lbl["lag_ifname"]) for lbl, _ in find(s, "colo_snmp_interface_lag_member_info")
    }
    assert members == {("Te1/1/1", "Po1"), ("Te1/1/2", "Po1"), ("Gi1/0/47", "Po2"), ("Gi1/0/48", "Po2")}
    # LLDP
    n = find(s, "colo_snmp_lldp_neighbor_info", ifname="Te1/1/3")
    assert [(lbl["remote_system"], lbl["remote_port"]) for lbl, _ in n] == [("srv2", "enp1s0")]
    # strings: invalid UTF-8 as hex, valid UTF-8 (hex in the recording) as text
    assert find(s, "colo_snmp_interface_info", ifname="Gi1/0/4")[0][0]["ifalias"] == "0x636166E9"
    assert find(s, "colo_snmp_interface_info", ifname="Gi1/0/5")[0][0]["ifalias"] == "bürø €"
    # 32-bit only: mgmt0 has ifXTable but no ifHC*; Null0 has no ifXTable row (name from ifDescr)
    assert value(s, "colo_snmp_interface_counters_64bit", ifname="mgmt0", role="bmc") == 0
    assert value(s, "colo_snmp_interface_receive_bytes_total", ifname="mgmt0") > 0
    assert value(s, "colo_snmp_interface_speed_bytes", ifname="mgmt0") == 100e6 / 8  # ifSpeed fallback
    assert value(s, "colo_snmp_interface_counters_64bit", ifname="Null0") == 0
    assert value(s, "colo_snmp_interface_transmit_bytes_total", ifname="Null0") >= 0
    assert value(s, "colo_snmp_interface_receive_packets_total", ifname="Gi1/0/1", cast="broadcast") > 0
    assert value(s, "colo_snmp_scrape_pdus_sent") >= 5
    # expected speeds from the port rules: mgmt0 (100M) is slower than its rule's 1G
    assert value(s, "colo_snmp_interface_expected_speed_bytes", ifname="Po1") == 20e9 / 8
    assert value(s, "colo_snmp_interface_expected_speed_bytes", ifname="mgmt0") == 1e9 / 8
    assert not find(s, "colo_snmp_interface_expected_speed_bytes", ifname="Gi1/0/10")


def test_v1_v2c_v3_agree(exporter):
    # snmpsim cannot do v1 with Counter64 in its data (real v1 agents skip those); snmpd can.
    got = [parse(exporter.probe(t)) for t in ("local1", "local", "local3")]
    names = [sorted(lbl["ifname"] for lbl, _ in find(s, "colo_snmp_interface_info")) for s in got]
    assert names[0] == names[1] == names[2] and "lo" in names[0]
    assert value(got[0], "colo_snmp_up", target="local1") == 1
    # v1 has no Counter64: lo's octets come from the 32-bit ifInOctets
    assert value(got[0], "colo_snmp_interface_counters_64bit", ifname="lo") == 0
    assert value(got[1], "colo_snmp_interface_counters_64bit", ifname="lo") == 1


@pytest.mark.parametrize("target", ["local_sha512", "local_sha224", "local_authnopriv", "local_noauth"])
def test_v3_security_levels_and_sha2(exporter, target):
    s = parse(exporter.probe(target))
    assert value(s, "colo_snmp_up", target=target) == 1
    assert value(s, "colo_snmp_interface_oper_status", ifname="lo") == 1


def test_counters_move_between_scrapes(exporter):
    a = parse(exporter.probe("sw54"))
    time.sleep(1.2)
    b = parse(exporter.probe("sw54"))
    wan = {"ifname": "Gi1/0/1"}
    d = value(b, "colo_snmp_interface_receive_bytes_total", **wan) - value(
        a, "colo_snmp_interface_receive_bytes_total", **wan
    )
    assert d > 1e6  # the recording says 2.5 MB/s
    assert value(b, "colo_snmp_sys_uptime_seconds") > value(a, "colo_snmp_sys_uptime_seconds")
    assert value(b, "colo_snmp_agent_restarts_total") == 0


def test_sw500_chassis(exporter):
    s = parse(exporter.probe("sw500", timeout=60, headers={"X-Prometheus-Scrape-Timeout-Seconds": "30"}))
    assert value(s, "colo_snmp_up", target="sw500") == 1
    assert value(s, "colo_snmp_interfaces") == 500
    assert len(find(s, "colo_snmp_interface_receive_bytes_total")) == 500


def test_duplicate_ifnames_numeric_names_large_ifindex(exporter):
    s = parse(exporter.probe("dup"))
    assert value(s, "colo_snmp_up", target="dup") == 1
    same = find(s, "colo_snmp_interface_info", ifname="port 1")
    assert sorted(lbl["ifindex"] for lbl, _ in same) == ["1", "2"]
    assert all(lbl["role"] == "wan" for lbl, _ in same)  # a name rule matches both; ifindex tells them apart
    assert value(s, "colo_snmp_interface_info", ifname="3", ifindex="3") == 1
    assert value(s, "colo_snmp_interface_oper_status", ifindex=str(2**31 - 1), ifname="ge-0/0/0.32767") == 1


def test_landing_page_and_output_hide_credentials(exporter):
    secrets = [
        "colo-auth-pass1",
        "colo-priv-pass1",
        "colo-ro",
        "not-the-community-xyz",
        "wrong-auth-key-123",
        "wrong-priv-key-123",
    ]
    for t in ("local", "sw54v3", "wrong_key", "wrong_comm", "wrong_priv"):
        exporter.get(f"/probe?target={t}")
    texts = [exporter.get("/")[1], exporter.metrics(), exporter.probe("sw54v3"), exporter.log_text()]
    for text in texts:
        for s in secrets:
            assert not re.search(re.escape(s), text), s
