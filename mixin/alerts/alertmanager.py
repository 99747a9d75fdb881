"""alerts/alertmanager.yml: routes, grouping and inhibitions for the rules in alerts/*.yml.

Routing: by rack object (the `object` label every rule sets), each with the grouping that makes one
incident one notification; then by severity: critical pages, warning goes by e-mail, info nowhere (those
are inhibition sources). Inhibitions: an unreachable device or a down exporter silences what it hides, a
member in maintenance silences its host, a degraded or flapping link silences its "down".
"""

from __future__ import annotations

from typing import Any

from .model import C, to_yaml

# group_by per rack object: what one incident is.
GROUPING: dict[str, tuple[list[str], str]] = {
    "link": (["object", "role", "link"], "one link, seen from either side or by several probes"),
    "switch": (["object"], "the rack's switches (a switch probed under two names is one incident)"),
    "server": (["object", "host"], "one server: its BMC and node_exporter alerts"),
    "router": (["object"], "the rack's routers (a VRRP fault involves both)"),
    "cluster": (["object"], "the LXD cluster: members and pools"),
    "instance": (["object", "host"], "the instances of one member"),
    "ceph": (["object"], "the Ceph cluster"),
    "monitoring": (["object", "exporter"], "one exporter: its own job and every probe through it"),
}


def config(cfg: dict[str, Any]) -> dict[str, Any]:
    am = cfg["alertmanager"]

    def by_severity() -> list[Any]:
        return [
            {"matchers": ['severity="critical"'], "receiver": "page"},
            {"matchers": ['severity="warning"'], "receiver": "email"},
        ]

    routes: list[Any] = [
        C(
            "Inhibition sources and notes (LxdClusterMemberInMaintenance): no notification.",
            {"matchers": ['severity="info"'], "receiver": "blackhole"},
        )
    ]
    for obj, (group_by, why) in GROUPING.items():
        routes.append(
            C(why, {"matchers": [f'object="{obj}"'], "group_by": group_by, "routes": by_severity()})
        )

    inhibit = [
        C(
            "A member in maintenance (evacuated, until restored plus a grace): everything about its host.",
            {
                "source_matchers": ['alertname="LxdClusterMemberInMaintenance"'],
                "target_matchers": [
                    'severity=~"warning|critical"',
                    'alertname!="LxdClusterMemberEvacuatedTooLong"',
                ],
                "equal": ["host"],
            },
        ),
        C(
            "An exporter (or a probe through it) that cannot be scraped: the alerts on that scrape's data,\n"
            "which keep their last state meanwhile.",
            {
                "source_matchers": ['alertname=~".+ExporterDown"'],
                "target_matchers": ['alertname!~".+ExporterDown"'],
                "equal": ["job", "instance"],
            },
        ),
        C(
            "A switch that does not answer SNMP: its port and link alerts.",
            {
                "source_matchers": ['alertname="SnmpSwitchUnreachable"'],
                "target_matchers": ['object="link"'],
                "equal": ["job", "instance"],
            },
        ),
        C(
            "A BMC that cannot be read: its sensor alerts.",
            {
                "source_matchers": ['alertname="BmcUnreachable"'],
                "target_matchers": ['alertname=~"Bmc.+"', 'alertname!~"BmcUnreachable|BmcExporter.+"'],
                "equal": ["job", "instance", "target", "source"],
            },
        ),
        C(
            "A router daemon that does not answer: its sessions.",
            {
                "source_matchers": ['alertname="FrrDaemonDown"', 'daemon="bgpd"'],
                "target_matchers": ['alertname=~"FrrBgp.+|FrrExpectedAdvertisementMissing"'],
                "equal": ["job", "instance", "frr_instance"],
            },
        ),
        {
            "source_matchers": ['alertname="FrrDaemonDown"', 'daemon="bfdd"'],
            "target_matchers": ['alertname="FrrBfdPeerDown"'],
            "equal": ["job", "instance", "frr_instance"],
        },
        {
            "source_matchers": ['alertname="FrrDaemonDown"', 'daemon="vrrpd"'],
            "target_matchers": ['alertname=~"FrrVrrp.+"'],
            "equal": ["job", "instance", "frr_instance"],
        },
        C(
            "A router collector that fails (the daemon answers): the alerts on what it reads, which keep\n"
            "their last state meanwhile. (With both summary and neighbors failing the sessions hold too,\n"
            "not inhibited: either one alone still gives the sessions' state.)",
            {
                "source_matchers": [
                    'alertname="FrrCollectorFailing"',
                    'daemon="bgpd"',
                    'collector="summary"',
                ],
                "target_matchers": ['alertname=~"FrrBgpPrefixesReceived.+"'],
                "equal": ["job", "instance", "frr_instance"],
            },
        ),
        {
            "source_matchers": ['alertname="FrrCollectorFailing"', 'collector=~"advertised:.+"'],
            "target_matchers": ['alertname="FrrExpectedAdvertisementMissing"'],
            "equal": ["job", "instance", "frr_instance", "vrf", "prefix"],
        },
        {
            "source_matchers": ['alertname="FrrCollectorFailing"', 'daemon="bfdd"', 'collector="peers"'],
            "target_matchers": ['alertname="FrrBfdPeerDown"'],
            "equal": ["job", "instance", "frr_instance"],
        },
        C(
            "An LXD collector that fails: the alerts on what it reads, which keep their last state\n"
            "meanwhile.",
            {
                "source_matchers": ['alertname="LxdCollectorFailing"', 'collector="instances"'],
                "target_matchers": [
                    'alertname=~"LxdInstanceError|LxdCriticalInstanceNotRunning|LxdInstanceMemoryNearLimit"'
                ],
                "equal": ["job", "instance"],
            },
        ),
        {
            "source_matchers": ['alertname="LxdCollectorFailing"', 'collector="counters"'],
            "target_matchers": ['alertname="LxdInstanceMemoryNearLimit"'],
            "equal": ["job", "instance"],
        },
        {
            "source_matchers": ['alertname="LxdCollectorFailing"', 'collector="disk"'],
            "target_matchers": ['alertname="LxdInstanceDiskNearQuota"'],
            "equal": ["job", "instance"],
        },
        {
            "source_matchers": ['alertname="LxdCollectorFailing"', 'collector="storage_pools"'],
            "target_matchers": ['alertname=~"LxdStoragePool.+"'],
            "equal": ["job", "instance"],
        },
        C(
            "An offline member (not in maintenance): its instances and the exporters on it.",
            {
                "source_matchers": ['alertname="LxdClusterMemberOffline"'],
                "target_matchers": ['object=~"instance|monitoring"'],
                "equal": ["host"],
            },
        ),
        C(
            'A bond that is degraded (up, some members down): "down" of its members.',
            {
                "source_matchers": ['alertname="LinkDegraded"'],
                "target_matchers": ['alertname="LinkDown"'],
                "equal": ["role", "link", "side"],
            },
        ),
        C(
            'A flapping link: its "down" and "degraded", which would come and go with every flap.',
            {
                "source_matchers": ['alertname="LinkFlapping"'],
                "target_matchers": ['alertname=~"LinkDown|LinkDegraded"'],
                "equal": ["role", "link", "side"],
            },
        ),
    ]
    return {
        "global": {
            "resolve_timeout": "5m",
            "smtp_from": am["email_from"],
            "smtp_smarthost": am["smarthost"],
            "smtp_require_tls": False,
        },
        "route": C(
            "Everything not matched below goes by e-mail, grouped by object.",
            {
                "receiver": "email",
                "group_by": ["object"],
                "group_wait": am["group_wait"],
                "group_interval": am["group_interval"],
                "repeat_interval": am["repeat_interval"],
                "routes": routes,
            },
        ),
        "inhibit_rules": inhibit,
        "receivers": [
            C(
                "Replace with your pager (a webhook bridge to ntfy, alerta, PagerDuty, ...).",
                {"name": "page", "webhook_configs": [{"url": am["page_webhook"], "send_resolved": True}]},
            ),
            {"name": "email", "email_configs": [{"to": am["email_to"], "send_resolved": True}]},
            C("Drops what it receives.", {"name": "blackhole"}),
        ],
    }


HEADER = """\
Alertmanager config for the colo alert rules (example: set the receivers; `amtool check-config` clean).
Generated by `python -m mixin.build` from mixin/alerts/alertmanager.py and mixin/config.py; do not edit.
Routes, grouping and inhibitions are explained in docs/alerts.md."""


def render(cfg: dict[str, Any]) -> str:
    lines = [f"# {line}".rstrip() for line in HEADER.splitlines()] + to_yaml(config(cfg))
    return "\n".join(lines) + "\n"
