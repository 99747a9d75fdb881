"""Colo / LXD cluster: colo-lxd-exporter."""

from __future__ import annotations

from .. import config
from .core import (
    FULLNESS,
    Board,
    Json,
    Row,
    bargauge,
    coloured,
    exporter_up,
    graph,
    label_var,
    mirrored,
    stat,
    steps,
    table,
    targets,
    up_down,
)
from .core import values as vmap

SEL = config.SELECTORS["lxd"]
F = f'{SEL}, project=~"$project", location=~"$location"'
MEMBER_STATE = vmap(
    **{
        "Online": ("Online", "green"),
        "Evacuated": ("Evacuated", "blue"),
        "Offline": ("Offline", "red"),
        "Blocked": ("Blocked", "orange"),
        "other": ("other", "red"),
    }
)


def _rate(metric: str) -> str:
    return f"rate(colo_lxd_instance_{metric}{{{F}}}[$__rate_interval])"


def _share(title: str, description: str, used: str, limit: str, on: str, legend: str) -> Json:
    """Use over limit per instance, `used` and `limit` matched on the labels `on`."""
    expr = f"colo_lxd_instance_{used}{{{F}}} / on ({on}) colo_lxd_instance_{limit}{{{F}}}"
    return graph(
        title,
        description,
        expr,
        legend,
        "percentunit",
        min_=0,
        thresholds=steps((None, "green"), (0.9, "red")),
    )


def running_per_member(sel: str) -> str:
    """Running instances on each member (also on the rack view)."""
    return f'sum by (location) (colo_lxd_instance_state{{{sel}, state="running"}})'


def _sum(metric: str) -> str:
    """The instance's rate of `metric` over all its devices."""
    return f"sum by (project, name) ({_rate(metric)})"


def board() -> Json:
    cluster = Row(
        "Cluster",
        [
            exporter_up(
                "Exporter collectors",
                "Each collector of colo-lxd-exporter (instances, cluster, pools, projects): "
                "down means that part of this dashboard is stale.",
                targets((f"colo_lxd_up{{{SEL}}}", "{{collector}}")),
                w=6,
                h=5,
            ),
            stat(
                "Cluster members online",
                "1 per member whose status is Online; an evacuated member shows 0 here "
                "and Evacuated in the table.",
                targets(
                    (
                        f'max by (member) (colo_lxd_cluster_member_state{{{SEL}, state="Online"}})',
                        "{{member}}",
                    )
                ),
                w=6,
                h=5,
                **up_down("not online", "Online"),
            ),
            table(
                "Member status and roles",
                "Each member's current status, failure domain, URL and message.",
                targets(
                    f"max by (member, state) (colo_lxd_cluster_member_state{{{SEL}}}) == 1",
                    f"max by (member, failure_domain, url, message) (colo_lxd_cluster_member_info{{{SEL}}})",
                ),
                merge=True,
                hide=("Time", "Value #A", "Value #B"),
                columns={"state": coloured(MEMBER_STATE, "text")},
            ),
            bargauge(
                "Running instances per member",
                "Running instances on each member (location).",
                targets((running_per_member(F), "{{location}}")),
            ),
            bargauge(
                "Instances per project and status",
                "Instances by project and status (statuses with none are left out).",
                targets(
                    (f"sum by (project, state) (colo_lxd_instance_state{{{F}}}) > 0", "{{project}} {{state}}")
                ),
            ),
            table(
                "Instances not running",
                "Instances whose status is not running (stopped, frozen, error); empty when everything runs.",
                targets(f'colo_lxd_instance_state{{{F}, state!="running"}} == 1'),
                w=8,
                h=6,
                hide=("Time", "Value", "__name__", "job", "instance"),
            ),
        ],
    )
    instances = Row(
        "Instances",
        [
            graph(
                "CPU (cores used)",
                "CPU time per second: 1 = one core busy.",
                _rate("cpu_seconds_total"),
                "{{project}}/{{name}}",
                min_=0,
            ),
            graph(
                "Memory in use",
                "Memory each instance uses (cgroup usage; VMs as their agent reports).",
                f"colo_lxd_instance_memory_usage_bytes{{{F}}}",
                "{{project}}/{{name}}",
                "bytes",
            ),
            _share(
                "Memory use / limit",
                "Memory in use over `limits.memory`, for instances that have a limit.",
                "memory_usage_bytes",
                "memory_limit_bytes",
                "project, name, location",
                "{{project}}/{{name}}",
            ),
            graph(
                "Processes",
                "Processes running in each instance.",
                f"colo_lxd_instance_processes{{{F}}}",
                "{{project}}/{{name}}",
            ),
            mirrored(
                "Network traffic",
                "Bits per second per instance, all its interfaces: received above the "
                "axis, transmitted below.",
                (f"{_sum('network_receive_bytes_total')} * 8", "{{project}}/{{name}} in"),
                (f"{_sum('network_transmit_bytes_total')} * 8", "{{project}}/{{name}} out"),
                "bps",
            ),
            graph(
                "Network errors and drops",
                "Errored and dropped packets per second, both directions.",
                f"sum by (project, name) ({_rate('network_receive_errs_total')} + "
                f"{_rate('network_transmit_errs_total')} + {_rate('network_receive_drop_total')} + "
                f"{_rate('network_transmit_drop_total')})",
                "{{project}}/{{name}}",
                "pps",
                min_=0,
            ),
            mirrored(
                "Disk throughput",
                "Bytes per second read (above the axis) and written (below) per instance.",
                (_sum("disk_read_bytes_total"), "{{project}}/{{name}} read"),
                (_sum("disk_written_bytes_total"), "{{project}}/{{name}} write"),
                "Bps",
            ),
            mirrored(
                "Disk operations",
                "Completed reads (above the axis) and writes (below) per second.",
                (_sum("disk_reads_completed_total"), "{{project}}/{{name}} reads"),
                (_sum("disk_writes_completed_total"), "{{project}}/{{name}} writes"),
                "iops",
            ),
            _share(
                "Disk use / quota",
                "Disk usage over the disk device's size, where the storage driver "
                "reports usage (btrfs, zfs, lvm; not dir).",
                "disk_usage_bytes",
                "disk_quota_bytes",
                "project, name, location, device",
                "{{project}}/{{name}} {{device}}",
            ),
        ],
    )
    pools = Row(
        "Storage pools",
        [
            bargauge(
                "Pool usage",
                "Space used over pool size, per pool and member.",
                targets(
                    (
                        f"colo_lxd_storage_pool_used_bytes{{{SEL}}} / on (pool, member) "
                        f"colo_lxd_storage_pool_size_bytes{{{SEL}}}",
                        "{{pool}} @ {{member}}",
                    )
                ),
                "percentunit",
                w=12,
                h=7,
                min_=0,
                max_=1,
                thresholds=FULLNESS,
            ),
            graph(
                "Pool space used",
                "Space used per pool and member.",
                f"colo_lxd_storage_pool_used_bytes{{{SEL}}}",
                "{{pool}} @ {{member}}",
                "bytes",
                h=7,
            ),
        ],
    )
    return Board(
        "colo-lxd",
        "Colo / LXD cluster",
        "The LXD cluster through colo-lxd-exporter: members, instances, storage pools.",
        [cluster, instances, pools],
        [
            label_var("project", "Project", f"colo_lxd_instance_info{{{SEL}}}"),
            label_var("location", "Member", f"colo_lxd_instance_info{{{SEL}}}"),
        ],
    ).build()
