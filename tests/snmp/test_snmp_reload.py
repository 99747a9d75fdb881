"""Reloading the config builds a new runtime (and engine) without a restart; a bad config keeps the old."""

from __future__ import annotations

import signal

import yaml

from lab.exporter import ExporterProc, parse, value
from lab.proc import wait_for


def test_reload_adds_target_and_keeps_old_on_error(snmp_lab, snmpd):
    cfg = {"auths": {"d2": snmpd.auths()["v2"]}, "targets": {"a": snmpd.target("d2", lag=False, lldp=False)}}
    e = ExporterProc(snmp_lab, "snmp", cfg)
    assert value(parse(e.probe("a")), "colo_snmp_up", target="a") == 1
    assert e.get("/probe?target=b")[0] in (400, 404)
    cfg["targets"]["b"] = cfg["targets"]["a"]
    e.config_file.write_text(yaml.safe_dump(cfg))
    e.proc.signal(signal.SIGHUP)
    wait_for(lambda: e.get("/probe?target=b")[0] == 200, 10, "target b after SIGHUP")
    assert value(parse(e.probe("b")), "colo_snmp_up", target="b") == 1
    e.config_file.write_text("targets: {c: {address: x, auth: nope}}\n")
    e.proc.signal(signal.SIGHUP)
    wait_for(
        lambda: value(parse(e.metrics()), "colo_snmp_config_last_reload_successful") == 0, 10, "failed reload"
    )
    assert value(parse(e.probe("b")), "colo_snmp_up", target="b") == 1
