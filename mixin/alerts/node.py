"""alerts/node.yml (optional): server basics on node_exporter's standard names, for sites that run it
(the rack view reads CPU, memory, load and disks from it). Load this file only if you scrape
node_exporter, in jobs the `node` selector matches; give each target the `host` label (the member name)."""

from __future__ import annotations

from .common import Ctx, exporter_alerts
from .model import Alert, Group, indent

FS = (
    'fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.lxcfs",mountpoint!~"/run.*|/var/lib/lxd/.*|/var/snap/.*"'
)


def groups(ctx: Ctx) -> list[Group]:
    c, t = ctx.sub("node"), ctx.t
    s = ctx.selectors["node"]
    avail = (
        f"node_filesystem_avail_bytes{{{s},{FS}}} / node_filesystem_size_bytes{{{s},{FS}}}\n"
        f"and node_filesystem_readonly{{{s},{FS}}} == 0"
    )
    rules = [
        *exporter_alerts(ctx, "node", "Node", "node_exporter", "the server"),
        Alert(
            "NodeFilesystemAlmostOutOfSpace",
            f"(\n{indent(avail)}\n) < {c['fs_warning_ratio']}\n"
            f"unless (\n{indent(avail)}\n) < {c['fs_critical_ratio']}",
            "warning",
            "server",
            "{{ $labels.mountpoint }} on {{ $labels.instance }} has {{ $value | humanizePercentage }} space "
            "left",
            f"Less than {c['fs_warning_ratio']:.0%} of the filesystem on {{{{ $labels.device }}}} is free.",
            for_=t(c["fs_for"]),
        ),
        Alert(
            "NodeFilesystemFull",
            f"(\n{indent(avail)}\n) < {c['fs_critical_ratio']}",
            "critical",
            "server",
            "{{ $labels.mountpoint }} on {{ $labels.instance }} has {{ $value | humanizePercentage }} space "
            "left",
            f"Less than {c['fs_critical_ratio']:.0%} of the filesystem on {{{{ $labels.device }}}} is free: "
            "writes will fail soon.",
            for_=t(c["fs_for"]),
        ),
        Alert(
            "NodeFilesystemAlmostOutOfFiles",
            f"node_filesystem_files_free{{{s},{FS}}} / node_filesystem_files{{{s},{FS}}} < "
            f"{c['inodes_ratio']}\n"
            f"and node_filesystem_readonly{{{s},{FS}}} == 0",
            "warning",
            "server",
            "{{ $labels.mountpoint }} on {{ $labels.instance }} has {{ $value | humanizePercentage }} inodes "
            "left",
            "The filesystem runs out of inodes (many small files) before space.",
            for_=t(c["fs_for"]),
        ),
        Alert(
            "NodeMemoryHighUtilization",
            f"1 - node_memory_MemAvailable_bytes{{{s}}} / node_memory_MemTotal_bytes{{{s}}} > "
            f"{c['memory_ratio']}",
            "warning",
            "server",
            "{{ $labels.instance }} uses {{ $value | humanizePercentage }} of its memory",
            f"Less than {1 - c['memory_ratio']:.0%} of the memory is available for {c['busy_for']}; find the "
            "instance that grows (the rack dashboard's top consumers).",
            for_=t(c["busy_for"]),
        ),
        Alert(
            "NodeCPUHighUsage",
            f'1 - avg without (cpu, mode) (rate(node_cpu_seconds_total{{{s},mode="idle"}}[{t("5m")}]))'
            f" > {c['cpu_ratio']}",
            "warning",
            "server",
            "{{ $labels.instance }} is {{ $value | humanizePercentage }} busy",
            f"The CPUs have been more than {c['cpu_ratio']:.0%} busy for {c['busy_for']}.",
            for_=t(c["busy_for"]),
        ),
        Alert(
            "NodeSystemSaturation",
            f"node_load1{{{s}}}\n  / count without (cpu, mode) "
            f'(node_cpu_seconds_total{{{s},mode="idle"}})\n> {c["load_per_cpu"]}',
            "warning",
            "server",
            "{{ $labels.instance }} has a load of {{ $value }} per CPU",
            f"The 1-minute load average has been above {c['load_per_cpu']} per CPU for {c['busy_for']}: "
            "processes wait for CPU or I/O.",
            for_=t(c["busy_for"]),
        ),
        Alert(
            "NodeClockNotSynchronising",
            f"min_over_time(node_timex_sync_status{{{s}}}[{t('5m')}]) == 0\n"
            f"and node_timex_maxerror_seconds{{{s}}} >= 16",
            "warning",
            "server",
            "The clock of {{ $labels.instance }} is not synchronising",
            "NTP does not discipline the clock (chrony/systemd-timesyncd stopped or unreachable): clustered "
            "services (LXD's database, Ceph) need synchronised clocks.",
            for_=t(c["clock_for"]),
        ),
        Alert(
            "NodeRAIDDegraded",
            f'node_md_disks_required{{{s}}} - ignoring (state) node_md_disks{{{s},state="active"}} > 0',
            "critical",
            "server",
            "RAID {{ $labels.device }} on {{ $labels.instance }} is degraded",
            "{{ $value }} disks of the array are missing or failed: replace them before another fails.",
            for_=t(c["raid_for"]),
        ),
    ]
    return [Group("colo-node", rules)]
