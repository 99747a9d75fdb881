"""alerts/links.yml under promtool, fed through the link vocabulary's recording rules from SNMP series as
colo-snmp-exporter writes them: a WAN port down, the issue's flapping WAN link (down 45 s of every minute),
one bond member down (degraded, not also "down"), the whole bond down (one alert), the same switch probed
twice, the blind window while the switch does not answer; and utilisation and errors on the vocabulary."""

from __future__ import annotations

from pathlib import Path

from alerts_testlib import ALERTS, case, check, link_rules, quiet_then, run, series, switch_unreachable

RULES = [link_rules(), ALERTS / "links.yml", ALERTS / "snmp.yml"]


def port(instance: str, ifindex: int, ifname: str, role: str, link: str) -> dict[str, str]:
    return {
        "job": "colo-snmp",
        "instance": instance,
        "ifindex": str(ifindex),
        "ifname": ifname,
        "role": role,
        "link": link,
    }


def iface(p: dict[str, str], oper: str, n: int = 60, admin: str = "") -> list[dict[str, str]]:
    """A port's info, admin and oper status series (`oper`, `admin`: promtool values; admin up by
    default)."""
    return [
        series("colo_snmp_interface_info", f"1x{n}", **p, ifdescr=p["ifname"], ifalias="", iftype="6"),
        series("colo_snmp_interface_admin_status", admin or f"1x{n}", **p),
        series("colo_snmp_interface_oper_status", oper, **p),
    ]


def row(p: dict[str, str], severity: str, **more: str) -> dict[str, str]:
    return {
        "job": p["job"],
        "instance": p["instance"],
        "role": p["role"],
        "link": p["link"],
        "side": p["instance"],
        "interface": p["ifname"],
        **more,
        "severity": severity,
        "object": "link",
    }


def down(p: dict[str, str], severity: str) -> tuple[dict[str, str], str, str]:
    s, i, r, li = p["instance"], p["ifname"], p["role"], p["link"]
    return (
        row(p, severity),
        f"{r} link {li} is down ({s} {i})",
        f"{s} sees {i}, its side of {r} link {li}, down (its operational status is not up, and no side of "
        "the link is shut on purpose). For a bond: every member is down.",
    )


def degraded(p: dict[str, str], up: int) -> tuple[dict[str, str], str, str]:
    return (
        row(p, "warning"),
        f"Bond {p['ifname']} of {p['role']} link {p['link']} is degraded ({p['instance']})",
        f"Only {up} of the bond's members are up on {p['instance']}: the link runs without redundancy (and "
        "with less capacity). A member shut on purpose counts as down.",
    )


WAN = port("tor1", 1, "Gi1/0/1", "wan", "transit")
WAN2 = {**WAN, "instance": "tor1-v2"}  # the same switch, probed a second time under another name
PO1 = port("tor1", 5001, "Po1", "uplink", "srv1")
TE1, TE2 = port("tor1", 49, "Te1/1/1", "uplink", "srv1"), port("tor1", 50, "Te1/1/2", "uplink", "srv1")

# 1m steps: the WAN port goes down at 2m (seen by both probes); Te1/1/2 of Po1 goes down at 2m (degraded),
# Te1/1/1 too at 10m, and Po1 with them (down).
PORTS = case(
    "1m",
    [
        *iface(WAN, "1 1 2x30"),
        *iface(WAN2, "1 1 2x30"),
        *iface(PO1, "1x10 2x20"),
        *iface(TE1, "1x10 2x20"),
        *iface(TE2, "1 1 2x30"),
        *(
            series("colo_snmp_interface_lag_member_info", "1x30", **m, lag_ifindex="5001", lag_ifname="Po1")
            for m in (TE1, TE2)
        ),
    ],
    [
        *quiet_then("2m45s", "4m", "LinkDown", down(WAN, "critical"), down(WAN2, "critical")),
        check("5m", "LinkDegraded", degraded(PO1, 1)),
        check("15m", "LinkDegraded"),
        check("15m", "LinkDown", down(WAN, "critical"), down(PO1, "warning"), down(WAN2, "critical")),
    ],
)

# The flapping WAN link: up 15 s, down 45 s, every minute, for 15 minutes. LinkDown never fires
# (never down for its 1m); LinkFlapping does, and resolves once the link has been stable long enough.
FLAP = case(
    "15s",
    [*iface(WAN, "1 2 2 2 " * 15 + "1x80", 140)],
    [
        check("1m", "LinkFlapping"),
        # 5m30s: the step neither it nor the one before it sees a change, so the value does not depend on
        # the order promtool evaluates the recording and alerting groups in.
        check(
            "5m30s",
            "LinkFlapping",
            (
                row(WAN, "critical"),
                "wan link transit is flapping (tor1 Gi1/0/1)",
                "Gi1/0/1 on tor1 changed state 11 times in 10 minutes: a bad cable, optic or port, or a peer "
                "that "
                "restarts. LinkDown of the same link is inhibited while it flaps.",
            ),
        ),
        *(check(t, "LinkDown") for t in ("1m", "3m", "7m", "10m", "14m")),
        check("33m", "LinkFlapping"),
    ],
)

UNREACHABLE = switch_unreachable("tor1")

# The blind window: the WAN port is down, then the switch stops answering for 20 minutes (the exporter
# still answers, with colo_snmp_up 0 and no port series), then answers again, the port still down; later
# the port is back. No "resolved" is sent while nobody can see the port; the unreachable alert takes over.
BLIND = case(
    "1m",
    [
        series("up", "1x60", job="colo-snmp", instance="tor1"),
        series("colo_snmp_up", "1x9 0x20 1x30", job="colo-snmp", instance="tor1", target="tor1"),
        series("colo_snmp_interface_info", "1x9 _x20 1x30", **WAN, ifdescr="Gi1/0/1", ifalias="", iftype="6"),
        series("colo_snmp_interface_admin_status", "1x9 _x20 1x30", **WAN),
        series("colo_snmp_interface_oper_status", "1 2x8 _x20 2x10 1x20", **WAN),
    ],
    [
        check("5m", "LinkDown", down(WAN, "critical")),
        check("10m", "LinkDown", down(WAN, "critical")),
        check("20m", "LinkDown", down(WAN, "critical")),
        check("20m", "SnmpSwitchUnreachable", UNREACHABLE),
        check("35m", "LinkDown", down(WAN, "critical")),
        check("35m", "SnmpSwitchUnreachable"),
        check("42m", "LinkDown", down(WAN, "critical")),  # back up at 41m; resolve_delay 2m
        check("44m", "LinkDown"),
    ],
)

# On the vocabulary directly (any source): utilisation and errors.
V = {
    "job": "node",
    "instance": "server1:9100",
    "role": "mesh",
    "link": "s1-s2",
    "side": "server1",
    "interface": "bond1",
}
FULL = (
    {**V, "severity": "warning", "object": "link"},
    "mesh link s1-s2 is 90% full (server1 bond1)",
    "bond1 on server1 has carried more than 85% of its speed for 15m.",
)
LOAD = case(
    "1m",
    [
        series("colo:link_utilisation:ratio5m", "0.5 0.9x30", **V),
        series("colo:link_errors:rate5m", "0 5x30", **V),
    ],
    [
        *quiet_then("10m", "17m", "LinkUtilisationHigh", FULL),
        check(
            "12m",
            "LinkErrors",
            (
                {**V, "severity": "warning", "object": "link"},
                "Errors on mesh link s1-s2 (server1 bond1)",
                "5 errored packets per second for 10m: check cabling and optics.",
            ),
        ),
    ],
)

# Ports shut on purpose (issue 14's follow-up): no page for the operator who shut them.
# - The WAN port is shut at 2m (admin down, so oper down too): no LinkDown.
# - Uplink srv5, cabled from tor1 Gi1/0/5 to srv5's eno1 (read by node_exporter): the operator shuts
#   eno1 at 2m; tor1 sees its port go down but is told nothing. Neither side alerts: one side of the link
#   is shut.
# - Po1 (Te1/1/1 + Te1/1/2): Te1/1/2 is shut at 2m for maintenance. Less capacity: LinkDegraded (warning),
#   never LinkDown of the member. At 10m Te1/1/1 fails too and Po1 goes down: a real outage, LinkDown,
#   though one member is shut.
SRV5 = port("tor1", 5, "Gi1/0/5", "uplink", "srv5")
ENO1 = {"job": "node", "instance": "srv5", "device": "eno1"}
ADMIN = case(
    "1m",
    [
        *iface(WAN, "1 1 2x30", 32, admin="1 1 2x30"),
        *iface(SRV5, "1 1 7x30", 32),
        series(
            "node_network_info",
            "1x32",
            **ENO1,
            ifalias="uplink srv5",
            address="a",
            broadcast="b",
            duplex="full",
            operstate="up",
        ),
        series("node_network_flags", "4099 4099 4098x30", **ENO1),
        series("node_network_up", "1 1 0x30", **ENO1),
        *iface(PO1, "1x10 2x20", 32),
        *iface(TE1, "1x10 2x20", 32),
        *iface(TE2, "1 1 2x30", 32, admin="1 1 2x30"),
        *(
            series("colo_snmp_interface_lag_member_info", "1x32", **m, lag_ifindex="5001", lag_ifname="Po1")
            for m in (TE1, TE2)
        ),
    ],
    [
        check("6m", "LinkDown"),
        check("6m", "LinkDegraded", degraded(PO1, 1)),
        check("15m", "LinkDown", down(PO1, "warning")),
        check("25m", "LinkDown", down(PO1, "warning")),
        check("15m", "LinkDegraded"),
    ],
)

# An operator bounces a WAN port twice (shut, no shut, shut, no shut): four state changes in 10 minutes,
# none of them a fault. No LinkFlapping; it alerts again on changes once the admin state has been steady
# for the flap window (a real flap from 21m to 28m; checked at 30m, where neither that step nor the one
# before it sees a change, so the value does not depend on the order promtool evaluates the groups in).
BOUNCE = case(
    "1m",
    [*iface(WAN, "1 2 1 2 1x16 2 1 2 1 2 1 2 1x10", 36, admin="1 2 1 2 1x32")],
    [
        *(check(t, "LinkFlapping") for t in ("3m", "5m", "8m", "12m")),
        check(
            "30m",
            "LinkFlapping",
            (
                row(WAN, "critical"),
                "wan link transit is flapping (tor1 Gi1/0/1)",
                "Gi1/0/1 on tor1 changed state 8 times in 10 minutes: a bad cable, optic or port, or a peer "
                "that restarts. LinkDown of the same link is inhibited while it flaps.",
            ),
        ),
    ],
)

CASES = [PORTS, FLAP, BLIND, LOAD, ADMIN, BOUNCE]


def test_link_alerts(tmp_path: Path) -> None:
    run(tmp_path, "links", RULES, CASES, evaluation_interval="15s")
