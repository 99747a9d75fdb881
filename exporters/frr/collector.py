"""Parsed FRR data -> metric families (no I/O). One function per daemon; every series carries
`frr_instance`. Each function takes what its commands returned, `None` for a command that failed, and
emits every series the rest allows.

Samples are appended directly, with one label dict shared by all series of a session (or of a session
and address family), its text rendered once and extended for the series with more labels (`Labels`): a
10,000-peer router is 230,000 series.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from exporters.core import Families
from exporters.core.exposition import Labels
from exporters.core.metrics import adder as _adder

from .parse_bfd import BfdPeer
from .parse_bgp import STATES, Neighbor, SummaryPeer
from .parse_vrrp import STATES as VRRP_STATES
from .parse_vrrp import VrrpRouter
from .parse_zebra import RouteCount


def bgp(
    ns: str,
    instance: str,
    summary: Sequence[SummaryPeer] | None,
    neighbors: Sequence[Neighbor] | None,
    advertised: Iterable[tuple[str, str, str, bool]] = (),
    description_label: bool = False,
    check: Callable[[], object] = lambda: None,
) -> Families:
    """Sessions from the neighbors reply (from the summary if that is all there is); prefix counts per
    address family from both.

    `advertised`: (vrf, prefix, peer, is_advertised) for the configured expected advertisements.
    `check` is called every few hundred sessions (it raises to stop: the deadline has passed)."""
    f = Families(ns)
    sl = ["frr_instance", "vrf", "peer", "peer_as", "local_as"] + (
        ["description"] if description_label else []
    )
    al = sl + ["afi_safi"]
    up = _adder(f.gauge("bgp_peer_up", "1 if the BGP session is Established, else 0.", sl))
    state = _adder(
        f.gauge(
            "bgp_peer_state",
            "BGP FSM state: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, "
            "6 Established (RFC 4273); 0 other.",
            sl,
        )
    )
    admin = _adder(
        f.gauge(
            "bgp_peer_admin_shutdown", "1 if the peer is administratively shut down (neighbor shutdown).", sl
        )
    )
    est = _adder(
        f.gauge(
            "bgp_peer_established_timestamp_seconds",
            "When the session was established (Unix time); only while it is Established.",
            sl,
        )
    )
    down = _adder(
        f.gauge(
            "bgp_peer_down_timestamp_seconds",
            "When an established session was last lost (Unix time); only while it is not Established.",
            sl,
        )
    )
    msg_in = _adder(
        f.counter("bgp_peer_messages_received_total", "BGP messages received, by type.", sl + ["type"])
    )
    msg_out = _adder(f.counter("bgp_peer_messages_sent_total", "BGP messages sent, by type.", sl + ["type"]))
    conn_up = _adder(
        f.counter("bgp_peer_connections_established_total", "Times the session reached Established.", sl)
    )
    conn_down = _adder(
        f.counter("bgp_peer_connections_dropped_total", "Times an Established session was lost.", sl)
    )
    bfd = _adder(
        f.gauge("bgp_peer_bfd_up", "1 if BFD reports the peer up, else 0; only for peers with BFD.", sl)
    )
    reset = _adder(
        f.info(
            "bgp_peer_last_reset",
            "Why the session was last reset, as bgpd words it.",
            sl + ["reason", "notification"],
        )
    )
    received = _adder(
        f.gauge(
            "bgp_peer_received_prefixes",
            "Prefixes received from the peer and kept (pfxRcd, prefixReceivedCount before FRR 7.0).",
            al,
        )
    )
    accepted = _adder(
        f.gauge("bgp_peer_accepted_prefixes", "Prefixes accepted from the peer (acceptedPrefixCounter).", al)
    )
    sent = _adder(f.gauge("bgp_peer_advertised_prefixes", "Prefixes advertised to the peer.", al))

    def labels(vrf: str, peer: str, ras: str, las: str, desc: str | None) -> Labels:
        d = {"frr_instance": instance, "vrf": vrf, "peer": peer, "peer_as": ras, "local_as": las}
        if description_label:
            d["description"] = desc or ""
        return Labels(d)

    def times(
        lv: Labels, is_up: bool, epoch: int | None, ever_up: int | None, down_epoch: int | None
    ) -> None:
        # The summary's epoch is the last change to or from Established: establishment while up, the
        # loss while down (bgpd/bgp_fsm.c sets peer->uptime on both).
        if is_up:
            if epoch:
                est(lv, float(epoch))
        elif ever_up and down_epoch:
            down(lv, float(down_epoch))

    # The summary is per address family.
    by_peer: dict[tuple[str, str], list[SummaryPeer]] = {}
    for s in summary or ():
        by_peer.setdefault((s.vrf, s.peer), []).append(s)

    for i, n in enumerate(neighbors or ()):
        if i % 256 == 255:
            check()
        sums = by_peer.pop((n.vrf, n.peer), ())
        s_epoch = None
        for s in sums:
            if s.state_epoch:
                s_epoch = s.state_epoch
                break
        desc = n.description
        if desc is None and sums:
            desc = sums[0].description
        lv = labels(n.vrf, n.peer, n.remote_as, n.local_as, desc)
        is_up = n.up
        up(lv, 1.0 if is_up else 0.0)
        state(lv, float(STATES.get(n.state, 0)))
        admin(lv, 1.0 if n.admin_shutdown else 0.0)
        ever = n.connections_established
        if ever is None:
            ever = next((s.connections_established for s in sums), None)
        times(lv, is_up, n.established_epoch or s_epoch, ever, s_epoch)
        if n.messages_received or n.messages_sent:
            by_type: dict[str, Labels] = {}
            for typ, v in n.messages_received:
                tl = by_type[typ] = lv.plus("type", typ)
                msg_in(tl, float(v))
            for typ, v in n.messages_sent:
                tl = by_type.get(typ) or lv.plus("type", typ)
                msg_out(tl, float(v))
        if n.connections_established is not None:
            conn_up(lv, float(n.connections_established))
        if n.connections_dropped is not None:
            conn_down(lv, float(n.connections_dropped))
        if n.bfd_status is not None:
            bfd(lv, 1.0 if n.bfd_status.lower() == "up" else 0.0)
        if n.last_reset:
            reset(lv.plus("reason", n.last_reset).plus("notification", n.last_notification or ""), 1.0)
        fams = dict(n.families)
        for s in sums:
            a = lv.plus("afi_safi", s.afi_safi)
            if s.received is not None:
                received(a, float(s.received))
            c = fams.pop(s.afi_safi, None)
            if c is not None and c.accepted is not None:
                accepted(a, float(c.accepted))
            adv = c.sent if c is not None and c.sent is not None else s.advertised
            if adv is not None:
                sent(a, float(adv))
        for af, c in fams.items():
            if c.accepted is None and c.sent is None:
                continue
            a = lv.plus("afi_safi", af)
            if c.accepted is not None:
                accepted(a, float(c.accepted))
            if c.sent is not None:
                sent(a, float(c.sent))

    # Peers only the summary has: all of them when the neighbors command failed (the session series
    # come from the summary then), else ones added between the two commands (prefix counts only).
    for sums in by_peer.values():
        s0 = sums[0]
        lv = labels(s0.vrf, s0.peer, s0.remote_as, s0.local_as, s0.description)
        if neighbors is None:
            is_up = s0.state == "Established"
            up(lv, 1.0 if is_up else 0.0)
            state(lv, float(STATES.get(s0.state, 0)))
            admin(lv, 1.0 if any(s.admin_shutdown for s in sums) else 0.0)
            epoch = next((s.state_epoch for s in sums if s.state_epoch), None)
            times(lv, is_up, epoch, s0.connections_established, epoch)
            if s0.connections_established is not None:
                conn_up(lv, float(s0.connections_established))
            if s0.connections_dropped is not None:
                conn_down(lv, float(s0.connections_dropped))
        for s in sums:
            a = lv.plus("afi_safi", s.afi_safi)
            if s.received is not None:
                received(a, float(s.received))
            if s.advertised is not None:
                sent(a, float(s.advertised))

    adv_fam = _adder(
        f.gauge(
            "bgp_prefix_advertised",
            "1 if the configured prefix is advertised to the peer, else 0.",
            ["frr_instance", "vrf", "prefix", "peer"],
        )
    )
    for vrf, prefix, peer, ok in advertised:
        adv_fam({"frr_instance": instance, "vrf": vrf, "prefix": prefix, "peer": peer}, 1.0 if ok else 0.0)
    return f


def bfd(ns: str, instance: str, peers: Sequence[BfdPeer]) -> Families:
    """Sessions from `show bfd peers json`; the counters where `show bfd peers counters json` answered."""
    f = Families(ns)
    names = ["frr_instance", "vrf", "peer", "local", "interface"]
    up = _adder(f.gauge("bfd_peer_up", "1 if the BFD session is up, else 0.", names))
    shut = _adder(
        f.gauge("bfd_peer_admin_shutdown", "1 if the BFD session is administratively shut down.", names)
    )
    uptime = _adder(
        f.gauge("bfd_peer_uptime_seconds", "How long the BFD session has been up; only while up.", names)
    )
    ups = _adder(f.counter("bfd_peer_session_up_total", "Times the BFD session came up.", names))
    downs = _adder(f.counter("bfd_peer_session_down_total", "Times the BFD session went down.", names))
    pin = _adder(f.counter("bfd_peer_control_packets_received_total", "BFD control packets received.", names))
    pout = _adder(f.counter("bfd_peer_control_packets_sent_total", "BFD control packets sent.", names))
    for p in peers:
        lv = {
            "frr_instance": instance,
            "vrf": p.vrf,
            "peer": p.peer,
            "local": p.local,
            "interface": p.interface,
        }
        up(lv, 1.0 if p.status == "up" else 0.0)
        shut(lv, 1.0 if p.status == "shutdown" else 0.0)
        if p.status == "up" and p.uptime is not None:
            uptime(lv, float(p.uptime))
        c = p.counters
        if c is None:
            continue
        for add, v in (
            (ups, c.session_up),
            (downs, c.session_down),
            (pin, c.control_in),
            (pout, c.control_out),
        ):
            if v is not None:
                add(lv, float(v))
    return f


def vrrp(ns: str, instance: str, routers: Sequence[VrrpRouter]) -> Families:
    f = Families(ns)
    names = ["frr_instance", "interface", "vrid", "family"]
    state = _adder(f.gauge("vrrp_state", "VRRP state: 0 Initialize, 1 Backup, 2 Master.", names))
    prio = _adder(f.gauge("vrrp_priority", "Effective VRRP priority.", names))
    trans = _adder(f.counter("vrrp_transitions_total", "VRRP state transitions.", names))
    tx = _adder(f.counter("vrrp_advertisements_sent_total", "VRRP advertisements sent.", names))
    rx = _adder(f.counter("vrrp_advertisements_received_total", "VRRP advertisements received.", names))
    for r in routers:
        lv = {"frr_instance": instance, "interface": r.interface, "vrid": str(r.vrid), "family": r.family}
        state(lv, float(VRRP_STATES.get(r.status, 0)))
        for add, v in (
            (prio, r.priority),
            (trans, r.transitions),
            (tx, r.adverts_sent),
            (rx, r.adverts_received),
        ):
            if v is not None:
                add(lv, float(v))
    return f


def zebra(
    ns: str, instance: str, version: str | None, routes: Mapping[str, Sequence[RouteCount]]
) -> Families:
    """`routes`: family (ipv4, ipv6) -> counts by protocol, of the default VRF (families whose command
    failed are left out)."""
    f = Families(ns)
    info = _adder(f.info("version", "The FRR version zebra reports.", ["frr_instance", "version"]))
    if version is not None:
        info({"frr_instance": instance, "version": version}, 1.0)
    names = ["frr_instance", "family", "protocol"]
    rib = _adder(
        f.gauge("rib_routes", "Routes in zebra's RIB (default VRF), by address family and protocol.", names)
    )
    fib = _adder(
        f.gauge(
            "fib_routes", "Routes installed in the kernel FIB (default VRF), by family and protocol.", names
        )
    )
    for fam, counts in routes.items():
        for c in counts:
            lv = {"frr_instance": instance, "family": fam, "protocol": c.protocol}
            rib(lv, float(c.rib))
            fib(lv, float(c.fib))
    return f


def collector_success(ns: str, instance: str, daemon: str, outcomes: Mapping[str, bool]) -> Families:
    f = Families(ns)
    add = _adder(
        f.gauge(
            "collector_success",
            "1 if this command (collector) of the daemon answered and was read in this scrape, else 0.",
            ["frr_instance", "daemon", "collector"],
        )
    )
    for name, ok in outcomes.items():
        add({"frr_instance": instance, "daemon": daemon, "collector": name}, 1.0 if ok else 0.0)
    return f
