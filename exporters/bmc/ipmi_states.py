"""IPMI discrete sensor states -> the severity an operator gives them (IPMI 2.0 tables 42-2 and 42-3). No I/O.

Only the sensor types whose states matter to an operator get a `colo_bmc_sensor_state` sample (`TYPES`);
the state offsets they assert are mapped to OK, WARNING or CRITICAL and the worst one wins. A reading type
without a table here (digital discrete 03h, OEM 70h-7Fh) says nothing about health: no sample.
Power supplies (08h) are read as PSUs (`colo_bmc_psu_*`), not here.
"""

from __future__ import annotations

from .model import CRITICAL, OK, WARNING

# Sensor type code -> the `type` label of colo_bmc_sensor_state (threshold kinds use the same words).
TYPES = {
    0x04: "fan",
    0x05: "intrusion",
    0x07: "processor",
    0x09: "power_unit",
    0x0A: "cooling_device",
    0x0B: "power",  # "other units-based sensor": HP's power meter
    0x0C: "memory",
    0x0D: "drive",
    0x23: "watchdog",
}

# Sensor-specific states (event/reading type 6Fh), per sensor type: offset -> severity; unlisted: OK.
SENSOR_SPECIFIC: dict[int, dict[int, int]] = {
    # Physical security: general chassis, drive bay, I/O card, processor area, LAN leash, dock, fan area.
    0x05: dict.fromkeys(range(7), WARNING),
    # Processor: IERR, thermal trip, FRB1-3, config error, uncorrectable complex error; 7 presence (OK),
    # 8 disabled, 10 throttled, 11 uncorrectable machine check, 12 correctable machine check.
    0x07: {
        0: CRITICAL,
        1: CRITICAL,
        2: CRITICAL,
        3: CRITICAL,
        4: CRITICAL,
        5: CRITICAL,
        6: CRITICAL,
        8: WARNING,
        10: WARNING,
        11: CRITICAL,
        12: WARNING,
    },
    # Power unit: 2 240VA down, 3 interlock down, 4 AC lost, 5 soft control failure, 6 failure, 7 predictive.
    0x09: {2: WARNING, 3: WARNING, 4: CRITICAL, 5: CRITICAL, 6: CRITICAL, 7: WARNING},
    # Memory: correctable ECC, uncorrectable ECC, parity, scrub failed, disabled, ECC log limit; 6 presence
    # (OK), 7 configuration error, 8 spare (OK), 9 throttled, 10 critical overtemperature.
    0x0C: {
        0: WARNING,
        1: CRITICAL,
        2: CRITICAL,
        3: CRITICAL,
        4: WARNING,
        5: WARNING,
        7: CRITICAL,
        9: WARNING,
        10: CRITICAL,
    },
    # Drive slot: 0 present (OK), 1 fault, 2 predictive failure, 3 hot spare (OK), 4 consistency check (OK),
    # 5 in critical array, 6 in failed array, 7 rebuild in progress, 8 rebuild aborted.
    0x0D: {1: CRITICAL, 2: WARNING, 5: CRITICAL, 6: CRITICAL, 7: WARNING, 8: CRITICAL},
    # Watchdog 2: 0 expired (status only), 1 hard reset, 2 power down, 3 power cycle, 8 timer interrupt.
    0x23: {0: WARNING, 1: CRITICAL, 2: CRITICAL, 3: CRITICAL, 8: WARNING},
}

# Generic states (event/reading types 02h-0Ch), whatever the sensor type; unlisted offsets: OK.
GENERIC: dict[int, dict[int, int]] = {
    0x02: {},  # usage: idle, active, busy
    0x04: {1: WARNING},  # predictive failure asserted
    0x05: {1: WARNING},  # limit exceeded
    0x06: {1: WARNING},  # performance lags
    # Severity: to non-critical (1, 4), to critical (2, 5), to non-recoverable (3, 6); 7 monitor, 8 info.
    0x07: {1: WARNING, 2: CRITICAL, 3: CRITICAL, 4: WARNING, 5: CRITICAL, 6: CRITICAL},
    0x08: {},  # device absent / present
    0x09: {},  # device disabled / enabled
    # Availability: 0 running, 1 in test, 2 power off, 3 on line, 4 off line, 5 off duty, 6 degraded,
    # 7 power save, 8 install error.
    0x0A: {4: WARNING, 5: WARNING, 6: WARNING, 8: CRITICAL},
    # Redundancy: 0 full, 1 lost, 2 degraded, 3-4 non-redundant with sufficient resources, 5 insufficient,
    # 6-7 degraded.
    0x0B: {1: WARNING, 2: WARNING, 3: WARNING, 4: WARNING, 5: CRITICAL, 6: WARNING, 7: WARNING},
    0x0C: {},  # ACPI device power state
}

READING_TYPE_SENSOR_SPECIFIC = 0x6F


def severity(sensor_type: int, reading_type: int, states: int) -> int | None:
    """The worst severity among the asserted state offsets; None when the reading type has no meaning here."""
    if reading_type == READING_TYPE_SENSOR_SPECIFIC:
        table = SENSOR_SPECIFIC.get(sensor_type)
    else:
        table = GENERIC.get(reading_type)
    if table is None:
        return None
    worst = OK
    for offset, sev in table.items():
        if states & (1 << offset):
            worst = max(worst, sev)
    return worst


# Sensor type names (IPMI 2.0 table 42-3) for SEL counts: `colo_bmc_sel_events{sensor_type}`.
SENSOR_TYPE_NAMES = {
    0x01: "temperature",
    0x02: "voltage",
    0x03: "current",
    0x04: "fan",
    0x05: "physical_security",
    0x06: "platform_security",
    0x07: "processor",
    0x08: "power_supply",
    0x09: "power_unit",
    0x0A: "cooling_device",
    0x0B: "other_units",
    0x0C: "memory",
    0x0D: "drive_slot",
    0x0E: "post_memory_resize",
    0x0F: "system_firmware_progress",
    0x10: "event_logging_disabled",
    0x11: "watchdog_1",
    0x12: "system_event",
    0x13: "critical_interrupt",
    0x14: "button_switch",
    0x15: "module_board",
    0x16: "microcontroller",
    0x17: "add_in_card",
    0x18: "chassis",
    0x19: "chip_set",
    0x1A: "other_fru",
    0x1B: "cable_interconnect",
    0x1C: "terminator",
    0x1D: "system_boot_initiated",
    0x1E: "boot_error",
    0x1F: "os_boot",
    0x20: "os_stop",
    0x21: "slot_connector",
    0x22: "system_acpi_power_state",
    0x23: "watchdog_2",
    0x24: "platform_alert",
    0x25: "entity_presence",
    0x26: "monitor_asic",
    0x27: "lan",
    0x28: "management_subsystem_health",
    0x29: "battery",
    0x2A: "session_audit",
    0x2B: "version_change",
    0x2C: "fru_state",
}


def sensor_type_name(code: int) -> str:
    """A sensor type's label: its IPMI name, "oem" for C0h-FFh, else "reserved"."""
    if code in SENSOR_TYPE_NAMES:
        return SENSOR_TYPE_NAMES[code]
    return "oem" if code >= 0xC0 else "reserved"
