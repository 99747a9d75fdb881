"""The one config of selectors and thresholds shared by the dashboards, the recording rules and the alerts.

A site changes this file (or passes its own values to the builders), regenerates with
`python -m mixin.build`, and every dashboard, recording rule and alert follows.
"""

from __future__ import annotations

from typing import Any

# --- selectors: which jobs hold which exporter's series (shared by every part) -------------------------
SELECTORS: dict[str, str] = {
    "lxd": 'job=~"colo-lxd.*"',
    "snmp": 'job=~"colo-snmp.*"',
    "bmc": 'job=~"colo-bmc.*"',
    "frr": 'job=~"colo-frr.*"',
}

# --- section: dashboards and recording rules (owned by the rack view) ----------------------------------
# The other sources the rack view reads: standard exporters, not ours (jobs as sites usually name them).
SELECTORS.update(
    {
        "node": 'job=~"node.*"',  # Debian's prometheus-node-exporter on each server
        "ceph": 'job=~"ceph.*"',  # the ceph-mgr `prometheus` module
        "haproxy": 'job=~"haproxy.*"',  # HAProxy's built-in exporter (`use-service prometheus-exporter`)
        "unbound": 'job=~"unbound.*"',  # letsencrypt/unbound_exporter
        "nsd": 'job=~"nsd.*"',  # optix2000/nsd_exporter
    }
)

# Link roles the rack view draws, top to bottom (a port rule's `role`, a host interface alias' first word).
LINK_ROLES: tuple[str, ...] = ("wan", "uplink", "mesh")

# A host interface seen through node_exporter is a link side when its alias (`ip link set DEV alias
# "mesh srv1-srv2"`, shown as node_network_info{ifalias}) matches HOST_LINK_ALIAS: role, then link name.
# A member of a bond the kernel does not report as one (teamd, OVS, the lab's tc bond) carries
# "<role> <link> member of <bond interface>" (HOST_MEMBER_ALIAS). Matched whole (RE2).
HOST_LINK_ALIAS = "([a-z][a-z0-9_-]*) ([^ ]+)"
HOST_MEMBER_ALIAS = "([a-z][a-z0-9_-]*) ([^ ]+) member of ([^ ]+)"

# WAN billing: the commit rate (bits/s) per WAN link name; "" applies to every WAN link without its own.
WAN_COMMIT_BITS: dict[str, float] = {"": 100e6}
# Billing samples: one 5-minute average every 5 minutes (the usual 95th-percentile method).
WAN_SAMPLE_SECONDS = 300
WAN_PERCENTILE = 0.95
WAN_WINDOW = "30d"

# Which sources this site has: the rack view's rows for the others are generated collapsed, and each
# row's first panel says what to install when its source is not scraped.
RACK_SOURCES: dict[str, bool] = {
    "snmp": True,
    "node": True,
    "bmc": True,
    "frr": True,
    "lxd": True,
    "ceph": False,
    "haproxy": False,
    "unbound": False,
    "nsd": False,
}

# node_exporter filesystems the rack view counts as the servers' disks.
NODE_FS = 'fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|proc|sysfs|devtmpfs|autofs|fuse.*"'

# Thresholds the dashboards colour by (the alerts have their own in their section).
LINK_UTILISATION_WARN = 0.7
LINK_UTILISATION_CRIT = 0.85
TEMPERATURE_WARN_CELSIUS = 70
TEMPERATURE_CRIT_CELSIUS = 85
FAN_LOW_RPM = 1000

# --- section: alerts (owned by the alert rules) --------------------------------------------------------
# Jobs of the optional sources the alerts read too (the rack view's section may define them already).
SELECTORS.setdefault("node", 'job=~"node.*"')
SELECTORS.setdefault("ceph", 'job=~"ceph.*"')

# Severities: critical pages, warning goes by e-mail, info is never sent (alerts/alertmanager.yml). Every
# duration is a Prometheus duration; the lab runs the same rules with all of them scaled down.
ALERTS: dict[str, Any] = {
    # Where docs/alerts.md is published; every rule's runbook_url is this plus "#<alert name in lower case>".
    "runbook_base": "docs/alerts.md",
    # How long an alert keeps its last known state while its source cannot be read (exporter down, switch
    # or BMC unreachable): the unreachable alert takes over meanwhile. Longer outages resolve it.
    "blind_hold": "1h",
    # keep_firing_for of the alerts that an unreachable/down alert inhibits: they resolve this long after
    # their fault clears, so that the inhibiting alert has always resolved first and Alertmanager never
    # drops their "resolved" as inhibited. At least two evaluation intervals.
    "resolve_delay": "2m",
    # After a maintained (evacuated) member is restored, its alerts stay inhibited this long more, while
    # its instances start again.
    "maintenance_grace": "10m",
    # Per exporter: <X>ExporterDown (severity, for) and the scrape time that is "near the timeout" when
    # Prometheus runs without --enable-feature=extra-scrape-metrics (with it: scrape_slow_ratio of
    # scrape_timeout_seconds).
    "exporters": {
        "lxd": {"severity": "warning", "down_for": "5m", "slow_seconds": 16},
        "snmp": {"severity": "critical", "down_for": "2m", "slow_seconds": 16},
        "bmc": {"severity": "warning", "down_for": "5m", "slow_seconds": 24},
        "frr": {"severity": "warning", "down_for": "2m", "slow_seconds": 8},
        "node": {"severity": "warning", "down_for": "5m", "slow_seconds": 8},
    },
    "scrape_slow_ratio": 0.8,
    "scrape_slow_for": "15m",
    "links": {
        # Roles that alert, with the severity and `for` of LinkDown and LinkFlapping per role.
        "roles": {
            "wan": {"severity": "critical", "down_for": "1m"},
            "uplink": {"severity": "warning", "down_for": "2m"},
            "mesh": {"severity": "warning", "down_for": "2m"},
        },
        "degraded_for": "2m",
        "flap_changes": 4,  # state changes in 10 minutes (colo:link_flaps:changes10m)
        "utilisation": 0.85,
        "utilisation_for": "15m",
        "errors_per_second": 1,
        "errors_for": "10m",
    },
    "snmp": {
        "unreachable_for": "2m",
        "restart_window": "15m",
        "discards_per_second": 10,
        "discards_for": "15m",
        "speed_low_for": "10m",
    },
    "bmc": {
        "unreachable_for": "5m",
        "fan_stopped_for": "1m",
        "fan_low_for": "2m",
        "temperature_critical_for": "1m",
        "temperature_high_for": "5m",
        "psu_failed_for": "1m",
        "psu_redundancy_for": "2m",
        "power_high_for": "10m",
        # BmcPsuLoadHigh: a supply delivering more than this share of its rated capacity (PowerCapacityWatts)
        "psu_load_ratio": 0.8,
        "psu_load_for": "10m",
        # BmcComponentFailed / BmcComponentDegraded (drives, controllers, memory, processors). Keep the
        # exporter's components_interval (5m) under health_for, so the component alert is there before the
        # rollup it explains would fire.
        "component_failed_for": "1m",
        "component_degraded_for": "5m",
        "chassis_off_for": "2m",
        "out_of_range_for": "2m",
        "sel_free_ratio": 0.1,
        "sel_for": "30m",
        "health_for": "10m",
    },
    "frr": {
        "daemon_down_for": "2m",
        "collector_for": "5m",  # FrrCollectorFailing: a collector failing this long
        "session_down_for": "1m",
        "bfd_down_for": "1m",
        "flap_drops": 2,
        "flap_window": "30m",
        "prefixes_zero_for": "5m",
        "prefixes_low_ratio": 0.5,  # of the average over prefixes_baseline
        "prefixes_low_min": 10,  # sessions with fewer routes on average are left out
        "prefixes_baseline": "1d",
        "prefixes_low_for": "15m",
        "vrrp_no_master_for": "30s",
        "vrrp_two_masters_for": "1m",
        "advertisement_for": "5m",
    },
    "lxd": {
        "collector_for": "5m",
        # LxdDiskUsageStale: disk data older than this (a few of the exporter's disk_interval, 60 s by
        # default: raise it with a longer disk_interval), for disk_stale_for.
        "disk_stale_after": "5m",
        "disk_stale_for": "5m",
        "member_offline_for": "2m",
        "evacuated_too_long": "2h",
        "instance_error_for": "5m",
        "critical_not_running_for": "5m",
        "memory_ratio": 0.9,
        "memory_for": "15m",
        "disk_ratio": 0.9,
        "disk_for": "15m",
        "pool_ratio": 0.85,
        "pool_for": "15m",
        "pool_full_ratio": 0.95,
        "pool_full_for": "5m",
    },
    "node": {
        "fs_warning_ratio": 0.10,
        "fs_critical_ratio": 0.05,
        "fs_for": "30m",
        "inodes_ratio": 0.05,
        "memory_ratio": 0.9,
        "cpu_ratio": 0.9,
        "load_per_cpu": 2,
        "busy_for": "15m",
        "clock_for": "10m",
        "raid_for": "15m",
    },
    "ceph": {
        "health_error_for": "5m",
        "health_warning_for": "15m",
        "osd_down_for": "5m",
        "osd_nearfull_ratio": 0.85,
        "cluster_nearfull_ratio": 0.8,
        "cluster_full_ratio": 0.9,
        "full_for": "15m",
        "quorum_for": "1m",
        "pgs_inactive_for": "5m",
    },
    "alertmanager": {
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "4h",
        "page_webhook": "http://127.0.0.1:9095/colo-page",  # your pager gateway (e.g. a ntfy/alerta bridge)
        "email_to": "oncall@example.org",
        "email_from": "alertmanager@example.org",
        "smarthost": "localhost:25",
    },
}
