"""Colo / Rack overview: the whole rack on one page, top to bottom as an operator reads it.

Links (WAN, uplinks, mesh) on the link vocabulary of rules/links.yml, so the source of each link side
(switch port, host snmpd, node_exporter) does not matter here; WAN billing; servers (BMC and
node_exporter); routers; LXD; Ceph; services. Each row opens with a "source" panel that says whether its
exporter is scraped and what to install when it is not; rows for sources the site does not have
(config.RACK_SOURCES) are generated collapsed.
"""

from __future__ import annotations

from .. import config
from .bmc import by_sensor
from .core import (
    FULLNESS,
    GREEN_AT_1,
    HEALTH,
    LEGEND_LIST,
    OK_WARN_CRIT,
    OK_WARN_CRIT_STEPS,
    TEMPERATURE,
    UP_DOWN,
    Board,
    Json,
    Row,
    bargauge,
    count_stat,
    dash_link,
    graph,
    mirrored,
    query_var,
    sized,
    stat,
    state_timeline,
    status_table,
    steps,
    table,
    target,
    targets,
    timeseries,
    up_down,
)
from .core import values as vmap
from .frr import ADVERTISED, sessions_down, vrrp_masters
from .lxd import running_per_member

S = config.SELECTORS
SRV = 'instance=~"$server"'
LINK_KEYS = "job, instance, role, link, side, interface"
ROLE_TITLES = {"wan": "WAN", "uplink": "uplinks", "mesh": "mesh"}
CEPH_HEALTH = vmap(
    **{"0": ("HEALTH_OK", "green"), "1": ("HEALTH_WARN", "orange"), "2": ("HEALTH_ERR", "red")}
)
LINK_STATE = vmap(
    **{"0": ("down", "red"), "1": ("degraded", "orange"), "2": ("up", "green"), "3": ("shut", "blue")}
)
INSTALL = {
    "snmp": "colo-snmp-exporter with port rules (docs/snmp.md) or node_exporter with interface aliases",
    "node": "prometheus-node-exporter on each server (job node, instance = server name)",
    "bmc": "colo-bmc-exporter (docs/bmc.md), probe target = server name",
    "frr": "colo-frr-exporter on each router (docs/frr.md)",
    "lxd": "colo-lxd-exporter (docs/lxd.md)",
    "ceph": "the ceph-mgr prometheus module: ceph mgr module enable prometheus (job ceph)",
    "haproxy": "HAProxy's built-in exporter: http-request use-service prometheus-exporter (job haproxy)",
    "unbound": "unbound_exporter (letsencrypt/unbound_exporter, job unbound)",
    "nsd": "nsd_exporter (optix2000/nsd_exporter, job nsd)",
}


def source(name: str, what: str, link: tuple[str, str] | None = None) -> Json:
    """Whether the row's source is scraped: its targets up, or a note of what to install."""
    return stat(
        f"{what}: source",
        f"Targets of the {name} scrape jobs that are up ({S[name]}). "
        f"'not scraped' means none: install {INSTALL[name]}.",
        targets(f"sum(up{{{S[name]}}}) or vector(0)"),
        text_mode="value",
        mappings=vmap(**{"0": ("not scraped", "red")}),
        thresholds=GREEN_AT_1,
        links=[dash_link(*link)] if link else None,
    )


def _sourced(
    title: str, sources: dict[str, str], panels: list[Json], link: tuple[str, str] | None = None
) -> Row:
    """A row opening with a source panel for each of `sources` (name: what), collapsed when the site has
    none of them (config.RACK_SOURCES)."""
    heads = [source(name, what, link) for name, what in sources.items()]
    have = any(config.RACK_SOURCES.get(name, False) for name in sources)
    return Row(title, [*heads, *panels], collapsed=not have)


def _link_rows() -> list[Row]:
    rows = []
    for role in config.LINK_ROLES:
        sel = f'role="{role}"'
        name = ROLE_TITLES.get(role, role)
        state = (
            f"(colo:link_admin_up{{{sel}}} == 0) + 3 "
            f"or clamp_min(colo:link_up{{{sel}}} * 2 - on ({LINK_KEYS}) "
            f"(colo:link_members_up{{{sel}}} < bool colo:link_members{{{sel}}}), 0) "
            f"or colo:link_up{{{sel}}} * 2"
        )
        panels = [
            mirrored(
                f"Traffic: {name}",
                f"Bits per second on every side of every `{role}` link (from "
                "colo:link_receive_bits:rate5m / colo:link_transmit_bits:rate5m, whatever reports the side): "
                "received above the axis, transmitted below.",
                (f"colo:link_receive_bits:rate5m{{{sel}}}", "{{side}} {{link}} in"),
                (f"colo:link_transmit_bits:rate5m{{{sel}}}", "{{side}} {{link}} out"),
                "bps",
                w=10,
                links=[dash_link("colo-snmp", "Colo / Switch ports (SNMP)")],
            ),
            timeseries(
                f"Utilisation: {name}",
                "The busier direction over the link's speed (5-minute rates).",
                targets((f"colo:link_utilisation:ratio5m{{{sel}}}", "{{side}} {{link}}")),
                "percentunit",
                w=6,
                min_=0,
                legend=LEGEND_LIST,
                thresholds=steps(
                    (None, "green"),
                    (config.LINK_UTILISATION_WARN, "orange"),
                    (config.LINK_UTILISATION_CRIT, "red"),
                ),
            ),
            stat(
                f"State: {name}",
                "Each link side: up, degraded (a bond or LAG with a member down), down, or shut "
                "(administratively down on purpose: no link alert).",
                targets((state, "{{side}} {{link}}")),
                w=8,
                h=8,
                mappings=LINK_STATE,
                thresholds=steps((None, "red"), (1, "orange"), (2, "green")),
            ),
        ]
        rows.append(Row(f"Links: {name}", panels))
    rows[-1].panels += [
        timeseries(
            "Errors on links",
            "Receive and transmit errors per second on every link side (all roles).",
            targets(("colo:link_errors:rate5m", "{{role}} {{side}} {{link}}")),
            "pps",
            min_=0,
        ),
        timeseries(
            "Link flaps (10 min)",
            "Operational state changes of every link side in the last 10 minutes "
            "(ifOperStatus / ifLastChange, node_exporter carrier changes).",
            targets(("colo:link_flaps:changes10m", "{{role}} {{side}} {{link}}")),
            "short",
            min_=0,
        ),
        status_table(
            "Bond and LAG members",
            "Each member of a bond or LAG and whether it is up.",
            "colo:link_member_up",
            "member up",
            UP_DOWN,
            w=12,
            hide=("Time", "__name__", "job", "instance"),
        ),
        table(
            "Firing link alerts",
            "Alerts firing now that name a link (empty when the links are healthy).",
            [target('ALERTS{alertstate="firing", link!=""}')],
            w=12,
            hide=("Time", "__name__", "Value", "alertstate", "job"),
        ),
    ]
    return rows


def _wan_billing() -> Row:
    w = config.WAN_WINDOW
    in_range = "sum_over_time(colo:wan_{}_bits:avg5m[$__range]) * " + f"{config.WAN_SAMPLE_SECONDS} / 8"
    billed = [
        stat(
            f"95th percentile ({w})",
            f"The {config.WAN_PERCENTILE:.0%} percentile of the 5-minute samples over "
            f"the last {w}, the larger of in and out, as transit is usually billed.",
            targets((f"colo:wan_billable_bits:p95_{w}", "{{side}} {{link}}")),
            "bps",
            thresholds=steps((None, "green")),
        ),
        stat(
            "95th percentile / commit",
            "The billable 95th percentile over the commit rate (mixin/config.py "
            "WAN_COMMIT_BITS): above 100% is billed as burst.",
            targets(
                (
                    f"max by (link, side) (colo:wan_billable_bits:p95_{w}) "
                    "/ on (link, side) colo:wan_commit_bits",
                    "{{side}} {{link}}",
                )
            ),
            "percentunit",
            thresholds=steps((None, "green"), (0.8, "orange"), (1, "red")),
        ),
        stat(
            f"Transfer ({w})",
            f"Bytes received and sent over the WAN in the last {w}.",
            targets(
                (f"colo:wan_receive_bytes:sum{w}", "{{side}} {{link}} in"),
                (f"colo:wan_transmit_bytes:sum{w}", "{{side}} {{link}} out"),
            ),
            "decbytes",
        ),
        stat(
            "Transfer in the time range",
            "Bytes over the WAN in the dashboard's time range (pick 'This month' "
            "for the billing month so far), from the 5-minute billing samples.",
            targets(
                (in_range.format("receive"), "{{side}} {{link}} in"),
                (in_range.format("transmit"), "{{side}} {{link}} out"),
            ),
            "decbytes",
        ),
    ]
    samples = timeseries(
        "WAN 5-minute samples and commit",
        "The billing samples (5-minute averages), received "
        "above the axis and sent below, against the commit rate drawn on both sides.",
        targets(
            ("colo:wan_receive_bits:avg5m", "{{side}} {{link}} in"),
            ("colo:wan_transmit_bits:avg5m", "{{side}} {{link}} out"),
            ("colo:wan_commit_bits", "{{side}} {{link}} commit"),
            ("colo:wan_commit_bits", "{{side}} {{link}} commit (out)"),
        ),
        "bps",
        w=24,
        h=7,
        negative=("B", "D"),
    )
    return Row("WAN billing", [*sized(billed, w=6, h=5), samples])


def _servers() -> Row:
    ns = f"{S['node']}, {SRV}"
    disk = "sum by (instance) (rate(node_disk_{}_bytes_total{{" + ns + "}}[$__rate_interval]))"
    bs = f"{S['bmc']}, {SRV}"
    idle = f'node_cpu_seconds_total{{{ns}, mode="idle"}}'
    fs = f"{ns}, {config.NODE_FS}"
    graphs = [
        graph(
            "CPU busy",
            "Share of CPU time not idle, per server (node_exporter).",
            f"1 - avg by (instance) (rate({idle}[$__rate_interval]))",
            "{{instance}}",
            "percentunit",
            min_=0,
            max_=1,
        ),
        graph(
            "Memory used",
            "Memory in use (total minus available) over total, per server.",
            f"1 - node_memory_MemAvailable_bytes{{{ns}}} / node_memory_MemTotal_bytes{{{ns}}}",
            "{{instance}}",
            "percentunit",
            min_=0,
            max_=1,
        ),
        graph(
            "Load per CPU",
            "1-minute load average over the number of CPUs: above 1 the CPUs are oversubscribed.",
            f"node_load1{{{ns}}} / on (instance) count by (instance) ({idle})",
            "{{instance}}",
            min_=0,
        ),
        graph(
            "Disk space used",
            "The fullest filesystem of each server (local filesystems).",
            f"max by (instance) (1 - node_filesystem_avail_bytes{{{fs}}} / "
            f"node_filesystem_size_bytes{{{fs}}})",
            "{{instance}}",
            "percentunit",
            min_=0,
            max_=1,
            thresholds=FULLNESS,
        ),
        mirrored(
            "Disk I/O",
            "Bytes per second read (above the axis) and written (below), all disks.",
            (disk.format("read"), "{{instance}} read"),
            (disk.format("written"), "{{instance}} write"),
            "Bps",
        ),
        by_sensor(
            "Temperatures",
            "Every temperature sensor of each server's BMC.",
            "temperature_celsius",
            "celsius",
            sel=bs,
            server="instance",
            thresholds=TEMPERATURE,
        ),
        by_sensor(
            "Fans",
            "Fan speeds (RPM) from each server's BMC.",
            "fan_speed_rpm",
            "rotrpm",
            sel=bs,
            server="instance",
            min_=0,
        ),
        by_sensor(
            "PSU power",
            "Input power per power supply, from the BMC.",
            "psu_input_watts",
            "watt",
            sel=bs,
            server="instance",
            min_=0,
        ),
        status_table(
            "Power supplies",
            "Each PSU's health (only installed PSUs).",
            f"colo_bmc_psu_health{{{bs}}}",
            "health",
            OK_WARN_CRIT,
        ),
    ]
    return _sourced(
        "Servers",
        {"node": "Hosts"},
        [
            stat(
                "BMC health",
                "The worst health the BMC reports per server (Redfish rollup, IPMI sensor states).",
                targets((f"max by (instance) (colo_bmc_health_rollup{{{bs}}})", "{{instance}}")),
                w=10,
                links=[dash_link("colo-bmc", "Colo / BMC")],
                **HEALTH,
            ),
            stat(
                "Power draw",
                "Each server's input power, from its BMC.",
                targets((f"colo_bmc_system_power_watts{{{bs}}}", "{{instance}}")),
                "watt",
                w=10,
            ),
            *sized(graphs, w=8),
        ],
        ("colo-bmc", "Colo / BMC"),
    )


def _routers() -> Row:
    f = S["frr"]
    return _sourced(
        "Routers",
        {"frr": "Routers"},
        [
            count_stat(
                "BGP sessions down",
                "BGP sessions not Established and not shut down on purpose.",
                sessions_down(f),
            ),
            count_stat(
                "Anycast not advertised",
                "Configured prefixes not advertised to a peer that should get them.",
                f"colo_frr_bgp_prefix_advertised{{{f}}} == 0",
            ),
            vrrp_masters(
                "VRRP masters per vrid",
                "Routers that are Master for each vrid: 1 is right, 0 no gateway, 2 split brain.",
                f,
                w=12,
            ),
            state_timeline(
                "BGP sessions",
                "Each BGP session over time (to the provider and inside).",
                targets((f"colo_frr_bgp_peer_up{{{f}}}", "{{frr_instance}} {{peer}}")),
                **up_down(up="Established"),
            ),
            status_table(
                "Anycast advertisements",
                "Each configured prefix and peer: advertised or missing.",
                f"colo_frr_bgp_prefix_advertised{{{f}}}",
                "advertised",
                ADVERTISED,
                hide=("Time", "__name__", "job", "instance"),
            ),
        ],
        ("colo-frr", "Colo / FRR routers"),
    )


def _lxd() -> Row:
    x = S["lxd"]
    per = [
        bargauge(
            "Running instances per member",
            "Running instances on each member.",
            targets((running_per_member(x), "{{location}}")),
        ),
        bargauge(
            "Instances per project",
            "Instances per project, any status.",
            targets((f"sum by (project) (colo_lxd_instance_state{{{x}}})", "{{project}}")),
        ),
    ]
    return _sourced(
        "LXD",
        {"lxd": "LXD"},
        [
            count_stat(
                "Members evacuated",
                "Cluster members evacuated (planned maintenance): their instances run elsewhere.",
                f'colo_lxd_cluster_member_state{{{x}, state="Evacuated"}} == 1',
                thresholds=steps((None, "green"), (1, "blue")),
            ),
            count_stat(
                "Members not online",
                "Members neither Online nor Evacuated.",
                f'colo_lxd_cluster_member_state{{{x}, state!~"Online|Evacuated"}} == 1',
            ),
            *sized(per, w=6, h=4),
            graph(
                "Top CPU consumers",
                "The five instances using the most CPU (cores).",
                f"topk(5, rate(colo_lxd_instance_cpu_seconds_total{{{x}}}[$__rate_interval]))",
                "{{project}}/{{name}}",
                min_=0,
            ),
            graph(
                "Top memory consumers",
                "The five instances using the most memory.",
                f"topk(5, colo_lxd_instance_memory_usage_bytes{{{x}}})",
                "{{project}}/{{name}}",
                "bytes",
                min_=0,
            ),
        ],
        ("colo-lxd", "Colo / LXD cluster"),
    )


def _ceph() -> Row:
    c = S["ceph"]
    io = [
        mirrored(
            "IOPS",
            "Client operations per second, reads above the axis and writes below.",
            (f"sum(rate(ceph_osd_op_r{{{c}}}[$__rate_interval]))", "read"),
            (f"sum(rate(ceph_osd_op_w{{{c}}}[$__rate_interval]))", "write"),
            "iops",
        ),
        mirrored(
            "Throughput",
            "Client bytes per second, reads above the axis and writes below.",
            (f"sum(rate(ceph_osd_op_r_out_bytes{{{c}}}[$__rate_interval]))", "read"),
            (f"sum(rate(ceph_osd_op_w_in_bytes{{{c}}}[$__rate_interval]))", "write"),
            "Bps",
        ),
        timeseries(
            "OSD latency",
            "Average OSD apply and commit latency.",
            targets(
                (f"avg(ceph_osd_apply_latency_ms{{{c}}})", "apply"),
                (f"avg(ceph_osd_commit_latency_ms{{{c}}})", "commit"),
            ),
            "ms",
            min_=0,
        ),
    ]
    return _sourced(
        "Ceph",
        {"ceph": "Ceph"},
        [
            stat(
                "Health",
                "Cluster health (ceph_health_status): HEALTH_OK, HEALTH_WARN, HEALTH_ERR.",
                targets(f"max(ceph_health_status{{{c}}})"),
                mappings=CEPH_HEALTH,
                thresholds=OK_WARN_CRIT_STEPS,
            ),
            stat(
                "Capacity used",
                "Raw space used over raw capacity.",
                targets(f"sum(ceph_cluster_total_used_bytes{{{c}}}) / sum(ceph_cluster_total_bytes{{{c}}})"),
                "percentunit",
                thresholds=steps((None, "green"), (0.75, "orange"), (0.85, "red")),
            ),
            stat(
                "OSDs up / in",
                "OSDs up and OSDs in the cluster.",
                targets((f"sum(ceph_osd_up{{{c}}})", "up"), (f"sum(ceph_osd_in{{{c}}})", "in")),
            ),
            *sized(io, w=8),
        ],
    )


def _services() -> Row:
    h, u, d = S["haproxy"], S["unbound"], S["nsd"]
    hits = f"sum(rate(unbound_cache_hits_total{{{u}}}[5m]))"
    services = [
        stat(
            "unbound cache hit ratio",
            "Answers from cache over all answers (5 minutes).",
            targets(f"{hits} / ({hits} + sum(rate(unbound_cache_misses_total{{{u}}}[5m])))"),
            "percentunit",
            thresholds=steps((None, "orange"), (0.5, "green")),
        ),
        timeseries(
            "HAProxy requests",
            "HTTP requests per second per frontend, and 5xx responses per backend.",
            targets(
                (
                    f"sum by (proxy) (rate(haproxy_frontend_http_requests_total{{{h}}}[$__rate_interval]))",
                    "{{proxy}}",
                ),
                (
                    f'sum by (proxy) (rate(haproxy_backend_http_responses_total{{{h}, code="5xx"}}'
                    "[$__rate_interval]))",
                    "{{proxy}} 5xx",
                ),
            ),
            "reqps",
            min_=0,
        ),
        timeseries(
            "HAProxy sessions and response time",
            "Current sessions per frontend; average backend response time (right axis units: seconds).",
            targets(
                (f"sum by (proxy) (haproxy_frontend_current_sessions{{{h}}})", "{{proxy}} sessions"),
                (
                    f"max by (proxy) (haproxy_backend_response_time_average_seconds{{{h}}}) * 1000",
                    "{{proxy}} response ms",
                ),
            ),
            min_=0,
        ),
        timeseries(
            "unbound queries",
            "Queries per second, and SERVFAIL answers.",
            targets(
                (f"sum by (instance) (rate(unbound_queries_total{{{u}}}[$__rate_interval]))", "{{instance}}"),
                (
                    f'sum by (instance) (rate(unbound_answer_rcodes_total{{{u}, rcode="SERVFAIL"}}'
                    "[$__rate_interval]))",
                    "{{instance}} SERVFAIL",
                ),
            ),
            min_=0,
        ),
        graph(
            "unbound recursion time",
            "Average time to answer queries that needed recursion.",
            f"unbound_recursion_time_seconds_avg{{{u}}}",
            "{{instance}}",
            "s",
            min_=0,
        ),
        timeseries(
            "NSD queries",
            "Queries per second, and answers by return code.",
            targets(
                (f"sum by (instance) (rate(nsd_num_queries{{{d}}}[$__rate_interval]))", "{{instance}}"),
                (
                    f'sum by (instance, rcode) (rate(nsd_num_rcode{{{d}, rcode!="NOERROR"}}'
                    "[$__rate_interval]))",
                    "{{instance}} {{rcode}}",
                ),
            ),
            min_=0,
        ),
    ]
    return _sourced(
        "Services: HAProxy, unbound, NSD",
        {"haproxy": "HAProxy", "unbound": "unbound", "nsd": "NSD"},
        [
            count_stat(
                "HAProxy backends without servers",
                "Backends with no active server left.",
                f"haproxy_backend_active_servers{{{h}}} == 0",
            ),
            *sized(services, w=8),
        ],
    )


def board() -> Json:
    alerts = Row(
        "Alerts",
        [
            table(
                "Firing alerts",
                "Every alert firing now, most severe first (empty when the rack is healthy).",
                [target('sort_desc(ALERTS{alertstate="firing"})')],
                w=24,
                h=5,
                hide=("Time", "__name__", "Value", "alertstate"),
            ),
        ],
    )
    rows = [alerts, *_link_rows(), _wan_billing(), _servers(), _routers(), _lxd(), _ceph(), _services()]
    return Board(
        "colo-rack",
        "Colo / Rack overview",
        "The whole rack: links, WAN billing, servers, routers, LXD, Ceph and services, with links to "
        "each detail dashboard.",
        rows,
        [query_var("server", "Server", 'label_values({__name__=~"node_uname_info|colo_bmc_up"}, instance)')],
    ).build()
