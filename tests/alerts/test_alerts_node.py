"""alerts/node.yml (optional) under promtool, on node_exporter's standard names."""

from __future__ import annotations

from pathlib import Path

from alerts_testlib import ALERTS, case, check, exporter_down, run, scrape_slow, series

RULES = [ALERTS / "node.yml"]
N = {"job": "node", "instance": "server1:9100", "host": "server1"}
ROOT_FS = {**N, "device": "/dev/sda1", "fstype": "ext4", "mountpoint": "/"}
DATA_FS = {**N, "device": "/dev/sdb1", "fstype": "xfs", "mountpoint": "/srv"}
TMP_FS = {**N, "device": "tmpfs", "fstype": "tmpfs", "mountpoint": "/run/user/0"}


def server(severity: str, labels: dict[str, str], **more: str) -> dict[str, str]:
    return {**labels, **more, "severity": severity, "object": "server"}


def cpu(mode: str, values: str, n: int) -> dict[str, str]:
    return series("node_cpu_seconds_total", values, **N, cpu=str(n), mode=mode)


HOST = case(
    "1m",
    [
        # / at 8% free (warning), /srv at 3% free (critical only), a full tmpfs (left out).
        series("node_filesystem_avail_bytes", "8x60", **ROOT_FS),
        series("node_filesystem_size_bytes", "100x60", **ROOT_FS),
        series("node_filesystem_readonly", "0x60", **ROOT_FS),
        series("node_filesystem_avail_bytes", "3x60", **DATA_FS),
        series("node_filesystem_size_bytes", "100x60", **DATA_FS),
        series("node_filesystem_readonly", "0x60", **DATA_FS),
        series("node_filesystem_files_free", "2x60", **DATA_FS),
        series("node_filesystem_files", "100x60", **DATA_FS),
        series("node_filesystem_avail_bytes", "0x60", **TMP_FS),
        series("node_filesystem_size_bytes", "100x60", **TMP_FS),
        series("node_filesystem_readonly", "0x60", **TMP_FS),
        series("node_memory_MemAvailable_bytes", "5x60", **N),
        series("node_memory_MemTotal_bytes", "100x60", **N),
        # Two CPUs, 95% busy; load 5 on two CPUs.
        cpu("idle", "0+3x60", 0),
        cpu("idle", "0+3x60", 1),
        cpu("user", "0+57x60", 0),
        cpu("user", "0+57x60", 1),
        series("node_load1", "5x60", **N),
        series("node_timex_sync_status", "0x60", **N),
        series("node_timex_maxerror_seconds", "16x60", **N),
        series("node_md_disks_required", "2x60", **N, device="md0"),
        series("node_md_disks", "1x60", **N, device="md0", state="active"),
        series("node_md_disks", "1x60", **N, device="md0", state="failed"),
        series("up", "1 0x30", job="node", instance="server2:9100", host="server2"),
    ],
    [
        check(
            "31m",
            "NodeFilesystemAlmostOutOfSpace",
            (
                server("warning", ROOT_FS),
                "/ on server1:9100 has 8% space left",
                "Less than 10% of the filesystem on /dev/sda1 is free.",
            ),
        ),
        check(
            "31m",
            "NodeFilesystemFull",
            (
                server("critical", DATA_FS),
                "/srv on server1:9100 has 3% space left",
                "Less than 5% of the filesystem on /dev/sdb1 is free: writes will fail soon.",
            ),
        ),
        check(
            "31m",
            "NodeFilesystemAlmostOutOfFiles",
            (
                server("warning", DATA_FS),
                "/srv on server1:9100 has 2% inodes left",
                "The filesystem runs out of inodes (many small files) before space.",
            ),
        ),
        check(
            "16m",
            "NodeMemoryHighUtilization",
            (
                server("warning", N),
                "server1:9100 uses 95% of its memory",
                "Less than 10% of the memory is available for 15m; find the instance that grows (the rack "
                "dashboard's top consumers).",
            ),
        ),
        check(
            "21m",
            "NodeCPUHighUsage",
            (
                server("warning", N),
                "server1:9100 is 95% busy",
                "The CPUs have been more than 90% busy for 15m.",
            ),
        ),
        check(
            "16m",
            "NodeSystemSaturation",
            (
                server("warning", N),
                "server1:9100 has a load of 2.5 per CPU",
                "The 1-minute load average has been above 2 per CPU for 15m: processes wait for CPU or I/O.",
            ),
        ),
        check(
            "16m",
            "NodeClockNotSynchronising",
            (
                server("warning", N),
                "The clock of server1:9100 is not synchronising",
                "NTP does not discipline the clock (chrony/systemd-timesyncd stopped or unreachable): "
                "clustered "
                "services (LXD's database, Ceph) need synchronised clocks.",
            ),
        ),
        check(
            "16m",
            "NodeRAIDDegraded",
            (
                server("critical", N, device="md0"),
                "RAID md0 on server1:9100 is degraded",
                "1 disks of the array are missing or failed: replace them before another fails.",
            ),
        ),
        check("7m", "NodeExporterDown", exporter_down("node", "node", "server2:9100", host="server2")),
    ],
)

SLOW = case(
    "1m",
    [series("scrape_duration_seconds", "9x20", job="node", instance="server1:9100")],
    [check("16m", "NodeExporterScrapeSlow", scrape_slow("node", "node", "server1:9100", "9s"))],
)

CASES = [HOST, SLOW]


def test_node_alerts(tmp_path: Path) -> None:
    run(tmp_path, "node", RULES, CASES)
