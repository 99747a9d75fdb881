"""vrrpd reply -> plain data: `show vrrp json`, one entry per virtual router and address family.

vrrpd keeps an IPv4 and an IPv6 state machine for every virtual router (vrrpd/vrrp_vty.c
`vrrp_build_json`, FRR 7.5 to 10.x); a family without virtual addresses is not configured and stays in
Initialize, so it is left out (it is neither master nor backup of anything)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .parse_common import ParseError, Skip, as_dict, as_list, get_int, get_str, loads, opt_int, strict

STATES = {"Initialize": 0, "Backup": 1, "Master": 2}


@dataclass(frozen=True, slots=True)
class VrrpRouter:
    interface: str  # the parent interface (lan0)
    vrid: int
    family: str  # ipv4, ipv6
    virtual_interface: str  # the macvlan carrying the virtual MAC
    status: str  # Initialize, Backup, Master
    priority: int | None  # effective priority
    transitions: int | None
    adverts_sent: int | None
    adverts_received: int | None
    shutdown: bool


def _family(vr: dict[str, Any], iface: str, vrid: int, key: str, family: str) -> VrrpRouter | None:
    fw = f"vrrp {iface}/{vrid}/{key}"
    f = as_dict(vr[key], fw)
    addrs = f.get("addresses")
    if isinstance(addrs, list) and not addrs:
        return None
    stats = as_dict(f.get("stats", {}), f"{fw}: stats")
    return VrrpRouter(
        interface=iface,
        vrid=vrid,
        family=family,
        virtual_interface=get_str(f, "interface", fw, ""),
        status=get_str(f, "status", fw),
        priority=opt_int(f, "effectivePriority", fw),
        transitions=opt_int(stats, "transitions", fw),
        adverts_sent=opt_int(stats, "adverTx", fw),
        adverts_received=opt_int(stats, "adverRx", fw),
        shutdown=vr.get("shutdown") is True,
    )


def parse_vrrp(text: bytes | str | Any, *, skip: Skip = strict) -> list[VrrpRouter]:
    data = as_list(loads(text, "vrrp") if isinstance(text, (bytes, bytearray, str)) else text, "vrrp")
    out = []
    for i, vr in enumerate(data):
        w = f"vrrp[{i}]"
        try:
            vr = as_dict(vr, w)
            vrid = get_int(vr, "vrid", w)
            iface = get_str(vr, "interface", w)
        except ParseError as e:
            skip(str(e))
            continue
        for key, family in (("v4", "ipv4"), ("v6", "ipv6")):
            if key not in vr:
                continue
            try:
                r = _family(vr, iface, vrid, key, family)
            except ParseError as e:
                skip(str(e))
                continue
            if r is not None:
                out.append(r)
    return out
