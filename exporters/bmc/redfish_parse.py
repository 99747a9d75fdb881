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

import dataclasses
import math
import re
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from ..core import Malformed
from .model import CRITICAL, FAMILY, OK, WARNING, Component, Psu, Sensor, Snapshot, unique_names

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


def member_id(doc: dict[str, Any], index: int, url: str | None = None) -> str:
    """A member's id for labels: `Id`, `MemberId`, the last segment of `@odata.id` (of its `#/...`
    fragment for an array member: `Power#/PowerSupplies/0` is "0"), of the URL it was fetched from,
    else its position; URL-decoded."""
    for key in ("Id", "MemberId"):
        v = doc.get(key)
        if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v):
            return urllib.parse.unquote(str(v))
    for oid in (doc.get("@odata.id"), url):
        if isinstance(oid, str) and oid:
            path, _, frag = oid.partition("#")
            last = (frag or path).rstrip("/").rsplit("/", 1)[-1]
            if last:
                return urllib.parse.unquote(last)
    return str(index)


def _name(doc: dict[str, Any], index: int, *keys: str, url: str | None = None) -> str:
    for key in (*keys, "Name"):
        v = doc.get(key)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return member_id(doc, index, url)


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


def _scaled(kind: str, v: float | None) -> float | None:
    return None if v is None else (round(v / 100.0, 6) if kind == "fan_ratio" else v)


def _list(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    v = doc.get(key)
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def _first_number(d: dict[str, Any], *keys: str) -> float | None:
    """The first of `keys` that holds a number: the current field name, then older ones (CurrentReading)."""
    for k in keys:
        v = number(d.get(k))
        if v is not None:
            return v
    return None


def _ident(uri: Any) -> str | None:
    """A sensor's identity: its URI without fragment or trailing slash (DataSourceUri and @odata.id agree)."""
    return norm(uri) if isinstance(uri, str) and uri.startswith("/") else None


# -- readings from each kind of resource -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Reading:
    """One reading of one sensor from one resource; `ident` is the physical sensor's URI when known."""

    name: str
    kind: str  # a model.UNITS key
    value: float | None
    health: int | None
    thresholds: tuple[tuple[str, float], ...] = ()
    ident: str | None = None
    member: str = ""  # an id to tell apart sensors that share a name


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


def sensor_readings(docs: list[dict[str, Any]]) -> list[Reading]:
    """Sensor resources (a chassis' `Sensors` collection)."""
    out = []
    for i, d in enumerate(docs):
        kind = sensor_kind(d)
        if kind is None or absent(d):
            continue
        scale = 0.01 if kind == "fan_ratio" else 1.0
        out.append(
            Reading(
                _name(d, i),
                kind,
                _scaled(kind, _first_number(d, "Reading", "CurrentReading")),
                health(d.get("Status")),
                _thresholds(d, scale, legacy=False),
                _ident(d.get("@odata.id")),
                member_id(d, i),
            )
        )
    return out


def chassis_power(docs: list[dict[str, Any]]) -> float | None:
    """The system power draw from Sensors: a Power sensor whose PhysicalContext is the chassis or the power
    subsystem."""
    for d in docs:
        if (
            sensor_kind(d) == "power"
            and not absent(d)
            and d.get("PhysicalContext") in ("Chassis", "PowerSubsystem")
        ):
            v = _first_number(d, "Reading", "CurrentReading")
            if v is not None:
                return v
    return None


def _legacy(
    m: dict[str, Any],
    i: int,
    kind: str,
    value: float | None,
    scale: float = 1.0,
    name_keys: tuple[str, ...] = (),
) -> Reading:
    """A member of a legacy Thermal or Power array: no identity but its name and place."""
    thresholds = _thresholds(m, scale, legacy=True)
    return Reading(
        _name(m, i, *name_keys), kind, value, health(m.get("Status")), thresholds, None, member_id(m, i)
    )


def thermal_readings(doc: dict[str, Any]) -> list[Reading]:
    """Legacy Thermal: Temperatures and Fans (array members: no identity but their name)."""
    out = []
    for i, t in enumerate(_list(doc, "Temperatures")):
        if not absent(t):
            out.append(_legacy(t, i, "temperature", _first_number(t, "ReadingCelsius", "CurrentReading")))
    for i, f in enumerate(_list(doc, "Fans")):
        if absent(f):
            continue
        units = f.get("ReadingUnits", f.get("Units"))
        kind = "fan_ratio" if isinstance(units, str) and units.lower() in ("percent", "%") else "fan_rpm"
        v = _first_number(f, "Reading", "ReadingRPM", "CurrentReading")
        scale = 0.01 if kind == "fan_ratio" else 1.0
        out.append(_legacy(f, i, kind, _scaled(kind, v), scale, ("FanName",)))
    return out


def fan_readings(docs: list[dict[str, Any]]) -> list[Reading]:
    """ThermalSubsystem/Fans members: SpeedPercent.Reading (ratio) and .SpeedRPM (rpm), identity from
    SpeedPercent.DataSourceUri. A "percent" above 100 is no percent (XCC documents it as the RPM)."""
    out = []
    for i, f in enumerate(docs):
        if absent(f):
            continue
        sp = f.get("SpeedPercent")
        sp = sp if isinstance(sp, dict) else {}
        name, h = _name(f, i), health(f.get("Status"))
        ident = _ident(sp.get("DataSourceUri")) or _ident(f.get("@odata.id"))
        pct, rpm = number(sp.get("Reading")), number(sp.get("SpeedRPM"))
        if pct is not None and not 0 <= pct <= 100:
            pct = None
        if rpm is not None or pct is None:
            out.append(Reading(name, "fan_rpm", rpm, h, (), ident, member_id(f, i)))
        if pct is not None:
            out.append(Reading(name, "fan_ratio", round(pct / 100.0, 6), h, (), ident, member_id(f, i)))
    return out


def thermal_metrics_readings(doc: dict[str, Any]) -> list[Reading]:
    """ThermalMetrics.TemperatureReadingsCelsius (excerpts of Sensors): identity from DataSourceUri. A
    reading is named by its DeviceName when no other reading has the same one, else by its sensor's id."""
    items = _list(doc, "TemperatureReadingsCelsius")
    devs = [
        t.get("DeviceName") if isinstance(t.get("DeviceName"), str) and t.get("DeviceName") else None
        for t in items
    ]
    out = []
    for i, (t, dev) in enumerate(zip(items, devs, strict=True)):
        ident = _ident(t.get("DataSourceUri"))
        sid = urllib.parse.unquote(ident.rsplit("/", 1)[-1]) if ident else str(i)
        name = dev if dev is not None and devs.count(dev) == 1 else sid
        out.append(Reading(name, "temperature", number(t.get("Reading")), None, (), ident, sid))
    return out


def power_readings(doc: dict[str, Any]) -> list[Reading]:
    """Legacy Power: PowerControl (as power sensors) and Voltages."""
    out = []
    for i, pc in enumerate(_list(doc, "PowerControl")):
        v = number(pc.get("PowerConsumedWatts"))
        if v is not None:
            out.append(
                Reading(_name(pc, i), "power", v, health(pc.get("Status")), (), None, member_id(pc, i))
            )
    for i, vd in enumerate(_list(doc, "Voltages")):
        if not absent(vd):
            out.append(_legacy(vd, i, "voltage", _first_number(vd, "ReadingVolts", "CurrentReading")))
    return out


def power_control_watts(doc: dict[str, Any]) -> float | None:
    """Legacy Power: the first PowerControl's PowerConsumedWatts (iLO 4 also has it at the top)."""
    for pc in _list(doc, "PowerControl"):
        v = number(pc.get("PowerConsumedWatts"))
        if v is not None:
            return v
    return number(doc.get("PowerConsumedWatts"))


def environment_watts(doc: dict[str, Any] | None) -> float | None:
    """EnvironmentMetrics.PowerWatts.Reading."""
    pw = doc.get("PowerWatts") if isinstance(doc, dict) else None
    return number(pw.get("Reading")) if isinstance(pw, dict) else None


# -- the same readings merged: each physical sensor once ----------------------------------------------


class _Merged:
    __slots__ = ("health", "ident", "member", "name", "thresholds", "values")

    def __init__(self, r: Reading) -> None:
        self.name, self.ident, self.member, self.health = r.name, r.ident, r.member, r.health
        self.values: dict[str, float | None] = {}
        self.thresholds: dict[str, tuple[tuple[str, float], ...]] = {}

    def add(self, r: Reading) -> None:
        if self.values.get(r.kind) is None:
            self.values[r.kind] = r.value
        if not self.thresholds.get(r.kind):
            self.thresholds[r.kind] = r.thresholds
        if self.health is None:
            self.health = r.health


def merge_readings(groups: list[list[Reading]]) -> list[Sensor]:
    """Readings of one chassis, sources in order of preference, merged by sensor identity: the same URI
    (a Sensor's @odata.id, a DataSourceUri) is one sensor; a reading without a URI joins the sensor of the
    same kind family and name. Each sensor gives one Sensor per kind it has (a fan with percent and RPM
    gives both), the first value, thresholds and health found winning; only its first kind carries the
    health, so it has exactly one sensor_state. Sensors that still share a name get their id appended."""
    merged: list[_Merged] = []
    by_ident: dict[str, _Merged] = {}
    by_name: dict[tuple[str, str], _Merged] = {}
    for group in groups:
        for r in group:
            fam = FAMILY[r.kind]
            m = by_ident.get(r.ident) if r.ident else None
            if m is None and r.ident is None:
                m = by_name.get((fam, r.name))
            if m is None:
                m = _Merged(r)
                merged.append(m)
                if r.ident:
                    by_ident[r.ident] = m
                by_name.setdefault((fam, r.name), m)
            m.add(r)
    names = unique_names(
        [f"{FAMILY[next(iter(m.values))]}\0{m.name}" for m in merged], [m.member for m in merged]
    )
    out = []
    for m, key in zip(merged, names, strict=True):
        name = key.split("\0", 1)[1]
        for n, (kind, value) in enumerate(m.values.items()):
            out.append(Sensor(name, kind, value, m.health if n == 0 else None, m.thresholds.get(kind, ())))
    return out


# -- PSUs ----------------------------------------------------------------------------------------------
def psus(docs: list[dict[str, Any]], metrics: list[dict[str, Any] | None] | None = None) -> list[Psu]:
    """PSUs (PowerSubsystem members with their Metrics, or legacy Power.PowerSupplies) -> Psu with watts:
    input (`PowerInputWatts`, Metrics `InputPowerWatts`), output (`PowerOutputWatts`, else
    `LastPowerOutputWatts`; Metrics `OutputPowerWatts`), capacity (`PowerCapacityWatts`). An absent PSU has
    no health and no watts; names that repeat get their id appended."""
    items = []
    for i, p in enumerate(docs):
        m = metrics[i] if metrics else None
        here = not absent(p)
        inp = _metric(m, "InputPowerWatts") if m else None
        out = _metric(m, "OutputPowerWatts") if m else None
        if inp is None:
            inp = number(p.get("PowerInputWatts"))
        if out is None:
            out = _first_number(p, "PowerOutputWatts", "LastPowerOutputWatts")
        cap = number(p.get("PowerCapacityWatts"))
        items.append(
            (
                Psu(
                    _name(p, i),
                    here,
                    health(p.get("Status")) if here else None,
                    inp if here else None,
                    out if here else None,
                    cap if here else None,
                ),
                member_id(p, i),
            )
        )
    names = unique_names([p.name for p, _ in items], [i for _, i in items])
    return [dataclasses.replace(p, name=n) for (p, _), n in zip(items, names, strict=True)]


def _metric(doc: dict[str, Any], key: str) -> float | None:
    v = doc.get(key)
    return number(v.get("Reading")) if isinstance(v, dict) else None


def fill_psu_watts(psu_list: list[Psu], legacy: list[Psu]) -> list[Psu]:
    """PowerSubsystem PSUs without Metrics watts take them from the legacy PSU of the same name."""
    by_name = {p.name: p for p in legacy}
    out = []
    for p in psu_list:
        old = by_name.get(p.name)
        if old is not None and p.present:
            p = dataclasses.replace(
                p,
                input_watts=p.input_watts if p.input_watts is not None else old.input_watts,
                output_watts=p.output_watts if p.output_watts is not None else old.output_watts,
                capacity_watts=p.capacity_watts if p.capacity_watts is not None else old.capacity_watts,
            )
        out.append(p)
    return out


# -- the older single-resource helpers, kept for callers and tests -------------------------------------
def sensors_from_collection(docs: list[dict[str, Any]]) -> tuple[list[Sensor], float | None]:
    return merge_readings([sensor_readings(docs)]), chassis_power(docs)


def thermal(doc: dict[str, Any]) -> list[Sensor]:
    return merge_readings([thermal_readings(doc)])


def power(doc: dict[str, Any]) -> tuple[list[Sensor], list[Psu], float | None]:
    return merge_readings([power_readings(doc)]), psus(_list(doc, "PowerSupplies")), power_control_watts(doc)


def fans(docs: list[dict[str, Any]]) -> list[Sensor]:
    return merge_readings([fan_readings(docs)])


def thermal_metrics(doc: dict[str, Any]) -> list[Sensor]:
    return merge_readings([thermal_metrics_readings(doc)])


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


# -- one scrape of a service: what to read, and the whole assembled -----------------------------------
class Reader(Protocol):
    """What `walk` needs from the transport (redfish.py; a dict of resources in the tests). A link the
    transport refuses, or a resource the service does not have, is `None` (and costs only itself) unless
    `required`, when the transport raises its error."""

    def get(self, link: str, required: bool = False) -> dict[str, Any] | None: ...

    def collection(self, link: str, required: bool = False) -> list[tuple[str | None, dict[str, Any]]] | None:
        """The members, each with the link it was fetched from (None when the service expanded it)."""
        ...

    def parallel(self, calls: Sequence[Callable[[], Any]]) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class ChassisRead:
    """What one chassis gave: sensors (merged), PSUs, system power candidates, health, power state."""

    name: str
    sensors: tuple[Sensor, ...]
    psus: tuple[Psu, ...]
    sensor_watts: float | None  # a chassis-context power sensor
    control_watts: float | None  # legacy PowerControl
    environment_watts: float | None
    health: int | None
    power_on: bool | None


def walk(root: dict[str, Any], reader: Reader, sel: bool = False) -> Snapshot:
    """The service's systems and chassis -> one Snapshot (requests counted by the transport)."""
    chassis_link = link(root, "Chassis")
    if chassis_link is None:
        raise Malformed("service root has no Chassis link")
    systems_link = link(root, "Systems")
    sys_part, chassis = reader.parallel([
        lambda: _systems(reader, systems_link, sel),
        lambda: _all_chassis(reader, chassis_link),
    ])  # fmt: skip
    power_on, health_items, sel_entries = sys_part
    # A sensor name found in several chassis is qualified by its chassis ("Backplane 1/Temp").
    where: dict[str, set[int]] = {}
    for i, c in enumerate(chassis):
        for x in [*c.sensors, *c.psus]:
            where.setdefault(x.name, set()).add(i)
    shared = {n for n, w in where.items() if len(w) > 1}
    sensors: list[Sensor] = []
    psu_list: list[Psu] = []
    for c in chassis:
        sensors += [
            dataclasses.replace(x, name=f"{c.name}/{x.name}") if x.name in shared else x for x in c.sensors
        ]
        psu_list += [
            dataclasses.replace(x, name=f"{c.name}/{x.name}") if x.name in shared else x for x in c.psus
        ]
        if c.health is not None:
            health_items.append((f"chassis {c.name}", c.health))
    watts = next((w for c in chassis for w in (c.sensor_watts, c.control_watts, c.environment_watts)
                  if w is not None), None)  # fmt: skip
    if power_on is None:
        power_on = next((c.power_on for c in chassis if c.power_on is not None), None)
    return Snapshot(
        sensors=tuple(sensors),
        psus=tuple(psu_list),
        power_on=power_on,
        system_power_watts=watts,
        health=tuple(health_items),
        sel_entries=sel_entries,
    )


def _named_members(
    members: list[tuple[str | None, dict[str, Any]]],
) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(label, link, doc) for each member: Name, else Id, else the last segment of @odata.id or of the link
    it was fetched from; names that repeat get their id appended."""
    names = [_name(d, i, url=u) for i, (u, d) in enumerate(members)]
    ids = [member_id(d, i, u) for i, (u, d) in enumerate(members)]
    return [(n, u, d) for n, (u, d) in zip(unique_names(names, ids), members, strict=True)]


def _systems(
    reader: Reader, path: str | None, sel: bool
) -> tuple[bool | None, list[tuple[str, int]], int | None]:
    """Power state, health rollup and (with `sel`) SEL entries of the computer systems."""
    members = reader.collection(path) if path else None
    if not members:
        return None, [], None
    on = None
    out = []
    named = _named_members(members)
    for name, _, d in named:
        o, h = system(d)
        on = o if on is None else (on or bool(o))
        if h is not None:
            out.append((f"system {name}", h))
    entries = None
    if sel:
        logs = [x for x in (link(d, "LogServices") for _, _, d in named) if x]
        counts = [
            c for c in reader.parallel([partial(_sel_entries, reader, x) for x in logs]) if c is not None
        ]
        entries = sum(counts) if counts else None
    return on, out, entries


def _sel_entries(reader: Reader, path: str) -> int | None:
    services = reader.collection(path)
    svc = sel_service([d for _, d in services or []])
    entries = link(svc, "Entries") if svc else None
    doc = reader.get(entries) if entries else None
    return entries_count(doc) if doc else None


def _get(reader: Reader, path: str | None) -> dict[str, Any] | None:
    return reader.get(path) if path else None


def _all_chassis(reader: Reader, path: str) -> list[ChassisRead]:
    members = reader.collection(path, required=True) or []
    named = _named_members(members)
    return reader.parallel([partial(_chassis, reader, n, d) for n, _, d in named])


def _chassis(reader: Reader, name: str, c: dict[str, Any]) -> ChassisRead:
    """One chassis: Sensors; ThermalSubsystem (Fans, ThermalMetrics), else legacy Thermal; PowerSubsystem
    (PSUs and their Metrics); legacy Power (PowerControl, voltages; PSUs when there is no PowerSubsystem)
    unless Sensors and PowerSubsystem cover it; EnvironmentMetrics only when nothing else gave the system
    power."""
    sensors_l, thermal_l, thermal_sub_l = link(c, "Sensors"), link(c, "Thermal"), link(c, "ThermalSubsystem")
    power_l, power_sub_l, env_l = link(c, "Power"), link(c, "PowerSubsystem"), link(c, "EnvironmentMetrics")
    # Round 1: everything the chassis links to directly (legacy Power here only when there is no
    # PowerSubsystem or no Sensors; else it is read in round 2, and only if Sensors lack what it gives).
    power_now = bool(power_l) and not (power_sub_l and sensors_l)
    sensor_docs, ts, ps, legacy_power, legacy_thermal = reader.parallel([
        lambda: [d for _, d in reader.collection(sensors_l) or []] if sensors_l else [],
        lambda: reader.get(thermal_sub_l) if thermal_sub_l else None,
        lambda: reader.get(power_sub_l) if power_sub_l else None,
        lambda: reader.get(power_l) if power_l and power_now else None,
        lambda: reader.get(thermal_l) if thermal_l and not thermal_sub_l else None,
    ])  # fmt: skip
    # Round 2: the subsystems' collections; legacy Power when Sensors have no voltages or no chassis power
    # sensor (its PowerControl and Voltages, e.g. a CMOS battery), or the PowerSubsystem could not be read.
    fans_l, metrics_l = (link(ts, "Fans"), link(ts, "ThermalMetrics")) if ts else (None, None)
    supplies_l = link(ps, "PowerSupplies") if ps else None
    kinds = {sensor_kind(d) for d in sensor_docs}
    power_late = (
        bool(power_l)
        and not power_now
        and (ps is None or "voltage" not in kinds or chassis_power(sensor_docs) is None)
    )
    fan_docs, thermal_metrics_doc, supply_members, late_thermal, late_power = reader.parallel([
        lambda: [d for _, d in reader.collection(fans_l) or []] if fans_l else [],
        lambda: reader.get(metrics_l) if metrics_l else None,
        lambda: reader.collection(supplies_l) if supplies_l else None,
        # a ThermalSubsystem that could not be read: the legacy Thermal after all
        lambda: reader.get(thermal_l) if thermal_l and thermal_sub_l and ts is None else None,
        lambda: reader.get(power_l) if power_l and power_late else None,
    ])  # fmt: skip
    legacy_thermal = legacy_thermal or late_thermal
    legacy_power = legacy_power or late_power
    # Round 3: each PSU's Metrics.
    supply_docs = [d for _, d in supply_members or []]
    supply_metrics = reader.parallel([partial(_get, reader, link(d, "Metrics")) for d in supply_docs])
    groups = [sensor_readings(sensor_docs), fan_readings(fan_docs)]
    if thermal_metrics_doc:
        groups.append(thermal_metrics_readings(thermal_metrics_doc))
    if legacy_thermal:
        groups.append(thermal_readings(legacy_thermal))
    if legacy_power:
        groups.append(power_readings(legacy_power))
    legacy_psus = psus(_list(legacy_power, "PowerSupplies")) if legacy_power else []
    psu_list = (
        fill_psu_watts(psus(supply_docs, supply_metrics), legacy_psus) if supply_members else legacy_psus
    )
    sensor_w = chassis_power(sensor_docs)
    control_w = power_control_watts(legacy_power) if legacy_power else None
    env_w = None
    if sensor_w is None and control_w is None and env_l:
        env_w = environment_watts(reader.get(env_l))
    on, h = system(c)
    return ChassisRead(
        name, tuple(merge_readings(groups)), tuple(psu_list), sensor_w, control_w, env_w, h, on
    )


# -- component health: drives, storage controllers, memory, processors ---------------------------------
def components(root: dict[str, Any], reader: Reader) -> tuple[Component, ...]:
    """`Status.Health` of each system's drives, storage controllers, memory modules and processors (CPUs).
    Absent parts and parts without a Health (iLO 4's memory has only an OEM status) give nothing."""
    systems_l = link(root, "Systems")
    systems = reader.collection(systems_l) if systems_l else None
    parts: list[tuple[str, str, str, str, int]] = []  # kind, name, id, parent, health
    for got in reader.parallel([partial(_system_parts, reader, d) for _, d in systems or []]):
        parts += got
    labels = _unique_labels([(k, n, i, p) for k, n, i, p, _ in parts])
    return tuple(Component(k, label, h) for (k, _, _, _, h), label in zip(parts, labels, strict=True))


def _system_parts(reader: Reader, sysdoc: dict[str, Any]) -> list[tuple[str, str, str, str, int]]:
    sid = member_id(sysdoc, 0)
    storage_l, memory_l, cpus_l = link(sysdoc, "Storage"), link(sysdoc, "Memory"), link(sysdoc, "Processors")
    storages, memory, cpus = reader.parallel([
        partial(_members, reader, storage_l),
        partial(_members, reader, memory_l),
        partial(_members, reader, cpus_l),
    ])  # fmt: skip
    out = []
    for kind, members_ in (("memory", memory), ("processor", cpus)):
        for i, (u, d) in enumerate(members_):
            if kind == "processor" and d.get("ProcessorType") not in (None, "CPU"):
                continue
            h = None if absent(d) else health(d.get("Status"))
            if h is not None:
                out.append((kind, _name(d, i, url=u), member_id(d, i, u), sid, h))
    for got in reader.parallel(
        [partial(_storage_parts, reader, u, d, i) for i, (u, d) in enumerate(storages)]
    ):
        out += got
    return out


def _members(reader: Reader, path: str | None) -> list[tuple[str | None, dict[str, Any]]]:
    return (reader.collection(path) or []) if path else []


def _storage_parts(
    reader: Reader, url: str | None, st: dict[str, Any], index: int
) -> list[tuple[str, str, str, str, int]]:
    stid, stname = member_id(st, index, url), _name(st, index, url=url)
    controllers: list[tuple[str | None, dict[str, Any]]] = [
        (None, c) for c in _list(st, "StorageControllers")
    ]
    ctl_l = link(st, "Controllers")
    drive_links = [
        x for x in (link({"x": d}, "x") for d in st.get("Drives") or [] if isinstance(d, dict)) if x
    ]
    fetched = reader.parallel([
        partial(_members, reader, ctl_l if not controllers else None),
        *[partial(_get, reader, d) for d in drive_links],
    ])  # fmt: skip
    controllers += fetched[0]
    out = []
    for i, (u, c) in enumerate(controllers):
        h = None if absent(c) else health(c.get("Status"))
        if h is None:
            continue
        name = (
            _name(c, i, url=u)
            if isinstance(c.get("Name"), str) and c["Name"].strip()
            else (stname if len(controllers) == 1 else f"{stname} {member_id(c, i, u)}")
        )
        out.append(("storage_controller", name, member_id(c, i, u), stid, h))
    for i, (u, d) in enumerate(zip(drive_links, fetched[1:], strict=True)):
        if d is None or absent(d):
            continue  # a dangling link costs only that drive
        h = health(d.get("Status"))
        if h is not None:
            out.append(("drive", _name(d, i, url=u), member_id(d, i, u), stid, h))
    return out


def _unique_labels(items: list[tuple[str, str, str, str]]) -> list[str]:
    """(kind, name, id, parent) -> a label unique within its kind: the name; a name that repeats gets its
    id appended, or its parent's id when the ids repeat too ("Disk.Bay.0 (HA-RAID)")."""
    out = []
    for kind, name, ident, parent in items:
        same = [x for x in items if x[0] == kind and x[1] == name]
        if len(same) == 1:
            out.append(name)
        elif len({x[2] for x in same}) == len(same) and ident != name:
            out.append(f"{name} ({ident})")
        elif len({x[3] for x in same}) == len(same):
            out.append(f"{name} ({parent})")
        else:
            out.append(f"{name} ({parent}/{ident})")
    return out
