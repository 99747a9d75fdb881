"""colo-bmc-exporter against the project's Redfish test server (both generations, quirks, faults) and the
DMTF public mockup."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from lab.bmc import PASSWORD, USER
from lab.bmc_redfish import RedfishServer
from lab.exporter import ExporterProc, find, parse, value
from lab.proc import Lab
from lab.prometheus import check_metrics

LB = {"target": "r1", "source": "redfish"}


@pytest.fixture(scope="module")
def exp(module_lab: Lab, rfs: RedfishServer) -> ExporterProc:
    cfg = {
        "auths": {
            "lab": {"user": USER, "password": PASSWORD},
            "wrong": {"user": USER, "password": "S3cret-wrong-pw"},
        },
        "targets": {
            "r1": {"redfish": {"url": rfs.url, "auth": "lab", "timeout": "2s", "insecure_http": True}},
            "basic": {
                "redfish": {
                    "url": rfs.url + "/redfish/v1/",
                    "auth": "lab",
                    "login": "basic",
                    "sel": True,
                    "insecure_http": True,
                }
            },
            "badpw": {"redfish": {"url": rfs.url, "auth": "wrong", "insecure_http": True}},
            "comp": {
                "redfish": {
                    "url": rfs.url,
                    "auth": "lab",
                    "insecure_http": True,
                    "components": True,
                    "login": "basic",
                }
            },
        },
    }
    return ExporterProc(module_lab, "bmc", cfg)


@pytest.fixture(autouse=True)
def _reset(rfs: RedfishServer) -> None:
    rfs.reset()
    yield
    rfs.reset()


def probe(exp: ExporterProc, target: str = "r1", timeout: str = "5") -> dict:
    return parse(exp.probe(target, headers={"X-Prometheus-Scrape-Timeout-Seconds": timeout}))


def _common(m: dict, fan: str = "FAN2", lb: dict = LB) -> None:
    assert value(m, "colo_bmc_up", **lb) == 1
    assert value(m, "colo_bmc_temperature_celsius", sensor="Inlet Temp", **lb) == 22
    assert (
        value(
            m, "colo_bmc_temperature_threshold_celsius", sensor="CPU1 Temp", threshold="upper_critical", **lb
        )
        == 95
    )
    assert value(m, "colo_bmc_psu_health", sensor="PSU2", **lb) == 0
    assert value(m, "colo_bmc_system_power_watts", **lb) == 280
    assert value(m, "colo_bmc_voltage_volts", sensor="12V", **lb) == 12.0


@pytest.mark.parametrize("gen", ["both", "legacy", "new"])
def test_generations_same_numbers(exp: ExporterProc, rfs: RedfishServer, gen: str) -> None:
    rfs.config(generation=gen)
    text = exp.probe("r1")
    assert check_metrics(text) == []
    m = parse(text)
    _common(m)
    assert value(m, "colo_bmc_fan_speed_rpm", sensor="FAN2", **LB) == 5500
    assert value(m, "colo_bmc_chassis_power_on", **LB) == 1
    assert value(m, "colo_bmc_health_rollup", component="system System", **LB) == 0
    assert PASSWORD not in text


def test_expand_cuts_requests(exp: ExporterProc, rfs: RedfishServer) -> None:
    probe(exp)
    with_expand = value(probe(exp), "colo_bmc_scrape_requests", **LB)
    rfs.config(expand=False)
    m = probe(exp)
    _common(m)
    # Systems, Chassis, then Sensors, ThermalSubsystem, PowerSubsystem; then Fans, ThermalMetrics,
    # PowerSupplies; then each PSU's Metrics (its watts) (legacy Power not needed: Sensors have the voltages
    # and the chassis power): 10 requests in 4 round trips.
    assert with_expand <= 10 < value(m, "colo_bmc_scrape_requests", **LB)


def test_basic_auth_root_url_and_sel(exp: ExporterProc, rfs: RedfishServer) -> None:
    lb = {"target": "basic", "source": "redfish"}
    before = rfs.stats()["logins"]
    m = probe(exp, "basic")
    _common(m, lb=lb)
    assert rfs.stats()["logins"] == before
    assert value(m, "colo_bmc_sel_entries", **lb) == 0
    rfs.set_sensor("Fan3", reading=0)
    rfs.set_sensor("Fan3", reading=5300)
    assert value(probe(exp, "basic"), "colo_bmc_sel_entries", **lb) == 2
    assert find(probe(exp), "colo_bmc_sel_entries") == []  # off by default


def test_session_reused_and_relogin_on_401(exp: ExporterProc, rfs: RedfishServer) -> None:
    probe(exp)
    probe(exp)
    assert rfs.stats()["logins"] == 1 and rfs.stats()["sessions"] == 1
    rfs.control("expire")
    assert value(probe(exp), "colo_bmc_up", **LB) == 1
    assert rfs.stats()["logins"] == 2


def test_fans_in_percent_with_old_names(exp: ExporterProc, rfs: RedfishServer) -> None:
    rfs.config(generation="legacy", fan_percent=True, old_names=True)
    m = probe(exp)
    assert value(m, "colo_bmc_fan_speed_ratio", sensor="FAN2", **LB) == pytest.approx(0.55)
    assert value(
        m, "colo_bmc_fan_speed_threshold_ratio", sensor="FAN2", threshold="lower_critical", **LB
    ) == pytest.approx(0.10)
    assert find(m, "colo_bmc_fan_speed_rpm") == []
    assert value(m, "colo_bmc_temperature_celsius", sensor="CPU2 Temp", **LB) == 47


def test_sensors_only_no_units_and_link_quirks(exp: ExporterProc, rfs: RedfishServer) -> None:
    rfs.config(
        generation="new",
        sensors_only=True,
        no_units=True,
        trailing_slash=True,
        encoded_ids=True,
        same_psu_names=True,
        null_thresholds=True,
    )
    m = probe(exp)
    assert value(m, "colo_bmc_up", **LB) == 1
    assert value(m, "colo_bmc_fan_speed_rpm", sensor="FAN4", **LB) == 5600  # from Sensors, unit by type
    assert value(m, "colo_bmc_temperature_celsius", sensor="CPU1 Temp", **LB) == 45
    assert find(m, "colo_bmc_temperature_threshold_celsius") == []  # null thresholds: none
    assert value(m, "colo_bmc_psu_health", sensor="Power Supply (PSU 1)", **LB) == 0
    assert value(m, "colo_bmc_psu_health", sensor="Power Supply (PSU 2)", **LB) == 0


def test_paged_collections(exp: ExporterProc, rfs: RedfishServer) -> None:
    rfs.config(page_size=4, generation="new")
    m = probe(exp)
    _common(m)
    assert len(find(m, "colo_bmc_fan_speed_rpm", **LB)) == 6
    assert len(find(m, "colo_bmc_temperature_celsius", **LB)) == 6


def test_dozens_of_chassis(exp: ExporterProc, rfs: RedfishServer) -> None:
    rfs.config(extra_chassis=40, expand=False)
    t0 = time.monotonic()
    m = probe(exp)
    assert time.monotonic() - t0 < 4
    _common(m)
    assert len(find(m, "colo_bmc_health_rollup", **LB)) == 42


def test_absent_fan_and_runtime_changes(exp: ExporterProc, rfs: RedfishServer) -> None:
    for gen in ("legacy", "new"):
        rfs.config(generation=gen)
        rfs.set_sensor("Fan6", state="Absent")
        rfs.set_sensor("Fan3", reading=0)
        rfs.set_sensor("CPU1Temp", reading=97)
        rfs.control("psu", {"id": "PSU2", "health": "Critical"})
        rfs.control("psu", {"id": "PSU1", "state": "Absent"})
        m = probe(exp)
        assert find(m, "colo_bmc_fan_speed_rpm", sensor="FAN6") == []  # absent: not a dead fan
        assert find(m, "colo_bmc_sensor_state", sensor="FAN6") == []
        assert value(m, "colo_bmc_fan_speed_rpm", sensor="FAN3", **LB) == 0
        assert value(m, "colo_bmc_sensor_state", sensor="FAN3", **LB) == 2
        assert value(m, "colo_bmc_sensor_state", sensor="CPU1 Temp", **LB) == 2
        assert value(m, "colo_bmc_psu_health", sensor="PSU2", **LB) == 2
        assert value(m, "colo_bmc_psu_present", sensor="PSU1", **LB) == 0
        assert value(m, "colo_bmc_health_rollup", component="system System", **LB) == 2
        rfs.reset()


@pytest.mark.parametrize(
    "fault,reason",
    [
        ({"status": 500, "path": "/Chassis"}, "http"),
        ({"body": "html", "path": "/Chassis"}, "malformed"),
        ({"body": "malformed", "path": "/Systems"}, "malformed"),
        ({"body": "half", "path": "/Chassis"}, "malformed"),
        ({"status": 503, "body": "html", "path": "/redfish/v1"}, None),
    ],
)
def test_faults_give_up_0(exp: ExporterProc, rfs: RedfishServer, fault: dict, reason: str | None) -> None:
    probe(exp)
    rfs.fault(**fault)
    before = parse(exp.probe("r1"))
    errors = {r: value(before, "colo_bmc_scrape_errors_total", reason=r) for r in ("http", "malformed")}
    assert value(before, "colo_bmc_up", **LB) == 0
    if reason:
        after = probe(exp)
        assert value(after, "colo_bmc_scrape_errors_total", reason=reason) > errors[reason]
    assert "target=r1" in exp.log_text()
    rfs.reset()
    assert value(probe(exp), "colo_bmc_up", **LB) == 1


def test_optional_resource_404_is_skipped(exp: ExporterProc, rfs: RedfishServer) -> None:
    rfs.config(generation="legacy")
    rfs.fault(status=404, path="/Thermal")
    m = probe(exp)
    assert value(m, "colo_bmc_up", **LB) == 1
    assert find(m, "colo_bmc_temperature_celsius") == []
    assert value(m, "colo_bmc_psu_health", sensor="PSU1", **LB) == 0


def test_delay_longer_than_timeout(exp: ExporterProc, rfs: RedfishServer) -> None:
    probe(exp)
    rfs.fault(delay=6, path="/Chassis")
    t0 = time.monotonic()
    m = probe(exp, timeout="3")
    took = time.monotonic() - t0
    assert value(m, "colo_bmc_up", **LB) == 0
    assert took < 3.0  # per-target timeout is 2 s; the deadline 2.5 s
    assert value(m, "colo_bmc_scrape_errors_total", reason="timeout") >= 1


def test_wrong_password_and_session_limit(exp: ExporterProc, rfs: RedfishServer) -> None:
    m = probe(exp, "badpw")
    assert value(m, "colo_bmc_up", target="badpw", source="redfish") == 0
    assert value(m, "colo_bmc_scrape_errors_total", reason="auth") >= 1
    rfs.config(max_sessions=0)
    rfs.control("expire")
    m = probe(exp)
    assert value(m, "colo_bmc_up", **LB) == 0
    assert value(m, "colo_bmc_scrape_errors_total", reason="session_limit") >= 1
    log = exp.log_text()
    assert "session limit" in log and "S3cret-wrong-pw" not in log and PASSWORD not in log


def test_slow_bmc_does_not_hold_up_others(module_lab: Lab, rfs: RedfishServer) -> None:
    slow = RedfishServer(module_lab, name="bmc-test-slow", delay=1.5)
    cfg = {
        "auths": {"lab": {"user": USER, "password": PASSWORD}},
        "targets": {
            "fast": {"redfish": {"url": rfs.url, "auth": "lab", "insecure_http": True}},
            "slow": {"redfish": {"url": slow.url, "auth": "lab", "insecure_http": True}},
        },
    }
    exp = ExporterProc(module_lab, "bmc", cfg)
    out: dict[str, float] = {}

    def go(t: str) -> None:
        t0 = time.monotonic()
        exp.probe(t, headers={"X-Prometheus-Scrape-Timeout-Seconds": "20"})
        out[t] = time.monotonic() - t0

    ths = [threading.Thread(target=go, args=(t,)) for t in ("slow", "fast")]
    for t in ths:
        t.start()
    for t in ths:
        t.join(30)
    assert out["fast"] < 1.0 < out["slow"]


def test_logout_on_shutdown(lab: Lab, rfs: RedfishServer) -> None:
    exp = ExporterProc(
        lab,
        "bmc",
        {
            "auths": {"lab": {"user": USER, "password": PASSWORD}},
            "targets": {"r": {"redfish": {"url": rfs.url, "auth": "lab", "insecure_http": True}}},
        },
    )
    probe(exp, "r")
    assert rfs.stats()["sessions"] == 1
    exp.proc.stop()
    assert rfs.stats()["sessions"] == 0 and rfs.stats()["logouts"] == 1


def test_dmtf_mockup(lab: Lab, shared_dir: Path) -> None:
    root = shared_dir / "fixtures" / "redfish" / "dmtf-public-rackmount1"
    if not root.is_dir():
        pytest.skip(f"{root} is absent")
    mock = RedfishServer(lab, name="bmc-dmtf", mockup=root)
    exp = ExporterProc(
        lab,
        "bmc",
        {
            "auths": {"lab": {"user": USER, "password": PASSWORD}},
            "targets": {
                "dmtf": {"redfish": {"url": mock.url, "auth": "lab", "login": "basic", "insecure_http": True}}
            },
        },
    )
    text = exp.probe("dmtf")
    assert check_metrics(text) == []
    m = parse(text)
    lb = {"target": "dmtf", "source": "redfish"}
    assert value(m, "colo_bmc_up", **lb) == 1
    assert value(m, "colo_bmc_fan_speed_ratio", sensor="CPU #1 Fan Speed", **lb) == 0.8
    assert value(m, "colo_bmc_system_power_watts", **lb) == 374
    assert value(m, "colo_bmc_psu_health", sensor="Power Supply Bay 1", **lb) == 1
    assert value(m, "colo_bmc_chassis_power_on", **lb) == 1
    assert len(find(m, "colo_bmc_temperature_celsius", **lb)) >= 6


def test_tls_verified_by_default(lab: Lab) -> None:
    srv = RedfishServer(lab, name="bmc-tls", tls=True)
    auth = {"lab": {"user": USER, "password": PASSWORD}}
    exp = ExporterProc(
        lab,
        "bmc",
        {
            "auths": auth,
            "targets": {
                "default": {"redfish": {"url": srv.url, "auth": "lab"}},
                "ca": {"redfish": {"url": srv.url, "auth": "lab", "ca_file": str(srv.ca_file)}},
                "noverify": {"redfish": {"url": srv.url, "auth": "lab", "verify": False}},
            },
        },
    )
    m = probe(exp, "default")
    assert value(m, "colo_bmc_up", target="default", source="redfish") == 0
    assert value(m, "colo_bmc_scrape_errors_total", reason="tls") == 1
    assert srv.stats()["logins"] == 0  # no credentials sent to an unverified server
    _common(probe(exp, "ca"), lb={"target": "ca", "source": "redfish"})
    assert value(probe(exp, "noverify"), "colo_bmc_up", target="noverify", source="redfish") == 1


def test_locked_account(exp: ExporterProc, rfs: RedfishServer) -> None:
    rfs.fault(status=401, message_id="AccountLocked", path="/SessionService/Sessions")
    rfs.control("expire")
    m = probe(exp)
    assert value(m, "colo_bmc_up", **LB) == 0
    assert "account locked" in exp.log_text()


def test_component_health_in_the_background(exp: ExporterProc, rfs: RedfishServer) -> None:
    lb = {"target": "comp", "source": "redfish"}
    rfs.control("part", {"id": "Disk1", "health": "Critical"})
    rfs.control("part", {"id": "DIMM1", "state": "Absent"})
    m = probe(exp, "comp")
    for _ in range(50):  # the first background round starts with the first scrape
        if find(m, "colo_bmc_component_health", **lb):
            break
        time.sleep(0.1)
        m = probe(exp, "comp")
    assert value(m, "colo_bmc_component_health", kind="drive", component="Drive 1", **lb) == 2
    assert value(m, "colo_bmc_component_health", kind="drive", component="Drive 0", **lb) == 0
    assert (
        value(m, "colo_bmc_component_health", kind="storage_controller", component="RAID Controller", **lb)
        == 0
    )
    assert value(m, "colo_bmc_component_health", kind="processor", component="CPU 2", **lb) == 0
    assert find(m, "colo_bmc_component_health", component="DIMM B0") == []  # absent: no series
    assert value(m, "colo_bmc_component_refresh_timestamp_seconds", **lb) > time.time() - 60
    # The scrape itself sends no request for the components (the background round does).
    probe(exp)
    assert value(probe(exp, "comp"), "colo_bmc_scrape_requests", **lb) == value(
        probe(exp), "colo_bmc_scrape_requests", **LB
    )
