"""SNMP peers shared by the whole tests/snmp session: snmpd, snmpsim, lying fake agents, one exporter."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab import snmp as L
from lab import snmp_gen
from lab.exporter import ExporterProc
from lab.proc import Lab, free_port
from lab.snmp_fake import IF, IFX, LONG_DESCR, FakeAgent, small_switch

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "snmp"
# exporter target -> recording (and v2c community)
LLDP_RECORDINGS = {
    "lldp_dell": "lldp-dell-os10",
    "lldp_arista": "lldp-arista-eos",
    "lldp_v2": "lldp-v2-only",
    "lldpd_host": "lldpd-host",
    "lldpd_bond": "lldpd-bond",
}


@pytest.fixture(scope="session")
def snmp_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with Lab(tmp_path_factory.mktemp("snmp-lab")) as lab:
        yield lab


@pytest.fixture(scope="session")
def snmpd(snmp_lab: Lab) -> L.Agent:
    return L.start_snmpd(snmp_lab)


@pytest.fixture(scope="session")
def sim(snmp_lab: Lab) -> L.Agent:
    recordings = {"sw54": snmp_gen.switch54(), "sw500": snmp_gen.chassis500(), "dup": snmp_gen.duplicates()}
    for name in LLDP_RECORDINGS.values():  # the LLDP shapes in tests/fixtures/snmp
        recordings[name] = (FIX / f"{name}.snmprec").read_text()
    return L.start_snmpsim(snmp_lab, recordings)


@pytest.fixture(scope="session")
def fakes(snmp_lab: Lab) -> dict[str, FakeAgent]:
    agents = {
        "ok": FakeAgent(small_switch()),
        "loop": FakeAgent(small_switch(), mode="loop"),
        "garbage": FakeAgent(small_switch(), mode="garbage"),
        "silent": FakeAgent(small_switch(), mode="silent"),
        "dupfake": FakeAgent(small_switch(dup_names=True)),
        "longdescr": FakeAgent(small_switch(descr=LONG_DESCR)),
        # ifHCInOctets loops; ifHCOutOctets and ifOperStatus come as strings; the rest is fine
        "badcols": FakeAgent(
            small_switch(),
            loop_columns=frozenset({IFX + (6,)}),
            wrong_type_columns=frozenset({IFX + (10,), IF + (8,)}),
        ),
    }
    for a in agents.values():
        snmp_lab.callback(a.close)
    return agents


def exporter_config(snmpd: L.Agent, sim: L.Agent, fakes: dict[str, FakeAgent]) -> dict[str, Any]:
    v3 = sim.auths()["v3"]
    dead = free_port(kind=socket.SOCK_DGRAM)  # nothing listens there
    auths = {
        "d2": snmpd.auths()["v2"],
        "d3": snmpd.auths()["v3"],
        "s2": {"version": "2c", "community": "sw54"},
        "s3": v3,
        "s500": {"version": "2c", "community": "sw500"},
        "sdup": {"version": "2c", "community": "dup"},
        **{f"a_{t}": {"version": "2c", "community": rec} for t, rec in LLDP_RECORDINGS.items()},
        "d1": {"version": "1", "community": snmpd.community},
        "wrong_comm": {"version": "2c", "community": "not-the-community-xyz"},
        "wrong_user": {**v3, "username": "nosuchuser"},
        "wrong_key": {**v3, "auth_password": "wrong-auth-key-123"},
        "fake": {"version": "2c", "community": "fake"},
        "d3_sha512_aes256": {
            "version": "3",
            "username": "colosha512",
            "auth_protocol": "SHA512",
            "auth_password": L.V3_AUTH,
            "priv_protocol": "AES256",
            "priv_password": L.V3_PRIV,
        },
        "d3_sha224_aes192": {
            "version": "3",
            "username": "colosha224",
            "auth_protocol": "SHA224",
            "auth_password": L.V3_AUTH,
            "priv_protocol": "AES192",
            "priv_password": L.V3_PRIV,
        },
        "d3_authnopriv": {
            "version": "3",
            "username": "colosha256",
            "security_level": "authNoPriv",
            "auth_protocol": "SHA256",
            "auth_password": L.V3_AUTH,
        },
        "d3_noauth": {"version": "3", "username": "colonoauth", "security_level": "noAuthNoPriv"},
        "wrong_priv": {**snmpd.auths()["v3"], "priv_password": "wrong-priv-key-123"},
    }
    fast = {"timeout": "500ms", "retries": 1}
    targets = {
        "local": snmpd.target("d2", lag=False, lldp=False),
        "local3": snmpd.target("d3", lag=False, lldp=False),
        "sw54": sim.target("s2", ports=snmp_gen.EXAMPLE_PORTS),
        "sw54v3": sim.target("s3", ports=snmp_gen.EXAMPLE_PORTS),
        "local1": snmpd.target("d1", lag=False, lldp=False),
        "sw500": sim.target("s500", timeout="5s"),
        "dup": sim.target("sdup", ports=[{"ifname": "port 1", "role": "wan", "link": "hive"}]),
        **{t: sim.target(f"a_{t}") for t in LLDP_RECORDINGS},
        "local_sha512": snmpd.target("d3_sha512_aes256", lag=False, lldp=False),
        "local_sha224": snmpd.target("d3_sha224_aes192", lag=False, lldp=False),
        "local_authnopriv": snmpd.target("d3_authnopriv", lag=False, lldp=False),
        "local_noauth": snmpd.target("d3_noauth", lag=False, lldp=False),
        "wrong_priv": snmpd.target("wrong_priv", **fast),
        "dead": {"address": "127.0.0.1", "port": dead, "auth": "d2", **fast},
        "wrong_comm": snmpd.target("wrong_comm", **fast),
        "wrong_user": sim.target("wrong_user", **fast),
        "wrong_key": sim.target("wrong_key", **fast),
    }
    for name, a in fakes.items():
        targets[f"fake_{name}"] = {"address": "127.0.0.1", "port": a.port, "auth": "fake", **fast}
    return {"auths": auths, "targets": targets}


@pytest.fixture(scope="session")
def exporter(snmp_lab: Lab, snmpd: L.Agent, sim: L.Agent, fakes: dict[str, FakeAgent]) -> ExporterProc:
    return ExporterProc(snmp_lab, "snmp", exporter_config(snmpd, sim, fakes))
