"""Issue 9 §3 against a real ipmi_sim given the records a decoder must survive (lab/bmc_sdr_odd.py), and
issue 17: ipmi_exporter's documented `modules:` example accepted and read as that exporter means it."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import pytest
import yaml

from lab import bmc_sdr_odd as odd
from lab.bmc import MONITOR_PASSWORD, MONITOR_USER, PASSWORD, USER, IpmiSim, ipmi_target
from lab.exporter import ExporterProc, find, parse, value
from lab.proc import Lab, require, run
from lab.prometheus import check_metrics

from testlib import config_check

LB = {"target": "odd", "source": "ipmi"}
EXAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "bmc" / "ipmi_exporter_remote.yml"


@pytest.fixture(scope="module")
def oddsim(module_lab: Lab) -> IpmiSim:
    return IpmiSim(
        module_lab, name="bmc-odd-sim", extra_sdrs=odd.sdr_source(), extra_emu=tuple(odd.emu_lines())
    )


@pytest.fixture(scope="module")
def exp(module_lab: Lab, oddsim: IpmiSim) -> ExporterProc:
    modules = yaml.safe_load(EXAMPLE.read_text())["modules"]
    for m in modules.values():  # the documented modules, with the lab's credentials
        m["user"], m["pass"] = USER, PASSWORD
    cfg = {
        "auths": {"lab": {"user": USER, "password": PASSWORD}},
        "modules": modules,
        "targets": {
            "odd": {"ipmi": ipmi_target(oddsim)},
            "excl": {"ipmi": ipmi_target(oddsim, exclude_sensors=["Drive 2", "FAN[0-9]", "CPU. Temp"])},
            "mod": {"ipmi": {"host": oddsim.host, "port": oddsim.port, "module": "default"}},
            "lan15": {"ipmi": {"host": oddsim.host, "port": oddsim.port, "module": "thatspecialhost"}},
        },
    }
    return ExporterProc(module_lab, "bmc", cfg)


def probe(exp: ExporterProc, target: str = "odd") -> dict:
    return parse(exp.probe(target, headers={"X-Prometheus-Scrape-Timeout-Seconds": "8"}))


def test_odd_records_cost_only_themselves(exp: ExporterProc) -> None:
    text = exp.probe("odd")
    assert check_metrics(text) == []
    m = parse(text)
    assert value(m, "colo_bmc_up", **LB) == 1  # before: 0 on every scrape ("unknown linearization 113")
    assert value(m, "colo_bmc_temperature_celsius", sensor="CPU1 Temp", **LB) == 45
    for s in odd.ODD:
        if s.expect.get("skipped"):
            assert [lb for (n, lbs), _ in m.items() for lb in [dict(lbs)] if lb.get("sensor") == s.name] == []
    assert value(m, "colo_bmc_scrape_errors_total", reason="bad_sdr") == 2  # OEM linearization, odd unit
    log = exp.log_text()
    assert "linearization 0x71 is OEM-defined" in log and "unit code 200" in log


def test_discrete_sensors_with_readings_and_states(exp: ExporterProc) -> None:
    m = probe(exp)
    assert value(m, "colo_bmc_fan_speed_ratio", sensor="Fan 7", **LB) == pytest.approx(0.2156)
    assert value(m, "colo_bmc_sensor_state", sensor="Fan 7", type="fan", **LB) == 0  # Transition to Running
    assert value(m, "colo_bmc_power_watts", sensor="Power Meter", **LB) == 100  # 100 Watts, Device Enabled
    assert value(m, "colo_bmc_sensor_state", sensor="Power Meter", type="power", **LB) == 0
    for s in odd.ODD:
        e = s.expect
        if e.get("metric") == "colo_bmc_sensor_state":
            assert value(m, "colo_bmc_sensor_state", sensor=s.name, type=e["type"], **LB) == e["value"], (
                s.name
            )
    assert value(m, "colo_bmc_psu_input_watts", sensor="PSU2 Status", **LB) == 170
    assert find(m, "colo_bmc_psu_input_watts", sensor="PSU1 Status") == []  # no power sensor of its own
    assert value(m, "colo_bmc_health_rollup", component="sensors", **LB) == 2  # drive fault, memory ECC


def test_exclude_sensors_by_name_and_regex(exp: ExporterProc) -> None:
    m = probe(exp, "excl")
    lb = {"target": "excl", "source": "ipmi"}
    assert value(m, "colo_bmc_up", **lb) == 1
    assert find(m, "colo_bmc_sensor_state", sensor="Drive 2") == []
    assert find(m, "colo_bmc_fan_speed_rpm", **lb) == []  # FAN1..FAN6
    assert find(m, "colo_bmc_temperature_celsius", sensor="CPU1 Temp") == []
    assert value(m, "colo_bmc_fan_speed_ratio", sensor="Fan 7", **lb) == pytest.approx(
        0.2156
    )  # "Fan 7" stays
    assert value(m, "colo_bmc_temperature_celsius", sensor="Inlet Temp", **lb) == 22


def test_sel_counted_by_sensor_type(exp: ExporterProc, oddsim: IpmiSim) -> None:
    # ipmi_sim's SEL clock counts from its start (an IPMI "pre-init" stamp, not exported) until set.
    ipmitool = require("ipmitool", "ipmitool")
    now = [f"0x{b:02x}" for b in int(time.time()).to_bytes(4, "little")]
    run([ipmitool, "-I", "lanplus", "-C", "3", "-H", oddsim.host, "-p", str(oddsim.port), "-U", USER, "-P",
         PASSWORD, "raw", "0x0a", "0x49", *now])  # Set SEL Time  # fmt: skip
    before = probe(exp)
    n0 = value(before, "colo_bmc_sel_entries", **LB)
    t0 = time.time()
    oddsim.set_temp("Inlet Temp", 40)  # each change is logged in the SEL, as a BMC would
    oddsim.set_fan(3, 0)
    oddsim.set_temp("Inlet Temp", 22)
    oddsim.set_fan(3, 5300)
    m = probe(exp)
    entries = value(m, "colo_bmc_sel_entries", **LB)
    assert entries > n0
    by_type = {lb["sensor_type"]: v for lb, v in find(m, "colo_bmc_sel_events", **LB)}
    assert sum(by_type.values()) == entries
    assert by_type.get("temperature", 0) >= 1 and by_type.get("fan", 0) >= 1
    assert value(m, "colo_bmc_sel_last_entry_timestamp_seconds", **LB) >= t0 - 120
    # A warm scrape with an unchanged SEL reads no entry again.
    r1 = value(probe(exp), "colo_bmc_scrape_requests", **LB)
    assert value(probe(exp), "colo_bmc_scrape_requests", **LB) == r1


def test_ipmi_exporter_modules(exp: ExporterProc) -> None:
    m = probe(exp, "mod")
    lb = {"target": "mod", "source": "ipmi"}
    assert value(m, "colo_bmc_up", **lb) == 1
    # exclude_sensor_ids: FreeIPMI's record ids; record 2 is "CPU1 Temp" (record 1 is the BMC's locator)
    assert find(m, "colo_bmc_temperature_celsius", sensor="CPU1 Temp") == []
    assert value(m, "colo_bmc_temperature_celsius", sensor="CPU2 Temp", **lb) == 47
    # collectors bmc, ipmi, chassis: no SEL read; chassis read
    assert find(m, "colo_bmc_sel_entries", **lb) == []
    assert value(m, "colo_bmc_chassis_power_on", **lb) == 0
    log = exp.log_text()
    assert "collectors: bmc" in log and "example_pw" not in log and PASSWORD not in log
    # the IPMI 1.5 module (driver LAN): ipmi and sel collectors
    m = probe(exp, "lan15")
    lb = {"target": "lan15", "source": "ipmi"}
    assert value(m, "colo_bmc_up", **lb) == 1
    assert value(m, "colo_bmc_fan_speed_rpm", sensor="FAN2", **lb) == 5500
    assert find(m, "colo_bmc_sel_entries", **lb) != []
    assert find(m, "colo_bmc_chassis_power_on", **lb) == []


def test_ipmi_exporter_example_passes_config_check(tmp_path: Path) -> None:
    assert config_check("bmc", EXAMPLE).returncode == 0
    data = yaml.safe_load(EXAMPLE.read_text())
    bad = copy.deepcopy(data)
    bad["modules"]["default"]["collectors"].append("ipmi-typo")
    p = tmp_path / "bad.yml"
    p.write_text(yaml.safe_dump(bad))
    r = config_check("bmc", p)
    assert r.returncode == 1 and "modules.default.collectors[3]" in r.stderr
    bad = copy.deepcopy(data)
    bad["targets"] = {"s": {"ipmi": {"host": "10.0.0.5", "module": "nope"}}}
    p.write_text(yaml.safe_dump(bad))
    r = config_check("bmc", p)
    assert r.returncode == 1 and "targets.s.ipmi.module" in r.stderr
    assert "example_pw" not in r.stdout + r.stderr


def test_readonly_user_reads_the_odd_records(module_lab: Lab, oddsim: IpmiSim) -> None:
    e = ExporterProc(
        module_lab,
        "bmc",
        {
            "auths": {"ro": {"user": MONITOR_USER, "password": MONITOR_PASSWORD}},
            "targets": {"ro": {"ipmi": ipmi_target(oddsim, auth="ro", privilege="user")}},
        },
    )
    m = probe(e, "ro")
    assert value(m, "colo_bmc_up", target="ro", source="ipmi") == 1
    assert (
        value(m, "colo_bmc_sensor_state", sensor="Memory ECC", type="memory", target="ro", source="ipmi") == 2
    )
