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

`ODD` describes them with the value the exporter must report (checked by tests/bmc), `sdr_source()`
is the sdrcomp(1) input and `emu_lines()` the ipmi_sim commands that add the sensors and set their
readings. `truncated_record()` is a raw record added with `main_sdr_add` as is (sdrcomp would refuse it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


def _analog(unit: str, m: int, r_exp: int, percentage: bool = False, linearization: str = "linear") -> str:
    return "\n".join(sdr_analog(unit, m, r_exp, percentage=percentage, linearization=linearization))


def _events(n: int) -> str:
    return "\n".join(sdr_events(n))


def _state(
    number: int,
    name: str,
    sensor_type: int,
    entity: str,
    instance: int,
    *,
    events: int,
    asserted: tuple[int, ...],
    kind: str,
    value: int,
    reading_type: int = 0x6F,
) -> OddSensor:
    """A compact discrete record with `asserted` states; the exporter reports it as colo_bmc_sensor_state
    {type=kind} = value."""
    return OddSensor(
        number,
        name,
        _events(events),
        sensor_type,
        reading_type,
        entity,
        instance,
        sdr_type=2,
        states=asserted,
        expect={"metric": "colo_bmc_sensor_state", "type": kind, "value": value},
    )


ODD: tuple[OddSensor, ...] = (
    # HP iLO 3/4 style fan: 44 * 0.49 = 21.56 %, state 0 of type 0Ah = "Transition to Running".
    OddSensor(
        0x70,
        "Fan 7",
        _events(2) + "\n" + _analog("unspecified", 49, -2, percentage=True),
        0x04,
        0x0A,
        "fan_cooling_device",
        7,
        raw=44,
        states=(0,),
        expect={"metric": "colo_bmc_fan_speed_ratio", "value": 0.2156},
    ),
    # HP power meter: 50 * 2 = 100 W, state 1 of type 09h = "Device Enabled".
    OddSensor(
        0x71,
        "Power Meter",
        _events(2) + "\n" + _analog("Watts", 2, 0),
        0x0B,
        0x09,
        "power_supply",
        3,
        raw=50,
        states=(1,),
        expect={"metric": "colo_bmc_power_watts", "value": 100.0},
    ),
    # OEM linearization: the reading cannot be converted; the sensor is skipped, nothing else.
    OddSensor(
        0x72,
        "OEM Lin Temp",
        "\treturn_uc true\n\tuc_thrsh_readable true\n"
        + _analog("degrees_C", 1, 0, linearization="0x71")
        + "\n\tuc_thresh 90",
        0x01,
        0x01,
        "processor",
        3,
        raw=40,
        expect={"skipped": True},
    ),
    # A base unit no table has: no kind, skipped.
    OddSensor(
        0x73,
        "Odd Unit",
        _analog("200", 1, 0),
        0x02,
        0x01,
        "system_board",
        3,
        raw=12,
        expect={"skipped": True},
    ),
    # Discrete states that matter (compact records), with the severity the state means.
    _state(0x74, "Drive 2", 0x0D, "disk_or_disk_bay", 2, events=8, asserted=(0, 1), kind="drive", value=2),
    _state(
        0x75,
        "Fan Redundancy",
        0x04,
        "fan_cooling_device",
        9,
        events=8,
        asserted=(1,),
        kind="fan",
        value=1,
        reading_type=0x0B,
    ),
    _state(0x76, "CPU2 Status", 0x07, "processor", 2, events=11, asserted=(7,), kind="processor", value=0),
    _state(0x77, "Memory ECC", 0x0C, "memory_device", 3, events=9, asserted=(1,), kind="memory", value=2),
    _state(
        0x78, "Watchdog", 0x23, "system_management_module", 1, events=9, asserted=(), kind="watchdog", value=0
    ),
    _state(0x79, "Intrusion", 0x05, "system_chassis", 1, events=7, asserted=(0,), kind="intrusion", value=1),
    # A PSU's own input power (entity power supply, instance 2 like "PSU2 Status"): that PSU's input watts.
    OddSensor(
        0x7C,
        "PSU2 Input Power",
        _analog("Watts", 2, 0),
        0x0B,
        0x01,
        "power_supply",
        2,
        raw=85,
        expect={"metric": "colo_bmc_psu_input_watts", "sensor": "PSU2 Status", "value": 170.0},
    ),
    # Event-only: never read.
    OddSensor(
        0x7A,
        "SEL Fullness",
        "",
        0x10,
        0x6F,
        "system_management_module",
        2,
        sdr_type=3,
        expect={"skipped": True},
    ),
)

# "Processor presence detected" (offset 7) is the normal state; the rest of the table is in the exporter.
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
