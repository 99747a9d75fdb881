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

# --- section: alerts (owned by the alert rules) --------------------------------------------------------
