"""zebra replies -> plain data: route summaries (routes by protocol) and the FRR version."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .parse_common import ParseError, Skip, as_dict, as_list, get_int, get_str, loads, strict


@dataclass(frozen=True, slots=True)
class RouteCount:
    protocol: str  # kernel, connected, local (10.0+), static, ebgp, ibgp, ospf, ...
    rib: int
    fib: int


def parse_route_summary(text: bytes | str | Any, *, skip: Skip = strict) -> list[RouteCount]:
    """`show ip[v6] route summary json` (JSON since FRR 7.3); a protocol listed twice (several
    instances) is added up."""
    d = as_dict(
        loads(text, "route summary") if isinstance(text, (bytes, bytearray, str)) else text, "route summary"
    )
    sums: dict[str, list[int]] = {}
    for i, r in enumerate(as_list(d.get("routes", []), "route summary: routes")):
        w = f"route summary: routes[{i}]"
        try:
            r = as_dict(r, w)
            typ, rib, fib = get_str(r, "type", w), get_int(r, "rib", w), get_int(r, "fib", w)
        except ParseError as e:
            skip(str(e))
            continue
        s = sums.setdefault(typ, [0, 0])
        s[0] += rib
        s[1] += fib
    return [RouteCount(p, rib, fib) for p, (rib, fib) in sums.items()]


# lib/command.c: "FRRouting <FRR_VERSION> (<hostname>)." (7.x), "... on <os>(<release>)." (8.0+);
# FRR_VERSION is the package version plus, for builds from git, "-g<hash>" (lib/version.h.in), or a
# distribution's suffix ("7.5+cl5.2.0u0", "9.1_git").
_VERSION = re.compile(r"^FRRouting (\S+?)\.?(?: \(|$)", re.MULTILINE)


def parse_version(text: bytes | str) -> str:
    """`show version` -> "8.4.4" (or "10.3.1-g5f3ad48" for a build from git)."""
    s = text.decode("utf-8", "replace") if isinstance(text, (bytes, bytearray)) else text
    m = _VERSION.search(s[:1000])
    if not m:
        raise ParseError(f"show version: no 'FRRouting <version>' in {s[:60]!r}")
    return m.group(1)
