"""Parsing on walks captured from snmpd and snmpsim (tests/fixtures/snmp), config, dashboard, example
(the alert rules: tests/alerts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exporters.core import ConfigError, parse_config
from exporters.snmp import lldp
from exporters.snmp import parse as P
from exporters.snmp.collector import families
from exporters.snmp.config import Config, PortRule, parse_speed
from exporters.snmp.session import Stats
from exporters.snmp.state import TargetState
from exporters.snmp.values import END

from testlib import config_check

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "snmp"


def _dec(v):
    if "end" in v:
        return END
    if "i" in v:
        return v["i"]
    if "b" in v:
        return bytes.fromhex(v["b"])
    return tuple(int(x) for x in v["o"].split("."))


def load(name):
    raw = json.loads((FIX / f"{name}.json").read_text())
    oid = lambda s: tuple(int(x) for x in s.split("."))  # noqa: E731
    system = {oid(k): _dec(v) for k, v in raw["system"].items()}
    cols = {oid(k): [(tuple(i), _dec(v)) for i, v in rows] for k, rows in raw["columns"].items()}
    return system, cols


def interfaces(name, fallback=True):
    system, cols = load(name)
    tables = {n: P.by_index(cols[o]) for n, o in P.COLUMNS.items()}
    fb = {}
    if fallback:
        for c, i in P.missing_hc(tables):
            v = P.by_index(cols[P.FALLBACK[c]]).get(i)
            if v is not None:
                fb[(c, i)] = v
    return P.parse_system(system), P.parse_interfaces(tables, fb), cols


def test_sw54_capture():
    system, itfs, cols = interfaces("snmpsim-sw54")
    assert system.name == "sw54" and system.object_id == "1.3.6.1.4.1.8072.3.2.10"
    assert len(itfs) == 56
    by = {i.name: i for i in itfs}
    assert by["Gi1/0/4"].alias == "0x636166E9" and by["Gi1/0/5"].alias == "bürø €"
    assert by["Gi1/0/3"].oper == 7 and by["Gi1/0/6"].oper == 6
    assert by["mgmt0"].hc is False and dict(by["mgmt0"].counters)["in_octets"] > 0
    assert by["mgmt0"].speed_bps == 100_000_000 and by["Te1/1/1"].speed_bps == 10_000_000_000
    assert by["Null0"].index == 30001 and "in_multicast" not in dict(by["Null0"].counters)
    lag = P.parse_lag(cols[P.LAG_ATTACHED_AGG], cols[P.IFSTACK_STATUS], itfs)
    assert lag == {47: 5002, 48: 5002, 49: 5001, 50: 5001}
    assert P.parse_lag([], cols[P.IFSTACK_STATUS], itfs) == lag  # ifStackTable gives the same
    # no lldpLocPortTable in this recording: lldpRemLocalPortNum is taken as the ifIndex
    nb = lldp.neighbors({n: cols.get(o, []) for n, o in lldp.COLUMNS.items()}, itfs)
    assert [(n.ifindex, n.system_name, n.port_id) for n in nb][:2] == [
        (49, "srv1", "enp1s0"),
        (50, "srv1", "enp2s0"),
    ]


def test_snmpd_capture_without_fallback_has_no_counters():
    _, itfs, _ = interfaces("snmpd-local", fallback=False)
    assert any(i.name == "lo" for i in itfs)
    assert all(i.hc for i in itfs)  # snmpd has ifHC* for every interface


def test_text_decoding():
    assert P.text(b"Gi1/0/1") == "Gi1/0/1"
    assert P.text(b"caf\xe9") == "0x636166E9"
    assert P.text("bürø".encode()) == "bürø"
    assert P.text(b"eth0\x00\x00") == "eth0"
    assert P.text(b"\x00\x16\x3e\x01\x02\x03") == "0x00163E010203"
    assert P.text(b"\xff\x00\x00") == "0xFF0000"  # hex shows every octet


CISCO = (
    b"Cisco IOS Software, C3750E Software (C3750E-UNIVERSALK9-M), Version 15.2(4)E10, RELEASE SOFTWARE "
    b"(fc2)\r\nTechnical Support: http://www.cisco.com/techsupport\r\nCopyright (c) 1986-2020 by Cisco "
    b"Systems, Inc.\r\nCompiled Tue 31-Mar-20 01:39 by prod_rel_team"
)


def test_strings_are_never_cut():
    assert len(CISCO) > 200 and P.text(CISCO) == CISCO.decode()  # CR/LF are text, nothing is cut
    long_utf8 = ("Grüße aus dem Rechenzentrum " * 12).encode()
    assert P.text(long_utf8) == long_utf8.decode()
    binary = bytes(range(256)) * 2
    assert P.text(binary) == "0x" + binary.hex().upper()  # 1,026 characters, all of them
    assert P.text(END) == "" and P.text(5) == ""


def test_roles_first_match_and_backrefs():
    _, itfs, _ = interfaces("snmpsim-sw54")
    rules = [
        PortRule(role="wan", ifalias="^WAN", link="hive"),
        PortRule(role="mesh", ifalias=r"^mesh (\S+)", link=r"\1"),
        PortRule(role="uplink", ifindex=49, link="a"),
        PortRule(role="other", ifname="Te1/1/1"),
    ]
    roles = P.assign_roles(itfs, rules)
    assert roles[1] == ("wan", "hive") and roles[2] == ("mesh", "srv2") and roles[49] == ("uplink", "a")
    assert 10 not in roles


def test_state_restart_and_discontinuity():
    system, itfs, _ = interfaces("snmpsim-sw54")
    st = TargetState()
    assert st.update(system, itfs) == (False, [])
    lower = [
        P.Interface(
            **{
                **{f: getattr(i, f) for f in i.__slots__},
                "counters": tuple((c, v - 1) for c, v in i.counters),
            }
        )
        for i in itfs
    ]
    later = P.System(system.name, system.descr, system.object_id, system.uptime_ticks + 100)
    restarted, back = st.update(later, lower)
    assert not restarted and back
    again = P.System(system.name, system.descr, system.object_id, 5)
    assert st.update(again, itfs)[0] is True and st.restarts == 1
    fams = {
        f.name: f
        for f in families("colo_snmp", again, itfs, {}, {}, [], Stats(), st.restarts, st.discontinuities)
    }
    assert fams["colo_snmp_agent_restarts"].samples[0].value == 1


def test_speeds():
    assert [parse_speed(x) for x in ("10G", "2.5G", "100M", "1Gb/s", "25gbps", "1000")] == [
        10**10,
        25 * 10**8,
        10**8,
        10**9,
        25 * 10**9,
        1000,
    ]
    _, itfs, _ = interfaces("snmpsim-sw54")
    rules = [PortRule(role="uplink", ifname="Te1/1/1", speed="10G"), PortRule(role="wan", ifalias="^WAN")]
    assert P.expected_speeds(itfs, rules) == {49: 10**10}


def test_config_errors():
    with pytest.raises(ConfigError, match="no auth named"):
        parse_config(Config, {"targets": {"sw": {"address": "192.0.2.1", "auth": "nope"}}})
    with pytest.raises(ConfigError, match="exactly one of"):
        parse_config(
            Config,
            {"targets": {"sw": {"address": "a", "ports": [{"role": "wan", "ifname": "x", "ifindex": 1}]}}},
        )
    with pytest.raises(ConfigError, match="at least 8"):
        parse_config(Config, {"auths": {"a": {"version": 3, "username": "u", "auth_password": "short"}}})
    with pytest.raises(ConfigError, match="not a speed"):
        parse_config(
            Config,
            {"targets": {"sw": {"address": "a", "ports": [{"role": "x", "ifindex": 1, "speed": "fast"}]}}},
        )
    with pytest.raises(ConfigError, match="regular expression"):
        parse_config(Config, {"targets": {"sw": {"address": "a", "ports": [{"role": "x", "ifalias": "("}]}}})


def test_example_config_checks():
    r = config_check("snmp", ROOT / "examples" / "snmp.yml")
    assert r.returncode == 0, r.stderr + r.stdout
    assert "secret" not in (r.stdout + r.stderr).lower() or "<secret>" in r.stdout + r.stderr


def test_dashboard():
    d = json.loads((ROOT / "grafana" / "snmp.json").read_text())
    assert d["uid"] == "colo-snmp" and "colo" in d["tags"] and d["schemaVersion"] == 39
    var = [v for v in d["templating"]["list"] if v["name"] == "datasource"]
    assert var and var[0]["type"] == "datasource" and var[0]["query"] == "prometheus"
    panels = list(d["panels"]) + [q for p in d["panels"] for q in p.get("panels", [])]
    exprs = []
    for p in panels:
        if p["type"] == "row":
            continue
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
        exprs += [t["expr"] for t in p["targets"]]
    assert any('role="wan"' in e for e in exprs) and any("lldp_neighbor_info" in e for e in exprs)
