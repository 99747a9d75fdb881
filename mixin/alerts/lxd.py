"""alerts/lxd.yml: colo-lxd-exporter (cluster members, instances, storage pools).

The weekly reboot: the operator evacuates a member, reboots it, restores it. `colo:lxd_member_maintenance`
latches from the member's Evacuated state until it is seen Online again, through the reboot's Offline (and
through the blind minutes when the only exporter that saw it is on it); LxdClusterMemberInMaintenance
(severity info: no notification) carries the member in `host`, and Alertmanager inhibits every alert of
that host meanwhile (docs/alerts.md).
"""

from __future__ import annotations

from .common import Ctx, exporter_alerts, held_alert, host_from, source_down
from .model import Alert, Cond, Group, Record, W, held, seconds, sel

MAINT = "colo:lxd_member_maintenance"


def fresh(*collectors: str) -> str:
    """Every one of `collectors` read in the last scrape (the alerts on their data hold otherwise)."""
    each = [f"{sel('colo_lxd_up', collector=c)} == 1" for c in collectors]
    return each[0] if len(each) == 1 else "(" + " and on (job, instance) ".join(each) + ")"


def groups(ctx: Ctx) -> list[Group]:
    c, t = ctx.sub("lxd"), ctx.t
    state = "colo_lxd_cluster_member_state"
    latch = t("5m")

    def inst_error(w: W) -> str:
        return f"{w(sel('colo_lxd_instance_state', state='error'))} == 1"

    def critical_stopped(w: W) -> str:
        return (
            f"{w(sel('colo_lxd_instance_state', state='running'))} == 0\n"
            f"and on (project, name) {w(sel('colo_lxd_instance_info', user_monitor='critical'))}"
        )

    offline = sel(state, state="~Offline|Blocked")
    member_offline = (
        f"max by (member, state) ({offline}) == 1\n"
        f"or (\n  max by (member, state) (last_over_time({offline}[{ctx.hold}])) == 1\n"
        f"  unless on (member) {state}\n)"
    )

    def memory(w: W) -> str:
        usage, limit = "colo_lxd_instance_memory_usage_bytes", "colo_lxd_instance_memory_limit_bytes"
        return f"{w(usage)} / {w(limit)} > {c['memory_ratio']}"

    def disk(w: W) -> str:
        usage, quota = "colo_lxd_instance_disk_usage_bytes", "colo_lxd_instance_disk_quota_bytes"
        return f"{w(usage)} / {w(quota)} > {c['disk_ratio']}"

    def pool_used(w: W) -> str:
        return f"{w('colo_lxd_storage_pool_used_bytes')} / {w('colo_lxd_storage_pool_size_bytes')}"

    def pool_nearly_full(w: W) -> str:
        return f"{pool_used(w)} > {c['pool_ratio']}\nunless {pool_used(w)} > {c['pool_full_ratio']}"

    def pool_full(w: W) -> str:
        return f"{pool_used(w)} > {c['pool_full_ratio']}"

    # What each alert reads, by collector (docs/lxd.md): instance state, config and limits from `instances`,
    # memory use from `counters` (the daemon's /1.0/metrics), disk use and quota from `disk` (the background
    # refresh), pools from `storage_pools`.
    def hold(cond: Cond, *collectors: str) -> str:
        return held(cond, ctx.hold, "job, instance", fresh(*collectors))

    def instance(
        name: str, expr: str, severity: str, for_key: str, summary: str, description: str, comment: str = ""
    ) -> Alert:
        """An alert on an instance's held data, with `host` from the instance's location."""
        expr = host_from("location", expr)
        return held_alert(ctx, name, expr, severity, "instance", c[for_key], summary, description, comment)

    def pool(name: str, cond: Cond, severity: str, for_key: str, description: str) -> Alert:
        """An alert on a storage pool's fill, held while storage_pools fails, with `host` from its member."""
        return held_alert(
            ctx,
            name,
            host_from("member", hold(cond, "storage_pools")),
            severity,
            "cluster",
            c[for_key],
            "LXD storage pool {{ $labels.pool }} on {{ $labels.member }} is "
            "{{ $value | humanizePercentage }} full",
            description,
        )

    def monitoring(name: str, expr: str, for_key: str, summary: str, description: str) -> Alert:
        """A warning about the exporter itself: what it cannot read, or reads late."""
        return Alert(
            name,
            expr,
            "warning",
            "monitoring",
            summary,
            description,
            for_=t(c[for_key]),
            labels={"exporter": "lxd"},
        )

    in_maintenance = host_from("member", f"{MAINT} == 1")
    # Not scaled with the rules (the lab's exporters refresh every disk_interval whatever the scale).
    stale_after = seconds(c["disk_stale_after"])
    rules = [
        *exporter_alerts(ctx, "lxd", "Lxd", "colo-lxd-exporter", "the LXD servers"),
        monitoring(
            "LxdCollectorFailing",
            source_down(ctx, "colo_lxd_up"),
            "collector_for",
            "LXD collector {{ $labels.collector }} fails on {{ $labels.instance }}",
            "The exporter cannot read {{ $labels.collector }} from LXD; its log says why (connect, "
            "permission, auth, timeout, malformed). The alerts on what it reads keep their last known state "
            "meanwhile.",
        ),
        monitoring(
            "LxdDiskUsageStale",
            f"colo_lxd_instance_disk_usage_age_seconds > {stale_after:g}",
            "disk_stale_for",
            "Disk usage from {{ $labels.instance }} is {{ $value | humanizeDuration }} old",
            "colo-lxd-exporter last read disk usage, quotas and peak memory {{ $value | humanizeDuration }} "
            "ago, and its last attempt did not fail: the background refresh (every disk_interval, 60 s by "
            "default) is stuck. LxdInstanceDiskNearQuota sees values that old meanwhile.",
        ),
        Record(
            MAINT,
            f"max by (member) ({sel(state, state='Evacuated')}) == 1\n"
            f"or (\n  max by (member) (last_over_time({MAINT}[{latch}]))\n"
            f"  unless on (member) max by (member) ({sel(state, state='Online')}) == 1\n"
            f")\nand on (member) max by (member) (last_over_time({state}[{ctx.hold}]))",
            comment="1 from the member's Evacuated state until it is seen Online again (through the Offline "
            "of its reboot,\nand while no exporter sees it, up to the blind hold).",
        ),
        Alert(
            "LxdClusterMemberInMaintenance",
            in_maintenance,
            "info",
            "cluster",
            "LXD cluster member {{ $labels.member }} is in maintenance",
            "{{ $labels.member }} was evacuated and is not Online yet. Alerts about host {{ $labels.host }} "
            f"are inhibited meanwhile, and for {ctx.cfg['maintenance_grace']} after it is restored.",
            keep_firing_for=t(ctx.cfg["maintenance_grace"]),
            comment="No notification (severity info): it inhibits the alerts of its host in Alertmanager.",
        ),
        Alert(
            "LxdClusterMemberEvacuatedTooLong",
            in_maintenance,
            "warning",
            "cluster",
            "LXD cluster member {{ $labels.member }} has been evacuated for over "
            f"{c['evacuated_too_long']}",
            "Run `lxc cluster restore {{ $labels.member }}` (Incus: `incus cluster restore`) once its "
            "maintenance is done; until then the cluster runs without its capacity (and alerts about it are "
            "inhibited).",
            for_=t(c["evacuated_too_long"]),
        ),
        Alert(
            "LxdClusterMemberOffline",
            host_from("member", member_offline),
            "critical",
            "cluster",
            "LXD cluster member {{ $labels.member }} is {{ $labels.state }}",
            "Member {{ $labels.member }} is {{ $labels.state }}; its instances are unreachable (they show as "
            "Error). A member that was evacuated first is in maintenance instead.",
            for_=t(c["member_offline_for"]),
            comment=(
                "Every exporter reports every member: one alert per member. Held while no exporter "
                "reports it."
            ),
        ),
        instance(
            "LxdInstanceError",
            hold(inst_error, "instances"),
            "warning",
            "instance_error_for",
            "LXD instance {{ $labels.project }}/{{ $labels.name }} is in Error",
            "{{ $labels.type }} {{ $labels.project }}/{{ $labels.name }} on {{ $labels.location }} reports "
            "status Error (often: its member is unreachable).",
        ),
        instance(
            "LxdCriticalInstanceNotRunning",
            hold(critical_stopped, "instances"),
            "critical",
            "critical_not_running_for",
            "Critical LXD instance {{ $labels.project }}/{{ $labels.name }} is not running",
            "{{ $labels.project }}/{{ $labels.name }} (user.monitor=critical) on {{ $labels.location }} has "
            f"not been running for {c['critical_not_running_for']}.",
            comment="Opt in per instance: `lxc config set <name> user.monitor=critical`, and list "
            "user.monitor in the exporter's user_labels.",
        ),
        instance(
            "LxdInstanceMemoryNearLimit",
            hold(memory, "counters", "instances"),
            "warning",
            "memory_for",
            "LXD instance {{ $labels.project }}/{{ $labels.name }} uses {{ $value | humanizePercentage }} of "
            "its memory limit",
            "Raise limits.memory or find what grows; near the limit the kernel reclaims cache and then kills "
            "processes.",
        ),
        instance(
            "LxdInstanceDiskNearQuota",
            hold(disk, "disk"),
            "warning",
            "disk_for",
            "Disk {{ $labels.device }} of {{ $labels.project }}/{{ $labels.name }} is "
            "{{ $value | humanizePercentage }} full",
            "Grow the disk device's size, or clean up inside the instance; a full root disk stops most "
            "services.",
        ),
        pool(
            "LxdStoragePoolNearlyFull",
            pool_nearly_full,
            "warning",
            "pool_for",
            f"Over {c['pool_ratio']:.0%} of the pool is used: delete old snapshots and images, or grow the "
            "pool.",
        ),
        pool(
            "LxdStoragePoolFull",
            pool_full,
            "critical",
            "pool_full_for",
            f"Over {c['pool_full_ratio']:.0%} of the pool is used: instances on it will fail to write soon.",
        ),
    ]
    return [Group("colo-lxd", rules)]
