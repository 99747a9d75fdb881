"""Parsers on captured real output: ipmi_sim (python-ipmi) and the DMTF public-rackmount1 mockup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exporters.bmc import ipmi_parse as I
from exporters.bmc import redfish_parse as R
from exporters.bmc.collector import families
from exporters.bmc.model import Psu, Sensor, Snapshot

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "bmc"


@pytest.fixture(scope="module")
def cap() -> dict:
    return json.loads((FIX / "ipmi_sim_capture.json").read_text())


def dmtf(name: str) -> dict:
    return json.loads((FIX / "dmtf" / name).read_text())


def _ipmi(cap: dict, which: str) -> dict[str, Sensor | Psu]:
    defs = I.sensor_defs([I.decode_record(bytes.fromhex(h)) for h in cap["sdr_records"]])
    out = {}
    for d in defs:
        item = I.to_model(d, I.decode_reading(bytes.fromhex(cap[which][f"0x{d.number:02x}"])))
        if item is not None:
            out[item.name] = item
    return out


def test_ipmi_nominal(cap: dict) -> None:
    got = _ipmi(cap, "readings_nominal")
    assert len(got) == 17
    cpu = got["CPU1 Temp"]
    assert cpu.kind == "temperature" and cpu.value == 45.0 and cpu.health == 0
    assert dict(cpu.thresholds) == {
        "upper_non_critical": 85.0,
        "upper_critical": 95.0,
        "upper_non_recoverable": 105.0,
    }
    assert got["FAN1"].kind == "fan_rpm" and got["FAN1"].value == 5400.0
    assert dict(got["FAN1"].thresholds)["lower_critical"] == 1000.0
    assert got["Pwr Consumption"].kind == "power" and got["Pwr Consumption"].value == 280.0
    assert got["PSU1 Current"].kind == "current" and got["PSU1 Current"].value == pytest.approx(2.3)
    v = got["12V"]
    assert v.kind == "voltage" and v.value == pytest.approx(12.0)
    assert dict(v.thresholds)["lower_critical"] == pytest.approx(11.408)
    assert got["PSU1 Status"] == Psu("PSU1 Status", True, 0)


def test_ipmi_faults(cap: dict) -> None:
    got = _ipmi(cap, "readings_faults")
    assert got["FAN3"].value == 0.0 and got["FAN3"].health == 2  # below lower non-recoverable
    assert got["CPU1 Temp"].value == 97.0 and got["CPU1 Temp"].health == 2
    assert got["Inlet Temp"].value == 40.0 and got["Inlet Temp"].health == 1  # above upper non-critical only
    assert got["PSU2 Status"] == Psu("PSU2 Status", True, 2)  # failure detected
    assert got["PSU1 Status"] == Psu("PSU1 Status", False, None)  # not present: not a failure
    fan5 = got["FAN5"]  # scanning disabled: "na"
    assert fan5.value is None and fan5.health is None


def test_ipmi_other_answers(cap: dict) -> None:
    assert I.sel_info(bytes.fromhex(cap["sel_info"])) == (2, 16000 - 32)
    assert I.sdr_repository_stamp(bytes.fromhex(cap["sdr_info"]))[0] == 18
    assert I.chassis_power_on(bytes.fromhex(cap["chassis_status"])) is False
    with pytest.raises(I.CompletionCode):
        I.dcmi_power_watts(bytes.fromhex(cap["dcmi_power_reading"]))
    # a sensor that is "not present" (completion code CBh) gives no series at all
    d = I.sensor_defs([I.decode_record(bytes.fromhex(cap["sdr_records"][8]))])[0]
    assert I.to_model(d, I.decode_reading(b"\xcb")) is None
    with pytest.raises(ValueError):
        I.decode_reading(b"\x00\x10")


def test_ipmi_duplicate_names_made_unique(cap: dict) -> None:
    recs = [I.decode_record(bytes.fromhex(h)) for h in cap["sdr_records"][7:9]]
    recs[1].device_id_string = recs[0].device_id_string
    names = [d.name for d in I.sensor_defs(recs)]
    assert names == ["FAN1 #48", "FAN1 #49"]


def test_dmtf_sensors_collection() -> None:
    sensors, total = R.sensors_from_collection(dmtf("Sensors_expanded.json")["Members"])
    by = {s.name: s for s in sensors}
    assert total == 374.0
    assert by["CPU #1 Fan Speed"].kind == "fan_ratio" and by["CPU #1 Fan Speed"].value == 0.8
    assert dict(by["CPU #1 Fan Speed"].thresholds)["lower_critical"] == 0.0
    t = next(s for s in sensors if s.kind == "temperature" and s.name.startswith("CPU"))
    assert t.value == 37.0 and dict(t.thresholds)["upper_critical"] == 45.0
    assert not any("Battery" in s.name and s.kind == "fan_ratio" for s in sensors)  # percent, not a fan
    assert not any(s.name.startswith("PS2") or "PS2" in s.name for s in sensors)  # absent: no series
    assert all(s.value is not None for s in sensors)


def test_dmtf_legacy_thermal_and_power() -> None:
    th = R.thermal(dmtf("Thermal.json"))
    temps = [s for s in th if s.kind == "temperature"]
    fans = [s for s in th if s.kind.startswith("fan")]
    assert temps[0].name == "CPU1 Temp" and temps[0].value == 41.0
    assert dict(temps[0].thresholds) == {
        "upper_non_critical": 42.0,
        "upper_critical": 45.0,
        "upper_non_recoverable": 48.0,
    }
    assert fans[0].kind == "fan_rpm" and fans[0].value == 2100.0
    volts, psus, total = R.power(dmtf("Power.json"))
    assert total == 344.0
    assert psus[0].present and psus[0].health == 1
    assert any(s.kind == "voltage" for s in volts)


def test_dmtf_subsystems() -> None:
    fans = R.fans(dmtf("Fans_expanded.json")["Members"])
    bay1 = [f for f in fans if f.name == "Fan Bay 1"]
    assert {(f.kind, f.value) for f in bay1} == {("fan_ratio", 0.45), ("fan_rpm", 2200.0)}
    psus = R.psus(dmtf("PowerSupplies_expanded.json")["Members"])
    assert psus[0].health == 1
    temps = R.thermal_metrics(dmtf("ThermalMetrics.json"))
    assert temps and all(t.kind == "temperature" for t in temps)


def test_quirk_old_names_percent_and_no_units() -> None:
    doc = {
        "Fans": [
            {
                "FanName": "Fan A",
                "CurrentReading": 40,
                "Units": "Percent",
                "MemberId": "0",
                "LowerThresholdCritical": 10,
            },
            {"Name": "Fan B", "Reading": 3000, "MemberId": "1"},  # no units: RPM
            {"Name": "Fan C", "ReadingRPM": 2500, "MemberId": "2"},
        ],
        "Temperatures": [{"Name": "Inlet", "CurrentReading": 21, "MemberId": "0"}],
    }
    by = {(s.name, s.kind): s for s in R.thermal(doc)}
    assert by[("Fan A", "fan_ratio")].value == 0.4
    assert dict(by[("Fan A", "fan_ratio")].thresholds) == {"lower_critical": 0.1}
    assert by[("Fan B", "fan_rpm")].value == 3000.0
    assert by[("Fan C", "fan_rpm")].value == 2500.0
    assert by[("Inlet", "temperature")].value == 21.0
    # Sensors without ReadingUnits take the unit of their ReadingType
    s, _ = R.sensors_from_collection(
        [
            {"Id": "T1", "Name": "T1", "ReadingType": "Temperature", "Reading": 30},
            {"Id": "F1", "Name": "F1", "ReadingType": "Rotational", "Reading": 900},
        ]
    )
    assert [(x.kind, x.value) for x in s] == [("temperature", 30.0), ("fan_rpm", 900.0)]


def test_quirk_absent_na_null_thresholds() -> None:
    doc = {
        "Fans": [
            {"Name": "Fan 6", "Reading": 0, "ReadingUnits": "RPM", "Status": {"State": "Absent"}},
            {
                "Name": "Fan 7",
                "Reading": "na",
                "ReadingUnits": "RPM",
                "Status": {"State": "Enabled"},
                "LowerThresholdCritical": None,
                "LowerThresholdFatal": None,
            },
        ]
    }
    got = R.thermal(doc)
    assert [s.name for s in got] == ["Fan 7"]  # the absent fan is no dead fan: no series
    assert got[0].value is None and got[0].thresholds == ()
    s, _ = R.sensors_from_collection(
        [
            {
                "Id": "X",
                "Name": "X",
                "ReadingUnits": "Cel",
                "Reading": None,
                "Thresholds": {"UpperCritical": {"Reading": None}, "UpperCaution": None},
            }
        ]
    )
    assert s[0].value is None and s[0].thresholds == ()


def test_quirk_same_names_encoded_ids_trailing_slash() -> None:
    ps = R.psus(
        [
            {
                "@odata.id": "/redfish/v1/Chassis/1/PowerSubsystem/PowerSupplies/PSU%201",
                "Name": "Power Supply",
                "Status": {"State": "Enabled", "Health": "OK"},
            },
            {
                "@odata.id": "/redfish/v1/Chassis/1/PowerSubsystem/PowerSupplies/PSU%202/",
                "Name": "Power Supply",
                "Status": {"State": "Absent"},
            },
        ]
    )
    assert ps == [Psu("Power Supply (PSU 1)", True, 0), Psu("Power Supply (PSU 2)", False, None)]
    assert (
        R.link({"Thermal": {"@odata.id": "/redfish/v1/Chassis/1/Thermal/"}}, "Thermal")
        == "/redfish/v1/Chassis/1/Thermal"
    )
    assert R.norm("/redfish/v1/Chassis/1/Thermal#/Fans/0") == "/redfish/v1/Chassis/1/Thermal"
    assert R.number(True) is None and R.number("12") is None and R.number(float("nan")) is None


def test_collector_output_is_valid() -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from lab.prometheus import check_metrics

    snap = Snapshot(
        sensors=(
            Sensor("CPU1 Temp", "temperature", 45.0, 0, (("upper_critical", 95.0),)),
            Sensor("Fan 1", "fan_ratio", 0.4, 0),
            Sensor("Fan 2", "fan_rpm", None, None),
        ),
        psus=(Psu("PSU1", True, 2), Psu("PSU2", False, None)),
        power_on=True,
        system_power_watts=300.0,
        sel_entries=3,
        sel_free_bytes=100,
        health=(("sensors", 2),),
        requests=20,
    )

    class C:
        def collect(self):
            return families("colo_bmc", "s1", "ipmi", snap)

    reg = CollectorRegistry()
    reg.register(C())
    text = generate_latest(reg).decode()
    assert check_metrics(text) == []
    assert 'colo_bmc_temperature_celsius{sensor="CPU1 Temp",source="ipmi",target="s1"} 45.0' in text
    assert 'colo_bmc_psu_present{sensor="PSU2",source="ipmi",target="s1"} 0.0' in text
    assert 'colo_bmc_psu_health{sensor="PSU2"' not in text
    assert (
        'sensor="Fan 2"' not in text.split("colo_bmc_fan_speed_rpm")[1].split("# HELP")[0]
        if "colo_bmc_fan_speed_rpm" in text
        else True
    )


def test_dcmi_power_reading() -> None:
    # DCMI Get Power Reading: cc, group id DCh, current/min/max/avg (LE16), timestamp, period, state
    rsp = (
        bytes([0x00, 0xDC])
        + (312).to_bytes(2, "little")
        + (200).to_bytes(2, "little")
        + (400).to_bytes(2, "little")
        + (300).to_bytes(2, "little")
        + bytes(8)
        + bytes([0x40])
    )
    assert I.dcmi_power_watts(rsp) == 312.0
    assert I.dcmi_power_watts(rsp[:-1] + b"\x00") is None  # measurement not active
    with pytest.raises(ValueError):
        I.dcmi_power_watts(rsp[:10])


def test_redfish_links_stay_on_the_configured_bmc() -> None:
    """A link to another host is refused and counted, never rewritten onto the BMC or requested."""
    from exporters.bmc.config import Auth, RedfishTarget
    from exporters.bmc.redfish import RedfishSource, _Refused
    from exporters.core import Deadline, Secret
    from exporters.core.scrape import Tally

    cfg = RedfishTarget(url="https://127.0.0.1:9", auth="a", login="basic")
    src = RedfishSource("t", cfg, Auth("u", Secret("p")))
    sent = []
    src._send = lambda method, path, deadline, json=None: sent.append(path)
    d = Deadline(1, Tally())
    for link in (
        "https://evil.example:8443/redfish/v1/Chassis?$skip=4",
        "@evil:1/redfish/v1",
        "0/redfish/v1",
    ):
        with pytest.raises(_Refused):
            src.get(link, d)
    assert sent == []
    assert d.tally is not None and d.tally.counts == {"bad_link": 3}
    src.close()


def test_ipmi_one_bad_record_costs_only_itself(cap: dict) -> None:
    from lab.bmc_sdr_odd import truncated_record

    good = [(0xFFFF, bytes.fromhex(h)) for h in cap["sdr_records"][:5]]
    skipped: list[str] = []
    records = I.decode_records([good[0], (0x0003, truncated_record()), *good[1:]], skipped.append)
    assert len(records) == 5 and len(skipped) == 1 and "SDR record 240" in skipped[0]
    defs = I.sensor_defs(records, skipped.append, lambda name, rid: name == "CPU2 Temp")
    assert "CPU2 Temp" not in [d.name for d in defs] and "CPU1 Temp" in [d.name for d in defs]


def test_ipmi_sel_entries_and_stamps() -> None:
    # Get SEL Entry: cc, next id, then a system event record about a fan (sensor type 04h)
    rec = (
        bytes([0x05, 0x00, 0x02]) + (1764600000).to_bytes(4, "little") + bytes([0x20, 0x00, 0x04, 0x04, 0x32])
    )
    rec += bytes([0x01, 0x00, 0x00, 0x00])
    assert I.sel_entry(b"\x00\x06\x00" + rec) == (6, "fan")
    oem = rec[:2] + b"\xe0" + rec[3:]
    assert I.sel_entry(b"\x00\xff\xff" + oem) == (0xFFFF, "oem")
    assert I.sel_entry(b"\x00\xff\xff" + oem, assume_system_event=True) == (0xFFFF, "fan")
    info = bytes([0, 0x51, 3, 0, 0x60, 0x3E]) + (1764600000).to_bytes(4, "little") + bytes(4) + b"\x0a"
    assert I.sel_stamps(info) == (1764600000.0, 0)
    pre_init = info[:6] + (745).to_bytes(4, "little") + info[10:]
    assert I.sel_stamps(pre_init)[0] is None  # seconds since the BMC started, not a date
