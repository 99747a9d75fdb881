"""A Snapshot -> metric families, the same names for IPMI and Redfish. No I/O."""

from __future__ import annotations

from prometheus_client.core import Metric

from ..core import Families
from .model import FAMILY, Snapshot

_READING = {
    "temperature": ("temperature_celsius", "Temperature reading in degrees Celsius."),
    "fan_rpm": ("fan_speed_rpm", "Fan speed in rotations per minute."),
    "fan_ratio": (
        "fan_speed_ratio",
        "Fan speed as a ratio of its maximum (0-1), for BMCs that report percent.",
    ),
    "power": ("power_watts", "Power reading of a sensor in watts."),
    "voltage": ("voltage_volts", "Voltage reading in volts."),
    "current": ("current_amperes", "Current reading in amperes."),
}
# temperature_celsius -> temperature_threshold_celsius, and so on for each reading's family
_THRESHOLD = {k: "_threshold_".join(name.rsplit("_", 1)) for k, (name, _) in _READING.items()}
L = ("target", "source", "sensor")
_STATE_DOC = (
    "Sensor state reported by the BMC: 0 ok, 1 warning (non-critical), 2 critical; for discrete IPMI sensors "
    "the worst asserted state. Absent sensors have no series."
)
_PSU_WATTS = {
    "input": "Power a power supply draws from its input, in watts.",
    "output": "Power a power supply delivers, in watts.",
    "capacity": "A power supply's rated output capacity, in watts.",
}


def families(ns: str, target: str, source: str, snap: Snapshot) -> list[Metric]:
    f = Families(ns)
    base = [target, source]

    def of_target(name: str, doc: str, value: float | None) -> None:
        if value is not None:
            f.gauge(name, doc, ("target", "source")).add_metric(base, value)

    states: set[tuple[str, str]] = set()  # one sensor_state per sensor, whatever sources said
    for s in snap.sensors:
        name, doc = _READING[s.kind]
        if s.value is not None:
            f.gauge(name, doc, L).add_metric([*base, s.name], s.value)
        for t, v in s.thresholds:
            f.gauge(
                _THRESHOLD[s.kind], "Threshold of a sensor, in the unit of its reading.", (*L, "threshold")
            ).add_metric([*base, s.name, t], v)
        if s.health is not None and (s.name, FAMILY[s.kind]) not in states:
            states.add((s.name, FAMILY[s.kind]))
            f.gauge("sensor_state", _STATE_DOC, (*L, "type")).add_metric(
                [*base, s.name, FAMILY[s.kind]], s.health
            )
    for st in snap.states:
        if (st.name, st.type) not in states:
            states.add((st.name, st.type))
            f.gauge("sensor_state", _STATE_DOC, (*L, "type")).add_metric(
                [*base, st.name, st.type], st.severity
            )
    for p in snap.psus:
        f.gauge("psu_present", "1 if the power supply is installed, 0 if its bay is empty.", L).add_metric(
            [*base, p.name], 1 if p.present else 0
        )
        if p.health is not None:
            f.gauge(
                "psu_health",
                "Power supply state: 0 ok, 1 warning (predictive failure, input out of "
                "range), 2 critical (failed, input lost). Absent supplies have no series.",
                L,
            ).add_metric([*base, p.name], p.health)
        for key, value in (
            ("input", p.input_watts),
            ("output", p.output_watts),
            ("capacity", p.capacity_watts),
        ):
            if value is not None:
                f.gauge(f"psu_{key}_watts", _PSU_WATTS[key], L).add_metric([*base, p.name], value)

    of_target(
        "chassis_power_on",
        "1 if the server is powered on.",
        None if snap.power_on is None else int(snap.power_on),
    )
    of_target(
        "system_power_watts",
        "The server's power draw in watts (DCMI or the configured sensor for "
        "IPMI; PowerControl or the chassis power sensor for Redfish).",
        snap.system_power_watts,
    )
    of_target("sel_entries", "Entries in the System Event Log.", snap.sel_entries)
    of_target("sel_free_bytes", "Free space in the System Event Log in bytes.", snap.sel_free_bytes)
    for t, n in snap.sel_by_type:
        f.gauge(
            "sel_events",
            "System Event Log entries by sensor type (IPMI).",
            ("target", "source", "sensor_type"),
        ).add_metric([*base, t], n)
    of_target(
        "sel_last_entry_timestamp_seconds",
        "When the newest System Event Log entry was added (Unix time, by the BMC's clock).",
        snap.sel_last_timestamp,
    )
    for c in snap.components:
        f.gauge(
            "component_health",
            "Health of a drive, storage controller, memory module or processor: 0 ok, 1 warning, 2 critical "
            "(Redfish Status.Health; read in the background every components_interval). Absent parts have "
            "no series.",
            ("target", "source", "kind", "component"),
        ).add_metric([*base, c.kind, c.name], c.health)
    of_target(
        "component_refresh_timestamp_seconds",
        "When the component health was last read successfully (Unix time).",
        snap.components_refreshed,
    )
    for comp, h in snap.health:
        f.gauge(
            "health_rollup",
            "Health rollup: 0 ok, 1 warning, 2 critical. Redfish: Status.HealthRollup "
            'of each system and chassis; IPMI: the worst sensor state (component "sensors").',
            ("target", "source", "component"),
        ).add_metric([*base, comp], h)
    of_target(
        "scrape_requests",
        "Requests sent to the BMC by this scrape (IPMI messages or HTTP requests).",
        snap.requests,
    )
    return list(f)
