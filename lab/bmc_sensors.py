"""The simulated server's sensors and the lab BMC credentials, shared by ipmi_sim (lab/bmc.py) and the
Redfish test server (lab/bmc_redfish_model.py): one table, both protocols."""

from __future__ import annotations

from dataclasses import dataclass

USER, PASSWORD = "admin", "colo-lab-Pw7"
MONITOR_USER, MONITOR_PASSWORD = "monitor", "monitorpw"


@dataclass(frozen=True)
class LabSensor:
    """One sensor of the simulated server: number, name, kind, scale (value = raw * m * 10^r + b),
    thresholds (value units) and the initial value."""

    number: int
    name: str
    kind: str  # temperature fan power current voltage psu
    entity: str
    instance: int
    value: float
    thresholds: dict[str, float]  # lnr lcr lnc unc ucr unr
    m: int = 1
    r_exp: int = 0
    b: int = 0
    b_exp: int = 0
    rf_id: str = ""  # the Redfish id


def _temp(
    num: int, name: str, entity: str, inst: int, value: float, unc: float, uc: float, unr: float, rf_id: str
) -> LabSensor:
    return LabSensor(
        num, name, "temperature", entity, inst, value, {"unc": unc, "ucr": uc, "unr": unr}, rf_id=rf_id
    )


SENSORS: tuple[LabSensor, ...] = (
    _temp(0x01, "CPU1 Temp", "processor", 1, 45, 85, 95, 105, "CPU1Temp"),
    _temp(0x02, "CPU2 Temp", "processor", 2, 47, 85, 95, 105, "CPU2Temp"),
    _temp(0x03, "Inlet Temp", "0x37", 1, 22, 38, 42, 47, "InletTemp"),
    _temp(0x04, "Exhaust Temp", "system_board", 1, 35, 70, 75, 80, "ExhaustTemp"),
    _temp(0x05, "DIMM A1 Temp", "memory_device", 1, 38, 80, 85, 90, "DIMMA1Temp"),
    _temp(0x06, "DIMM B1 Temp", "memory_device", 2, 39, 80, 85, 90, "DIMMB1Temp"),
    *(
        LabSensor(
            0x2F + i,
            f"FAN{i}",
            "fan",
            "fan_cooling_device",
            i,
            rpm,
            {"lnc": 1500, "lcr": 1000, "lnr": 500},
            m=100,
            rf_id=f"Fan{i}",
        )
        for i, rpm in zip(range(1, 7), (5400, 5500, 5300, 5600, 5400, 5200), strict=True)
    ),
    LabSensor(0x40, "PSU1 Status", "psu", "power_supply", 1, 1, {}, rf_id="PSU1"),
    LabSensor(0x41, "PSU2 Status", "psu", "power_supply", 2, 1, {}, rf_id="PSU2"),
    LabSensor(
        0x42,
        "Pwr Consumption",
        "power",
        "system_board",  # the server's draw, not one PSU's
        1,
        280,
        {"unc": 800, "ucr": 900},
        m=4,
        rf_id="TotalPower",
    ),
    LabSensor(
        0x43,
        "PSU1 Current",
        "current",
        "power_supply",
        1,
        2.3,
        {"unc": 20.0, "ucr": 23.0},
        r_exp=-1,
        rf_id="PSU1Current",
    ),
    LabSensor(
        0x50,
        "12V",
        "voltage",
        "system_board",
        1,
        12.0,
        {"lcr": 11.408, "lnc": 11.648, "unc": 12.72, "ucr": 12.96},
        m=16,
        r_exp=-3,
        b=10,
        b_exp=3,
        rf_id="Rail12V",
    ),
)
