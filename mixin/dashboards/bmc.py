"""Colo / BMC: temperatures, fans, power (colo-bmc-exporter)."""

from __future__ import annotations

from .. import config
from .core import (
    GREEN_AT_1,
    OK_WARN_CRIT,
    OK_WARN_CRIT_STEPS,
    TEMPERATURE,
    Board,
    Json,
    Row,
    coloured,
    exporter_up,
    label_var,
    stat,
    status_table,
    table,
    targets,
    timeseries,
)
from .core import values as vmap

SEL = config.SELECTORS["bmc"]
T = 'target=~"$target"'


def board() -> Json:
    s = f"{SEL}, {T}"
    overview = [
        exporter_up(
            "BMC reachable",
            "1 when the exporter read this BMC source (IPMI or Redfish) in its last scrape; "
            "down means no sensor below is current.",
            targets((f"colo_bmc_up{{{s}}}", "{{target}} {{source}}")),
        ),
        stat(
            "Health rollup",
            "The BMC's own health summary: Redfish Status.HealthRollup per system and chassis, "
            "or for IPMI the worst sensor state.",
            targets((f"colo_bmc_health_rollup{{{s}}}", "{{target}} {{component}}")),
            w=8,
            mappings=OK_WARN_CRIT,
            thresholds=OK_WARN_CRIT_STEPS,
        ),
        stat(
            "Chassis power",
            "Whether the server is powered on, as the BMC reports it.",
            targets((f"colo_bmc_chassis_power_on{{{s}}}", "{{target}} {{source}}")),
            w=8,
            mappings=vmap(**{"0": ("off", "red"), "1": ("on", "green")}),
            thresholds=GREEN_AT_1,
        ),
    ]
    sensors = [
        timeseries(
            "Temperatures",
            "Every temperature sensor; dashed lines at the rack view's warning and "
            "critical levels (the BMC's own thresholds are in colo_bmc_temperature_threshold_celsius).",
            targets((f"colo_bmc_temperature_celsius{{{s}}}", "{{target}} {{sensor}}")),
            "celsius",
            thresholds=TEMPERATURE,
        ),
        timeseries(
            "Fan speed (RPM)",
            "Fans that report revolutions per minute.",
            targets((f"colo_bmc_fan_speed_rpm{{{s}}}", "{{target}} {{sensor}}")),
            "rotrpm",
            min_=0,
        ),
        timeseries(
            "Fan speed (percent)",
            "Fans on BMCs that report a duty cycle instead of RPM.",
            targets((f"colo_bmc_fan_speed_ratio{{{s}}}", "{{target}} {{sensor}}")),
            "percentunit",
            min_=0,
            max_=1,
        ),
        timeseries(
            "System power draw",
            "The server's input power as the BMC measures it.",
            targets((f"colo_bmc_system_power_watts{{{s}}}", "{{target}} {{source}}")),
            "watt",
            min_=0,
        ),
        timeseries(
            "PSU input and output power",
            "Per power supply: input (solid) and output power; the difference is the supply's loss.",
            targets(
                (f"colo_bmc_psu_input_watts{{{s}}}", "{{target}} {{sensor}} in"),
                (f"colo_bmc_psu_output_watts{{{s}}}", "{{target}} {{sensor}} out"),
            ),
            "watt",
            min_=0,
        ),
        table(
            "Power supplies",
            "Each PSU bay: installed or empty, and its health (only for installed PSUs).",
            targets(f"colo_bmc_psu_present{{{s}}}", f"colo_bmc_psu_health{{{s}}}"),
            merge=True,
            hide=("Time", "__name__", "job", "instance"),
            rename={"Value #A": "installed", "Value #B": "health"},
            columns={
                "installed": coloured(vmap(**{"0": ("empty bay", "orange"), "1": ("yes", "green")}), "text"),
                "health": coloured(OK_WARN_CRIT),
            },
        ),
        status_table(
            "Sensors not OK",
            "Sensors whose state is warning or critical right now (empty when all are ok).",
            f"colo_bmc_sensor_state{{{s}}} > 0",
            "state",
            OK_WARN_CRIT,
            hide=("Time", "__name__", "job", "instance"),
        ),
        timeseries(
            "Voltages",
            "Voltage sensors.",
            targets((f"colo_bmc_voltage_volts{{{s}}}", "{{target}} {{sensor}}")),
            "volt",
        ),
        timeseries(
            "Power sensors",
            "Individual power sensors (CPU, memory, PSU readings where the BMC has them).",
            targets((f"colo_bmc_power_watts{{{s}}}", "{{target}} {{sensor}}")),
            "watt",
        ),
        timeseries(
            "System Event Log entries",
            "SEL entries (IPMI; Redfish with `sel: true`): a sudden rise is "
            "worth reading the log for; a full SEL stops recording.",
            targets((f"colo_bmc_sel_entries{{{s}}}", "{{target}}")),
            "short",
        ),
        timeseries(
            "Scrape duration per BMC",
            "How long reading each BMC took; near the scrape timeout means "
            "the BMC is slow or a sensor walk is too long.",
            targets((f"colo_bmc_scrape_duration_seconds{{{s}}}", "{{target}} {{source}}")),
            "s",
        ),
    ]
    return Board(
        "colo-bmc",
        "Colo / BMC: temperatures, fans, power",
        "Servers' BMCs through colo-bmc-exporter (IPMI and Redfish in one vocabulary).",
        [Row("Servers", overview), Row("Sensors and power", sensors)],
        [label_var("target", "Server", f"colo_bmc_up{{{SEL}}}")],
    ).build()
