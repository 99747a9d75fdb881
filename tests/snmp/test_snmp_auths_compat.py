"""snmp_exporter's `auths:` read as is: its key names, `version: 2`, its defaults (noAuthNoPriv, MD5, DES),
on its documented examples (tests/fixtures/snmp/snmp_exporter), then against snmpd with an MD5/DES user."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from exporters.core import ConfigError, parse_config
from exporters.snmp.config import Config
from lab import snmp as L
from lab.exporter import ExporterProc, parse, value

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "snmp" / "snmp_exporter"


def auths(text: str) -> dict:
    return parse_config(Config, yaml.safe_load(text)).auths


def test_generator_readme_example():
    a = auths((FIX / "generator-readme-auths.yml").read_text())["auth_name"]
    assert (a.snmp_version, a.community.reveal()) == ("2c", "public")  # its v3 keys are ignored for v2


def test_shipped_and_generated_auths():
    got = auths((FIX / "generator-yml-auths.yml").read_text())
    assert (got["public_v1"].snmp_version, got["public_v2"].snmp_version) == ("1", "2c")
    assert got["public_v1"].community.reveal() == got["public_v2"].community.reveal() == "public"
    assert auths((FIX / "generated-snmp-yml-auths.yml").read_text())["public_v2"].snmp_version == "2c"


def test_readme_example_is_v2_as_in_snmp_exporter():
    a = auths((FIX / "readme-env-example-auths.yml").read_text())["example_with_envs"]
    assert (a.snmp_version, a.community.reveal()) == ("2c", "mysecret")


def v3(keys: str):
    return auths(f"auths: {{a: {{version: 3, username: u, {keys}}}}}")["a"]


def test_snmp_exporter_v3_defaults_and_ours():
    go = v3("security_level: authPriv, password: p1234567, priv_password: p7654321")
    assert (go.level, go.auth_name, go.priv_name, go.auth_key) == ("authPriv", "MD5", "DES", "p1234567")
    go = v3("password: p1234567")
    assert go.level == "noAuthNoPriv"  # snmp_exporter's default level, whatever the password
    ours = v3("auth_password: p1234567, priv_password: p7654321")
    assert (ours.level, ours.auth_name, ours.priv_name) == ("authPriv", "SHA", "AES")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{version: 3, username: u, password: p1234567, auth_password: p1234567}", "not both"),
        ("{version: 3, username: u, security_level: authNoPriv, password: short}", "at least 8"),
        ("{version: 3, username: u}", "write noAuthNoPriv"),
        (
            "{version: 3, username: u, security_level: authPriv, password: p1234567, "
            "priv_password: p7654321, priv_protocol: AES512}",
            "not one of DES, AES, AES192, AES256, AES192C, AES256C",
        ),
        ("{version: 3, username: u, security_level: SomethingReadOnly}", "not one of noAuthNoPriv"),
        ("{version: 4}", "expected one of"),
        ("{version: 2c, username: u}", "are for version 3"),
    ],
)
def test_refused_with_a_reason(text, message):
    with pytest.raises(ConfigError, match=message):
        auths(f"auths: {{a: {text}}}")


def test_snmp_exporter_style_md5_des_against_snmpd(snmp_lab, snmpd):
    # The entry as an snmp_exporter user writes it for an MD5/DES user: protocols left to the defaults.
    go_style = {
        "version": 3,
        "username": "colomd5",
        "security_level": "authPriv",
        "password": L.V3_AUTH,
        "priv_password": L.V3_PRIV,
    }
    cfg = {
        "auths": {"go": go_style, "v1": {"version": 1, "community": snmpd.community}},
        "targets": {
            "md5des": snmpd.target("go", lag=False, lldp=False),
            "v1": snmpd.target("v1", lag=False, lldp=False),
        },
    }
    e = ExporterProc(snmp_lab, "snmp", cfg)
    for t in ("md5des", "v1"):
        s = parse(e.probe(t))
        assert value(s, "colo_snmp_up", target=t) == 1, t
        assert value(s, "colo_snmp_interface_oper_status", ifname="lo") == 1
