"""bgpd replies -> plain data: the summary (per peer and address family), the neighbors (per session),
and one prefix's advertisement (for expected advertisements).

Layouts seen in the field:
* `show bgp vrf all summary json` (FRR >= 7.5): `{vrf: {ipv4Unicast: {as, peers: {peer: {...}}}, ...}}`.
* `show bgp vrf all ipv4 unicast summary json`, and everything from FRR < 7.5: flat, `{vrf: {as, peers}}`.
* `show bgp vrf all neighbors json`: `{vrf: {vrfId, vrfName, peer: {...}}}`; `show bgp neighbors json`
  (one VRF): `{peer: {...}}`.
Peers are keyed by address, or by interface name for unnumbered sessions. AS numbers may be strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .parse_common import ParseError, as_dict, asn, get_int, get_str, loads, opt_int

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


def state_name(s: str) -> str:
    """`Idle (Admin)`, `Idle (PfxCt)` -> `Idle`."""
    return s.split(" ", 1)[0]


@dataclass(frozen=True, slots=True)
class SummaryPeer:
    """One peer in one address family, from the summary."""

    vrf: str
    afi_safi: str  # ipv4Unicast, ipv6Unicast, l2VpnEvpn, ...
    peer: str
    remote_as: str
    local_as: str
    state: str  # Established, Active, Idle, ...
    admin_shutdown: bool  # peerState Admin / state "Idle (Admin)"
    received: int  # pfxRcd
    advertised: int | None  # pfxSnt
    state_epoch: int | None  # peerUptimeEstablishedEpoch: established since, or down since
    description: str
    messages_received: int
    messages_sent: int
    connections_established: int
    connections_dropped: int


@dataclass(frozen=True, slots=True)
class AfCounters:
    accepted: int
    sent: int | None


@dataclass(frozen=True, slots=True)
class Neighbor:
    """One BGP session, from `show bgp vrf all neighbors json`."""

    vrf: str
    peer: str
    remote_as: str
    local_as: str
    state: str
    admin_shutdown: bool
    established_epoch: int | None  # only while Established
    description: str
    messages_received: tuple[tuple[str, int], ...]
    messages_sent: tuple[tuple[str, int], ...]
    connections_established: int
    connections_dropped: int
    last_reset: str
    last_notification: str
    bfd_status: str | None  # Up, Down, Unknown; None without BFD
    families: tuple[tuple[str, AfCounters], ...]

    @property
    def up(self) -> bool:
        return self.state == "Established"


def _summary_peer(vrf: str, af: str, local_as: str, peer: str, p: dict[str, Any]) -> SummaryPeer:
    w = f"summary {vrf}/{af}/{peer}"
    state = get_str(p, "state", w)
    return SummaryPeer(
        vrf=vrf,
        afi_safi=af,
        peer=peer,
        remote_as=asn(p.get("remoteAs"), f"{w}: remoteAs"),
        local_as=asn(p["localAs"], f"{w}: localAs") if "localAs" in p else local_as,
        state=state_name(state),
        admin_shutdown=p.get("peerState") == "Admin" or state.startswith("Idle (Admin"),
        received=get_int(p, "pfxRcd", w, 0),
        advertised=opt_int(p, "pfxSnt", w),
        state_epoch=opt_int(p, "peerUptimeEstablishedEpoch", w),
        description=get_str(p, "desc", w, ""),
        messages_received=get_int(p, "msgRcvd", w, 0),
        messages_sent=get_int(p, "msgSent", w, 0),
        connections_established=get_int(p, "connectionsEstablished", w, 0),
        connections_dropped=get_int(p, "connectionsDropped", w, 0),
    )


def _af_block(vrf: str, af: str, s: dict[str, Any], out: list[SummaryPeer]) -> None:
    w = f"summary {vrf}/{af}"
    peers = s.get("peers")
    if peers is None:
        return
    local_as = asn(s["as"], f"{w}: as") if "as" in s else ""
    for peer, p in as_dict(peers, f"{w}: peers").items():
        out.append(_summary_peer(vrf, af, local_as, peer, as_dict(p, f"{w}/{peer}")))


def parse_summary(text: bytes | str | Any, flat_afi_safi: str = "ipv4Unicast") -> list[SummaryPeer]:
    """A summary in either layout; a flat VRF block is taken as `flat_afi_safi`."""
    d = as_dict(loads(text, "bgp summary") if isinstance(text, (bytes, str)) else text, "bgp summary")
    out: list[SummaryPeer] = []
    for vrf, v in d.items():
        if not isinstance(v, dict):
            continue
        if "peers" in v or "routerId" in v:
            _af_block(str(v.get("vrfName", vrf)), flat_afi_safi, v, out)
            continue
        for af, s in v.items():
            if isinstance(s, dict):
                _af_block(vrf, af, s, out)
    return out


def _messages(stats: dict[str, Any], direction: str, w: str) -> tuple[tuple[str, int], ...]:
    return tuple((name, get_int(stats, f"{key}{direction}", w, 0)) for name, key in MESSAGE_TYPES)


def _neighbor(vrf: str, peer: str, n: dict[str, Any]) -> Neighbor:
    w = f"neighbors {vrf}/{peer}"
    state = get_str(n, "bgpState", w)
    stats = as_dict(n.get("messageStats", {}), f"{w}: messageStats")
    fams = []
    for af, a in as_dict(n.get("addressFamilyInfo", {}), f"{w}: addressFamilyInfo").items():
        a = as_dict(a, f"{w}/{af}")
        fams.append(
            (
                af,
                AfCounters(
                    get_int(a, "acceptedPrefixCounter", f"{w}/{af}", 0),
                    opt_int(a, "sentPrefixCounter", f"{w}/{af}"),
                ),
            )
        )
    bfd = n.get("peerBfdInfo")
    bfd_status = get_str(bfd, "status", f"{w}: peerBfdInfo", "Unknown") if isinstance(bfd, dict) else None
    up = state_name(state) == "Established"
    return Neighbor(
        vrf=vrf,
        peer=peer,
        remote_as=asn(n.get("remoteAs"), f"{w}: remoteAs"),
        local_as=asn(n.get("localAs"), f"{w}: localAs"),
        state=state_name(state),
        admin_shutdown=n.get("adminShutDown") is True or state.startswith("Idle (Admin"),
        established_epoch=opt_int(n, "bgpTimerUpEstablishedEpoch", w) if up else None,
        description=get_str(n, "nbrDesc", w, ""),
        messages_received=_messages(stats, "Recv", w),
        messages_sent=_messages(stats, "Sent", w),
        connections_established=get_int(n, "connectionsEstablished", w, 0),
        connections_dropped=get_int(n, "connectionsDropped", w, 0),
        last_reset=get_str(n, "lastResetDueTo", w, ""),
        last_notification=get_str(n, "lastNotificationReason", w, ""),
        bfd_status=bfd_status,
        families=tuple(fams),
    )


def parse_neighbors(text: bytes | str | Any) -> list[Neighbor]:
    d = as_dict(loads(text, "bgp neighbors") if isinstance(text, (bytes, str)) else text, "bgp neighbors")
    out: list[Neighbor] = []
    # One VRF without the VRF level: peers straight at the top.
    if any(isinstance(v, dict) and "bgpState" in v for v in d.values()):
        d = {"default": d}
    for vrf, v in d.items():
        if not isinstance(v, dict):
            continue
        name = v.get("vrfName", vrf)
        name = name if isinstance(name, str) else vrf
        for peer, n in v.items():
            if isinstance(n, dict) and "bgpState" in n:
                out.append(_neighbor(name, peer, n))
            elif isinstance(n, dict) and peer not in ("vrfId", "vrfName"):
                raise ParseError(f"neighbors {vrf}/{peer}: no bgpState")
    return out


def parse_advertised_to(text: bytes | str | Any, prefix: str) -> set[str] | None:
    """Peers `prefix` is advertised to, from `show bgp vrf V ipv4 unicast P json`; None if the VRF is
    unknown to bgpd. A prefix not in the table has no peers."""
    d = as_dict(
        loads(text, f"bgp prefix {prefix}") if isinstance(text, (bytes, str)) else text,
        f"bgp prefix {prefix}",
    )
    if "warning" in d and "prefix" not in d:
        return None
    if not d or d.get("prefix") != prefix:
        return set()
    adv = d.get("advertisedTo", {})
    return set(as_dict(adv, f"bgp prefix {prefix}: advertisedTo"))
