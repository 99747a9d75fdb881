"""alerts/lxd.yml under promtool: the weekly reboot (an evacuated member's Offline is maintenance, with its
member in `host` for Alertmanager to inhibit on), members, instances, pools, and the blind window."""

from __future__ import annotations

from pathlib import Path

from alerts_testlib import ALERTS, case, check, exporter_down, quiet_then, run, scrape_slow, series

RULES = [ALERTS / "lxd.yml"]
STATES = ("Online", "Evacuated", "Offline", "Blocked", "other")


def member_states(
    member: str, phases: list[tuple[str, int]], instances: tuple[str, ...]
) -> list[dict[str, str]]:
    """colo_lxd_cluster_member_state of `member` as every exporter in `instances` reports it: `phases` is
    a list of (state, minutes); "_" is a gap (nobody reports it)."""
    out = []
    for inst in instances:
        for st in STATES:
            vals = []
            for phase, n in phases:
                vals += ["_" if phase == "_" else ("1" if phase == st else "0")] * n
            out.append(
                series(
                    "colo_lxd_cluster_member_state",
                    " ".join(vals),
                    job="colo-lxd",
                    instance=inst,
                    member=member,
                    state=st,
                )
            )
    return out


def cluster(severity: str, **labels: str) -> dict[str, str]:
    return {**labels, "severity": severity, "object": "cluster"}


def maintenance(member: str) -> tuple[dict[str, str], str, str]:
    return (
        cluster("info", member=member, host=member),
        f"LXD cluster member {member} is in maintenance",
        f"{member} was evacuated and is not Online yet. Alerts about host {member} are inhibited meanwhile, "
        "and "
        "for 10m after it is restored.",
    )


def offline(member: str, state: str = "Offline") -> tuple[dict[str, str], str, str]:
    return (
        cluster("critical", member=member, state=state, host=member),
        f"LXD cluster member {member} is {state}",
        f"Member {member} is {state}; its instances are unreachable (they show as Error). A member that was "
        "evacuated first is in maintenance instead.",
    )


# The weekly reboot of m1 (three members, an exporter on each): evacuated 5 minutes, Offline for 4 (its
# exporter is down then), Evacuated again, restored. Maintenance covers all of it and 10 minutes more; the
# Offline alert fires too, with the same `host`, so Alertmanager inhibits it (tests/alerts/test_alerts_e2e
# checks that part). Later m2 crashes without being evacuated: Offline, no maintenance.
EXPORTERS = ("m1:9471", "m2:9471", "m3:9471")
REBOOT = case(
    "1m",
    [
        *member_states(
            "m1",
            [("Online", 5), ("Evacuated", 5), ("Offline", 4), ("Evacuated", 4), ("Online", 40)],
            EXPORTERS[1:],
        ),
        *member_states("m1", [("Online", 5), ("Evacuated", 5), ("_", 8), ("Online", 40)], EXPORTERS[:1]),
        *member_states("m2", [("Online", 40), ("Offline", 18)], EXPORTERS[::2]),
        *member_states("m3", [("Online", 58)], EXPORTERS),
    ],
    [
        *quiet_then("3m", "6m", "LxdClusterMemberInMaintenance", maintenance("m1")),
        check("12m", "LxdClusterMemberInMaintenance", maintenance("m1")),
        check("13m", "LxdClusterMemberOffline", offline("m1")),
        check("16m", "LxdClusterMemberInMaintenance", maintenance("m1")),
        check("16m", "LxdClusterMemberOffline"),
        check("27m", "LxdClusterMemberInMaintenance", maintenance("m1")),
        check("29m", "LxdClusterMemberInMaintenance"),
        check("45m", "LxdClusterMemberOffline", offline("m2")),
        check("45m", "LxdClusterMemberInMaintenance"),
    ],
)

# One exporter for the cluster, on the member being rebooted: while it is down nobody reports the member,
# and the maintenance latch holds (up to blind_hold). Evacuated for over 2h: reminded.
BLIND = case(
    "1m",
    [
        *member_states("m1", [("Online", 2), ("Evacuated", 3), ("_", 10), ("Evacuated", 200)], ("m1:9471",)),
    ],
    [
        check("10m", "LxdClusterMemberInMaintenance", maintenance("m1")),
        check("100m", "LxdClusterMemberEvacuatedTooLong"),
        check(
            "130m",
            "LxdClusterMemberEvacuatedTooLong",
            (
                cluster("warning", member="m1", host="m1"),
                "LXD cluster member m1 has been evacuated for over 2h",
                "Run `lxc cluster restore m1` (Incus: `incus cluster restore`) once its maintenance is done; "
                "until then the cluster runs without its capacity (and alerts about it are inhibited).",
            ),
        ),
    ],
)

# Three exporters (scope member) report every member: one alert per member; Blocked too.
MEMBERS = case(
    "1m",
    [
        *member_states("m3", [("Online", 2), ("Offline", 10)], ("m1:9471", "m2:9471")),
        *member_states("m2", [("Online", 2), ("Blocked", 10)], ("m1:9471", "m3:9471")),
        series(
            "colo_lxd_up", "1 0x10", job="colo-lxd", instance="m1:9471", host="m1", collector="storage_pools"
        ),
        series("up", "1x10", job="colo-lxd", instance="m1:9471", host="m1"),
    ],
    [
        *quiet_then("3m", "6m", "LxdClusterMemberOffline", offline("m2", "Blocked"), offline("m3")),
        check(
            "7m",
            "LxdCollectorFailing",
            (
                {
                    "job": "colo-lxd",
                    "instance": "m1:9471",
                    "host": "m1",
                    "collector": "storage_pools",
                    "severity": "warning",
                    "object": "monitoring",
                    "exporter": "lxd",
                },
                "LXD collector storage_pools fails on m1:9471",
                "The exporter cannot read storage_pools from LXD; its log says why (connect, permission, "
                "auth, timeout, malformed). The alerts on what it reads keep their last known state "
                "meanwhile.",
            ),
        ),
    ],
)

EXP = {"job": "colo-lxd", "instance": "m1:9471", "host": "m1"}
LBL = {**EXP, "project": "default", "location": "m1", "type": "container"}
# Standalone server: LXD's location is "none"; `host` stays what the scrape config gave.
SOLO = {
    "job": "colo-lxd",
    "instance": "solo:9471",
    "host": "solo",
    "project": "default",
    "location": "none",
    "type": "container",
}


def instance(severity: str, labels: dict[str, str], name: str, **more: str) -> dict[str, str]:
    return {
        **labels,
        "name": name,
        **more,
        "host": labels["host"] if labels["location"] == "none" else labels["location"],
        "severity": severity,
        "object": "instance",
    }


def not_running(labels: dict[str, str], name: str) -> tuple[dict[str, str], str, str]:
    return (
        instance("critical", labels, name, state="running"),
        f"Critical LXD instance default/{name} is not running",
        f"default/{name} (user.monitor=critical) on {labels['location']} has not been running for 5m.",
    )


def watched(labels: dict[str, str], name: str, running: str, info: str, monitor: str) -> list[dict[str, str]]:
    """An instance's colo_lxd_instance_state{state="running"} and colo_lxd_instance_info (user.monitor)."""
    return [
        series("colo_lxd_instance_state", running, **labels, name=name, state="running"),
        series(
            "colo_lxd_instance_info", info, **labels, name=name, architecture="x86_64", user_monitor=monitor
        ),
    ]


# What a fullness alert divides, per resource: (the usage metric, the metric of its limit).
USAGE = {
    "memory": ("colo_lxd_instance_memory_usage_bytes", "colo_lxd_instance_memory_limit_bytes"),
    "disk": ("colo_lxd_instance_disk_usage_bytes", "colo_lxd_instance_disk_quota_bytes"),
    "pool": ("colo_lxd_storage_pool_used_bytes", "colo_lxd_storage_pool_size_bytes"),
}


def usage(resource: str, used: str, limit: str, **labels: str) -> list[dict[str, str]]:
    """The usage and limit series of one `resource` (memory, disk or pool) with the same labels."""
    used_metric, limit_metric = USAGE[resource]
    return [series(used_metric, used, **labels), series(limit_metric, limit, **labels)]


INSTANCES = case(
    "1m",
    [
        series("up", "1x20", **EXP),
        series("colo_lxd_up", "1x20", **EXP, collector="instances"),
        *watched(LBL, "web", "0x10", "1x10", "critical"),
        *watched(LBL, "scratch", "0x10", "1x10", ""),
        *watched(SOLO, "dns", "0x10", "1x10", "critical"),
        series("colo_lxd_instance_state", "1x10", **LBL, name="db", state="error"),
        *usage("memory", "950x20", "1000x20", **LBL, name="db"),
        *usage("memory", "500x20", "1000x20", **LBL, name="web"),
        *usage("disk", "95x20", "100x20", **LBL, name="db", device="root"),
        *usage("pool", "90x20", "100x20", **EXP, pool="default", member="m1"),
        *usage("pool", "97x20", "100x20", **EXP, pool="fast", member="m1"),
    ],
    [
        check("6m", "LxdCriticalInstanceNotRunning", not_running(SOLO, "dns"), not_running(LBL, "web")),
        check(
            "6m",
            "LxdInstanceError",
            (
                instance("warning", LBL, "db", state="error"),
                "LXD instance default/db is in Error",
                "container default/db on m1 reports status Error (often: its member is unreachable).",
            ),
        ),
        check(
            "16m",
            "LxdInstanceMemoryNearLimit",
            (
                instance("warning", LBL, "db"),
                "LXD instance default/db uses 95% of its memory limit",
                "Raise limits.memory or find what grows; near the limit the kernel reclaims cache and then "
                "kills "
                "processes.",
            ),
        ),
        check(
            "16m",
            "LxdInstanceDiskNearQuota",
            (
                instance("warning", LBL, "db", device="root"),
                "Disk root of default/db is 95% full",
                "Grow the disk device's size, or clean up inside the instance; a full root disk stops most "
                "services.",
            ),
        ),
        check(
            "16m",
            "LxdStoragePoolNearlyFull",
            (
                cluster("warning", **EXP, pool="default", member="m1"),
                "LXD storage pool default on m1 is 90% full",
                "Over 85% of the pool is used: delete old snapshots and images, or grow the pool.",
            ),
        ),
        check(
            "16m",
            "LxdStoragePoolFull",
            (
                cluster("critical", **EXP, pool="fast", member="m1"),
                "LXD storage pool fast on m1 is 97% full",
                "Over 95% of the pool is used: instances on it will fail to write soon.",
            ),
        ),
    ],
)

MEMORY_DB = (
    instance("warning", LBL, "db"),
    "LXD instance default/db uses 95% of its memory limit",
    "Raise limits.memory or find what grows; near the limit the kernel reclaims cache and then kills "
    "processes.",
)
DISK_DB = (
    instance("warning", LBL, "db", device="root"),
    "Disk root of default/db is 95% full",
    "Grow the disk device's size, or clean up inside the instance; a full root disk stops most services.",
)
POOL_FULL = (
    cluster("critical", **EXP, pool="fast", member="m1"),
    "LXD storage pool fast on m1 is 97% full",
    "Over 95% of the pool is used: instances on it will fail to write soon.",
)

# The blind window: a critical instance is stopped, then the exporter cannot read LXD for 20 minutes
# (LXD restarting: the instance series go, colo_lxd_up{collector="instances"} is 0), then it is running.
BLIND_INSTANCE = case(
    "1m",
    [
        series("up", "1x40", **EXP),
        series("colo_lxd_up", "1x9 0x20 1x10", **EXP, collector="instances"),
        *watched(LBL, "web", "0x9 _x20 1x10", "1x9 _x20 1x10", "critical"),
    ],
    [
        check("8m", "LxdCriticalInstanceNotRunning", not_running(LBL, "web")),
        check("20m", "LxdCriticalInstanceNotRunning", not_running(LBL, "web")),
        check("31m", "LxdCriticalInstanceNotRunning", not_running(LBL, "web")),
        check("33m", "LxdCriticalInstanceNotRunning"),
    ],
)

DOWN = case(
    "1m",
    [
        series("up", "1 1 0x15", job="colo-lxd", instance="m1:9471", host="m1"),
        series("up", "0x17", job="node", instance="m1:9100"),
    ],
    [
        *quiet_then("4m", "10m", "LxdExporterDown", exporter_down("lxd", "colo-lxd", "m1:9471", host="m1")),
    ],
)

SLOW = case(
    "1m",
    [series("scrape_duration_seconds", "17x20", job="colo-lxd", instance="m1:9471")],
    [check("16m", "LxdExporterScrapeSlow", scrape_slow("lxd", "colo-lxd", "m1:9471", "17s"))],
)

# The collectors each alert reads (issue 14's blind window, per collector): memory near its limit
# (counters), a disk near its quota (disk, the background refresh), a pool full (storage_pools). Each
# collector fails from 10m to 29m (its series go, colo_lxd_up 0): the alerts keep their last state instead
# of resolving unseen; back at 30m with the fault gone, they resolve resolve_delay (2m) later.
COLLECTORS = case(
    "1m",
    [
        series("up", "1x40", **EXP),
        series("colo_lxd_up", "1x40", **EXP, collector="instances"),
        *(
            series("colo_lxd_up", "1x10 0x20 1x10", **EXP, collector=c)
            for c in ("counters", "disk", "storage_pools")
        ),
        *usage("memory", "950x10 _x20 500x10", "1000x40", **LBL, name="db"),
        *usage("disk", "95x10 _x20 50x10", "100x10 _x20 100x10", **LBL, name="db", device="root"),
        *usage("pool", "97x10 _x20 50x10", "100x10 _x20 100x10", **EXP, pool="fast", member="m1"),
    ],
    [
        check("9m", "LxdStoragePoolFull", POOL_FULL),
        *(
            check(at, name, want)
            for at in ("16m", "25m", "31m")
            for name, want in (
                ("LxdStoragePoolFull", POOL_FULL),
                ("LxdInstanceMemoryNearLimit", MEMORY_DB),
                ("LxdInstanceDiskNearQuota", DISK_DB),
            )
        ),
        *(
            check("33m", name)
            for name in ("LxdStoragePoolFull", "LxdInstanceMemoryNearLimit", "LxdInstanceDiskNearQuota")
        ),
    ],
)

# Disk data served with its age: a healthy exporter refreshes every minute (the age saws between 0 and
# 60 s); a stuck refresh ages on and on.
STALE = case(
    "1m",
    [
        series("colo_lxd_instance_disk_usage_age_seconds", "0+60x20", **EXP),
        series("colo_lxd_instance_disk_usage_age_seconds", "5 55 " * 10, job="colo-lxd", instance="m2:9471"),
    ],
    [
        check("9m", "LxdDiskUsageStale"),
        check(
            "12m",
            "LxdDiskUsageStale",
            (
                {**EXP, "severity": "warning", "object": "monitoring", "exporter": "lxd"},
                "Disk usage from m1:9471 is 12m 0s old",
                "colo-lxd-exporter last read disk usage, quotas and peak memory 12m 0s ago, and its last "
                "attempt did not fail: the background refresh (every disk_interval, 60 s by default) is "
                "stuck. LxdInstanceDiskNearQuota sees values that old meanwhile.",
            ),
        ),
    ],
)

CASES = [REBOOT, BLIND, MEMBERS, INSTANCES, BLIND_INSTANCE, DOWN, SLOW, COLLECTORS, STALE]


def test_lxd_alerts(tmp_path: Path) -> None:
    run(tmp_path, "lxd", RULES, CASES)
