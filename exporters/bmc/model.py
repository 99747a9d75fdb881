"""One vocabulary for IPMI and Redfish: what a BMC reading is, in base units, whatever the protocol."""

from __future__ import annotations

from dataclasses import dataclass

# Sensor kinds and the unit of their value (and thresholds).
UNITS = {
    "temperature": "celsius",
    "fan_rpm": "rpm",
    "fan_ratio": "ratio",
    "power": "watts",
    "voltage": "volts",
    "current": "amperes",
}
# The physical thing each kind measures (a fan reads in rpm or as a ratio; one fan either way).
FAMILY = {kind: "fan" if kind.startswith("fan_") else kind for kind in UNITS}

# Threshold names, from the lowest to the highest.
THRESHOLDS = (
    "lower_non_recoverable",
    "lower_critical",
    "lower_non_critical",
    "upper_non_critical",
    "upper_critical",
    "upper_non_recoverable",
)

OK, WARNING, CRITICAL = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Sensor:
    name: str
    kind: str  # a key of UNITS
    value: float | None  # None: the BMC gave no reading ("na")
    health: int | None  # OK, WARNING, CRITICAL; None when the BMC does not say
    thresholds: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Psu:
    name: str
    present: bool
    health: int | None  # None when absent or unknown
    input_watts: float | None = None  # None: the BMC does not say (never read as 0)
    output_watts: float | None = None
    capacity_watts: float | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one scrape of one source read."""

    sensors: tuple[Sensor, ...] = ()
    psus: tuple[Psu, ...] = ()
    power_on: bool | None = None
    system_power_watts: float | None = None
    sel_entries: int | None = None
    sel_free_bytes: int | None = None
    health: tuple[tuple[str, int], ...] = ()  # (component, OK/WARNING/CRITICAL)
    requests: int = 0  # requests sent to the BMC by this scrape
    states: tuple[State, ...] = ()  # discrete sensors' states (IPMI)
    components: tuple[Component, ...] = ()  # drives, controllers, memory, processors (Redfish)
    components_refreshed: float | None = None  # when `components` were read (Unix time)
    sel_by_type: tuple[tuple[str, int], ...] = ()  # (sensor type, entries)
    sel_last_timestamp: float | None = None  # the newest SEL entry (Unix time)


@dataclass(frozen=True, slots=True)
class State:
    """A discrete sensor's state as the severity it means to an operator."""

    name: str
    type: str  # drive, fan, processor, memory, watchdog, intrusion, power_unit, cooling_device, power
    severity: int  # OK, WARNING, CRITICAL


@dataclass(frozen=True, slots=True)
class Component:
    kind: str  # drive, storage_controller, memory, processor
    name: str
    health: int


def unique_names(names: list[str], ids: list[str]) -> list[str]:
    """Names as labels: a name that repeats gets its id appended ("PSU (1)", "PSU (2)")."""
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    return [f"{n} ({i})" if seen[n] > 1 else n for n, i in zip(names, ids, strict=True)]
