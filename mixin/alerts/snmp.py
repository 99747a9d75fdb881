"""alerts/snmp.yml: colo-snmp-exporter (the switch as a device: reachability, restarts, port counters
that are not in the link vocabulary). Link state, bonds, flaps, utilisation and errors are link alerts
(alerts/links.yml, on the colo:link_* recording rules), whatever reads the link."""

from __future__ import annotations

from .common import Ctx, exporter_alerts, source_down
from .model import Alert, Group

PORT = "instance, ifname, role, link"


def groups(ctx: Ctx) -> list[Group]:
    c, t = ctx.sub("snmp"), ctx.t

    rules = [
        *exporter_alerts(ctx, "snmp", "Snmp", "colo-snmp-exporter", "the switches"),
        Alert(
            "SnmpSwitchUnreachable",
            source_down(ctx, "colo_snmp_up"),
            "critical",
            "switch",
            "Switch {{ $labels.target }} does not answer SNMP",
            "colo-snmp-exporter cannot read {{ $labels.target }} (the exporter's log and "
            "colo_snmp_scrape_errors_total say why). Its link alerts keep their last state and are inhibited "
            "meanwhile.",
            for_=t(c["unreachable_for"]),
        ),
        Alert(
            "SnmpDeviceRestarted",
            f"resets(colo_snmp_sys_uptime_seconds[{t(c['restart_window'])}]) > 0",
            "warning",
            "switch",
            "Switch {{ $labels.instance }} has restarted",
            f"sysUpTime of {{{{ $labels.instance }}}} went back in the last {c['restart_window']}: the "
            "device "
            "(or its SNMP agent) restarted. Its ports went down with it. (sysUpTime also wraps after 497 "
            "days.)",
        ),
        Alert(
            "SnmpInterfaceDiscards",
            f"sum by (job, {PORT}) (\n"
            f'  rate(colo_snmp_interface_receive_discards_total{{role!=""}}[{t("5m")}])\n'
            f'  + rate(colo_snmp_interface_transmit_discards_total{{role!=""}}[{t("5m")}])\n'
            f") > {c['discards_per_second']}",
            "warning",
            "link",
            "Discards on {{ $labels.instance }} {{ $labels.ifname }} ({{ $labels.role }} {{ $labels.link }})",
            f"{{{{ $value | humanize }}}} packets per second discarded for {c['discards_for']} (congestion "
            "or "
            "buffer exhaustion).",
            for_=t(c["discards_for"]),
        ),
        Alert(
            "SnmpLinkSpeedLow",
            "colo_snmp_interface_speed_bytes < on (instance, ifindex) group_left "
            "colo_snmp_interface_expected_speed_bytes\n"
            "and on (instance, ifindex) colo_snmp_interface_oper_status == 1",
            "warning",
            "link",
            "{{ $labels.role }} link {{ $labels.link }} on {{ $labels.instance }} runs slower than expected",
            "{{ $labels.ifname }} negotiated {{ $value | humanize }}B/s, less than the speed its port rule "
            "expects: a bad cable, optic or autonegotiation.",
            for_=t(c["speed_low_for"]),
        ),
    ]
    return [Group("colo-snmp", rules)]
