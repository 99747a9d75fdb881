"""The one config of selectors and thresholds shared by the dashboards, the recording rules and the alerts.

A site changes this file (or passes its own values to the builders), regenerates with
`python -m mixin.build`, and every dashboard, recording rule and alert follows.
"""

from __future__ import annotations

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
