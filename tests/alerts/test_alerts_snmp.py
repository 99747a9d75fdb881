"""alerts/snmp.yml under promtool: the switch as a device (unreachable, restarted), the port counters that
are not in the link vocabulary (discards, negotiated speed), and the exporter (link state is in
test_alerts_links.py)."""

from __future__ import annotations

from pathlib import Path

from alerts_testlib import (
    ALERTS,
    case,
    check,
    exporter_down,
    quiet_then,
    run,
    scrape_slow,
    series,
    switch_unreachable,
)

RULES = [ALERTS / "snmp.yml"]
TOR1 = {"job": "colo-snmp", "instance": "tor1"}
TE1 = {**TOR1, "ifindex": "49", "ifname": "Te1/1/1", "role": "uplink", "link": "srv1-a"}
TE4 = {**TOR1, "ifindex": "52", "ifname": "Te1/1/4", "role": "uplink", "link": "srv2-b"}

SWITCH = case(
    "1m",
    [
        series("up", "1x12", **TOR1),
        series("colo_snmp_up", "1 0x11", **TOR1, target="tor1"),
        # sysUpTime: counting, then back to 0 at 10m (a reboot), counting again.
        series("colo_snmp_sys_uptime_seconds", "86400+60x9 0+60x20", job="colo-snmp", instance="tor2"),
        series("colo_snmp_interface_receive_discards_total", "0+1200x30", **TE1),
        series("colo_snmp_interface_transmit_discards_total", "0x30", **TE1),
        series("colo_snmp_interface_speed_bytes", "125000000x30", **TE4),
        series("colo_snmp_interface_expected_speed_bytes", "1250000000x30", **TE4),
        series("colo_snmp_interface_oper_status", "1x30", **TE4),
        series("colo_snmp_interface_speed_bytes", "1250000000x30", **TE1),
        series("colo_snmp_interface_expected_speed_bytes", "1250000000x30", **TE1),
        series("colo_snmp_interface_oper_status", "1x30", **TE1),
    ],
    [
        *quiet_then("2m", "4m", "SnmpSwitchUnreachable", switch_unreachable("tor1")),
        check("9m", "SnmpDeviceRestarted"),
        *(
            check(
                t,
                "SnmpDeviceRestarted",
                (
                    {"job": "colo-snmp", "instance": "tor2", "severity": "warning", "object": "switch"},
                    "Switch tor2 has restarted",
                    "sysUpTime of tor2 went back in the last 15m: the device (or its SNMP agent) restarted. "
                    "Its "
                    "ports went down with it. (sysUpTime also wraps after 497 days.)",
                ),
            )
            for t in ("10m", "24m")
        ),
        check("26m", "SnmpDeviceRestarted"),
        check(
            "20m",
            "SnmpInterfaceDiscards",
            (
                {**{k: v for k, v in TE1.items() if k != "ifindex"}, "severity": "warning", "object": "link"},
                "Discards on tor1 Te1/1/1 (uplink srv1-a)",
                "20 packets per second discarded for 15m (congestion or buffer exhaustion).",
            ),
        ),
        check(
            "15m",
            "SnmpLinkSpeedLow",
            (
                {**TE4, "severity": "warning", "object": "link"},
                "uplink link srv2-b on tor1 runs slower than expected",
                "Te1/1/4 negotiated 125MB/s, less than the speed its port rule expects: a bad cable, optic "
                "or "
                "autonegotiation.",
            ),
        ),
    ],
)

# The exporter itself, and a probe through it that fails as a whole (no colo_snmp_up left to alert on).
# A job that is not ours never alerts here.
DOWN = case(
    "1m",
    [
        series("up", "1 1 0x10", job="colo-snmp-exporter", instance="mon1:9472"),
        series("up", "1 1 0x10", job="colo-snmp", instance="tor2"),
        series("colo_snmp_up", "1 1", job="colo-snmp", instance="tor2", target="tor2"),
        series("up", "0x12", job="node", instance="h3:9100"),
    ],
    [
        check("3m", "SnmpExporterDown"),
        check(
            "5m",
            "SnmpExporterDown",
            exporter_down("snmp", "colo-snmp-exporter", "mon1:9472"),
            exporter_down("snmp", "colo-snmp", "tor2"),
        ),
        check("5m", "SnmpSwitchUnreachable"),  # it was never seen unreachable: nothing to hold
    ],
)

SLOW = case(
    "1m",
    [
        series("scrape_duration_seconds", "17x20", job="colo-snmp", instance="tor1"),
        series("scrape_timeout_seconds", "20x20", job="colo-snmp", instance="tor1"),
    ],
    [check("16m", "SnmpExporterScrapeSlow", scrape_slow("snmp", "colo-snmp", "tor1", "17s"))],
)

CASES = [SWITCH, DOWN, SLOW]


def test_snmp_alerts(tmp_path: Path) -> None:
    run(tmp_path, "snmp", RULES, CASES)
