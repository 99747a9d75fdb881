"""Colo / FRR routers: colo-frr-exporter (BGP, BFD, VRRP, routes)."""

from __future__ import annotations

from typing import Unpack

from .. import config
from .core import (
    BACK_TO_RACK,
    BGP_STATE,
    EXACTLY_1,
    VRRP_STATE,
    Board,
    Json,
    Row,
    Size,
    coloured,
    count_or_zero,
    count_stat,
    graph,
    label_var,
    stat,
    state_timeline,
    status_table,
    steps,
    table,
    targets,
    timeseries,
    up_down,
)
from .core import values as vmap

SEL = config.SELECTORS["frr"]
F = f'{SEL}, job=~"$job", frr_instance=~"$frr_instance"'
ADVERTISED = vmap(**{"0": ("MISSING", "red"), "1": ("yes", "green")})


def sessions_down(sel: str) -> str:
    """BGP sessions not Established and not shut down on purpose on their router (also on the rack view)."""
    return (
        f"(colo_frr_bgp_peer_up{{{sel}}} == 0) unless on (job, instance, frr_instance, vrf, peer) "
        f"(colo_frr_bgp_peer_admin_shutdown{{{sel}}} == 1)"
    )


def _per_peer(title: str, description: str, expr: str) -> Json:
    """Events per interval (or second) of each peer."""
    return graph(title, description, expr, "{{frr_instance}} {{peer}}", min_=0)


def vrrp_masters(title: str, description: str, sel: str, **size: Unpack[Size]) -> Json:
    """The routers that are Master per vrid, where exactly 1 is right (also on the rack view)."""
    expr = f"count by (vrid, family) (colo_frr_vrrp_state{{{sel}}} == 2)"
    return stat(title, description, targets((expr, "vrid {{vrid}} {{family}}")), thresholds=EXACTLY_1, **size)


def board() -> Json:
    bgp = Row(
        "Routers: BGP sessions",
        [
            count_stat(
                "Sessions established",
                "BGP sessions in state Established.",
                f"colo_frr_bgp_peer_up{{{F}}} == 1",
                links=BACK_TO_RACK,
                thresholds=steps((None, "green")),
            ),
            count_stat(
                "Sessions down (not admin)",
                "Sessions that are not Established and were not shut down on purpose on this router.",
                sessions_down(F),
            ),
            stat(
                "Admin shutdown",
                "Sessions shut down on this router (`neighbor ... shutdown`).",
                targets(count_or_zero(f"colo_frr_bgp_peer_admin_shutdown{{{F}}} == 1")),
            ),
            count_stat(
                "Daemons down",
                "FRR daemons the exporter could not read in its last scrape.",
                f"colo_frr_up{{{F}}} == 0",
            ),
            count_stat(
                "Advertisements missing",
                "Configured prefixes (anycast) that are not advertised to a peer that should get them.",
                f"colo_frr_bgp_prefix_advertised{{{F}}} == 0",
            ),
            stat(
                "Flaps (1h)",
                "Established sessions lost in the last hour.",
                targets(
                    f"sum(increase(colo_frr_bgp_peer_connections_dropped_total{{{F}}}[1h])) or vector(0)"
                ),
                thresholds=steps((None, "green"), (1, "orange"), (3, "red")),
                decimals=0,
            ),
            table(
                "Sessions",
                "Every BGP session: FSM state, admin shutdown, time since it was established, drops in 24 h.",
                targets(
                    f"colo_frr_bgp_peer_state{{{F}}}",
                    f"colo_frr_bgp_peer_admin_shutdown{{{F}}}",
                    f"time() - colo_frr_bgp_peer_established_timestamp_seconds{{{F}}}",
                    f"increase(colo_frr_bgp_peer_connections_dropped_total{{{F}}}[24h])",
                ),
                w=24,
                h=9,
                merge=True,
                rename={
                    "Value #A": "State",
                    "Value #B": "Admin down",
                    "Value #C": "Up for",
                    "Value #D": "Drops 24h",
                },
                columns={
                    "State": coloured(BGP_STATE),
                    "Admin down": {"mappings": vmap(**{"0": ("no", "text"), "1": ("shut down", "blue")})},
                    "Up for": {"unit": "s"},
                    "Drops 24h": {"decimals": 0},
                },
            ),
            graph(
                "Prefixes received",
                "Prefixes received and kept per session and address family.",
                f"colo_frr_bgp_peer_received_prefixes{{{F}}}",
                "{{frr_instance}} {{peer}} {{afi_safi}}",
            ),
            graph(
                "Prefixes advertised",
                "Prefixes advertised per session and address family.",
                f"colo_frr_bgp_peer_advertised_prefixes{{{F}}}",
                "{{frr_instance}} {{peer}} {{afi_safi}}",
            ),
            state_timeline(
                "Session state",
                "BGP FSM state over time.",
                targets((f"colo_frr_bgp_peer_state{{{F}}}", "{{frr_instance}} {{vrf}} {{peer}}")),
                mappings=BGP_STATE,
            ),
            _per_peer(
                "Session flaps",
                "Established sessions lost per interval.",
                f"increase(colo_frr_bgp_peer_connections_dropped_total{{{F}}}[$__rate_interval])",
            ),
            _per_peer(
                "Updates received /s",
                "BGP UPDATE messages received per second: churn from the peer.",
                f'rate(colo_frr_bgp_peer_messages_received_total{{{F}, type="update"}}[$__rate_interval])',
            ),
            state_timeline(
                "Daemons",
                "Whether each FRR daemon was read in each scrape.",
                targets((f"colo_frr_up{{{F}}}", "{{frr_instance}} {{daemon}}")),
                **up_down(),
            ),
            status_table(
                "Expected advertisements",
                "Each configured prefix and peer: advertised or missing.",
                f"colo_frr_bgp_prefix_advertised{{{F}}}",
                "Advertised",
                ADVERTISED,
                w=24,
                h=5,
            ),
        ],
    )
    bfd = Row(
        "BFD",
        [
            state_timeline(
                "BFD peers",
                "BFD session state per peer.",
                targets((f"colo_frr_bfd_peer_up{{{F}}}", "{{frr_instance}} {{peer}} ({{interface}})")),
                **up_down(),
            ),
            _per_peer(
                "BFD session downs",
                "BFD sessions that went down per interval (fast failure detection firing).",
                f"increase(colo_frr_bfd_peer_session_down_total{{{F}}}[$__rate_interval])",
            ),
        ],
    )
    vrrp = Row(
        "VRRP",
        [
            state_timeline(
                "VRRP state",
                "VRRP state per router and virtual router id.",
                targets((f"colo_frr_vrrp_state{{{F}}}", "{{frr_instance}} vrid {{vrid}} {{family}}")),
                mappings=VRRP_STATE,
            ),
            vrrp_masters(
                "Masters per vrid",
                "Routers that are Master for each vrid: exactly 1 is right, 0 means no gateway, "
                "2 a split brain.",
                f'{SEL}, job=~"$job"',
                w=6,
                h=8,
            ),
            timeseries(
                "VRRP transitions",
                "State changes per interval.",
                targets(
                    (
                        f"increase(colo_frr_vrrp_transitions_total{{{F}}}[$__rate_interval])",
                        "{{frr_instance}} vrid {{vrid}} {{family}}",
                    )
                ),
                "short",
                w=6,
                h=8,
                min_=0,
            ),
        ],
    )
    routes = Row(
        "Routes",
        [
            graph(
                "RIB routes by protocol",
                "Routes in zebra's RIB per address family and protocol.",
                f"colo_frr_rib_routes{{{F}}}",
                "{{frr_instance}} {{family}} {{protocol}}",
            ),
            graph(
                "Scrape time per daemon",
                "How long reading each daemon took.",
                f"colo_frr_scrape_duration_seconds{{{F}}}",
                "{{frr_instance}} {{daemon}}",
                "s",
            ),
        ],
    )
    return Board(
        "colo-frr",
        "Colo / FRR routers",
        "The routers through colo-frr-exporter: BGP to the provider, BFD, VRRP, routes.",
        [bgp, bfd, vrrp, routes],
        [
            label_var("job", "Job", f"colo_frr_up{{{SEL}}}"),
            label_var("frr_instance", "FRR instance", f'colo_frr_up{{{SEL}, job=~"$job"}}'),
        ],
    ).build()
