"""alerts/links.yml: links (WAN, uplinks, mesh) on the link vocabulary only, so the same alerts cover a
switch port read over SNMP and a host bond read by node_exporter (the recording rules in rules/ make
`colo:link_*{role, link, side, interface}` from each source).

A bond (a row with colo:link_members) is "down" only when the bond is; a member down while the bond is up
is LinkDegraded, and member rows of the same link and side never raise LinkDown of their own. A link that
changes state again and again is LinkFlapping, which `for` alone never catches (down 45 s of every minute
never stays down for a minute).

A side an operator shut (`colo:link_admin_up` 0: ifAdminStatus down or testing, an interface without
IFF_UP) raises neither LinkDown nor LinkFlapping nor LinkDegraded, and a side whose admin state changed in
the flap window (shut / no shut) is not flapping. A bond member that is shut still counts as not up: the
bond runs with less capacity, LinkDegraded (a warning) says so.
"""

from __future__ import annotations

from collections import defaultdict

from .common import Ctx, held_alert
from .model import Alert, Group, W, held, indent, sel

LINK = "role, link, side"
ROW = f"{LINK}, interface"
NAME = "role, link"
ADMIN = "colo:link_admin_up"
# The window of colo:link_flaps:changes10m (rules/links.yml; not scaled in the lab, like that rule).
FLAP_WINDOW = "10m"


def sides(w: W, series: str) -> str:
    """The rows of `series` == 0 that stand for a whole side: a bond's own row, or the one interface of a
    side without a bond (a bond's member rows, which share its role, link and side, are left out)."""
    x = f"{w(series)} == 0"
    return (
        f"({x}\n  unless on ({LINK}) {w('colo:link_members')})\n"
        f"or ({x}\n  and on ({ROW}) {w('colo:link_members')})"
    )


def shut(w: W) -> str:
    """Sides an operator shut: the link is down on purpose, at this side and at every other one."""
    return sides(w, ADMIN)


def groups(ctx: Ctx) -> list[Group]:
    c, t = ctx.sub("links"), ctx.t
    # Roles with the same severity and `for` share one rule.
    classes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for role, r in c["roles"].items():
        classes[(r["severity"], r["down_for"])].append(role)
    every = "|".join(c["roles"])

    rules: list[Alert] = []
    for (severity, down_for), roles in classes.items():
        rx = "~" + "|".join(roles)

        def down(w: W, rx: str = rx) -> str:
            rows = indent(sides(w, sel("colo:link_up", role=rx)))
            return f"(\n{rows}\n)\nunless on ({NAME}) (\n{indent(shut(w))}\n)"

        rules.append(
            held_alert(
                ctx,
                "LinkDown",
                held(down, ctx.hold, ROW, "colo:link_up"),
                severity,
                "link",
                down_for,
                "{{ $labels.role }} link {{ $labels.link }} is down ({{ $labels.side }} {{ $labels.interface "
                "}})",
                "{{ $labels.side }} sees {{ $labels.interface }}, its side of {{ $labels.role }} link "
                "{{ $labels.link }}, down (its operational status is not up, and no side of the link is "
                "shut on purpose). For a bond: every member is down.",
                comment=f"Roles {', '.join(roles)}.",
            )
        )
    for (severity, _), roles in classes.items():
        rules.append(
            Alert(
                "LinkFlapping",
                f"{sel('colo:link_flaps:changes10m', role='~' + '|'.join(roles))} >= {c['flap_changes']}\n"
                f"unless on ({NAME}) (\n{indent(shut(lambda x: x))}\n)\n"
                f"unless on ({NAME}) changes({ADMIN}[{FLAP_WINDOW}]) > 0",
                severity,
                "link",
                "{{ $labels.role }} link {{ $labels.link }} is flapping ({{ $labels.side }} {{ "
                "$labels.interface }})",
                "{{ $labels.interface }} on {{ $labels.side }} changed state {{ $value }} times in 10 "
                "minutes: "
                "a bad cable, optic or port, or a peer that restarts. LinkDown of the same link is inhibited "
                "while it flaps.",
                keep_firing_for=ctx.delay,
                comment=f"Roles {', '.join(roles)}.",
            )
        )

    def degraded(w: W) -> str:
        # Members shut on purpose count as down (less capacity); a bond shut as a whole is not up, so not
        # degraded either.
        return (
            f"{w(sel('colo:link_members_up', role='~' + every))} < {w('colo:link_members')}\n"
            f"and on ({ROW}) {w('colo:link_up')} == 1"
        )

    rules += [
        held_alert(
            ctx,
            "LinkDegraded",
            held(degraded, ctx.hold, ROW, "colo:link_up"),
            "warning",
            "link",
            c["degraded_for"],
            "Bond {{ $labels.interface }} of {{ $labels.role }} link {{ $labels.link }} is degraded "
            "({{ $labels.side }})",
            "Only {{ $value }} of the bond's members are up on {{ $labels.side }}: the link runs without "
            "redundancy (and with less capacity). A member shut on purpose counts as down.",
        ),
        Alert(
            "LinkUtilisationHigh",
            f"{sel('colo:link_utilisation:ratio5m', role='~' + every)} > {c['utilisation']}",
            "warning",
            "link",
            "{{ $labels.role }} link {{ $labels.link }} is {{ $value | humanizePercentage }} full "
            "({{ $labels.side }} {{ $labels.interface }})",
            f"{{{{ $labels.interface }}}} on {{{{ $labels.side }}}} has carried more than "
            f"{c['utilisation']:.0%} of its speed for {c['utilisation_for']}.",
            for_=t(c["utilisation_for"]),
        ),
        Alert(
            "LinkErrors",
            f"{sel('colo:link_errors:rate5m', role='~' + every)} > {c['errors_per_second']}",
            "warning",
            "link",
            "Errors on {{ $labels.role }} link {{ $labels.link }} ({{ $labels.side }} {{ $labels.interface "
            "}})",
            f"{{{{ $value | humanize }}}} errored packets per second for {c['errors_for']}: check cabling "
            "and "
            "optics.",
            for_=t(c["errors_for"]),
        ),
    ]
    return [Group("colo-links", rules)]
