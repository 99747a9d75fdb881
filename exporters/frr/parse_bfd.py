"""bfdd replies -> plain data: `show bfd peers json` joined with `show bfd peers counters json`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .parse_common import as_dict, as_list, get_int, get_str, loads, opt_int


@dataclass(frozen=True, slots=True)
class BfdPeer:
    vrf: str
    peer: str
    local: str
    interface: str
    multihop: bool
    status: str  # up, down, init, shutdown
    uptime: int | None  # seconds, while up
    downtime: int | None  # seconds, while down
    diagnostic: str
    session_up: int | None  # counters (None when the counters reply lacks this peer)
    session_down: int | None
    control_in: int | None
    control_out: int | None

    @property
    def key(self) -> tuple[str, str, str, str, bool]:
        return (self.vrf, self.peer, self.local, self.interface, self.multihop)


def _key(p: dict[str, Any], w: str) -> tuple[str, str, str, str, bool]:
    return (
        get_str(p, "vrf", w, "default"),
        get_str(p, "peer", w),
        get_str(p, "local", w, ""),
        get_str(p, "interface", w, ""),
        p.get("multihop") is True,
    )


def parse_bfd(peers_text: bytes | str | Any, counters_text: bytes | str | Any | None = None) -> list[BfdPeer]:
    peers = as_list(
        loads(peers_text, "bfd peers") if isinstance(peers_text, (bytes, str)) else peers_text, "bfd peers"
    )
    counters: dict[tuple[str, str, str, str, bool], dict[str, Any]] = {}
    if counters_text is not None:
        raw = (
            loads(counters_text, "bfd counters") if isinstance(counters_text, (bytes, str)) else counters_text
        )
        for i, c in enumerate(as_list(raw, "bfd counters")):
            c = as_dict(c, f"bfd counters[{i}]")
            counters[_key(c, f"bfd counters[{i}]")] = c
    out = []
    for i, p in enumerate(peers):
        w = f"bfd peers[{i}]"
        p = as_dict(p, w)
        k = _key(p, w)
        c = counters.get(k)
        cw = f"bfd counters {k[1]}"
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
                session_up=get_int(c, "session-up", cw) if c else None,
                session_down=get_int(c, "session-down", cw) if c else None,
                control_in=get_int(c, "control-packet-input", cw) if c else None,
                control_out=get_int(c, "control-packet-output", cw) if c else None,
            )
        )
    return out
