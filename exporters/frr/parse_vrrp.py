"""vrrpd reply -> plain data: `show vrrp json`, one entry per virtual router and address family."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .parse_common import as_dict, as_list, get_int, get_str, loads

STATES = {"Initialize": 0, "Backup": 1, "Master": 2}


@dataclass(frozen=True, slots=True)
class VrrpRouter:
    interface: str  # the parent interface (lan0)
    vrid: int
    family: str  # ipv4, ipv6
    virtual_interface: str  # the macvlan carrying the virtual MAC
    status: str  # Initialize, Backup, Master
    priority: int
    transitions: int
    adverts_sent: int
    adverts_received: int
    shutdown: bool


def parse_vrrp(text: bytes | str | Any) -> list[VrrpRouter]:
    data = as_list(loads(text, "vrrp") if isinstance(text, (bytes, str)) else text, "vrrp")
    out = []
    for i, vr in enumerate(data):
        w = f"vrrp[{i}]"
        vr = as_dict(vr, w)
        vrid = get_int(vr, "vrid", w)
        iface = get_str(vr, "interface", w)
        for key, family in (("v4", "ipv4"), ("v6", "ipv6")):
            if key not in vr:
                continue
            fw = f"vrrp {iface}/{vrid}/{key}"
            f = as_dict(vr[key], fw)
            stats = as_dict(f.get("stats", {}), f"{fw}: stats")
            out.append(
                VrrpRouter(
                    interface=iface,
                    vrid=vrid,
                    family=family,
                    virtual_interface=get_str(f, "interface", fw, ""),
                    status=get_str(f, "status", fw),
                    priority=get_int(f, "effectivePriority", fw, 0),
                    transitions=get_int(stats, "transitions", fw, 0),
                    adverts_sent=get_int(stats, "adverTx", fw, 0),
                    adverts_received=get_int(stats, "adverRx", fw, 0),
                    shutdown=vr.get("shutdown") is True,
                )
            )
    return out
