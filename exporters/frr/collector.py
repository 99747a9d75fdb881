"""Parsed FRR data -> metric families (no I/O). One function per daemon; every series carries `instance`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from exporters.core import Families

from .parse_bfd import BfdPeer
from .parse_bgp import STATES, Neighbor, SummaryPeer
from .parse_vrrp import STATES as VRRP_STATES
from .parse_vrrp import VrrpRouter
from .parse_zebra import RouteCount

NS = "colo_frr"


def bgp(
    instance: str,
    summary: Sequence[SummaryPeer],
    neighbors: Sequence[Neighbor],
    advertised: Iterable[tuple[str, str, str, bool]] = (),
    description_label: bool = False,
) -> Families:
    """Sessions from the neighbors reply; prefix counts per address family from both replies.

    `advertised`: (vrf, prefix, peer, is_advertised) for the configured expected advertisements."""
    f = Families(NS)
    sess_labels = ["frr_instance", "vrf", "peer", "peer_as", "local_as"] + (
        ["description"] if description_label else []
    )
    af_labels = sess_labels[:2] + ["afi_safi"] + sess_labels[2:]

    def sess(n: Neighbor | SummaryPeer) -> list[str]:
        v = [instance, n.vrf, n.peer, n.remote_as, n.local_as]
        return v + [n.description] if description_label else v

    up = f.gauge("bgp_peer_up", "1 if the BGP session is Established, else 0.", sess_labels)
    state = f.gauge(
        "bgp_peer_state",
        "BGP FSM state: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, "
        "6 Established (RFC 4273); 0 other.",
        sess_labels,
    )
    admin = f.gauge(
        "bgp_peer_admin_shutdown",
        "1 if the peer is administratively shut down (neighbor shutdown).",
        sess_labels,
    )
    est = f.gauge(
        "bgp_peer_established_timestamp_seconds",
        "When the session was established (Unix time); only while it is Established.",
        sess_labels,
    )
    down = f.gauge(
        "bgp_peer_down_timestamp_seconds",
        "When an established session was last lost (Unix time); only while it is not Established.",
        sess_labels,
    )
    msg_in = f.counter(
        "bgp_peer_messages_received_total", "BGP messages received, by type.", sess_labels + ["type"]
    )
    msg_out = f.counter("bgp_peer_messages_sent_total", "BGP messages sent, by type.", sess_labels + ["type"])
    conn_up = f.counter(
        "bgp_peer_connections_established_total", "Times the session reached Established.", sess_labels
    )
    conn_down = f.counter(
        "bgp_peer_connections_dropped_total", "Times an Established session was lost.", sess_labels
    )
    bfd = f.gauge(
        "bgp_peer_bfd_up", "1 if BFD reports the peer up, else 0; only for peers with BFD.", sess_labels
    )
    reset = f.info(
        "bgp_peer_last_reset",
        "Why the session was last reset, as bgpd words it.",
        sess_labels + ["reason", "notification"],
    )
    received = f.gauge(
        "bgp_peer_received_prefixes", "Prefixes received from the peer and kept (pfxRcd).", af_labels
    )
    accepted = f.gauge(
        "bgp_peer_accepted_prefixes", "Prefixes accepted from the peer (acceptedPrefixCounter).", af_labels
    )
    sent = f.gauge("bgp_peer_advertised_prefixes", "Prefixes advertised to the peer.", af_labels)

    # The summary is per address family; its state epoch is the peer's last change to/from Established.
    by_peer: dict[tuple[str, str], list[SummaryPeer]] = {}
    for s in summary:
        by_peer.setdefault((s.vrf, s.peer), []).append(s)
    seen: set[tuple[str, str]] = set()
    for n in neighbors:
        seen.add((n.vrf, n.peer))
        lv = sess(n)
        up.add_metric(lv, 1.0 if n.up else 0.0)
        state.add_metric(lv, float(STATES.get(n.state, 0)))
        admin.add_metric(lv, 1.0 if n.admin_shutdown else 0.0)
        sums = by_peer.get((n.vrf, n.peer), [])
        # The summary's epoch is the last change to or from Established: the establishment while up
        # (older FRR's neighbors reply lacks bgpTimerUpEstablishedEpoch), the loss while down.
        epoch = next((s.state_epoch for s in sums if s.state_epoch), None)
        if n.up and (n.established_epoch or epoch):
            est.add_metric(lv, float(n.established_epoch or epoch or 0))
        elif not n.up and n.connections_established > 0 and epoch:
            down.add_metric(lv, float(epoch))
        for typ, v in n.messages_received:
            msg_in.add_metric(lv + [typ], float(v))
        for typ, v in n.messages_sent:
            msg_out.add_metric(lv + [typ], float(v))
        conn_up.add_metric(lv, float(n.connections_established))
        conn_down.add_metric(lv, float(n.connections_dropped))
        if n.bfd_status is not None:
            bfd.add_metric(lv, 1.0 if n.bfd_status.lower() == "up" else 0.0)
        if n.last_reset:
            reset.add_metric(lv + [n.last_reset, n.last_notification], {})
        fams = dict(n.families)
        done = set()
        for s in sums:
            al = lv[:2] + [s.afi_safi] + lv[2:]
            received.add_metric(al, float(s.received))
            c = fams.get(s.afi_safi)
            if c is not None:
                accepted.add_metric(al, float(c.accepted))
            adv = c.sent if c is not None and c.sent is not None else s.advertised
            if adv is not None:
                sent.add_metric(al, float(adv))
            done.add(s.afi_safi)
        for af, c in n.families:
            if af not in done:
                al = lv[:2] + [af] + lv[2:]
                accepted.add_metric(al, float(c.accepted))
                if c.sent is not None:
                    sent.add_metric(al, float(c.sent))
    # Peers the summary has and the neighbors reply did not (added between the two commands).
    for key, sums in by_peer.items():
        if key in seen:
            continue
        for s in sums:
            al = sess(s)
            al = al[:2] + [s.afi_safi] + al[2:]
            received.add_metric(al, float(s.received))
            if s.advertised is not None:
                sent.add_metric(al, float(s.advertised))

    adv_fam = f.gauge(
        "bgp_prefix_advertised",
        "1 if the configured prefix is advertised to the peer, else 0.",
        ["frr_instance", "vrf", "prefix", "peer"],
    )
    for vrf, prefix, peer, ok in advertised:
        adv_fam.add_metric([instance, vrf, prefix, peer], 1.0 if ok else 0.0)
    return f


def bfd(instance: str, peers: Sequence[BfdPeer]) -> Families:
    f = Families(NS)
    labels = ["frr_instance", "vrf", "peer", "local", "interface"]
    up = f.gauge("bfd_peer_up", "1 if the BFD session is up, else 0.", labels)
    shut = f.gauge("bfd_peer_admin_shutdown", "1 if the BFD session is administratively shut down.", labels)
    uptime = f.gauge(
        "bfd_peer_uptime_seconds", "How long the BFD session has been up; only while up.", labels
    )
    ups = f.counter("bfd_peer_session_up_total", "Times the BFD session came up.", labels)
    downs = f.counter("bfd_peer_session_down_total", "Times the BFD session went down.", labels)
    pin = f.counter("bfd_peer_control_packets_received_total", "BFD control packets received.", labels)
    pout = f.counter("bfd_peer_control_packets_sent_total", "BFD control packets sent.", labels)
    for p in peers:
        lv = [instance, p.vrf, p.peer, p.local, p.interface]
        up.add_metric(lv, 1.0 if p.status == "up" else 0.0)
        shut.add_metric(lv, 1.0 if p.status == "shutdown" else 0.0)
        if p.status == "up" and p.uptime is not None:
            uptime.add_metric(lv, float(p.uptime))
        if p.session_up is not None:
            ups.add_metric(lv, float(p.session_up))
        if p.session_down is not None:
            downs.add_metric(lv, float(p.session_down))
        if p.control_in is not None:
            pin.add_metric(lv, float(p.control_in))
        if p.control_out is not None:
            pout.add_metric(lv, float(p.control_out))
    return f


def vrrp(instance: str, routers: Sequence[VrrpRouter]) -> Families:
    f = Families(NS)
    labels = ["frr_instance", "interface", "vrid", "family"]
    state = f.gauge("vrrp_state", "VRRP state: 0 Initialize, 1 Backup, 2 Master.", labels)
    prio = f.gauge("vrrp_priority", "Effective VRRP priority.", labels)
    trans = f.counter("vrrp_transitions_total", "VRRP state transitions.", labels)
    tx = f.counter("vrrp_advertisements_sent_total", "VRRP advertisements sent.", labels)
    rx = f.counter("vrrp_advertisements_received_total", "VRRP advertisements received.", labels)
    for r in routers:
        lv = [instance, r.interface, str(r.vrid), r.family]
        state.add_metric(lv, float(VRRP_STATES.get(r.status, 0)))
        prio.add_metric(lv, float(r.priority))
        trans.add_metric(lv, float(r.transitions))
        tx.add_metric(lv, float(r.adverts_sent))
        rx.add_metric(lv, float(r.adverts_received))
    return f


def zebra(instance: str, version: str, routes: dict[str, Sequence[RouteCount]]) -> Families:
    """`routes`: family (ipv4, ipv6) -> counts by protocol, of the default VRF."""
    f = Families(NS)
    f.info("version", "The FRR version zebra reports.", ["frr_instance", "version"]).add_metric(
        [instance, version], {}
    )
    rib = f.gauge(
        "rib_routes",
        "Routes in zebra's RIB (default VRF), by address family and protocol.",
        ["frr_instance", "family", "protocol"],
    )
    fib = f.gauge(
        "fib_routes",
        "Routes installed in the kernel FIB (default VRF), by family and protocol.",
        ["frr_instance", "family", "protocol"],
    )
    for fam, counts in routes.items():
        for c in counts:
            rib.add_metric([instance, fam, c.protocol], float(c.rib))
            fib.add_metric([instance, fam, c.protocol], float(c.fib))
    return f
