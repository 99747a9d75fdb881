"""alerts/ceph.yml (optional): Ceph basics on the ceph-mgr `prometheus` module's standard names, for
sites with Ceph (the rack view reads capacity and health from it). Load this file only if you scrape the
module, in jobs the `ceph` selector matches. OSD alerts carry `host` from ceph_osd_metadata's hostname,
so a member in maintenance inhibits its own OSDs."""

from __future__ import annotations

from .common import Ctx
from .model import Alert, Group


def groups(ctx: Ctx) -> list[Group]:
    c, t = ctx.sub("ceph"), ctx.t
    s = ctx.selectors["ceph"]
    meta = f'label_replace(ceph_osd_metadata{{{s}}}, "host", "$1", "hostname", "(.*)")'
    host = f"* on (ceph_daemon) group_left (host) {meta}"
    used = f"ceph_cluster_total_used_bytes{{{s}}} / ceph_cluster_total_bytes{{{s}}}"

    def ceph(name: str, expr: str, severity: str, for_key: str, summary: str, description: str) -> Alert:
        return Alert(name, expr, severity, "ceph", summary, description, for_=t(c[for_key]))

    def health(level: str, state: str, status: int, severity: str) -> Alert:
        """CephHealth<level>: the cluster in HEALTH_<state> (ceph_health_status `status`)."""
        for_key = f"health_{level.lower()}_for"
        return ceph(
            f"CephHealth{level}",
            f"ceph_health_status{{{s}}} == {status}",
            severity,
            for_key,
            f"Ceph is in HEALTH_{state}",
            f"The cluster has been in HEALTH_{state} for {c[for_key]}; `ceph health detail` says why.",
        )

    rules = [
        health("Error", "ERR", 2, "critical"),
        health("Warning", "WARN", 1, "warning"),
        ceph(
            "CephMonQuorumAtRisk",
            f"count by (job) (ceph_mon_quorum_status{{{s}}} == 1)\n"
            f"  <= floor(count by (job) (ceph_mon_metadata{{{s}}}) / 2) + 1",
            "critical",
            "quorum_for",
            "Ceph monitor quorum is at risk",
            "Only {{ $value }} monitors are in quorum: losing one more stops the cluster. Check the monitors "
            "that are out (`ceph mon stat`).",
        ),
        ceph(
            "CephOSDDown",
            f"(ceph_osd_up{{{s}}} == 0) {host}",
            "warning",
            "osd_down_for",
            "Ceph {{ $labels.ceph_daemon }} on {{ $labels.host }} is down",
            "The OSD is down: its placement groups run degraded until it is back or out "
            "(`ceph osd tree down`).",
        ),
        ceph(
            "CephOSDNearFull",
            f"(ceph_osd_stat_bytes_used{{{s}}} / ceph_osd_stat_bytes{{{s}}} > {c['osd_nearfull_ratio']}) "
            f"{host}",
            "warning",
            "full_for",
            "Ceph {{ $labels.ceph_daemon }} on {{ $labels.host }} is {{ $value | humanizePercentage }} full",
            "An OSD past the nearfull ratio; at the full ratio the cluster stops writes. Rebalance "
            "(`ceph osd df`), or add capacity.",
        ),
        ceph(
            "CephClusterNearFull",
            f"{used} > {c['cluster_nearfull_ratio']}\nunless {used} > {c['cluster_full_ratio']}",
            "warning",
            "full_for",
            "Ceph is {{ $value | humanizePercentage }} full",
            f"Over {c['cluster_nearfull_ratio']:.0%} of the raw capacity is used.",
        ),
        ceph(
            "CephClusterFull",
            f"{used} > {c['cluster_full_ratio']}",
            "critical",
            "full_for",
            "Ceph is {{ $value | humanizePercentage }} full",
            f"Over {c['cluster_full_ratio']:.0%} of the raw capacity is used: OSDs reach their full ratio "
            "soon and the cluster stops writes.",
        ),
        ceph(
            "CephPGsInactive",
            f"ceph_pg_total{{{s}}} - ceph_pg_active{{{s}}} > 0",
            "critical",
            "pgs_inactive_for",
            "{{ $value }} placement groups of pool {{ $labels.pool_id }} are inactive",
            "Inactive placement groups serve no I/O: data on them is unavailable (`ceph pg dump_stuck "
            "inactive`).",
        ),
    ]
    return [Group("colo-ceph", rules)]
