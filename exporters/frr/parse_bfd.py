"""bfdd replies -> plain data: `show bfd peers json`, joined with `show bfd peers counters json` where
that answered. Both are lists of sessions keyed by (vrf, peer, local, interface, multihop); the same in
FRR 7.5 to 10.x except for keys the exporter does not read."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .parse_common import ParseError, Skip, as_dict, as_list, get_str, loads, opt_int, strict

Key = tuple[str, str, str, str, bool]


@dataclass(frozen=True, slots=True)
class BfdCounters:
    session_up: int | None
    session_down: int | None
    control_in: int | None
    control_out: int | None


@dataclass(frozen=True, slots=True)
class BfdPeer:
    vrf: str
    peer: str
    local: str
    interface: str
    multihop: bool
    status: str  # up, down, init, shutdown, unknown
    uptime: int | None  # seconds, while up
    downtime: int | None  # seconds, while down
    diagnostic: str
    counters: BfdCounters | None = None  # None when the counters reply lacks this session

    @property
    def key(self) -> Key:
        return (self.vrf, self.peer, self.local, self.interface, self.multihop)


def _key(p: dict[str, Any], w: str) -> Key:
    return (
        get_str(p, "vrf", w, "default"),
        get_str(p, "peer", w),
        get_str(p, "local", w, ""),
        get_str(p, "interface", w, ""),
        p.get("multihop") is True,
    )


def _list(text: bytes | str | Any, what: str) -> list[Any]:
    return as_list(loads(text, what) if isinstance(text, (bytes, bytearray, str)) else text, what)


def parse_bfd_peers(text: bytes | str | Any, *, skip: Skip = strict) -> list[BfdPeer]:
    out = []
    for i, p in enumerate(_list(text, "bfd peers")):
        w = f"bfd peers[{i}]"
        try:
            p = as_dict(p, w)
            k = _key(p, w)
            out.append(
                BfdPeer(
                    vrf=k[0],
                    peer=k[1],
                    local=k[2],
                    interface=k[3],
                    multihop=k[4],
                    status=get_str(p, "status", w),
                    uptime=opt_int(p, "uptime", w),
                    downtime=opt_int(p, "downtime", w),
                    diagnostic=get_str(p, "diagnostic", w, ""),
                )
            )
        except ParseError as e:
            skip(str(e))
    return out


def parse_bfd_counters(text: bytes | str | Any, *, skip: Skip = strict) -> dict[Key, BfdCounters]:
    out = {}
    for i, c in enumerate(_list(text, "bfd counters")):
        w = f"bfd counters[{i}]"
        try:
            c = as_dict(c, w)
            out[_key(c, w)] = BfdCounters(
                session_up=opt_int(c, "session-up", w),
                session_down=opt_int(c, "session-down", w),
                control_in=opt_int(c, "control-packet-input", w),
                control_out=opt_int(c, "control-packet-output", w),
            )
        except ParseError as e:
            skip(str(e))
    return out


def with_counters(peers: list[BfdPeer], counters: dict[Key, BfdCounters] | None) -> list[BfdPeer]:
    if not counters:
        return peers
    return [replace(p, counters=counters.get(p.key)) for p in peers]


def parse_bfd(
    peers_text: bytes | str | Any, counters_text: bytes | str | Any | None = None, *, skip: Skip = strict
) -> list[BfdPeer]:
    peers = parse_bfd_peers(peers_text, skip=skip)
    if counters_text is None:
        return peers
    return with_counters(peers, parse_bfd_counters(counters_text, skip=skip))
