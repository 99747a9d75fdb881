"""Recording rules: every link side in one vocabulary, whatever its source, and the WAN billing samples.

`rules/links.yml` is generated from this file and `mixin/config.py` (`python -m mixin.build`).

Every `colo:link_*` series carries `role`, `link`, `side` (the device that reports it), `interface` (the
port, bond or interface there), and the `job` and `instance` of the scrape it comes from. Sources:

- switch ports, or a host's net-snmp, through colo-snmp-exporter: ports whose rule gives a `role`;
  `side` is the probe's `instance` (the target name, with the README's relabelling), unless the scrape
  sets a `side` label; aggregates (LAGs) and their members from IEEE8023-LAG-MIB / ifStackTable.
- host interfaces through node_exporter: interfaces whose alias matches `HOST_LINK_ALIAS`
  (node_network_info{ifalias}); `side` is the scrape's `side` label, else `instance` without its port;
  bond members from the bonding collector (node_bonding_slaves/active) or, where the kernel does not
  report a bond, from interfaces whose alias matches `HOST_MEMBER_ALIAS`.
"""

from __future__ import annotations

from typing import Any

import yaml

from . import config

OUT = "rules/links.yml"
PORT = "colo:snmp_link_port:info"
IFACE = "colo:node_link_interface:info"
MEMBER = "colo:node_link_member:info"
SIDE = "role, link, side, interface"
LINK_LABELS = f"job, instance, {SIDE}"


def _sel(metric: str, source: str, extra: str = "") -> str:
    matchers = ", ".join(m for m in (config.SELECTORS[source], extra) if m)
    return f"{metric}{{{matchers}}}"


def _side_from_instance(selector_with: str, selector_without: str) -> str:
    """`side` from the scrape's own label when it has one, else `instance` without a :port."""
    return (
        f'label_replace({selector_without}, "side", "$1", "instance", "(.+?)(?::[0-9]+)?")\n'
        f"or\n{selector_with}"
    )


def _onto(expr: str, without: str, on: str, labels: str, info: str) -> str:
    """`expr` with `labels` from the map `info`, joined on job, instance and `on`; `without` dropped."""
    return (
        f"max without ({without}) (\n  {expr}\n  * on (job, instance, {on}) group_left ({labels}) {info}\n)"
    )


def _snmp(metric_expr: str) -> str:
    """An expression over colo_snmp_interface_* series (by job, instance, ifindex) as link sides."""
    return _onto(metric_expr, "ifindex, ifname", "ifindex", "side, interface", PORT)


def _node(metric_expr: str) -> str:
    """An expression over node_network_* series (by job, instance, device) as link sides."""
    return _onto(metric_expr, "device", "device", SIDE, IFACE)


def _both(snmp_metric: str, node_metric: str, fn: str = "{}", scale: str = "") -> str:
    s = fn.format(_sel(snmp_metric, "snmp"))
    n = fn.format(_sel(node_metric, "node"))
    return f"{_snmp(s + scale)}\nor\n{_node(n + scale)}"


def _maps() -> list[dict[str, Any]]:
    snmp_with = _sel("colo_snmp_interface_info", "snmp", 'role!="", side!=""')
    snmp_without = _sel("colo_snmp_interface_info", "snmp", 'role!="", side=""')
    by = "max by (job, instance, ifindex, ifname, role, link, side)"
    port = (
        f"label_replace(\n  {_side_from_instance(f'{by} ({snmp_with})', f'{by} ({snmp_without})')},\n"
        f'  "interface", "$1", "ifname", "(.*)")'
    )

    def node_map(alias: str, interface: str) -> str:
        nby = "max by (job, instance, device, ifalias, side)"
        info_with = _sel("node_network_info", "node", f'ifalias=~"{alias}", side!=""')
        info_without = _sel("node_network_info", "node", f'ifalias=~"{alias}", side=""')
        inner = _side_from_instance(f"{nby} ({info_with})", f"{nby} ({info_without})").replace("\n", "\n    ")
        return (
            f"max without (ifalias) (\n  label_replace(label_replace(label_replace(\n    {inner},\n"
            f'  "role", "$1", "ifalias", "{alias}"), "link", "$2", "ifalias", "{alias}"),'
            f' "interface", "{interface}", "{"ifalias" if "$3" in interface else "device"}",'
            f' "{alias if "$3" in interface else "(.*)"}")\n)'
        )

    return [
        {"record": PORT, "expr": port},
        {"record": IFACE, "expr": node_map(config.HOST_LINK_ALIAS, "$1")},
        {"record": MEMBER, "expr": node_map(config.HOST_MEMBER_ALIAS, "$3")},
    ]


def _members() -> list[dict[str, Any]]:
    lag = _sel("colo_snmp_interface_lag_member_info", "snmp")
    oper = _sel("colo_snmp_interface_oper_status", "snmp")

    def agg(expr: str) -> str:
        """Per-aggregate `expr` (by lag_ifindex) as the aggregate's link side."""
        as_port = f'label_replace({expr}, "ifindex", "$1", "lag_ifindex", "(.*)")'
        return _onto(as_port, "ifindex, lag_ifindex", "ifindex", SIDE, PORT)

    snmp_members = agg(f"count by (job, instance, lag_ifindex) ({lag})")
    snmp_up = agg(
        f"sum by (job, instance, lag_ifindex) (\n    ({oper} == bool 1)"
        f" * on (job, instance, ifindex) group_left (lag_ifindex) {lag})"
    )

    def bond(metric: str) -> str:
        relabelled = f'label_replace({_sel(metric, "node")}, "device", "$1", "master", "(.*)")'
        return _onto(relabelled, "device, master", "device", SIDE, IFACE)

    node_members = f"count by ({LINK_LABELS}) ({MEMBER})"
    node_up = (
        f"sum by ({LINK_LABELS}) (\n  {_sel('node_network_up', 'node')}"
        f" * on (job, instance, device) group_left ({SIDE}) {MEMBER}\n)"
    )
    member_as_port = (
        "label_replace(\n    max without (role, link, ifname) (label_replace(\n"
        f"      ({oper} == bool 1) * on (job, instance, ifindex) group_left (lag_ifindex) {lag},\n"
        '      "member", "$1", "ifname", "(.*)")),\n'
        '    "ifindex", "$1", "lag_ifindex", "(.*)")'
    )
    member_snmp = _onto(member_as_port, "ifindex, lag_ifindex", "ifindex", SIDE, PORT)
    member_node = (
        f"max without (device) (\n"
        f"  label_replace(\n    {_sel('node_network_up', 'node')}"
        f" * on (job, instance, device) group_left ({SIDE}) {MEMBER},\n"
        f'    "member", "$1", "device", "(.*)")\n)'
    )
    return [
        {
            "record": "colo:link_members",
            "expr": f"{snmp_members}\nor\n{bond('node_bonding_slaves')}\nor\n{node_members}",
        },
        {
            "record": "colo:link_members_up",
            "expr": f"{snmp_up}\nor\n{bond('node_bonding_active')}\nor\n{node_up}",
        },
        {"record": "colo:link_member_up", "expr": f"{member_snmp}\nor\n{member_node}"},
    ]


def _flaps() -> str:
    oper = _sel("colo_snmp_interface_oper_status", "snmp")
    last = _sel("colo_snmp_interface_last_change_timestamp_seconds", "snmp")
    # ifLastChange moves on every change; the exported timestamp jitters by a few ms between scrapes,
    # so a change is a step of more than a second between two minutes.
    steps = f"sum_over_time((({last} - {last} offset 1m) > bool 1)[10m:1m])"
    seen = f"changes({oper}[10m])"
    snmp = _snmp(f"(({steps}) > ({seen}) or ({seen}))")
    node = _node(f"round(increase({_sel('node_network_carrier_changes_total', 'node')}[10m]))")
    return f"{snmp}\nor\n{node}"


def link_rules() -> list[dict[str, Any]]:
    up = (
        _snmp(f"({_sel('colo_snmp_interface_oper_status', 'snmp')} == bool 1)")
        + "\nor\n"
        + _node(_sel("node_network_up", "node"))
    )
    # Administratively up: ifAdminStatus up (down and testing are an operator's choice); for node_exporter
    # the IFF_UP bit of the interface flags (`ip link set DEV down` clears it; node_exporter 1.5 has no
    # adminstate label yet). A side with no admin series counts as admin up.
    admin = (
        _snmp(f"({_sel('colo_snmp_interface_admin_status', 'snmp')} == bool 1)")
        + "\nor\n"
        + _node(f"{_sel('node_network_flags', 'node')} % 2")
    )
    rate = "rate({}[5m])"
    return [
        *_maps(),
        {"record": "colo:link_up", "expr": up},
        {"record": "colo:link_admin_up", "expr": admin},
        *_members(),
        {
            "record": "colo:link_receive_bits:rate5m",
            "expr": _both(
                "colo_snmp_interface_receive_bytes_total", "node_network_receive_bytes_total", rate, " * 8"
            ),
        },
        {
            "record": "colo:link_transmit_bits:rate5m",
            "expr": _both(
                "colo_snmp_interface_transmit_bytes_total", "node_network_transmit_bytes_total", rate, " * 8"
            ),
        },
        {
            "record": "colo:link_speed_bits",
            "expr": _both("colo_snmp_interface_speed_bytes", "node_network_speed_bytes", "{}", " * 8"),
        },
        {
            "record": "colo:link_utilisation:ratio5m",
            "expr": "(\n  colo:link_receive_bits:rate5m >= colo:link_transmit_bits:rate5m\n"
            "  or colo:link_transmit_bits:rate5m\n)\n/ (colo:link_speed_bits > 0)",
        },
        {
            "record": "colo:link_errors:rate5m",
            "expr": _both_sum(
                ("colo_snmp_interface_receive_errors_total", "colo_snmp_interface_transmit_errors_total"),
                ("node_network_receive_errs_total", "node_network_transmit_errs_total"),
            ),
        },
        {"record": "colo:link_flaps:changes10m", "expr": _flaps()},
    ]


def _both_sum(snmp: tuple[str, str], node: tuple[str, str]) -> str:
    s = " + ".join(f"rate({_sel(m, 'snmp')}[5m])" for m in snmp)
    n = " + ".join(f"rate({_sel(m, 'node')}[5m])" for m in node)
    return f"{_snmp(f'({s})')}\nor\n{_node(f'({n})')}"


def wan_rules(sample_seconds: int | None = None) -> list[dict[str, Any]]:
    secs = sample_seconds or config.WAN_SAMPLE_SECONDS
    q, w = config.WAN_PERCENTILE, config.WAN_WINDOW
    rules: list[dict[str, Any]] = []
    for d in ("receive", "transmit"):
        rules.append(
            {"record": f"colo:wan_{d}_bits:avg5m", "expr": f'colo:link_{d}_bits:rate5m{{role="wan"}}'}
        )
    for d in ("receive", "transmit"):
        rules.append(
            {
                "record": f"colo:wan_{d}_bits:p95_{w}",
                "expr": f"quantile_over_time({q}, colo:wan_{d}_bits:avg5m[{w}])",
            }
        )
    rules.append(
        {
            "record": f"colo:wan_billable_bits:p95_{w}",
            "expr": f"(\n  colo:wan_receive_bits:p95_{w} >= colo:wan_transmit_bits:p95_{w}\n"
            f"  or colo:wan_transmit_bits:p95_{w}\n)",
        }
    )
    for d in ("receive", "transmit"):
        # one sample per interval, each the average of the interval before it: sum x interval = volume
        rules.append(
            {
                "record": f"colo:wan_{d}_bytes:sum{w}",
                "expr": f"sum_over_time(colo:wan_{d}_bits:avg5m[{w}]) * {secs} / 8",
            }
        )
    default = config.WAN_COMMIT_BITS.get("")
    named = {k: v for k, v in config.WAN_COMMIT_BITS.items() if k}
    parts = [
        f'max by (link, side) (colo:link_up{{role="wan", link="{k}"}}) * 0 + {v:g}'
        for k, v in sorted(named.items())
    ]
    if default is not None:
        parts.append('max by (link, side) (colo:link_up{role="wan"}) * 0 + ' + f"{default:g}")
    if parts:
        rules.append({"record": "colo:wan_commit_bits", "expr": "\nor\n".join(parts)})
    return rules


def groups(wan_sample_seconds: int | None = None) -> dict[str, Any]:
    secs = wan_sample_seconds or config.WAN_SAMPLE_SECONDS
    return {
        "groups": [
            {"name": "colo-links", "rules": link_rules()},
            {
                "name": "colo-wan-billing",
                "interval": f"{secs}s" if secs % 60 else f"{secs // 60}m",
                "rules": wan_rules(secs),
            },
        ]
    }


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, s: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None)


_Dumper.add_representer(str, _str)

HEADER = (
    "# Generated by mixin/rules.py from mixin/config.py: do not edit; run `python -m mixin.build`.\n"
    "# The link vocabulary (colo:link_*) and the WAN billing samples; see docs/dashboards.md.\n"
)


def render(wan_sample_seconds: int | None = None) -> str:
    return HEADER + yaml.dump(groups(wan_sample_seconds), Dumper=_Dumper, sort_keys=False, width=200)


def outputs() -> dict[str, str]:
    return {OUT: render()}
