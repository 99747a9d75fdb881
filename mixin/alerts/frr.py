"""alerts/frr.yml: colo-frr-exporter (BGP, BFD, VRRP, expected advertisements).

Labels from the exporter: frr_instance, daemon, vrf, peer, peer_as, local_as, afi_safi; Prometheus adds
job and instance (the exporter), and `host` where the router runs on a cluster member. A session that is
down explains its BFD peer and its missing advertisements: only the session alerts.

What a daemon can be read for is `colo_frr_collector_success{daemon,collector}`, not `colo_frr_up` (which
is 1 whenever the daemon answered): the sessions come from the `neighbors` or the `summary` reply, the
prefix counts from the summary only, each expected advertisement from its own `advertised:<vrf>:<prefix>`
lookup, BFD from `peers`, VRRP from `vrrp`. While what an alert reads cannot be read, the alert keeps its
last known state (as while the exporter is down), and FrrCollectorFailing says why.
"""

from __future__ import annotations

from .common import Ctx, exporter_alerts, held_alert, source_down
from .model import Alert, Cond, Group, W, either, fmt, held, indent, seconds, sel

INST = "job, instance, frr_instance"
SESSION = f"{INST}, vrf, peer"
BFD = f"{SESSION}, local, interface"


SUCCESS = "colo_frr_collector_success"
ERRORS = "colo_frr_scrape_errors_total"
# Where each alert's data comes from: (daemon, collectors); fresh while one of them was read.
SESSIONS = ("bgpd", "summary|neighbors")
PREFIXES = ("bgpd", "summary")
BFD_PEERS = ("bfdd", "peers")
VRRP = ("vrrpd", "vrrp")
# colo_frr_bgp_prefix_advertised{vrf, prefix} comes from collector "advertised:<vrf>:<prefix>".
ADVERTISED = ("advertised:([^:]*):.*", "advertised:[^:]*:(.*)")


def fresh(source: tuple[str, str]) -> str:
    daemon, collectors = source
    rx = collectors if "|" not in collectors else "~" + collectors
    return f"{sel(SUCCESS, daemon=daemon, collector=rx)} == 1"


def with_target(expr: str) -> str:
    """An advertisement collector's series with the `vrf` and `prefix` its name holds (for joins and
    inhibitions: the advertisement alerts carry them)."""
    vrf, prefix = ADVERTISED
    return (
        f'label_replace(label_replace(\n{indent(expr)},\n  "vrf", "$1", "collector", "{vrf}"),\n'
        f'  "prefix", "$1", "collector", "{prefix}")'
    )


def groups(ctx: Ctx) -> list[Group]:
    c, t = ctx.sub("frr"), ctx.t

    def known(metric: str, source: tuple[str, str]) -> str:
        """`metric`, and its last value where `source` cannot be read now (the exporter is down or the
        collector fails): what is known, for the conditions one alert takes from another collector."""
        last = f"last_over_time({metric}[{ctx.hold}])"
        return f"(\n  {metric}\n  or ({last} unless on ({INST}) {fresh(source)})\n)"

    bgp_up = known("colo_frr_bgp_peer_up", SESSIONS)

    def session(
        name: str,
        cond: Cond,
        source: tuple[str, str],
        severity: str,
        for_key: str,
        summary: str,
        description: str,
        comment: str = "",
    ) -> Alert:
        """An alert on a BGP or BFD session, held while `source` cannot be read."""
        expr = held(cond, ctx.hold, INST, fresh(source))
        return held_alert(ctx, name, expr, severity, "router", c[for_key], summary, description, comment)

    def session_down(w: W) -> str:
        return (
            f"{w('colo_frr_bgp_peer_up')} == 0\n"
            f"unless on ({SESSION}) {w('colo_frr_bgp_peer_admin_shutdown')} == 1"
        )

    def bfd_down(w: W) -> str:
        return (
            f"(\n  {w('colo_frr_bfd_peer_up')} == 0\n"
            f"  unless on ({BFD}) {w('colo_frr_bfd_peer_admin_shutdown')} == 1\n)\n"
            f"unless on ({SESSION}) {bgp_up} == 0"
        )

    def advert_missing(w: W) -> str:
        return f"{w('colo_frr_bgp_prefix_advertised')} == 0\nunless on ({SESSION}) {bgp_up} == 0"

    def advert_fresh() -> str:
        return with_target(f"{sel(SUCCESS, daemon='bgpd', collector='~advertised:.+')} == 1")

    rx = "colo_frr_bgp_peer_received_prefixes"
    base = f"avg_over_time({rx}[{t(c['prefixes_baseline'])}])"

    def prefixes_zero(w: W) -> str:
        return f"{w(rx)} == 0\nand on ({SESSION}) {bgp_up} == 1\nand max_over_time({rx}[{t('6h')}]) > 0"

    def prefixes_low(w: W) -> str:
        return (
            f"{w(rx)} < {c['prefixes_low_ratio']} * {base}\n"
            f"and {w(rx)} > 0\n"
            f"and {base} >= {c['prefixes_low_min']}\n"
            f"and on ({SESSION}) {bgp_up} == 1"
        )

    def collector_failing(window: str, w: W) -> str:
        # A command this FRR release does not know is 0 too, but never counted as an error: only
        # collectors of an exporter that counts command or reply errors are failing.
        return (
            f"{w(SUCCESS)} == 0\n"
            f"and on (job, instance) increase({sel(ERRORS, reason='~command|malformed')}[{window}]) > 0"
        )

    failing_window = t(c["collector_for"])
    # Held like the others, except that the held branch counts errors over the whole hold.
    failing = with_target(
        either(
            collector_failing(failing_window, lambda x: x),
            collector_failing(ctx.hold, lambda x: f"last_over_time({x}[{ctx.hold}])"),
            "job, instance",
            "up == 1",
        )
    )
    # The VRRP routers of one vrid: a router whose state cannot be read now and was master last is
    # probably still master (the others would have taken over within seconds); as unknown, it is not.
    vrrp = "colo_frr_vrrp_state"
    blind_master = f"(last_over_time({vrrp}[{ctx.hold}]) == 2 unless on ({INST}) {fresh(VRRP)})"
    rules = [
        *exporter_alerts(ctx, "frr", "Frr", "colo-frr-exporter", "the routers"),
        Alert(
            "FrrDaemonDown",
            source_down(ctx, "colo_frr_up"),
            "critical",
            "router",
            "FRR {{ $labels.daemon }} of {{ $labels.frr_instance }} does not answer",
            "The exporter on {{ $labels.instance }} cannot read {{ $labels.daemon }} of FRR instance "
            "{{ $labels.frr_instance }} (daemon stopped, socket missing, permission, or a bad reply: see "
            "colo_frr_scrape_errors_total and the exporter's log). Its session alerts keep their last state.",
            for_=t(c["daemon_down_for"]),
        ),
        session(
            "FrrBgpSessionDown",
            session_down,
            SESSIONS,
            "critical",
            "session_down_for",
            "BGP session {{ $labels.frr_instance }} -> {{ $labels.peer }} (AS{{ $labels.peer_as }}) is down",
            "The BGP session from {{ $labels.frr_instance }} (vrf {{ $labels.vrf }}) to {{ $labels.peer }} "
            "AS{{ $labels.peer_as }} is not Established and not admin shutdown here; "
            "colo_frr_bgp_peer_state and colo_frr_bgp_peer_last_reset_info say more.",
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
        session(
            "FrrBgpPrefixesReceivedZero",
            prefixes_zero,
            PREFIXES,
            "critical",
            "prefixes_zero_for",
            "No prefixes from {{ $labels.peer }} on {{ $labels.frr_instance }} ({{ $labels.afi_safi }})",
            "The session to {{ $labels.peer }} AS{{ $labels.peer_as }} is up but the prefixes received in "
            "{{ $labels.afi_safi }} dropped to 0.",
            comment=(
                "Established, but the peer now sends nothing in this address family where it sent routes "
                "before."
            ),
        ),
        session(
            "FrrBgpPrefixesReceivedLow",
            prefixes_low,
            PREFIXES,
            "warning",
            "prefixes_low_for",
            "Few prefixes from {{ $labels.peer }} on {{ $labels.frr_instance }} ({{ $labels.afi_safi }})",
            f"{{{{ $labels.peer }}}} AS{{{{ $labels.peer_as }}}} sends {{{{ $value }}}} prefixes in "
            f"{{{{ $labels.afi_safi }}}}, under {c['prefixes_low_ratio']:.0%} of its average over the last "
            f"{c['prefixes_baseline']}: a filter, a partial outage at the peer, or a maximum-prefix limit.",
        ),
        session(
            "FrrBfdPeerDown",
            bfd_down,
            BFD_PEERS,
            "critical",
            "bfd_down_for",
            "BFD peer {{ $labels.peer }} of {{ $labels.frr_instance }} is down",
            "BFD from {{ $labels.frr_instance }} ({{ $labels.interface }}) to {{ $labels.peer }} is down: "
            "the "
            "link or the peer does not answer. (A BGP session down to the same peer alerts instead.)",
        ),
        Alert(
            "FrrVrrpNoMaster",
            f"{vrrp} < 2\nunless on (vrid, family) {vrrp} == 2\nunless on (vrid, family) {blind_master}",
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
        held_alert(
            ctx,
            "FrrExpectedAdvertisementMissing",
            held(advert_missing, ctx.hold, f"{INST}, vrf, prefix", advert_fresh()),
            "critical",
            "router",
            c["advertisement_for"],
            "{{ $labels.prefix }} is not advertised to {{ $labels.peer }} by {{ $labels.frr_instance }}",
            "{{ $labels.frr_instance }} (vrf {{ $labels.vrf }}) does not advertise {{ $labels.prefix }} to "
            "{{ $labels.peer }}, as the exporter's config expects, while the session is up.",
        ),
        Alert(
            "FrrCollectorFailing",
            failing,
            "warning",
            "monitoring",
            "FRR {{ $labels.daemon }} of {{ $labels.frr_instance }}: collector {{ $labels.collector }} fails",
            "{{ $labels.daemon }} of {{ $labels.frr_instance }} answers, but its {{ $labels.collector }} "
            f"command has failed for {c['collector_for']} (an error status, a `%` line or a reply that is "
            'not FRR\'s JSON: colo_frr_scrape_errors_total{reason="command"|"malformed"} and the '
            "exporter's log say which). The alerts on what it reads keep their last known state meanwhile.",
            for_=failing_window,
            # Resolves after FrrExporterDown (which inhibits it) and before the alerts it inhibits.
            keep_firing_for=fmt(seconds(ctx.delay) / 2),
            labels={"exporter": "frr"},
            comment="A command this FRR release does not know leaves its collector at 0 too, but uncounted "
            "(docs/frr.md):\nonly a collector 0 while the exporter counts command or reply errors fails.",
        ),
    ]
    return [Group("colo-frr", rules)]
