"""alerts/frr.yml: colo-frr-exporter (BGP, BFD, VRRP, expected advertisements).

Labels from the exporter: frr_instance, daemon, vrf, peer, peer_as, local_as, afi_safi; Prometheus adds
job and instance (the exporter), and `host` where the router runs on a cluster member. A session that is
down explains its BFD peer and its missing advertisements: only the session alerts.
"""

from __future__ import annotations

from .common import Ctx, exporter_alerts
from .model import Alert, Group, W, held, sel

INST = "job, instance, frr_instance"
SESSION = f"{INST}, vrf, peer"
BFD = f"{SESSION}, local, interface"


def groups(ctx: Ctx) -> list[Group]:
    c, t = ctx.sub("frr"), ctx.t

    def daemon_fresh(daemon: str) -> str:
        return f"{sel('colo_frr_up', daemon=daemon)} == 1"

    def daemon_down(w: W) -> str:
        return f"{w('colo_frr_up')} == 0"

    def session_down(w: W) -> str:
        return (
            f"{w('colo_frr_bgp_peer_up')} == 0\n"
            f"unless on ({SESSION}) {w('colo_frr_bgp_peer_admin_shutdown')} == 1"
        )

    def bfd_down(w: W) -> str:
        return (
            f"(\n  {w('colo_frr_bfd_peer_up')} == 0\n"
            f"  unless on ({BFD}) {w('colo_frr_bfd_peer_admin_shutdown')} == 1\n)\n"
            f"unless on ({SESSION}) {w('colo_frr_bgp_peer_up')} == 0"
        )

    def advert_missing(w: W) -> str:
        return (
            f"{w('colo_frr_bgp_prefix_advertised')} == 0\n"
            f"unless on ({SESSION}) {w('colo_frr_bgp_peer_up')} == 0"
        )

    rx = "colo_frr_bgp_peer_received_prefixes"
    base = f"avg_over_time({rx}[{t(c['prefixes_baseline'])}])"
    rules = [
        *exporter_alerts(ctx, "frr", "Frr", "colo-frr-exporter", "the routers"),
        Alert(
            "FrrDaemonDown",
            held(daemon_down, ctx.hold, "job, instance", "up == 1"),
            "critical",
            "router",
            "FRR {{ $labels.daemon }} of {{ $labels.frr_instance }} does not answer",
            "The exporter on {{ $labels.instance }} cannot read {{ $labels.daemon }} of FRR instance "
            "{{ $labels.frr_instance }} (daemon stopped, socket missing, permission, or a bad reply: see "
            "colo_frr_scrape_errors_total and the exporter's log). Its session alerts keep their last state.",
            for_=t(c["daemon_down_for"]),
        ),
        Alert(
            "FrrBgpSessionDown",
            held(session_down, ctx.hold, INST, daemon_fresh("bgpd")),
            "critical",
            "router",
            "BGP session {{ $labels.frr_instance }} -> {{ $labels.peer }} (AS{{ $labels.peer_as }}) is down",
            "The BGP session from {{ $labels.frr_instance }} (vrf {{ $labels.vrf }}) to {{ $labels.peer }} "
            "AS{{ $labels.peer_as }} is not Established and not admin shutdown here; "
            "colo_frr_bgp_peer_state and colo_frr_bgp_peer_last_reset_info say more.",
            for_=t(c["session_down_for"]),
            keep_firing_for=ctx.delay,
            comment=(
                "Down and not shut down on purpose on this router (a peer shut by the provider still alerts)."
            ),
        ),
        Alert(
            "FrrBgpSessionFlapping",
            f"increase(colo_frr_bgp_peer_connections_dropped_total[{t(c['flap_window'])}]) >= "
            f"{c['flap_drops']}",
            "warning",
            "router",
            "BGP session {{ $labels.frr_instance }} -> {{ $labels.peer }} is flapping",
            "The session from {{ $labels.frr_instance }} to {{ $labels.peer }} (vrf {{ $labels.vrf }}) "
            "dropped "
            f"{{{{ $value | humanize }}}} times in {c['flap_window']}.",
            keep_firing_for=ctx.delay,
        ),
        Alert(
            "FrrBgpPrefixesReceivedZero",
            f"{rx} == 0\n"
            f"and on ({SESSION}) colo_frr_bgp_peer_up == 1\n"
            f"and max_over_time({rx}[{t('6h')}]) > 0",
            "critical",
            "router",
            "No prefixes from {{ $labels.peer }} on {{ $labels.frr_instance }} ({{ $labels.afi_safi }})",
            "The session to {{ $labels.peer }} AS{{ $labels.peer_as }} is up but the prefixes received in "
            "{{ $labels.afi_safi }} dropped to 0.",
            for_=t(c["prefixes_zero_for"]),
            comment=(
                "Established, but the peer now sends nothing in this address family where it sent routes "
                "before."
            ),
        ),
        Alert(
            "FrrBgpPrefixesReceivedLow",
            f"{rx} < {c['prefixes_low_ratio']} * {base}\n"
            f"and {rx} > 0\n"
            f"and {base} >= {c['prefixes_low_min']}\n"
            f"and on ({SESSION}) colo_frr_bgp_peer_up == 1",
            "warning",
            "router",
            "Few prefixes from {{ $labels.peer }} on {{ $labels.frr_instance }} ({{ $labels.afi_safi }})",
            f"{{{{ $labels.peer }}}} AS{{{{ $labels.peer_as }}}} sends {{{{ $value }}}} prefixes in "
            f"{{{{ $labels.afi_safi }}}}, under {c['prefixes_low_ratio']:.0%} of its average over the last "
            f"{c['prefixes_baseline']}: a filter, a partial outage at the peer, or a maximum-prefix limit.",
            for_=t(c["prefixes_low_for"]),
        ),
        Alert(
            "FrrBfdPeerDown",
            held(bfd_down, ctx.hold, INST, daemon_fresh("bfdd")),
            "critical",
            "router",
            "BFD peer {{ $labels.peer }} of {{ $labels.frr_instance }} is down",
            "BFD from {{ $labels.frr_instance }} ({{ $labels.interface }}) to {{ $labels.peer }} is down: "
            "the "
            "link or the peer does not answer. (A BGP session down to the same peer alerts instead.)",
            for_=t(c["bfd_down_for"]),
            keep_firing_for=ctx.delay,
        ),
        Alert(
            "FrrVrrpNoMaster",
            "colo_frr_vrrp_state < 2\nunless on (vrid, family) colo_frr_vrrp_state == 2",
            "critical",
            "router",
            "VRRP vrid {{ $labels.vrid }} ({{ $labels.family }}) has no master",
            "No router is VRRP master for vrid {{ $labels.vrid }} ({{ $labels.family }}): the default "
            "gateway "
            "is gone. {{ $labels.frr_instance }} ({{ $labels.interface }}) is in state {{ $value }} "
            "(0 Initialize, 1 Backup).",
            for_=t(c["vrrp_no_master_for"]),
            comment="One alert per router of the virtual router, all in one notification. If separate VRRP "
            "domains reuse a vrid,\nadd the label that tells them apart (e.g. site) to the `on` clauses.",
        ),
        Alert(
            "FrrVrrpTwoMasters",
            "colo_frr_vrrp_state == 2\n"
            "and on (vrid, family) count by (vrid, family) (colo_frr_vrrp_state == 2) > 1",
            "critical",
            "router",
            "VRRP vrid {{ $labels.vrid }} ({{ $labels.family }}) has several masters",
            "{{ $labels.frr_instance }} ({{ $labels.interface }}) is master of vrid {{ $labels.vrid }} "
            "({{ $labels.family }}), and so is another router: they do not hear each other (split brain).",
            for_=t(c["vrrp_two_masters_for"]),
        ),
        Alert(
            "FrrExpectedAdvertisementMissing",
            held(advert_missing, ctx.hold, INST, daemon_fresh("bgpd")),
            "critical",
            "router",
            "{{ $labels.prefix }} is not advertised to {{ $labels.peer }} by {{ $labels.frr_instance }}",
            "{{ $labels.frr_instance }} (vrf {{ $labels.vrf }}) does not advertise {{ $labels.prefix }} to "
            "{{ $labels.peer }}, as the exporter's config expects, while the session is up.",
            for_=t(c["advertisement_for"]),
            keep_firing_for=ctx.delay,
        ),
    ]
    return [Group("colo-frr", rules)]
