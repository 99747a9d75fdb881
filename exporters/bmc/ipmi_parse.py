"""IPMI: SDR records and sensor readings -> the common vocabulary. Pure functions, no I/O.

Records are decoded by python-ipmi's `SdrCommon.from_data` (a pure decoder); readings arrive as the
bytes of a Get Sensor Reading response, so both can be tested on captured real output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyipmi.sdr import SdrCommon, SdrCompactSensorRecord, SdrFullSensorRecord

from .model import CRITICAL, OK, WARNING, Psu, Sensor

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
    kind: str  # a model.UNITS key, or "psu"
    thresholds: tuple[tuple[str, float], ...]
    record: Any  # the python-ipmi record (for the raw -> value conversion)


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


def sensor_defs(records: list[Any]) -> list[SensorDef]:
    """The sensors this exporter reads, in repository order; names made unique by sensor number."""
    out: list[SensorDef] = []
    for rec in records:
        kind = _kind(rec)
        if kind is None:
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
        out.append(SensorDef(rec.number, rec.owner_lun, _name(rec), kind, thresholds, rec))
    counts: dict[str, int] = {}
    for d in out:
        counts[d.name] = counts.get(d.name, 0) + 1
    return [
        SensorDef(d.number, d.lun, f"{d.name} #{d.number}", d.kind, d.thresholds, d.record)
        if counts[d.name] > 1
        else d
        for d in out
    ]


def _kind(rec: Any) -> str | None:
    if (
        isinstance(rec, (SdrFullSensorRecord, SdrCompactSensorRecord))
        and rec.sensor_type_code == SENSOR_TYPE_POWER_SUPPLY
        and rec.event_reading_type_code == READING_TYPE_SENSOR_SPECIFIC
    ):
        return "psu"
    if not isinstance(rec, SdrFullSensorRecord) or rec.event_reading_type_code != READING_TYPE_THRESHOLD:
        return None  # only analog threshold sensors carry a value we can convert
    if rec.analog_data_format == SdrFullSensorRecord.DATA_FMT_NONE:
        return None
    if rec.percentage and rec.sensor_type_code == SENSOR_TYPE_FAN:
        return "fan_ratio"
    return _UNIT_KIND.get(rec.units_2)


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


def to_model(d: SensorDef, r: RawReading) -> Sensor | Psu | None:
    """One sensor's reading in the common vocabulary; None when the sensor is not there at all."""
    if d.kind == "psu":
        if r.completion_code == CC_NOT_PRESENT:
            return Psu(d.name, False, None)
        if r.completion_code != 0 or r.unavailable or r.states is None:
            return None
        present = bool(r.states & 0x01)
        if not present:
            return Psu(d.name, False, None)
        health = OK
        for bit, sev in _PSU_OFFSETS.items():
            if r.states & (1 << bit):
                health = max(health, sev)
        return Psu(d.name, True, health)
    if r.completion_code == CC_NOT_PRESENT:
        return None  # the sensor is not there (an empty fan bay): no series, not a dead fan
    if r.completion_code != 0 or r.unavailable or r.scanning_disabled:
        return Sensor(d.name, d.kind, None, None, d.thresholds)
    health = OK
    if r.states is not None:
        for bit, (_, _, sev) in enumerate(_THRESHOLD_BITS):
            if r.states & (1 << bit):
                health = max(health, sev)
    return Sensor(d.name, d.kind, _convert(d.record, r.raw), health, d.thresholds)


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
