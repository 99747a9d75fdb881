"""zebra replies -> plain data: route summaries (routes by protocol) and the FRR version."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .parse_common import ParseError, as_dict, as_list, get_int, get_str, loads


@dataclass(frozen=True, slots=True)
class RouteCount:
    protocol: str  # kernel, connected, static, ebgp, ibgp, ospf, ...
    rib: int
    fib: int


def parse_route_summary(text: bytes | str | Any) -> list[RouteCount]:
    """`show ip[v6] route summary json`; protocols listed twice (several instances) are added up."""
    d = as_dict(loads(text, "route summary") if isinstance(text, (bytes, str)) else text, "route summary")
    sums: dict[str, list[int]] = {}
    for i, r in enumerate(as_list(d.get("routes", []), "route summary: routes")):
        w = f"route summary: routes[{i}]"
        r = as_dict(r, w)
        s = sums.setdefault(get_str(r, "type", w), [0, 0])
        s[0] += get_int(r, "rib", w)
        s[1] += get_int(r, "fib", w)
    return [RouteCount(p, rib, fib) for p, (rib, fib) in sums.items()]


_VERSION = re.compile(r"FRRouting (\S+)")


def parse_version(text: bytes | str) -> str:
    """`show version` -> "8.4.4"."""
    s = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    m = _VERSION.search(s[:400])
    if not m:
        raise ParseError(f"show version: no 'FRRouting <version>' in {s[:60]!r}")
    return m.group(1)
