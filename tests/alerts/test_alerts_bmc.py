"""alerts/bmc.yml under promtool: one fault, one alert (the issue's fan and hot-inlet duplicates), the
blind window while the BMC cannot be read, the exporter-down alert that never expires, the new rules."""

from __future__ import annotations

from pathlib import Path

from alerts_testlib import ALERTS, case, check, exporter_down, quiet_then, run, scrape_slow, series

RULES = [ALERTS / "bmc.yml"]


def lbl(target: str, source: str = "ipmi", **more: str) -> dict[str, str]:
    return {"job": "colo-bmc", "instance": target, "target": target, "source": source, **more}


def exp(severity: str, base: dict[str, str], **more: str) -> dict[str, str]:
    return {**base, **more, "severity": severity, "object": "server"}


S1 = lbl("s1", host="server1")


def sensor(metric: str, values: str, name: str, base: dict[str, str] = S1, **more: str) -> dict[str, str]:
    return series(metric, values, **base, sensor=name, **more)


def thr(metric: str, value: float, name: str, threshold: str, base: dict[str, str] = S1) -> dict[str, str]:
    return sensor(metric, f"{value}x40", name, base, threshold=threshold)


HARDWARE = case(
    "1m",
    [
        series("colo_bmc_up", "1x40", **S1),
        # One stopped fan: stopped, not also below threshold, and the rollup it causes is explained.
        sensor("colo_bmc_fan_speed_rpm", "5300 0x20", "FAN3"),
        thr("colo_bmc_fan_speed_threshold_rpm", 1000, "FAN3", "lower_critical"),
        sensor("colo_bmc_sensor_state", "0 2x20", "FAN3", type="fan"),
        # A slow fan: below its critical threshold.
        sensor("colo_bmc_fan_speed_rpm", "5300 800x20", "FAN4"),
        thr("colo_bmc_fan_speed_threshold_rpm", 1000, "FAN4", "lower_critical"),
        sensor("colo_bmc_sensor_state", "0 2x20", "FAN4", type="fan"),
        # One hot inlet, above its critical threshold and reported critical: one alert, once.
        sensor("colo_bmc_temperature_celsius", "22 45x20", "Inlet Temp"),
        thr("colo_bmc_temperature_threshold_celsius", 42, "Inlet Temp", "upper_critical"),
        thr("colo_bmc_temperature_threshold_celsius", 38, "Inlet Temp", "upper_non_critical"),
        sensor("colo_bmc_sensor_state", "0 2x20", "Inlet Temp", type="temperature"),
        # A warm CPU: high, not critical.
        sensor("colo_bmc_temperature_celsius", "45 88x20", "CPU1 Temp"),
        thr("colo_bmc_temperature_threshold_celsius", 95, "CPU1 Temp", "upper_critical"),
        thr("colo_bmc_temperature_threshold_celsius", 85, "CPU1 Temp", "upper_non_critical"),
        sensor("colo_bmc_sensor_state", "0 1x20", "CPU1 Temp", type="temperature"),
        # A failed PSU of two: failed, not also "redundancy lost".
        sensor("colo_bmc_psu_present", "1x20", "PSU1"),
        sensor("colo_bmc_psu_health", "0x20", "PSU1"),
        sensor("colo_bmc_psu_present", "1x20", "PSU2"),
        sensor("colo_bmc_psu_health", "0 2x20", "PSU2"),
        series("colo_bmc_health_rollup", "0 2x20", **S1, component="sensors"),
        # Voltage and current beyond their critical thresholds.
        sensor("colo_bmc_voltage_volts", "12 11.2x20", "12V"),
        thr("colo_bmc_voltage_threshold_volts", 11.408, "12V", "lower_critical"),
        thr("colo_bmc_voltage_threshold_volts", 12.96, "12V", "upper_critical"),
        sensor("colo_bmc_current_amperes", "2.3 24x20", "PSU1 Current"),
        thr("colo_bmc_current_threshold_amperes", 23, "PSU1 Current", "upper_critical"),
        # A SEL with 5% free.
        series("colo_bmc_sel_free_bytes", "15968 800x40", **S1),
        series("colo_bmc_sel_entries", "2 950x40", **S1),
        # s2: power above its non-critical threshold, and a rollup that this explains.
        sensor("colo_bmc_power_watts", "300 950x20", "Total", lbl("s2", "redfish")),
        thr("colo_bmc_power_threshold_watts", 800, "Total", "upper_non_critical", lbl("s2", "redfish")),
        series("colo_bmc_health_rollup", "0 1x20", **lbl("s2", "redfish"), component="system 1"),
        # s3: an empty PSU bay (redundancy lost); s4: a rollup no sensor explains; s5: powered off.
        sensor("colo_bmc_psu_present", "0x20", "PSU1", lbl("s3", "redfish")),
        sensor("colo_bmc_psu_present", "1x20", "PSU2", lbl("s3", "redfish")),
        sensor("colo_bmc_psu_health", "0x20", "PSU2", lbl("s3", "redfish")),
        series("colo_bmc_health_rollup", "0 1x20", **lbl("s4", "redfish"), component="system 1"),
        series("colo_bmc_chassis_power_on", "1 0x20", **lbl("s5")),
    ],
    [
        check(
            "3m",
            "BmcFanStopped",
            (
                exp("critical", S1, sensor="FAN3"),
                "Fan FAN3 of s1 has stopped",
                "The fan reads 0. Absent fans have no series, so this is a present fan that does not turn.",
            ),
        ),
        check(
            "5m",
            "BmcFanBelowThreshold",
            (
                exp("critical", S1, sensor="FAN4"),
                "Fan FAN4 of s1 is below its critical threshold",
                "The fan turns at 800, below its lower critical threshold (or the BMC reports it critical).",
            ),
        ),
        check(
            "3m",
            "BmcTemperatureCritical",
            (
                exp("critical", S1, sensor="Inlet Temp"),
                "Inlet Temp of s1 is above its critical temperature",
                "Inlet Temp reads 45 °C, at or above its upper critical threshold (or the BMC reports it "
                "critical).",
            ),
        ),
        check(
            "7m",
            "BmcTemperatureHigh",
            (
                exp("warning", S1, sensor="CPU1 Temp"),
                "CPU1 Temp of s1 is above its non-critical temperature",
                "CPU1 Temp reads 88 °C; check airflow and the inlet temperature.",
            ),
        ),
        check(
            "3m",
            "BmcPsuFailed",
            (
                exp("critical", S1, sensor="PSU2"),
                "Power supply PSU2 of s1 has failed",
                "The BMC reports the power supply failed or without input.",
            ),
        ),
        check(
            "5m",
            "BmcPsuRedundancyLost",
            (
                exp("warning", lbl("s3", "redfish")),
                "s3 has lost power supply redundancy",
                "Not every power supply bay of s3 holds a healthy supply (one is absent or degraded; a "
                "failed "
                "one raises BmcPsuFailed instead).",
            ),
        ),
        check(
            "4m",
            "BmcVoltageOutOfRange",
            (
                exp("critical", S1, sensor="12V"),
                "12V of s1 is out of range",
                "12V reads 11.2 V, beyond a critical threshold (or the BMC reports it critical): a failing "
                "power supply or board regulator.",
            ),
        ),
        check(
            "4m",
            "BmcCurrentOutOfRange",
            (
                exp("critical", S1, sensor="PSU1 Current"),
                "PSU1 Current of s1 is out of range",
                "PSU1 Current reads 24 A, beyond a critical threshold (or the BMC reports it critical).",
            ),
        ),
        check(
            "4m",
            "BmcChassisPoweredOff",
            (
                exp("critical", lbl("s5")),
                "s5 is powered off",
                "The BMC of s5 reports the chassis powered off. During a planned reboot of an evacuated "
                "member "
                "this is inhibited.",
            ),
        ),
        check(
            "12m",
            "BmcPowerDrawHigh",
            (
                exp("warning", lbl("s2", "redfish"), sensor="Total"),
                "Power draw of s2 (Total) is high",
                "950 W, above the BMC's upper non-critical threshold (or the BMC reports the sensor not OK).",
            ),
        ),
        # s1's and s2's rollups are explained by their sensor alerts; only s4's is not.
        check(
            "12m",
            "BmcHealthNotOk",
            (
                exp("warning", lbl("s4", "redfish"), component="system 1"),
                "s4 reports system 1 health not OK",
                "Health rollup 1 (1 warning, 2 critical) for 10m, and no sensor or component alert says why: "
                "look at the BMC's event log.",
            ),
        ),
        check(
            "35m",
            "BmcSelAlmostFull",
            (
                exp("warning", S1),
                "The event log of s1 is almost full",
                "5% of the System Event Log is free (16 bytes an entry); a full log records no new hardware "
                "events. Read it (`ipmitool sel elist`), then clear it (`ipmitool sel clear`).",
            ),
        ),
        check("3m", "BmcUnreachable"),
    ],
)

UNREACHABLE = (
    exp("warning", S1),
    "BMC s1 (ipmi) cannot be read",
    "colo-bmc-exporter could not read s1 over ipmi; its sensor alerts keep their last state meanwhile. The "
    "reason is in the exporter's log and colo_bmc_scrape_errors_total.",
)
STOPPED = (
    exp("critical", S1, sensor="FAN3"),
    "Fan FAN3 of s1 has stopped",
    "The fan reads 0. Absent fans have no series, so this is a present fan that does not turn.",
)

# The blind window: a stopped fan, then the BMC stops answering (its sensor series vanish) for 20
# minutes, then it answers again with the fan fixed. The fan alert never sends a "resolved" it could not
# check; the unreachable alert takes over; the fan alert resolves 2m (resolve_delay) after the fix.
BLIND = case(
    "1m",
    [
        series("up", "1x45", job="colo-bmc", instance="s1", host="server1"),
        series("colo_bmc_up", "1x9 0x20 1x15", **S1),
        sensor("colo_bmc_fan_speed_rpm", "5300 0x8 _x20 5300x15", "FAN3"),
    ],
    [
        check("5m", "BmcFanStopped", STOPPED),
        check("12m", "BmcFanStopped", STOPPED),
        check("12m", "BmcUnreachable"),
        check("20m", "BmcFanStopped", STOPPED),
        check("20m", "BmcUnreachable", UNREACHABLE),
        check("29m", "BmcFanStopped", STOPPED),
        check("31m", "BmcFanStopped", STOPPED),
        check("31m", "BmcUnreachable"),
        check("33m", "BmcFanStopped"),
    ],
)

EXPORTER = exporter_down("bmc", "colo-bmc-exporter", "mon1:9473")
PROBE = exporter_down("bmc", "colo-bmc", "s1", host="server1")

# The exporter down (test_alerts_exporters.py keeps it down for 26 hours), and while it is down, the held
# fan alert (inhibited in Alertmanager meanwhile). A job that is not ours (node) never alerts here.
DOWN = case(
    "2m",
    [
        series("up", "1 1 0x70", job="colo-bmc-exporter", instance="mon1:9473"),
        series("up", "1 1 0x70", job="colo-bmc", instance="s1", host="server1"),
        series("colo_bmc_up", "1 1", **S1),
        sensor("colo_bmc_fan_speed_rpm", "0 0", "FAN3"),
        series("up", "0x70", job="node", instance="h3:9100"),
    ],
    [
        *quiet_then("6m", "12m", "BmcExporterDown", EXPORTER, PROBE),
        check("30m", "BmcFanStopped", STOPPED),
        check("2h", "BmcFanStopped"),  # held for blind_hold (1h), then resolved (inhibited by then)
    ],
)

SLOW = case(
    "1m",
    [
        # 9 s of a 10 s timeout (extra-scrape-metrics on), 30 s with no timeout series, 5 s of 10 s.
        series("scrape_duration_seconds", "9x20", job="colo-bmc", instance="s1"),
        series("scrape_timeout_seconds", "10x20", job="colo-bmc", instance="s1"),
        series("scrape_duration_seconds", "30x20", job="colo-bmc", instance="s2"),
        series("scrape_duration_seconds", "5x20", job="colo-bmc", instance="s3"),
        series("scrape_timeout_seconds", "10x20", job="colo-bmc", instance="s3"),
    ],
    [
        check("10m", "BmcExporterScrapeSlow"),
        check(
            "16m",
            "BmcExporterScrapeSlow",
            *(scrape_slow("bmc", "colo-bmc", i, d) for i, d in (("s1", "9s"), ("s2", "30s"))),
        ),
    ],
)


def failed(base: dict[str, str], kind: str, component: str) -> tuple[dict[str, str], str, str]:
    return (
        exp("critical", base, kind=kind, component=component),
        f"{kind} {component} of {base['target']} has failed",
        f"The BMC reports {kind} {component} critical (Redfish Status.Health, or the IPMI sensor's state): a "
        "failed drive, a memory module with uncorrectable errors, a processor error. The server's health "
        "rollup is not alerted on its own meanwhile.",
    )


# One failed drive is one notification. s6 (Redfish): the system's rollup goes critical at 1m, the drive's
# own health (read in the background, every components_interval) shows it at 3m; a memory module warns.
# s7 (IPMI): a drive slot sensor in fault, and the "sensors" rollup it causes. Neither rollup alerts: the
# component alerts explain them. PSU load: s6's PSU1 delivers 700 of its 750 W (93%), PSU2 600 (80%, not
# above); s7's supply reports only its input, 680 of 800 W (85%).
S6, S7 = lbl("s6", "redfish", host="server6"), lbl("s7", host="server7")
COMPONENTS = case(
    "1m",
    [
        series("colo_bmc_up", "1x30", **S6),
        series("colo_bmc_health_rollup", "0 2x29", **S6, component="system 1"),
        series("colo_bmc_component_health", "0x3 2x27", **S6, kind="drive", component="Disk.Bay.0"),
        series("colo_bmc_component_health", "0x30", **S6, kind="drive", component="Disk.Bay.1"),
        series("colo_bmc_component_health", "0x3 1x27", **S6, kind="memory", component="DIMM A1"),
        series("colo_bmc_component_health", "0x30", **S6, kind="processor", component="CPU 1"),
        sensor("colo_bmc_psu_output_watts", "300 700x29", "PSU1", S6),
        sensor("colo_bmc_psu_input_watts", "330 760x29", "PSU1", S6),
        sensor("colo_bmc_psu_capacity_watts", "750x30", "PSU1", S6),
        sensor("colo_bmc_psu_output_watts", "300 600x29", "PSU2", S6),
        sensor("colo_bmc_psu_capacity_watts", "750x30", "PSU2", S6),
        series("colo_bmc_up", "1x30", **S7),
        series("colo_bmc_health_rollup", "0 2x29", **S7, component="sensors"),
        sensor("colo_bmc_sensor_state", "0 2x29", "Drive 3", S7, type="drive"),
        sensor("colo_bmc_sensor_state", "0x30", "Drive 4", S7, type="drive"),
        sensor("colo_bmc_sensor_state", "0x30", "CPU1 Status", S7, type="processor"),
        sensor("colo_bmc_psu_input_watts", "400 680x29", "PSU1 Status", S7),
        sensor("colo_bmc_psu_capacity_watts", "800x30", "PSU1 Status", S7),
    ],
    [
        check("4m", "BmcComponentFailed", failed(S7, "drive", "Drive 3")),
        check("6m", "BmcComponentFailed", failed(S6, "drive", "Disk.Bay.0"), failed(S7, "drive", "Drive 3")),
        check("6m", "BmcComponentDegraded"),
        check(
            "9m",
            "BmcComponentDegraded",
            (
                exp("warning", S6, kind="memory", component="DIMM A1"),
                "memory DIMM A1 of s6 reports a warning",
                "The BMC reports memory DIMM A1 in warning (Redfish Status.Health, or the IPMI sensor's "
                "state): a drive predicting failure, correctable memory errors, a degraded controller. Plan "
                "the replacement.",
            ),
        ),
        check("20m", "BmcHealthNotOk"),
        check("10m", "BmcPsuLoadHigh"),
        check(
            "12m",
            "BmcPsuLoadHigh",
            *(
                (
                    exp("warning", base, sensor=name),
                    f"Power supply {name} of {base['target']} runs at {pct} of its capacity",
                    "For 10m the supply has delivered (or, where the BMC reports only its input, drawn) "
                    "more than 80% of its rated capacity: little headroom, and if its partner fails it "
                    "cannot carry the server alone.",
                )
                for base, name, pct in ((S6, "PSU1", "93.33%"), (S7, "PSU1 Status", "85%"))
            ),
        ),
    ],
)

CASES = [HARDWARE, BLIND, DOWN, SLOW, COMPONENTS]


def test_bmc_alerts(tmp_path: Path) -> None:
    run(tmp_path, "bmc", RULES, CASES)
