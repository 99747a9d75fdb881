"""A real agent restart: snmpd stops and starts again on the same port (same engine ID, boots + 1)."""

from __future__ import annotations

from lab import snmp as L
from lab.exporter import ExporterProc, parse, value
from lab.proc import wait_for


def test_snmpd_restart_v2c_and_v3(lab):
    agent = L.start_snmpd(lab, name="snmpd-restart")
    cfg = {
        "auths": agent.auths(),
        "targets": {
            "v2": agent.target("v2", lag=False, lldp=False, timeout="1s"),
            "v3": agent.target("v3", lag=False, lldp=False, timeout="1s"),
        },
    }
    e = ExporterProc(lab, "snmp", cfg)
    for t in ("v2", "v3"):
        assert value(parse(e.probe(t)), "colo_snmp_up", target=t) == 1
    first = L.LAST_STARTED["snmpd-restart"]
    first.stop()
    for t in ("v2", "v3"):
        assert value(parse(e.probe(t)), "colo_snmp_up", target=t) == 0
    L.start_snmpd(lab, name="snmpd-restart", port=agent.port, workdir=L.LAST_WORKDIR["snmpd-restart"])

    def up(t: str) -> bool:
        return value(parse(e.probe(t)), "colo_snmp_up", target=t) == 1

    for t in ("v2", "v3"):  # v3: pysnmp sees a new boot count (notInTimeWindow) and resynchronises
        wait_for(lambda t=t: up(t), 20, f"{t} up after the agent restart")
        s = parse(e.probe(t))
        assert value(s, "colo_snmp_agent_restarts_total") == 1, t
