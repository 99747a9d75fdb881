"""IPMI: SDR records and sensor readings -> the common vocabulary. Pure functions, no I/O.

Records are decoded by python-ipmi's `SdrCommon.from_data` (a pure decoder); readings arrive as the
bytes of a Get Sensor Reading response, so both can be tested on captured real output.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyipmi.errors import DecodingError
from pyipmi.sdr import SdrCommon, SdrCompactSensorRecord, SdrFullSensorRecord

from . import ipmi_states
from .model import CRITICAL, OK, WARNING, Psu, Sensor, State

# IPMI base unit codes (IPMI 2.0 table 43-15) -> kind, and a conversion to our base unit.
_UNIT_KIND = {
    1: "temperature",
    2: "temperature",
    3: "temperature",
    4: "voltage",
    5: "current",
    6: "power",
    18: "fan_rpm",
}
_TO_BASE = {2: lambda f: (f - 32.0) * 5.0 / 9.0, 3: lambda k: k - 273.15}
SENSOR_TYPE_FAN = 0x04
ENTITY_POWER_SUPPLY = 0x0A
SENSOR_TYPE_POWER_SUPPLY = 0x08
READING_TYPE_THRESHOLD = 0x01
READING_TYPE_SENSOR_SPECIFIC = 0x6F
CC_NOT_PRESENT = 0xCB  # "requested sensor, data or record not present"

# Threshold comparison bits of a threshold sensor's reading, and of the SDR's readable mask.
_THRESHOLD_BITS = (
    ("lower_non_critical", "lnc", WARNING),
    ("lower_critical", "lcr", CRITICAL),
    ("lower_non_recoverable", "lnr", CRITICAL),
    ("upper_non_critical", "unc", WARNING),
    ("upper_critical", "ucr", CRITICAL),
    ("upper_non_recoverable", "unr", CRITICAL),
)

# Power-supply sensor offsets (sensor type 08h): presence, then what each asserted offset means.
_PSU_OFFSETS = {
    1: CRITICAL,  # failure detected
    2: WARNING,  # predictive failure
    3: CRITICAL,  # input lost (AC/DC)
    4: CRITICAL,  # input lost or out of range
    5: WARNING,  # input out of range, but present
    6: WARNING,
}  # configuration error


@dataclass(frozen=True, slots=True)
class SensorDef:
    """One readable sensor from the SDR repository, with what is needed to convert its readings."""

    number: int
    lun: int
    name: str
    kind: str  # a model.UNITS key, "psu", or "state" (a discrete sensor read for its states only)
    thresholds: tuple[tuple[str, float], ...]
    record: Any  # the python-ipmi record (for the raw -> value conversion)
    record_id: int = 0
    sensor_type: int = 0
    reading_type: int = READING_TYPE_THRESHOLD
    entity: tuple[int, int] = (0, 0)  # entity id and instance (a PSU's power sensor shares its instance)


@dataclass(frozen=True, slots=True)
class RawReading:
    completion_code: int
    raw: int | None
    unavailable: bool  # "reading/state unavailable" (also set while the initial update runs)
    scanning_disabled: bool
    states: int | None


def decode_record(data: bytes) -> SdrCommon:
    return SdrCommon.from_data(data)


def _name(rec: Any) -> str:
    s = rec.device_id_string
    if isinstance(s, bytes):
        s = s.decode("latin-1")
    return str(s).replace("\x00", "").strip()


def decode_records(raw: list[tuple[int, bytes]], skip: Callable[[str], None]) -> list[Any]:
    """SDR records (next record id, bytes) -> python-ipmi records; one that does not decode costs only
    itself (`skip` is told why)."""
    out = []
    for next_id, data in raw:
        try:
            out.append(SdrCommon.from_data(data, next_id))
        except Exception as e:  # noqa: BLE001 - python-ipmi's decoders raise IndexError, DecodingError, ...
            rid = int.from_bytes(data[:2], "little") if len(data) >= 2 else -1
            skip(f"SDR record {rid} ({len(data)} bytes) cannot be decoded: {type(e).__name__}")
    return out


def sensor_defs(
    records: list[Any],
    skip: Callable[[str], None] = lambda _: None,
    exclude: Callable[[str, int], bool] = lambda _n, _i: False,
) -> list[SensorDef]:
    """The sensors this exporter reads, in repository order; names made unique by sensor number. A record
    whose readings cannot be converted (an OEM linearization, a unit no table has) costs only that sensor;
    `exclude(name, record id)` drops what the operator does not want."""
    out: list[SensorDef] = []
    for rec in records:
        try:
            kind = _kind(rec)
        except _Unusable as e:
            skip(f"sensor {_name(rec)!r} (SDR record {rec.id}): {e}")
            continue
        if kind is None or exclude(_name(rec), rec.id):
            continue
        thresholds: tuple[tuple[str, float], ...] = ()
        if isinstance(rec, SdrFullSensorRecord) and rec.event_reading_type_code == READING_TYPE_THRESHOLD:
            readable = rec.discrete_reading_mask & 0x3F  # for threshold sensors: readable thresholds
            ts = []
            for bit, (name, key, _) in enumerate(_THRESHOLD_BITS):
                if readable & (1 << bit):
                    v = _convert(rec, rec.threshold[key])
                    if v is not None:
                        ts.append((name, v))
            thresholds = tuple(sorted(ts))
        entity = (rec.entity_id, rec.entity_instance)
        rtype = rec.event_reading_type_code
        out.append(
            SensorDef(
                rec.number,
                rec.owner_lun,
                _name(rec),
                kind,
                thresholds,
                rec,
                rec.id,
                rec.sensor_type_code,
                rtype,
                entity,
            )
        )
    counts: dict[str, int] = {}
    for d in out:
        counts[d.name] = counts.get(d.name, 0) + 1
    return [dataclasses.replace(d, name=f"{d.name} #{d.number}") if counts[d.name] > 1 else d for d in out]


class _Unusable(Exception):
    """A record this exporter cannot turn into a reading."""


def _kind(rec: Any) -> str | None:
    if not isinstance(rec, (SdrFullSensorRecord, SdrCompactSensorRecord)):
        return None  # event-only, locators, OEM records: nothing to read
    stype, rtype = rec.sensor_type_code, rec.event_reading_type_code
    if stype == SENSOR_TYPE_POWER_SUPPLY and rtype == READING_TYPE_SENSOR_SPECIFIC:
        return "psu"
    analog = (
        isinstance(rec, SdrFullSensorRecord) and rec.analog_data_format != SdrFullSensorRecord.DATA_FMT_NONE
    )
    if analog:
        # Threshold sensors, and discrete ones that carry a reading too (older HP iLO fans and power meter).
        if rec.percentage and stype == SENSOR_TYPE_FAN:
            kind: str | None = "fan_ratio"
        else:
            kind = _UNIT_KIND.get(rec.units_2)
        if kind is None and rtype == READING_TYPE_THRESHOLD:
            raise _Unusable(f"unit code {rec.units_2} is none this exporter reads")
        if kind is not None:
            try:
                rec.lin  # noqa: B018 - raises for an OEM linearization
            except DecodingError:
                raise _Unusable(f"linearization {rec.linearization:#04x} is OEM-defined") from None
            return kind
    if rtype != READING_TYPE_THRESHOLD and stype in ipmi_states.TYPES and _has_states(stype, rtype):
        return "state"
    return None


def _has_states(stype: int, rtype: int) -> bool:
    return ipmi_states.severity(stype, rtype, 0) is not None


def _convert(rec: Any, raw: int | None) -> float | None:
    if raw is None:
        return None
    try:
        v = rec.convert_sensor_raw_to_value(raw)
    except (ArithmeticError, ValueError):
        return None
    if v is None:
        return None
    v = float(v)
    if rec.percentage:
        return round(v / 100.0, 6)
    conv = _TO_BASE.get(rec.units_2)
    return round(conv(v) if conv else v, 6)


def decode_reading(rsp: bytes) -> RawReading:
    """A Get Sensor Reading response: completion code, reading, flags, states (IPMI 2.0 §35.14)."""
    if not rsp:
        raise ValueError("empty Get Sensor Reading response")
    cc = rsp[0]
    if cc != 0:
        return RawReading(cc, None, True, False, None)
    if len(rsp) < 3:
        raise ValueError(f"short Get Sensor Reading response ({len(rsp)} bytes)")
    flags = rsp[2]
    states = None
    if len(rsp) >= 4:
        states = rsp[3] | ((rsp[4] << 8) if len(rsp) >= 5 else 0)
    return RawReading(0, rsp[1], bool(flags & 0x20), not flags & 0x40, states)


def to_model(
    d: SensorDef, r: RawReading, ignore_scanning_disabled: bool = False
) -> Sensor | Psu | State | None:
    """One sensor's reading in the common vocabulary; None when the sensor is not there at all."""
    if ignore_scanning_disabled and r.scanning_disabled:
        r = dataclasses.replace(r, scanning_disabled=False)
    if d.kind == "state":
        if r.completion_code != 0 or r.unavailable or r.scanning_disabled or r.states is None:
            return None
        sev = ipmi_states.severity(d.sensor_type, d.reading_type, r.states)
        return State(d.name, ipmi_states.TYPES[d.sensor_type], sev) if sev is not None else None
    if d.kind == "psu":
        if r.completion_code == CC_NOT_PRESENT:
            return Psu(d.name, False, None)
        if r.completion_code != 0 or r.unavailable or r.states is None:
            return None
        present = bool(r.states & 0x01)
        if not present:
            return Psu(d.name, False, None)
        worst = OK
        for bit, sev in _PSU_OFFSETS.items():
            if r.states & (1 << bit):
                worst = max(worst, sev)
        return Psu(d.name, True, worst)
    if r.completion_code == CC_NOT_PRESENT:
        return None  # the sensor is not there (an empty fan bay): no series, not a dead fan
    if r.completion_code != 0 or r.unavailable or r.scanning_disabled:
        return Sensor(d.name, d.kind, None, None, d.thresholds)
    health: int | None = OK
    if d.reading_type != READING_TYPE_THRESHOLD:  # a discrete sensor with a reading: its states say
        health = ipmi_states.severity(d.sensor_type, d.reading_type, r.states or 0)
    elif r.states is not None:
        worst = OK
        for bit, (_, _, sev) in enumerate(_THRESHOLD_BITS):
            if r.states & (1 << bit):
                worst = max(worst, sev)
        health = worst
    return Sensor(d.name, d.kind, _convert(d.record, r.raw), health, d.thresholds)


def psu_watts(defs: list[SensorDef], sensors: list[Sensor], psus: list[Psu]) -> list[Psu]:
    """Watts sensors whose entity is a power supply (entity 0Ah) and whose instance is a PSU's go on that
    PSU: as output watts when the name says "out", else as input watts."""
    psu_of = {d.entity: d.name for d in defs if d.kind == "psu"}
    value = {s.name: s.value for s in sensors if s.kind == "power"}
    inp: dict[str, float] = {}
    out: dict[str, float] = {}
    for d in defs:
        v = value.get(d.name)
        if d.kind == "power" and d.entity[0] == ENTITY_POWER_SUPPLY and d.entity in psu_of and v is not None:
            (out if re.search(r"out", d.name, re.I) else inp).setdefault(psu_of[d.entity], v)
    return [
        dataclasses.replace(p, input_watts=inp.get(p.name), output_watts=out.get(p.name)) if p.present else p
        for p in psus
    ]


def _ok(rsp: bytes, n: int, what: str) -> bytes:
    if not rsp:
        raise ValueError(f"empty {what} response")
    if rsp[0] != 0:
        raise CompletionCode(rsp[0], what)
    if len(rsp) < n:
        raise ValueError(f"short {what} response ({len(rsp)} bytes, want {n})")
    return rsp


class CompletionCode(Exception):
    def __init__(self, cc: int, what: str) -> None:
        super().__init__(f"{what}: completion code 0x{cc:02x}")
        self.cc = cc


def sdr_repository_stamp(rsp: bytes) -> tuple[int, int, int]:
    """Get SDR Repository Info -> (record count, most recent addition, most recent erase).

    A change of any of them means the repository changed and the SDR must be read again."""
    r = _ok(rsp, 14, "Get SDR Repository Info")
    return (
        int.from_bytes(r[2:4], "little"),
        int.from_bytes(r[6:10], "little"),
        int.from_bytes(r[10:14], "little"),
    )


def sel_info(rsp: bytes) -> tuple[int, int]:
    """Get SEL Info -> (entries, free bytes)."""
    r = _ok(rsp, 6, "Get SEL Info")
    return int.from_bytes(r[2:4], "little"), int.from_bytes(r[4:6], "little")


def sel_stamps(rsp: bytes) -> tuple[float | None, int]:
    """Get SEL Info -> (most recent addition as Unix time or None, most recent erase stamp as sent)."""
    r = _ok(rsp, 6, "Get SEL Info")
    if len(r) < 14:
        return None, -1
    return _timestamp(int.from_bytes(r[6:10], "little")), int.from_bytes(r[10:14], "little")


def _timestamp(v: int) -> float | None:
    """An IPMI timestamp: None when unspecified (FFFFFFFFh) or counted from the BMC's start (up to
    20000000h), not from 1970."""
    return None if v == 0xFFFFFFFF or v <= 0x20000000 else float(v)


def sel_entry(rsp: bytes, assume_system_event: bool = False) -> tuple[int, str]:
    """Get SEL Entry -> (next record id, the sensor type it is about: a name, "oem" for OEM records)."""
    r = _ok(rsp, 19, "Get SEL Entry")
    nxt, rec = int.from_bytes(r[1:3], "little"), r[3:19]
    if rec[2] == 0x02 or assume_system_event:
        return nxt, ipmi_states.sensor_type_name(rec[10])
    return nxt, "oem"


def chassis_power_on(rsp: bytes) -> bool:
    """Get Chassis Status -> system power on."""
    return bool(_ok(rsp, 2, "Get Chassis Status")[1] & 0x01)


def dcmi_power_watts(rsp: bytes) -> float | None:
    """DCMI Get Power Reading -> current watts, or None when the measurement is not active."""
    r = _ok(rsp, 19, "DCMI Get Power Reading")
    if r[1] != 0xDC:
        raise ValueError("DCMI Get Power Reading: no DCMI group extension id")
    active = bool(r[18] & 0x40)
    return float(int.from_bytes(r[2:4], "little")) if active else None
