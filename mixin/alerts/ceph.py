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
    rules = [
        Alert(
            "CephHealthError",
            f"ceph_health_status{{{s}}} == 2",
            "critical",
            "ceph",
            "Ceph is in HEALTH_ERR",
            f"The cluster has been in HEALTH_ERR for {c['health_error_for']}; `ceph health detail` says why.",
            for_=t(c["health_error_for"]),
        ),
        Alert(
            "CephHealthWarning",
            f"ceph_health_status{{{s}}} == 1",
            "warning",
            "ceph",
            "Ceph is in HEALTH_WARN",
            f"The cluster has been in HEALTH_WARN for {c['health_warning_for']}; `ceph health detail` says "
            "why.",
            for_=t(c["health_warning_for"]),
        ),
        Alert(
            "CephMonQuorumAtRisk",
            f"count by (job) (ceph_mon_quorum_status{{{s}}} == 1)\n"
            f"  <= floor(count by (job) (ceph_mon_metadata{{{s}}}) / 2) + 1",
            "critical",
            "ceph",
            "Ceph monitor quorum is at risk",
            "Only {{ $value }} monitors are in quorum: losing one more stops the cluster. Check the monitors "
            "that are out (`ceph mon stat`).",
            for_=t(c["quorum_for"]),
        ),
        Alert(
            "CephOSDDown",
            f"(ceph_osd_up{{{s}}} == 0) {host}",
            "warning",
            "ceph",
            "Ceph {{ $labels.ceph_daemon }} on {{ $labels.host }} is down",
            "The OSD is down: its placement groups run degraded until it is back or out "
            "(`ceph osd tree down`).",
            for_=t(c["osd_down_for"]),
        ),
        Alert(
            "CephOSDNearFull",
            f"(ceph_osd_stat_bytes_used{{{s}}} / ceph_osd_stat_bytes{{{s}}} > {c['osd_nearfull_ratio']}) "
            f"{host}",
            "warning",
            "ceph",
            "Ceph {{ $labels.ceph_daemon }} on {{ $labels.host }} is {{ $value | humanizePercentage }} full",
            "An OSD past the nearfull ratio; at the full ratio the cluster stops writes. Rebalance "
            "(`ceph osd df`), or add capacity.",
            for_=t(c["full_for"]),
        ),
        Alert(
            "CephClusterNearFull",
            f"{used} > {c['cluster_nearfull_ratio']}\nunless {used} > {c['cluster_full_ratio']}",
            "warning",
            "ceph",
            "Ceph is {{ $value | humanizePercentage }} full",
            f"Over {c['cluster_nearfull_ratio']:.0%} of the raw capacity is used.",
            for_=t(c["full_for"]),
        ),
        Alert(
            "CephClusterFull",
            f"{used} > {c['cluster_full_ratio']}",
            "critical",
            "ceph",
            "Ceph is {{ $value | humanizePercentage }} full",
            f"Over {c['cluster_full_ratio']:.0%} of the raw capacity is used: OSDs reach their full ratio "
            "soon "
            "and the cluster stops writes.",
            for_=t(c["full_for"]),
        ),
        Alert(
            "CephPGsInactive",
            f"ceph_pg_total{{{s}}} - ceph_pg_active{{{s}}} > 0",
            "critical",
            "ceph",
            "{{ $value }} placement groups of pool {{ $labels.pool_id }} are inactive",
            "Inactive placement groups serve no I/O: data on them is unavailable (`ceph pg dump_stuck "
            "inactive`).",
            for_=t(c["pgs_inactive_for"]),
        ),
    ]
    return [Group("colo-ceph", rules)]
