"""bgpd replies -> plain data: the summary (per peer and address family), the neighbors (per session),
and one prefix's advertisement (for expected advertisements).

Layouts (the same in FRR 7.5 to 10.x; tests/fixtures/frr/README.md says where each comes from):
* `show bgp vrf all summary json`: `{vrf: {ipv4Unicast: {as, peers: {peer: {...}}}, ...}}`; a VRF with no
  peers is `{}`.
* `show bgp vrf all ipv4 unicast summary json`: flat, `{vrf: {as, peers}}`.
* `show [ip] bgp summary json` (no `vrf`): `{ipv4Unicast: {vrfName, as, peers}, ...}`.
* `show bgp vrf all neighbors json`: `{vrf: {vrfId, vrfName, peer: {...}}}`; `show bgp neighbors json`
  (one VRF): `{peer: {...}}`.
Peers are keyed by address, or by interface name for unnumbered sessions. AS numbers may be strings
(`as-notation dot`, FRR >= 9.1). Keys that moved between releases are read with their older names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .parse_common import (
    EVERY,
    Check,
    ParseError,
    Skip,
    as_dict,
    asn,
    epoch,
    first_int,
    get_str,
    loads,
    nothing,
    opt_int,
    opt_str,
    raw_loads,
    strict,
)

# RFC 4273 bgpPeerState numbering; 0 for FRR's own Clearing/Deleted.
STATES = {"Idle": 1, "Connect": 2, "Active": 3, "OpenSent": 4, "OpenConfirm": 5, "Established": 6}
MESSAGE_TYPES = (
    ("open", "opens"),
    ("update", "updates"),
    ("keepalive", "keepalives"),
    ("notification", "notifications"),
    ("route_refresh", "routeRefresh"),
    ("capability", "capability"),
)
_MESSAGE_KEYS = {d: tuple((name, key + d) for name, key in MESSAGE_TYPES) for d in ("Recv", "Sent")}
# pfxRcd since 7.0; prefixReceivedCount up to 7.3 (both in 7.0-7.3).
RECEIVED_KEYS = ("pfxRcd", "prefixReceivedCount")
# FRR's address-family names (bgp_vty.c get_afi_safi_json_str): ipv4Unicast, ipv6Vpn, l2VpnEvpn, ...
AFI_SAFI = re.compile(r"(ipv4|ipv6|l2Vpn)[A-Z]\w*")


def state_name(s: str) -> str:
    """`Idle (Admin)`, `Idle (PfxCt)` -> `Idle`."""
    return s.split(" ", 1)[0]


@dataclass(slots=True)
class SummaryPeer:
    """One peer in one address family, from the summary."""

    vrf: str
    afi_safi: str  # ipv4Unicast, ipv6Unicast, l2VpnEvpn, ...
    peer: str
    remote_as: str
    local_as: str
    state: str  # Established, Active, Idle, ...
    admin_shutdown: bool  # peerState Admin / state "Idle (Admin)"
    received: int | None  # pfxRcd (prefixReceivedCount before 7.0)
    advertised: int | None  # pfxSnt (7.5: only with an update group)
    state_epoch: int | None  # last change to or from Established (Unix time); None if never up
    description: str | None  # desc (8.4+)
    connections_established: int | None
    connections_dropped: int | None


@dataclass(slots=True)
class AfCounters:
    accepted: int | None
    sent: int | None


@dataclass(slots=True)
class Neighbor:
    """One BGP session, from `show bgp vrf all neighbors json`."""

    vrf: str
    peer: str
    remote_as: str
    local_as: str
    state: str
    admin_shutdown: bool
    established_epoch: int | None  # only while Established
    description: str | None
    messages_received: tuple[tuple[str, int], ...]  # the types FRR wrote
    messages_sent: tuple[tuple[str, int], ...]
    connections_established: int | None
    connections_dropped: int | None
    last_reset: str | None
    last_notification: str | None
    bfd_status: str | None  # Up, Down, Unknown; None without BFD
    families: tuple[tuple[str, AfCounters], ...]

    @property
    def up(self) -> bool:
        return self.state == "Established"


def _summary_peer(vrf: str, af: str, local_as: str, peer: str, p: Any, now: float | None) -> SummaryPeer:
    try:
        p = as_dict(p)
        state = get_str(p, "state")
        la = p.get("localAs")
        return SummaryPeer(
            vrf=vrf,
            afi_safi=af,
            peer=peer,
            remote_as=asn(p.get("remoteAs"), "remoteAs"),
            local_as=asn(la, "localAs") if la is not None else local_as,
            state=state_name(state),
            admin_shutdown=p.get("peerState") == "Admin" or state.startswith("Idle (Admin"),
            received=first_int(p, RECEIVED_KEYS),
            advertised=opt_int(p, "pfxSnt"),
            state_epoch=epoch(p, "peerUptimeEstablishedEpoch", "peerUptimeMsec", now),
            description=opt_str(p, "desc"),
            connections_established=opt_int(p, "connectionsEstablished"),
            connections_dropped=opt_int(p, "connectionsDropped"),
        )
    except ParseError as e:
        raise ParseError(f"summary {vrf}/{af}/{peer}: {e}") from None


def _af_block(
    vrf: str, af: str, s: Any, out: list[SummaryPeer], now: float | None, skip: Skip, check: Check
) -> None:
    w = f"summary {vrf}/{af}"
    if not isinstance(s, dict):
        skip(f"{w}: expected an object, got {type(s).__name__}")
        return
    peers = s.get("peers")
    if peers is None:
        return
    if not isinstance(peers, dict):
        skip(f"{w}: peers is not an object")
        return
    try:
        local_as = asn(s["as"], f"{w}: as") if "as" in s else ""
    except ParseError as e:
        skip(str(e))
        local_as = ""
    for i, (peer, p) in enumerate(peers.items()):
        if i % EVERY == EVERY - 1:
            check()
        try:
            out.append(_summary_peer(vrf, af, local_as, peer, p, now))
        except ParseError as e:
            skip(str(e))


def parse_summary(
    text: bytes | str | Any,
    flat_afi_safi: str = "ipv4Unicast",
    *,
    now: float | None = None,
    skip: Skip = strict,
    check: Check = nothing,
) -> list[SummaryPeer]:
    """A summary in any of its layouts; a flat VRF block is taken as `flat_afi_safi`. `now` (Unix time)
    turns `peerUptimeMsec` into a time where FRR wrote no epoch; `check` is called every few hundred
    peers (it raises to stop)."""
    d = as_dict(
        loads(text, "bgp summary") if isinstance(text, (bytes, bytearray, str)) else text, "bgp summary"
    )
    out: list[SummaryPeer] = []
    for key, v in d.items():
        if not isinstance(v, dict):
            continue
        if "peers" in v or "routerId" in v:
            if AFI_SAFI.fullmatch(key):  # no VRF level: `show bgp summary json`
                vrf = v.get("vrfName")
                _af_block(vrf if isinstance(vrf, str) else "default", key, v, out, now, skip, check)
            else:
                _af_block(key, flat_afi_safi, v, out, now, skip, check)
            continue
        for af, s in v.items():
            _af_block(key, af, s, out, now, skip, check)
    return out


def _messages(stats: dict[str, Any], direction: str) -> tuple[tuple[str, int], ...]:
    out = []
    for name, key in _MESSAGE_KEYS[direction]:
        v = stats.get(key)
        if type(v) is int:
            out.append((name, v))
        elif v is not None:
            raise ParseError(f"messageStats: {key} is not an integer: {str(v)[:40]!r}")
    return tuple(out)


def _neighbor(vrf: str, peer: str, n: dict[str, Any], now: float | None) -> Neighbor:
    try:
        state = get_str(n, "bgpState")
        stats = as_dict(n.get("messageStats", {}), "messageStats")
        fams = []
        for af, a in as_dict(n.get("addressFamilyInfo", {}), "addressFamilyInfo").items():
            a = as_dict(a, af)
            fams.append(
                (af, AfCounters(opt_int(a, "acceptedPrefixCounter", af), opt_int(a, "sentPrefixCounter", af)))
            )
        bfd = n.get("peerBfdInfo")
        bfd_status = get_str(bfd, "status", "peerBfdInfo", "Unknown") if isinstance(bfd, dict) else None
        name = state_name(state)
        up = epoch(n, "bgpTimerUpEstablishedEpoch", "bgpTimerUpMsec", now) if name == "Established" else None
        return Neighbor(
            vrf=vrf,
            peer=peer,
            remote_as=asn(n.get("remoteAs"), "remoteAs"),
            local_as=asn(n.get("localAs"), "localAs"),
            state=name,
            admin_shutdown=n.get("adminShutDown") is True or state.startswith("Idle (Admin"),
            established_epoch=up,
            description=opt_str(n, "nbrDesc"),
            messages_received=_messages(stats, "Recv"),
            messages_sent=_messages(stats, "Sent"),
            connections_established=opt_int(n, "connectionsEstablished"),
            connections_dropped=opt_int(n, "connectionsDropped"),
            last_reset=opt_str(n, "lastResetDueTo"),
            last_notification=opt_str(n, "lastNotificationReason"),
            bfd_status=bfd_status,
            families=tuple(fams),
        )
    except ParseError as e:
        raise ParseError(f"neighbors {vrf}/{peer}: {e}") from None


# bgpd prints `vrf all` as `{`, then per VRF `"<vrf>":` and a json-c document (JSON_C_TO_STRING_PRETTY:
# two spaces a level), joined by `\n,\n`, then `}`. In such a document a line that starts with two spaces
# and `"` is one of its keys (vrfId, vrfName, a peer): a JSON string never holds a raw newline.
_VRF_SEP = b'\n}\n,\n"'
_KEY = b'\n  "'
BLOCK = 256 << 10


def _vrf_blocks(text: bytes | bytearray) -> list[tuple[str, list[bytes | bytearray]]] | None:
    """Each VRF of a large `vrf all` reply as pieces of about BLOCK bytes, each a run of whole keys, so
    that no single parse holds the GIL for long (10,000 peers are 40 MB: parsed in one piece, half a
    second or more of it on a slow machine) and each piece's objects are freed before the next is made.
    None if the reply is not laid out like that."""
    last = len(text)  # the end of the reply without its trailing white space (rstrip() would copy 40 MB)
    while last and text[last - 1] in b" \t\r\n":
        last -= 1
    if not text.startswith(b'{\n"') or not text.endswith(b"}\n}", 0, last):
        return None
    starts = [1]
    i = text.find(_VRF_SEP)
    while i >= 0:
        starts.append(i + 4)
        i = text.find(_VRF_SEP, i + 1)
    top = text.rfind(b"\n}", 0, last)  # closes the reply; the one before it, the last VRF
    out = []
    for k, start in enumerate(starts):
        end = starts[k + 1] - 4 if k + 1 < len(starts) else text.rfind(b"\n}", 0, top)
        colon = text.find(b'":{\n', start)
        if colon < 0 or colon > end:
            return None
        try:
            vrf = raw_loads(text[start : colon + 1])
        except ValueError:
            return None
        body_start = colon + 4  # after `{\n`: the first key's line
        if text[body_start : body_start + 3] != b'  "' and text[body_start : end + 1].strip() != b"}":
            return None
        pieces = []
        pos = body_start
        while pos < end:
            cut = text.find(_KEY, min(pos + BLOCK, end), end)
            cut = end if cut < 0 else cut
            piece = text[pos:cut].rstrip(b", \n")
            if piece:
                pieces.append(piece)
            pos = cut + 1
        out.append((vrf if isinstance(vrf, str) else str(vrf), pieces))
    return out


def parse_neighbors(
    text: bytes | str | Any, *, now: float | None = None, skip: Skip = strict, check: Check = nothing
) -> list[Neighbor]:
    blocks = _vrf_blocks(text) if isinstance(text, (bytes, bytearray)) and len(text) > BLOCK else None
    if blocks is None:
        return _neighbors_whole(text, now, skip, check)
    out: list[Neighbor] = []
    for vrf, pieces in blocks:
        for piece in pieces:
            check()
            try:
                part = raw_loads(b"{" + piece + b"}")
            except ValueError:  # not what the layout promised: read it the ordinary way
                return _neighbors_whole(text, now, skip, check)
            _read_vrf(vrf, part, out, now, skip, check, own=True)
    return out


def _neighbors_whole(text: bytes | str | Any, now: float | None, skip: Skip, check: Check) -> list[Neighbor]:
    own = isinstance(text, (bytes, bytearray, str))  # a tree we made, free to take apart
    d = as_dict(loads(text, "bgp neighbors") if own else text, "bgp neighbors")
    out: list[Neighbor] = []
    # One VRF without the VRF level (`show bgp neighbors json`): peers straight at the top.
    if not any(isinstance(v, dict) and ("vrfName" in v or "vrfId" in v) for v in d.values()):
        d = {"default": d} if d else {}
    for vrf, v in d.items():
        if isinstance(v, dict):
            _read_vrf(vrf, v, out, now, skip, check, own)
    return out


def _read_vrf(
    vrf: str, v: dict[str, Any], out: list[Neighbor], now: float | None, skip: Skip, check: Check, own: bool
) -> None:
    # Each peer's part of the tree is let go once read (when it is ours to take apart).
    for i, peer in enumerate(list(v)):
        if i % EVERY == EVERY - 1:
            check()
        n = v.pop(peer) if own else v[peer]
        if not isinstance(n, dict):  # vrfId, vrfName
            continue
        try:
            out.append(_neighbor(vrf, peer, n, now))
        except ParseError as e:
            skip(str(e))


def parse_advertised_to(text: bytes | str | Any, prefix: str) -> set[str] | None:
    """Peers `prefix` is advertised to, from `show bgp vrf V ipv4 unicast P json`; None if the VRF is
    unknown to bgpd. A prefix not in the table has no peers."""
    d = as_dict(
        loads(text, f"bgp prefix {prefix}") if isinstance(text, (bytes, bytearray, str)) else text,
        f"bgp prefix {prefix}",
    )
    if "warning" in d and "prefix" not in d:
        return None
    if not d or d.get("prefix") != prefix:
        return set()
    adv = d.get("advertisedTo", {})
    return set(as_dict(adv, f"bgp prefix {prefix}: advertisedTo"))
