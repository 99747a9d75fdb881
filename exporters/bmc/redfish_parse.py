"""Redfish JSON -> the common vocabulary. Pure functions, no I/O.

Both resource generations are read: legacy `Thermal`/`Power`, and `Sensors`, `ThermalSubsystem`,
`PowerSubsystem`. Real services differ; each difference is handled by a rule, never by vendor:
- a sensor with `Status.State` "Absent" gives no series (a PSU gives `present 0`), whatever it reads;
- a reading that is null, missing, a string ("na") or a boolean is no reading;
- old field names are read too: `CurrentReading`, `ReadingRPM`, `FanName`, `Units`;
- units come from `ReadingUnits` (or `Units`); a `Sensors` member without units takes the standard unit
  of its `ReadingType`; a legacy `Thermal` fan without units is in RPM (the unit before `ReadingUnits`);
- a fan in percent ("Percent", "%") is a ratio (0-1); a `Percent` sensor counts as a fan only when its
  `PhysicalContext` is "Fan" or its Id or Name says "fan" (a battery's state of health is not a fan);
- null thresholds are skipped; names that repeat get their member id appended.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from typing import Any

from .model import CRITICAL, OK, WARNING, Psu, Sensor, unique_names

_HEALTH = {"ok": OK, "warning": WARNING, "critical": CRITICAL}
# Sensor.Thresholds and legacy Thermal/Power threshold properties -> our threshold names.
_SENSOR_THRESHOLDS = (
    ("LowerFatal", "lower_non_recoverable"),
    ("LowerCritical", "lower_critical"),
    ("LowerCaution", "lower_non_critical"),
    ("UpperCaution", "upper_non_critical"),
    ("UpperCritical", "upper_critical"),
    ("UpperFatal", "upper_non_recoverable"),
)
_LEGACY_THRESHOLDS = tuple(
    (f"{side}Threshold{lvl}", name)
    for (side, lvl), name in zip(
        (
            ("Lower", "Fatal"),
            ("Lower", "Critical"),
            ("Lower", "NonCritical"),
            ("Upper", "NonCritical"),
            ("Upper", "Critical"),
            ("Upper", "Fatal"),
        ),
        (t for _, t in _SENSOR_THRESHOLDS),
        strict=True,
    )
)
_TYPE_KIND = {
    "temperature": "temperature",
    "rotational": "fan_rpm",
    "power": "power",
    "voltage": "voltage",
    "current": "current",
    "percent": "fan_ratio",
}
_UNIT_KIND = {
    "cel": "temperature",
    "rpm": "fan_rpm",
    "{rev}/min": "fan_rpm",
    "w": "power",
    "v": "voltage",
    "a": "current",
    "%": "fan_ratio",
    "percent": "fan_ratio",
}
_FAN = re.compile(r"fan", re.I)


def number(v: Any) -> float | None:
    """A JSON reading as a float; None for null, strings ("na"), booleans, NaN."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    return None if math.isnan(f) or math.isinf(f) else f


def health(status: Any) -> int | None:
    if not isinstance(status, dict):
        return None
    h = status.get("Health")
    return _HEALTH.get(h.lower()) if isinstance(h, str) else None


def rollup(status: Any) -> int | None:
    if not isinstance(status, dict):
        return None
    for key in ("HealthRollup", "Health"):
        h = status.get(key)
        if isinstance(h, str) and h.lower() in _HEALTH:
            return _HEALTH[h.lower()]
    return None


def absent(doc: dict[str, Any]) -> bool:
    st = doc.get("Status")
    return isinstance(st, dict) and isinstance(st.get("State"), str) and st["State"].lower() == "absent"


def link(doc: Any, key: str) -> str | None:
    """`doc[key]["@odata.id"]`, without a trailing slash; None when missing."""
    v = doc.get(key) if isinstance(doc, dict) else None
    if isinstance(v, dict):
        v = v.get("@odata.id")
    return norm(v) if isinstance(v, str) and v else None


def norm(path: str) -> str:
    """A link as a path to request: no fragment, no trailing slash (ids stay as encoded)."""
    path = path.split("#", 1)[0]
    return path.rstrip("/") or "/"


def members(doc: Any) -> list[Any]:
    m = doc.get("Members") if isinstance(doc, dict) else None
    return [x for x in m if isinstance(x, dict)] if isinstance(m, list) else []


def member_id(doc: dict[str, Any], index: int) -> str:
    """A member's id for labels: `Id`, `MemberId`, or the last path segment, URL-decoded."""
    for key in ("Id", "MemberId"):
        v = doc.get(key)
        if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v):
            return urllib.parse.unquote(str(v))
    oid = doc.get("@odata.id")
    if isinstance(oid, str) and oid:
        return urllib.parse.unquote(norm(oid).rsplit("/", 1)[-1])
    return str(index)


def _name(doc: dict[str, Any], index: int, *keys: str) -> str:
    for key in (*keys, "Name"):
        v = doc.get(key)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return member_id(doc, index)


def _thresholds(doc: dict[str, Any], scale: float, legacy: bool) -> tuple[tuple[str, float], ...]:
    out = []
    if legacy:
        for key, name in _LEGACY_THRESHOLDS:
            v = number(doc.get(key))
            if v is not None:
                out.append((name, round(v * scale, 6)))
    else:
        t = doc.get("Thresholds")
        if isinstance(t, dict):
            for key, name in _SENSOR_THRESHOLDS:
                v = number(t[key].get("Reading")) if isinstance(t.get(key), dict) else None
                if v is not None:
                    out.append((name, round(v * scale, 6)))
    return tuple(sorted(out))


def _named(sensors: list[tuple[Sensor, str]]) -> list[Sensor]:
    """Names made unique per kind (one fan may report both rpm and ratio under its name)."""
    keyed = unique_names([f"{s.kind}\0{s.name}" for s, _ in sensors], [i for _, i in sensors])
    return [
        Sensor(k.split("\0", 1)[1], s.kind, s.value, s.health, s.thresholds)
        for (s, _), k in zip(sensors, keyed, strict=True)
    ]


def _scaled(kind: str, v: float | None) -> float | None:
    return None if v is None else (round(v / 100.0, 6) if kind == "fan_ratio" else v)


# -- Sensors collection (Sensor resources) ------------------------------------------------------------
def sensor_kind(doc: dict[str, Any]) -> str | None:
    rtype = doc.get("ReadingType")
    units = doc.get("ReadingUnits")
    kind = None
    if isinstance(units, str) and units.strip():
        kind = _UNIT_KIND.get(units.strip().lower())
    if kind is None and isinstance(rtype, str):
        kind = _TYPE_KIND.get(rtype.lower())
    if kind == "fan_ratio" and not (
        doc.get("PhysicalContext") == "Fan"
        or _FAN.search(str(doc.get("Id", "")))
        or _FAN.search(str(doc.get("Name", "")))
    ):
        return None
    return kind


def _first_number(d: dict[str, Any], *keys: str) -> float | None:
    """The first of `keys` that holds a number: the current field name, then older ones (CurrentReading)."""
    for k in keys:
        v = number(d.get(k))
        if v is not None:
            return v
    return None


def sensors_from_collection(docs: list[dict[str, Any]]) -> tuple[list[Sensor], float | None]:
    """Sensor resources -> sensors, and the system power draw (a Power sensor whose PhysicalContext is
    the chassis or the power subsystem)."""
    out: list[tuple[Sensor, str]] = []
    total = None
    for i, d in enumerate(docs):
        kind = sensor_kind(d)
        if kind is None or absent(d):
            continue
        v = _first_number(d, "Reading", "CurrentReading")
        scale = 0.01 if kind == "fan_ratio" else 1.0
        out.append(
            (
                Sensor(
                    _name(d, i),
                    kind,
                    _scaled(kind, v),
                    health(d.get("Status")),
                    _thresholds(d, scale, legacy=False),
                ),
                member_id(d, i),
            )
        )
        if (
            kind == "power"
            and total is None
            and v is not None
            and d.get("PhysicalContext") in ("Chassis", "PowerSubsystem")
        ):
            total = v
    return _named(out), total


# -- legacy Thermal and Power ---------------------------------------------------------------------------
def thermal(doc: dict[str, Any]) -> list[Sensor]:
    out: list[tuple[Sensor, str]] = []
    for i, t in enumerate(x for x in _list(doc, "Temperatures")):
        if absent(t):
            continue
        v = _first_number(t, "ReadingCelsius", "CurrentReading")
        out.append(
            (
                Sensor(
                    _name(t, i), "temperature", v, health(t.get("Status")), _thresholds(t, 1.0, legacy=True)
                ),
                member_id(t, i),
            )
        )
    temps = _named(out)
    out = []
    for i, f in enumerate(_list(doc, "Fans")):
        if absent(f):
            continue
        units = f.get("ReadingUnits", f.get("Units"))
        kind = "fan_ratio" if isinstance(units, str) and units.lower() in ("percent", "%") else "fan_rpm"
        v = _first_number(f, "Reading", "ReadingRPM", "CurrentReading")
        scale = 0.01 if kind == "fan_ratio" else 1.0
        out.append(
            (
                Sensor(
                    _name(f, i, "FanName"),
                    kind,
                    _scaled(kind, v),
                    health(f.get("Status")),
                    _thresholds(f, scale, legacy=True),
                ),
                member_id(f, i),
            )
        )
    return temps + _named(out)


def power(doc: dict[str, Any]) -> tuple[list[Sensor], list[Psu], float | None]:
    """Legacy Power -> voltage and power sensors, PSUs, system power draw (PowerControl)."""
    out: list[tuple[Sensor, str]] = []
    total = None
    for i, pc in enumerate(_list(doc, "PowerControl")):
        v = number(pc.get("PowerConsumedWatts"))
        if total is None and v is not None:
            total = v
        if v is not None:
            out.append((Sensor(_name(pc, i), "power", v, health(pc.get("Status"))), member_id(pc, i)))
    for i, vd in enumerate(_list(doc, "Voltages")):
        if absent(vd):
            continue
        v = _first_number(vd, "ReadingVolts", "CurrentReading")
        out.append(
            (
                Sensor(
                    _name(vd, i), "voltage", v, health(vd.get("Status")), _thresholds(vd, 1.0, legacy=True)
                ),
                member_id(vd, i),
            )
        )
    return _named(out), psus(_list(doc, "PowerSupplies")), total


def _list(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    v = doc.get(key)
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


# -- ThermalSubsystem and PowerSubsystem ---------------------------------------------------------------
def fans(docs: list[dict[str, Any]]) -> list[Sensor]:
    """ThermalSubsystem/Fans members: SpeedPercent.Reading (ratio) and SpeedPercent.SpeedRPM (rpm)."""
    out: list[tuple[Sensor, str]] = []
    for i, f in enumerate(docs):
        if absent(f):
            continue
        sp = f.get("SpeedPercent")
        if not isinstance(sp, dict):
            sp = {}
        name, h = _name(f, i), health(f.get("Status"))
        pct, rpm = number(sp.get("Reading")), number(sp.get("SpeedRPM"))
        if rpm is not None or pct is None:
            out.append((Sensor(name, "fan_rpm", rpm, h), member_id(f, i)))
        if pct is not None:
            out.append((Sensor(name, "fan_ratio", round(pct / 100.0, 6), h), member_id(f, i)))
    return _named(out)


def thermal_metrics(doc: dict[str, Any]) -> list[Sensor]:
    """ThermalMetrics.TemperatureReadingsCelsius (sensor excerpts)."""
    out: list[tuple[Sensor, str]] = []
    for i, t in enumerate(_list(doc, "TemperatureReadingsCelsius")):
        src = t.get("DataSourceUri") if isinstance(t.get("DataSourceUri"), str) else ""
        sid = urllib.parse.unquote(norm(src).rsplit("/", 1)[-1]) if src else str(i)
        dev = t.get("DeviceName")
        name = dev if isinstance(dev, str) and dev else sid
        out.append((Sensor(name, "temperature", number(t.get("Reading")), None), sid))
    return _named(out)


def psus(docs: list[dict[str, Any]]) -> list[Psu]:
    items = []
    for i, p in enumerate(docs):
        items.append(
            (Psu(_name(p, i), not absent(p), None if absent(p) else health(p.get("Status"))), member_id(p, i))
        )
    names = unique_names([p.name for p, _ in items], [i for _, i in items])
    return [Psu(n, p.present, p.health) for (p, _), n in zip(items, names, strict=True)]


def system(doc: dict[str, Any]) -> tuple[bool | None, int | None]:
    """A ComputerSystem (or Chassis) -> (powered on, health rollup)."""
    ps = doc.get("PowerState")
    on = ps.lower() in ("on", "poweringoff") if isinstance(ps, str) else None
    return on, rollup(doc.get("Status"))


def link_holder(doc: Any, key: str) -> Any:
    """`doc[key]` if it is an object (e.g. the service root's `Links`), else {}."""
    v = doc.get(key) if isinstance(doc, dict) else None
    return v if isinstance(v, dict) else {}


def sel_service(docs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The System Event Log among a system's LogServices: `LogEntryType` "SEL", else an Id or Name "SEL"."""
    for d in docs:
        if d.get("LogEntryType") == "SEL":
            return d
    for d in docs:
        if any(isinstance(d.get(k), str) and re.search(r"\bSEL\b", d[k]) for k in ("Id", "Name")):
            return d
    return None


def entries_count(doc: dict[str, Any]) -> int | None:
    """A LogEntry collection's size: `Members@odata.count` (the total, also when paged), else the members."""
    n = doc.get("Members@odata.count")
    if isinstance(n, int) and not isinstance(n, bool) and n >= 0:
        return n
    m = doc.get("Members")
    return len(m) if isinstance(m, list) else None
