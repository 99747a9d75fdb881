"""alerts/ceph.yml (optional) under promtool, on the ceph-mgr prometheus module's standard names."""

from __future__ import annotations

from pathlib import Path

from alerts_testlib import ALERTS, case, check, run, series

RULES = [ALERTS / "ceph.yml"]
MGR = {"job": "ceph", "instance": "server1:9283"}


def ceph(severity: str, **labels: str) -> dict[str, str]:
    return {**labels, "severity": severity, "object": "ceph"}


def osd(n: int, host: str) -> dict[str, str]:
    return series(
        "ceph_osd_metadata", "1x30", **MGR, ceph_daemon=f"osd.{n}", hostname=host, device_class="ssd"
    )


CLUSTER = case(
    "1m",
    [
        series("ceph_health_status", "0 1x19 2x20", **MGR),
        # Three monitors, one out of quorum from 2m.
        *(
            series("ceph_mon_metadata", "1x30", **MGR, ceph_daemon=f"mon.{m}", hostname=m)
            for m in ("a", "b", "c")
        ),
        series("ceph_mon_quorum_status", "1x30", **MGR, ceph_daemon="mon.a"),
        series("ceph_mon_quorum_status", "1x30", **MGR, ceph_daemon="mon.b"),
        series("ceph_mon_quorum_status", "1 1 0x28", **MGR, ceph_daemon="mon.c"),
        osd(0, "server1"),
        osd(1, "server2"),
        series("ceph_osd_up", "1x30", **MGR, ceph_daemon="osd.0"),
        series("ceph_osd_up", "1 0x29", **MGR, ceph_daemon="osd.1"),
        series("ceph_osd_stat_bytes", "100x30", **MGR, ceph_daemon="osd.0"),
        series("ceph_osd_stat_bytes_used", "90x30", **MGR, ceph_daemon="osd.0"),
        series("ceph_osd_stat_bytes", "100x30", **MGR, ceph_daemon="osd.1"),
        series("ceph_osd_stat_bytes_used", "50x30", **MGR, ceph_daemon="osd.1"),
        series("ceph_cluster_total_bytes", "200x40", **MGR),
        series("ceph_cluster_total_used_bytes", "170x20 190x20", **MGR),
        series("ceph_pg_total", "128x30", **MGR, pool_id="2"),
        series("ceph_pg_active", "128 120x29", **MGR, pool_id="2"),
    ],
    [
        check(
            "17m",
            "CephHealthWarning",
            (
                ceph("warning", **MGR),
                "Ceph is in HEALTH_WARN",
                "The cluster has been in HEALTH_WARN for 15m; `ceph health detail` says why.",
            ),
        ),
        check("17m", "CephHealthError"),
        check(
            "26m",
            "CephHealthError",
            (
                ceph("critical", **MGR),
                "Ceph is in HEALTH_ERR",
                "The cluster has been in HEALTH_ERR for 5m; `ceph health detail` says why.",
            ),
        ),
        check(
            "4m",
            "CephMonQuorumAtRisk",
            (
                ceph("critical", job="ceph"),
                "Ceph monitor quorum is at risk",
                "Only 2 monitors are in quorum: losing one more stops the cluster. Check the monitors that "
                "are "
                "out (`ceph mon stat`).",
            ),
        ),
        check(
            "7m",
            "CephOSDDown",
            (
                ceph("warning", **MGR, ceph_daemon="osd.1", host="server2"),
                "Ceph osd.1 on server2 is down",
                "The OSD is down: its placement groups run degraded until it is back or out (`ceph osd tree "
                "down`).",
            ),
        ),
        check(
            "16m",
            "CephOSDNearFull",
            (
                ceph("warning", **MGR, ceph_daemon="osd.0", host="server1"),
                "Ceph osd.0 on server1 is 90% full",
                "An OSD past the nearfull ratio; at the full ratio the cluster stops writes. Rebalance "
                "(`ceph osd df`), or add capacity.",
            ),
        ),
        check(
            "16m",
            "CephClusterNearFull",
            (ceph("warning", **MGR), "Ceph is 85% full", "Over 80% of the raw capacity is used."),
        ),
        check("16m", "CephClusterFull"),
        check(
            "36m",
            "CephClusterFull",
            (
                ceph("critical", **MGR),
                "Ceph is 95% full",
                "Over 90% of the raw capacity is used: OSDs reach their full ratio soon and the cluster "
                "stops "
                "writes.",
            ),
        ),
        check("36m", "CephClusterNearFull"),
        check(
            "7m",
            "CephPGsInactive",
            (
                ceph("critical", **MGR, pool_id="2"),
                "8 placement groups of pool 2 are inactive",
                "Inactive placement groups serve no I/O: data on them is unavailable (`ceph pg dump_stuck "
                "inactive`).",
            ),
        ),
    ],
)

CASES = [CLUSTER]


def test_ceph_alerts(tmp_path: Path) -> None:
    run(tmp_path, "ceph", RULES, CASES)
