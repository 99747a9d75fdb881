"""colo-bmc-exporter against a real ipmi_sim: readings, runtime faults, warm session, SDR changes,
bad input."""

from __future__ import annotations

import time

import pytest

from lab.bmc import MONITOR_PASSWORD, MONITOR_USER, PASSWORD, USER, IpmiSim, LabSensor, ipmi_target
from lab.exporter import ExporterProc, find, parse, value
from lab.proc import Lab, free_port
from lab.prometheus import check_metrics


@pytest.fixture(scope="module")
def exp(module_lab: Lab, sim: IpmiSim) -> ExporterProc:
    dead = free_port()
    cfg = {
        "auths": {
            "lab": {"user": USER, "password": PASSWORD},
            "ro": {"user": MONITOR_USER, "password": MONITOR_PASSWORD},
            "wrong": {"user": USER, "password": "S3cret-wrong-pw"},
        },
        "targets": {
            "s1": {"ipmi": ipmi_target(sim)},
            "ro": {"ipmi": ipmi_target(sim, auth="ro", privilege="user")},
            "badpw": {"ipmi": ipmi_target(sim, auth="wrong")},
            "dead": {"ipmi": {"host": "127.0.0.1", "port": dead, "auth": "lab", "timeout": "500ms"}},
        },
    }
    return ExporterProc(module_lab, "bmc", cfg)


def lab_auth_config(**targets: dict) -> dict:
    """An exporter config of `targets`, with the `lab` auth (the simulator's admin) only."""
    return {"auths": {"lab": {"user": USER, "password": PASSWORD}}, "targets": targets}


def probe(exp: ExporterProc, target: str = "s1", timeout: str = "5") -> dict:
    return parse(exp.probe(target, headers={"X-Prometheus-Scrape-Timeout-Seconds": timeout}))


def test_nominal_readings(exp: ExporterProc) -> None:
    text = exp.probe("s1")
    assert check_metrics(text) == []
    m = parse(text)
    lb = {"target": "s1", "source": "ipmi"}
    assert value(m, "colo_bmc_up", **lb) == 1
    assert value(m, "colo_bmc_temperature_celsius", sensor="Inlet Temp", **lb) == 22
    assert value(m, "colo_bmc_fan_speed_rpm", sensor="FAN2", **lb) == 5500
    assert (
        value(m, "colo_bmc_fan_speed_threshold_rpm", sensor="FAN2", threshold="lower_critical", **lb) == 1000
    )
    assert (
        value(
            m, "colo_bmc_temperature_threshold_celsius", sensor="CPU2 Temp", threshold="upper_critical", **lb
        )
        == 95
    )
    assert value(m, "colo_bmc_voltage_volts", sensor="12V", **lb) == pytest.approx(12.0)
    assert value(m, "colo_bmc_current_amperes", sensor="PSU1 Current", **lb) == pytest.approx(2.3)
    assert value(m, "colo_bmc_power_watts", sensor="Pwr Consumption", **lb) == 280
    assert value(m, "colo_bmc_system_power_watts", **lb) == 280  # the only watts sensor (no DCMI)
    assert value(m, "colo_bmc_psu_health", sensor="PSU2 Status", **lb) == 0
    assert value(m, "colo_bmc_chassis_power_on", **lb) == 0
    assert value(m, "colo_bmc_sel_free_bytes", **lb) > 0
    assert len(find(m, "colo_bmc_sensor_state", **lb)) == 15
    assert PASSWORD not in text


def test_warm_session_and_sdr_read_once(exp: ExporterProc) -> None:
    probe(exp)
    m = probe(exp)
    # warm: SDR info + 17 readings + SEL + chassis, no session setup, no SDR records
    assert value(m, "colo_bmc_scrape_requests", target="s1", source="ipmi") == 20
    assert exp.log_text().count("ipmi session opened") == 1 + exp.log_text().count("warm ipmi session failed")


def set_faults(sim: IpmiSim, fan3: float, cpu1: float, exhaust: float, psu2: str, psu1: str) -> None:
    """Sets FAN3's speed, the CPU1 and exhaust temperatures, then the states of PSU2 and PSU1."""
    sim.set_fan(3, fan3)
    sim.set_temp("CPU1 Temp", cpu1)
    sim.set_temp("Exhaust Temp", exhaust)
    sim.set_psu(2, psu2)
    sim.set_psu(1, psu1)


def test_runtime_faults_follow(exp: ExporterProc, sim: IpmiSim) -> None:
    lb = {"target": "s1", "source": "ipmi"}
    try:
        set_faults(sim, fan3=0, cpu1=97, exhaust=71, psu2="fail", psu1="absent")
        m = probe(exp)
        assert value(m, "colo_bmc_fan_speed_rpm", sensor="FAN3", **lb) == 0
        assert value(m, "colo_bmc_sensor_state", sensor="FAN3", **lb) == 2
        assert value(m, "colo_bmc_temperature_celsius", sensor="CPU1 Temp", **lb) == 97
        assert value(m, "colo_bmc_sensor_state", sensor="CPU1 Temp", **lb) == 2
        assert value(m, "colo_bmc_sensor_state", sensor="Exhaust Temp", **lb) == 1
        assert value(m, "colo_bmc_psu_health", sensor="PSU2 Status", **lb) == 2
        assert value(m, "colo_bmc_psu_present", sensor="PSU1 Status", **lb) == 0
        assert find(m, "colo_bmc_psu_health", sensor="PSU1 Status") == []
        assert value(m, "colo_bmc_health_rollup", component="sensors", **lb) == 2
        assert value(m, "colo_bmc_sel_entries", **lb) >= 3  # the changes logged events
    finally:
        set_faults(sim, fan3=5300, cpu1=45, exhaust=35, psu2="ok", psu1="ok")  # the nominal values
    m = probe(exp)
    assert value(m, "colo_bmc_sensor_state", sensor="FAN3", **lb) == 0
    assert value(m, "colo_bmc_psu_present", sensor="PSU1 Status", **lb) == 1


def test_reading_na_is_absent_not_zero(exp: ExporterProc, sim: IpmiSim) -> None:
    try:
        sim.set_scanning("FAN5", False)
        m = probe(exp)
        assert value(m, "colo_bmc_up", target="s1", source="ipmi") == 1
        assert find(m, "colo_bmc_fan_speed_rpm", sensor="FAN5") == []
        assert find(m, "colo_bmc_sensor_state", sensor="FAN5") == []
        assert len(find(m, "colo_bmc_fan_speed_threshold_rpm", sensor="FAN5")) == 3
    finally:
        sim.set_scanning("FAN5", True)
    assert find(probe(exp), "colo_bmc_fan_speed_rpm", sensor="FAN5")


def test_sdr_change_is_picked_up(exp: ExporterProc, sim: IpmiSim, module_lab: Lab) -> None:
    probe(exp)
    sim.add_sensor(
        LabSensor(0x07, "PCH Temp", "temperature", "system_board", 2, 51, {"unc": 90, "ucr": 95, "unr": 100}),
        module_lab.workdir,
    )
    m = probe(exp)
    assert value(m, "colo_bmc_temperature_celsius", target="s1", sensor="PCH Temp") == 51
    m = probe(exp)
    assert value(m, "colo_bmc_scrape_requests", target="s1", source="ipmi") == 21  # warm again


def test_wrong_password(exp: ExporterProc) -> None:
    t0 = time.monotonic()
    m = probe(exp, "badpw")
    assert time.monotonic() - t0 < 4.5
    assert value(m, "colo_bmc_up", target="badpw", source="ipmi") == 0
    assert value(m, "colo_bmc_scrape_errors_total", reason="auth") >= 1
    log = exp.log_text()
    assert "target=badpw" in log and "S3cret-wrong-pw" not in log


def test_dead_bmc_is_down_within_deadline(exp: ExporterProc) -> None:
    t0 = time.monotonic()
    m = probe(exp, "dead", timeout="3")
    assert time.monotonic() - t0 < 3.0
    assert value(m, "colo_bmc_up", target="dead", source="ipmi") == 0


def test_unknown_target_is_refused(exp: ExporterProc) -> None:
    code, body = exp.get("/probe?target=127.0.0.1")
    assert code == 400 and "unknown target" in body


def test_session_reopened_after_bmc_restart(lab: Lab) -> None:
    sim = IpmiSim(lab, name="bmc-restart-sim")
    exp = ExporterProc(lab, "bmc", lab_auth_config(s={"ipmi": ipmi_target(sim)}))
    assert value(probe(exp, "s"), "colo_bmc_up", target="s", source="ipmi") == 1
    port = sim.port
    sim.stop()
    assert value(probe(exp, "s", timeout="2"), "colo_bmc_up", target="s", source="ipmi") == 0
    IpmiSim(lab, name="bmc-restart-sim2", port=port)
    m = probe(exp, "s")
    assert value(m, "colo_bmc_up", target="s", source="ipmi") == 1
    assert value(m, "colo_bmc_fan_speed_rpm", target="s", sensor="FAN1") == 5400


def test_silent_bmc_bounded_then_recovers(lab: Lab) -> None:
    import signal

    sim = IpmiSim(lab, name="bmc-silent-sim")
    exp = ExporterProc(
        lab,
        "bmc",
        lab_auth_config(
            s={"ipmi": ipmi_target(sim, cipher_suite=None)}, short={"ipmi": ipmi_target(sim), "timeout": "1s"}
        ),
    )
    assert value(probe(exp, "s"), "colo_bmc_up", target="s", source="ipmi") == 1  # cipher suite 17, then 3
    sim.proc.signal(signal.SIGSTOP)  # the BMC stops answering: no ICMP, no reply, nothing
    try:
        t0 = time.monotonic()
        m = probe(exp, "s", timeout="3")
        assert time.monotonic() - t0 < 3.2
        assert value(m, "colo_bmc_up", target="s", source="ipmi") == 0
        t0 = time.monotonic()
        m = probe(exp, "short", timeout="10")  # the target's own timeout is shorter than Prometheus'
        assert time.monotonic() - t0 < 2.0
        assert value(m, "colo_bmc_up", target="short", source="ipmi") == 0
    finally:
        sim.proc.signal(signal.SIGCONT)
    m = probe(exp, "s")
    assert value(m, "colo_bmc_up", target="s", source="ipmi") == 1
    assert value(m, "colo_bmc_temperature_celsius", target="s", sensor="CPU1 Temp") == 45
    assert "target=s" in exp.log_text() and PASSWORD not in exp.log_text()


def test_landing_page_and_metrics_hold_no_credentials(exp: ExporterProc) -> None:
    code, body = exp.get("/")
    assert code == 200 and "s1" in body and PASSWORD not in body and "S3cret-wrong-pw" not in body
    text = exp.metrics()
    assert "colo_bmc_build_info" in text and PASSWORD not in text


def test_user_privilege_account_is_enough(exp: ExporterProc) -> None:
    m = probe(exp, "ro")
    assert value(m, "colo_bmc_up", target="ro", source="ipmi") == 1
    assert value(m, "colo_bmc_fan_speed_rpm", target="ro", sensor="FAN1") == 5400
    assert value(m, "colo_bmc_sel_entries", target="ro", source="ipmi") >= 0


def test_reload_adds_a_target(lab: Lab, sim: IpmiSim) -> None:
    import signal

    import yaml

    cfg = lab_auth_config(a={"ipmi": ipmi_target(sim)})
    exp = ExporterProc(lab, "bmc", cfg)
    assert value(probe(exp, "a"), "colo_bmc_up", target="a", source="ipmi") == 1
    cfg["targets"]["b"] = {"ipmi": ipmi_target(sim)}
    exp.config_file.write_text(yaml.safe_dump(cfg))
    exp.proc.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while exp.get("/probe?target=b")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert value(probe(exp, "b"), "colo_bmc_up", target="b", source="ipmi") == 1
    assert value(probe(exp, "a"), "colo_bmc_up", target="a", source="ipmi") == 1
