"""Colo / Switch ports (SNMP): colo-snmp-exporter, per link role."""

from __future__ import annotations

from .. import config
from .core import (
    IF_OPER,
    Board,
    Json,
    Row,
    coloured,
    count_stat,
    exporter_up,
    label_var,
    mirrored,
    stat,
    steps,
    table,
    target,
    targets,
    timeseries,
)

SEL = config.SELECTORS["snmp"]
INST = 'instance=~"$instance"'
ROLE_TITLES = {"wan": "WAN", "uplink": "Uplinks", "mesh": "Mesh (switch ports)"}


def _role_row(role: str) -> Row:
    s = f'{SEL}, {INST}, role="{role}"'
    name = ROLE_TITLES.get(role, role)
    rate = "rate(colo_snmp_interface_{}_total{{" + s + "}}[$__rate_interval])"
    return Row(
        name,
        [
            mirrored(
                f"{name} traffic",
                f"Bits per second on switch ports whose rule gives role `{role}`: "
                "received above the axis, transmitted below it.",
                (rate.format("receive_bytes") + " * 8", "{{instance}} {{link}} in"),
                (rate.format("transmit_bytes") + " * 8", "{{instance}} {{link}} out"),
                "bps",
            ),
            timeseries(
                f"{name} errors and discards",
                "Errored and discarded packets per second, both directions "
                "together; errors point at cabling or optics, discards at congestion.",
                targets(
                    (
                        f"{rate.format('receive_errors')} + {rate.format('transmit_errors')}",
                        "{{instance}} {{link}} errors",
                    ),
                    (
                        f"{rate.format('receive_discards')} + {rate.format('transmit_discards')}",
                        "{{instance}} {{link}} discards",
                    ),
                ),
                "pps",
                min_=0,
            ),
            stat(
                f"{name} link status",
                "ifOperStatus of each port (up, or why not).",
                targets((f"colo_snmp_interface_oper_status{{{s}}}", "{{instance}} {{ifname}} {{link}}")),
                w=24,
                h=4,
                mappings=IF_OPER,
                thresholds=steps((None, "green"), (2, "red")),
            ),
        ],
    )


def board() -> Json:
    s = f"{SEL}, {INST}"
    switches = Row(
        "Switches",
        [
            exporter_up(
                "SNMP reachable",
                "1 when the switch answered the exporter's last walk.",
                targets((f"colo_snmp_up{{{s}}}", "{{instance}}")),
            ),
            count_stat(
                "Ports down (admin up)",
                "Ports with a role that are administratively up but not operationally up.",
                f'colo_snmp_interface_oper_status{{{s}, role!=""}} != 1 and on (instance, ifindex) '
                f"colo_snmp_interface_admin_status{{{s}}} == 1",
            ),
            stat(
                "Agent restarts (24h)",
                "Times sysUpTime went backwards: the switch (or its agent) restarted.",
                targets(f"sum(increase(colo_snmp_agent_restarts_total{{{s}}}[24h])) or vector(0)"),
                w=4,
                thresholds=steps((None, "green"), (1, "orange")),
                decimals=0,
            ),
            timeseries(
                "Scrape duration",
                "How long each walk took; near the scrape timeout means a slow agent or "
                "too many ports for one walk.",
                targets((f"colo_snmp_scrape_duration_seconds{{{s}}}", "{{instance}}")),
                "s",
                w=8,
                h=4,
            ),
        ],
    )
    neighbours = Row(
        "Neighbours and bonds",
        [
            table(
                "LLDP neighbours",
                "What each port sees at its far end (LLDP), to check the cabling against the port rules.",
                targets(f"colo_snmp_lldp_neighbor_info{{{s}}}"),
                hide=("Time", "Value", "__name__", "job"),
                rename={
                    "instance": "switch",
                    "ifname": "port",
                    "remote_system": "neighbour",
                    "remote_port": "neighbour port",
                },
            ),
            table(
                "LAG members and state",
                "Each aggregate's member ports and their operational state.",
                [
                    target(
                        f"colo_snmp_interface_oper_status{{{s}}} * on "
                        "(instance, ifindex) group_left (lag_ifname) "
                        f"colo_snmp_interface_lag_member_info{{{s}}}"
                    )
                ],
                rename={"Value": "oper status", "instance": "switch"},
                columns={"oper status": coloured(IF_OPER, "text")},
            ),
        ],
    )
    return Board(
        "colo-snmp",
        "Colo / Switch ports (SNMP)",
        "Switch ports through colo-snmp-exporter, grouped by the role their port rule gives them.",
        [switches, *(_role_row(r) for r in config.LINK_ROLES), neighbours],
        [label_var("instance", "Switch", f"colo_snmp_up{{{SEL}}}")],
    ).build()
