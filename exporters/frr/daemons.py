"""The daemons the exporter reads: for each, its collectors (commands and parsers) and the function
that turns their data into metrics. This table is the one place a daemon is described; config.py takes
the names from it, main.py runs whatever it lists. A new daemon (ospfd) is a parser module, a function
in collector.py and one `Daemon(...)` entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exporters.core import Families, get_logger

from . import collector
from .commands import Context, Query
from .parse_bfd import parse_bfd_counters, parse_bfd_peers, with_counters
from .parse_bgp import parse_advertised_to, parse_neighbors, parse_summary
from .parse_vrrp import parse_vrrp
from .parse_zebra import parse_route_summary, parse_version

if TYPE_CHECKING:
    from .config import Config, Instance

log = get_logger("exporters.frr")

Replies = Sequence[tuple[str, bytes]]


@dataclass(frozen=True)
class Daemon:
    name: str
    queries: Callable[[Instance, Config], list[Query]]
    # Parsed data by collector (failed ones absent) -> metrics.
    collect: Callable[[Context, dict[str, Any], Instance], Families]


def _one(parse: Callable[..., Any]) -> Callable[[Replies, Context], Any]:
    """A collector with one command: its reply, parsed with entries skipped and counted."""
    return lambda replies, ctx: parse(replies[0][1], skip=ctx.malformed)


# --- bgpd ---------------------------------------------------------------------------------------------
SUMMARY_ALL = ("show bgp vrf all summary json",)
SUMMARY_PER_FAMILY = (
    "show bgp vrf all ipv4 unicast summary json",
    "show bgp vrf all ipv6 unicast summary json",
)
# The same as the first, spelled as before FRR 3.0 (IPv4 only there).
SUMMARY_IP = ("show ip bgp vrf all summary json",)
NEIGHBORS = (("show bgp vrf all neighbors json",), ("show ip bgp vrf all neighbors json",))


def prefix_commands(vrf: str, afi: str, prefix: str) -> tuple[tuple[str, ...], ...]:
    return (
        (f"show bgp vrf {vrf} {afi} unicast {prefix} json",),
        (f"show ip bgp vrf {vrf} {afi} unicast {prefix} json",),
    )


def _summary(replies: Replies, ctx: Context) -> list[Any]:
    out = []
    for cmd, text in replies:
        flat = "ipv6Unicast" if " ipv6 unicast " in cmd else "ipv4Unicast"
        out += parse_summary(text, flat, now=ctx.now, skip=ctx.malformed, check=ctx.check)
    return out


def _neighbors(replies: Replies, ctx: Context) -> list[Any]:
    return parse_neighbors(replies[0][1], now=ctx.now, skip=ctx.malformed, check=ctx.check)


def _bgp_queries(inst: Instance, cfg: Config) -> list[Query]:
    alts: tuple[tuple[str, ...], ...] = (SUMMARY_ALL, SUMMARY_PER_FAMILY, SUMMARY_IP)
    if cfg.bgp_summary == "per-family":
        alts = (SUMMARY_PER_FAMILY, SUMMARY_ALL, SUMMARY_IP)
    qs = [
        Query("summary", alts, _summary),
        Query("neighbors", NEIGHBORS, _neighbors),
    ]
    seen = set()
    for a in inst.expected_advertisements:
        name = f"advertised:{a.vrf}:{a.prefix}"
        if name not in seen:
            seen.add(name)
            qs.append(Query(name, prefix_commands(a.vrf, a.afi, a.prefix), _one_prefix(a.prefix)))
    return qs


def _one_prefix(prefix: str) -> Callable[[Replies, Context], Any]:
    return lambda replies, ctx: parse_advertised_to(replies[0][1], prefix)


def _bgp(ctx: Context, data: dict[str, Any], inst: Instance) -> Families:
    adverts = []
    for a in inst.expected_advertisements:
        name = f"advertised:{a.vrf}:{a.prefix}"
        if name not in data:
            continue  # that lookup failed: no series rather than a wrong 0
        to = data[name]
        if to is None:
            log.warning(
                "expected advertisement: bgpd has no BGP instance for this VRF",
                frr_instance=ctx.instance,
                vrf=a.vrf,
                prefix=a.prefix,
            )
            to = set()
        adverts += [(a.vrf, a.prefix, p, p in to) for p in a.peers]
    return collector.bgp(
        ctx.ns,
        ctx.instance,
        data.get("summary"),
        data.get("neighbors"),
        adverts,
        ctx.description_label,
        ctx.check,
    )


# --- bfdd, vrrpd, zebra ---------------------------------------------------------------------------
def _bfd(ctx: Context, data: dict[str, Any], inst: Instance) -> Families:
    peers = data.get("peers")
    if peers is None:
        return Families(ctx.ns)
    return collector.bfd(ctx.ns, ctx.instance, with_counters(peers, data.get("counters")))


def _vrrp(ctx: Context, data: dict[str, Any], inst: Instance) -> Families:
    if "vrrp" not in data:
        return Families(ctx.ns)
    return collector.vrrp(ctx.ns, ctx.instance, data["vrrp"])


def _zebra(ctx: Context, data: dict[str, Any], inst: Instance) -> Families:
    routes = {fam: data[f"routes_{fam}"] for fam in ("ipv4", "ipv6") if f"routes_{fam}" in data}
    return collector.zebra(ctx.ns, ctx.instance, data.get("version"), routes)


def _fixed(*qs: Query) -> Callable[[Instance, Config], list[Query]]:
    return lambda inst, cfg: list(qs)


DAEMONS: dict[str, Daemon] = {
    d.name: d
    for d in (
        Daemon("bgpd", _bgp_queries, _bgp),
        Daemon(
            "bfdd",
            _fixed(
                Query("peers", (("show bfd peers json",),), _one(parse_bfd_peers)),
                Query("counters", (("show bfd peers counters json",),), _one(parse_bfd_counters)),
            ),
            _bfd,
        ),
        Daemon(
            "vrrpd",
            _fixed(Query("vrrp", (("show vrrp json",),), _one(parse_vrrp))),
            _vrrp,
        ),
        Daemon(
            "zebra",
            _fixed(
                Query("version", (("show version",),), lambda r, ctx: parse_version(r[0][1])),
                Query("routes_ipv4", (("show ip route summary json",),), _one(parse_route_summary)),
                Query("routes_ipv6", (("show ipv6 route summary json",),), _one(parse_route_summary)),
            ),
            _zebra,
        ),
    )
}
