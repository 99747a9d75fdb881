"""SDR records a real BMC has and a decoder must survive, for ipmi_sim (sdrcomp source + emulation lines).

Each record is one an operator meets in the field; the decoder must read what it can and let the rest
cost only that sensor:
- older HP iLO fans: a discrete sensor (sensor type Fan, generic "availability" reading type 0Ah) that
  also carries an analog reading in percent ("21.56 percent, Transition to Running");
- the HP power meter: discrete (generic "device enabled" type 09h) with a reading in watts
  ("100 Watts, Device Enabled"), its entity a power supply;
- an OEM linearization (70h-7Fh: only the vendor knows the formula) and a base unit no table has (200);
- a record whose length byte promises more than it holds (a truncated record);
- discrete states that matter: drive fault (0Dh), cooling device redundancy (0Ah with 0Bh), processor
  (07h), memory (0Ch), watchdog 2 (23h), chassis intrusion (05h), as compact records;
- an event-only record (type 3): there is nothing to read, it must not be asked for.

`ODD` (read from bmc_sdr_odd.json, the data) describes them with the value the exporter must report
(checked by tests/bmc), `sdr_source()` is the sdrcomp(1) input and `emu_lines()` the ipmi_sim commands
that add the sensors and set their readings. `truncated_record()` is a raw record added with
`main_sdr_add` as is (sdrcomp would refuse it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .bmc import sdr_analog, sdr_events, sdr_key

MC = 0x20


@dataclass(frozen=True)
class OddSensor:
    number: int
    name: str
    record: str  # sdrcomp body lines (without the common key/entity lines)
    sensor_type: int
    reading_type: int
    entity: str
    instance: int = 1
    sdr_type: int = 1  # 1 full, 2 compact, 3 event-only
    raw: int | None = None  # analog raw byte (None: no reading set)
    states: tuple[int, ...] = ()  # asserted state offsets
    expect: dict[str, object] = field(default_factory=dict)  # what the exporter must report


def _int(v: int | str) -> int:
    return int(v, 0) if isinstance(v, str) else v


def _sensor(d: dict) -> OddSensor:
    """One record of bmc_sdr_odd.json: sdrcomp lines `before`, `events` discrete states, an `analog`
    reading format (the arguments of lab.bmc.sdr_analog), lines `after`."""
    lines = [f"\t{x}" for x in d.get("before", ())] + sdr_events(d.get("events", 0))
    if "analog" in d:
        lines += sdr_analog(**d["analog"])
    lines += [f"\t{x}" for x in d.get("after", ())]
    return OddSensor(
        _int(d["number"]),
        d["name"],
        "\n".join(lines),
        _int(d["sensor_type"]),
        _int(d.get("reading_type", 0x6F)),  # 6Fh: sensor-specific states
        d["entity"],
        d.get("instance", 1),
        sdr_type=d.get("sdr_type", 1),
        raw=d.get("raw"),
        states=tuple(d.get("states", ())),
        expect=d["expect"],
    )


# The records, each with why a real BMC has it ("why") and what the exporter must report ("expect").
ODD: tuple[OddSensor, ...] = tuple(
    _sensor(d) for d in json.loads(Path(__file__).with_suffix(".json").read_text())
)

TRUNCATED_NUMBER = 0x7B


def sdr_source(sensors: tuple[OddSensor, ...] = ODD) -> str:
    out: list[str] = []
    for s in sensors:
        out += [
            *sdr_key(s.sdr_type, s.number, s.entity, s.instance, MC),
            f"\tsensor_type 0x{s.sensor_type:02x}",
            f"\tevent_reading_type_code 0x{s.reading_type:02x}",
        ]
        if s.record:
            out.append(s.record)
        out += [f'\tid_string "{s.name}"', "endsdr", ""]
    return "\n".join(out)


def truncated_record(record_id: int = 0x00F0) -> bytes:
    """A full sensor record whose length byte says 51 bytes follow, of which 12 are there."""
    body = bytes([MC, 0, TRUNCATED_NUMBER, 0x07, 0x01, 0x7F, 0x68, 0x01, 0x01, 0, 0, 0])
    return record_id.to_bytes(2, "little") + bytes([0x51, 0x01, 51]) + body


def emu_lines(sensors: tuple[OddSensor, ...] = ODD) -> list[str]:
    """`sensor_add` and reading/state commands for the readable odd sensors (after their SDRs)."""
    out = []
    for s in sensors:
        if s.sdr_type == 3:
            continue
        out.append(f"sensor_add 0x{MC:02x} 0 0x{s.number:02x} 0x{s.sensor_type:02x} 0x{s.reading_type:02x}")
    for s in sensors:
        if s.sdr_type == 3:
            continue
        if s.raw is not None:
            out.append(f"sensor_set_value 0x{MC:02x} 0 0x{s.number:02x} {s.raw} 0")
        for bit in s.states:
            out.append(f"sensor_set_bit 0x{MC:02x} 0 0x{s.number:02x} {bit} 1 0")
    return out
