"""Colo / BMC: temperatures, fans, power (colo-bmc-exporter)."""

from __future__ import annotations

from typing import Unpack

from .. import config
from .core import (
    HEALTH,
    OK_WARN_CRIT,
    TEMPERATURE,
    Board,
    Fields,
    Json,
    Row,
    coloured,
    exporter_up,
    graph,
    label_var,
    stat,
    status_table,
    table,
    targets,
    timeseries,
    up_down,
)
from .core import values as vmap

SEL = config.SELECTORS["bmc"]
S = f'{SEL}, target=~"$target"'


def by_sensor(
    title: str,
    description: str,
    metric: str,
    unit: str,
    *,
    sel: str = S,
    server: str = "target",
    label: str = "sensor",
    **fields: Unpack[Fields],
) -> Json:
    """A time series of colo_bmc_<metric> on `sel`, a line per server and `label` (also on the rack view)."""
    legend = f"{{{{{server}}}}} {{{{{label}}}}}"
    return graph(title, description, f"colo_bmc_{metric}{{{sel}}}", legend, unit, **fields)


def board() -> Json:
    overview = [
        exporter_up(
            "BMC reachable",
            "1 when the exporter read this BMC source (IPMI or Redfish) in its last scrape; "
            "down means no sensor below is current.",
            targets((f"colo_bmc_up{{{S}}}", "{{target}} {{source}}")),
        ),
        stat(
            "Health rollup",
            "The BMC's own health summary: Redfish Status.HealthRollup per system and chassis, "
            "or for IPMI the worst sensor state.",
            targets((f"colo_bmc_health_rollup{{{S}}}", "{{target}} {{component}}")),
            w=8,
            **HEALTH,
        ),
        stat(
            "Chassis power",
            "Whether the server is powered on, as the BMC reports it.",
            targets((f"colo_bmc_chassis_power_on{{{S}}}", "{{target}} {{source}}")),
            w=8,
            **up_down("off", "on"),
        ),
    ]
    sensors = [
        by_sensor(
            "Temperatures",
            "Every temperature sensor; dashed lines at the rack view's warning and "
            "critical levels (the BMC's own thresholds are in colo_bmc_temperature_threshold_celsius).",
            "temperature_celsius",
            "celsius",
            thresholds=TEMPERATURE,
        ),
        by_sensor(
            "Fan speed (RPM)", "Fans that report revolutions per minute.", "fan_speed_rpm", "rotrpm", min_=0
        ),
        by_sensor(
            "Fan speed (percent)",
            "Fans on BMCs that report a duty cycle instead of RPM.",
            "fan_speed_ratio",
            "percentunit",
            min_=0,
            max_=1,
        ),
        by_sensor(
            "System power draw",
            "The server's input power as the BMC measures it.",
            "system_power_watts",
            "watt",
            label="source",
            min_=0,
        ),
        timeseries(
            "PSU input and output power",
            "Per power supply: input (solid) and output power; the difference is the supply's loss.",
            targets(
                (f"colo_bmc_psu_input_watts{{{S}}}", "{{target}} {{sensor}} in"),
                (f"colo_bmc_psu_output_watts{{{S}}}", "{{target}} {{sensor}} out"),
            ),
            "watt",
            min_=0,
        ),
        table(
            "Power supplies",
            "Each PSU bay: installed or empty, and its health (only for installed PSUs).",
            targets(f"colo_bmc_psu_present{{{S}}}", f"colo_bmc_psu_health{{{S}}}"),
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
            f"colo_bmc_sensor_state{{{S}}} > 0",
            "state",
            OK_WARN_CRIT,
            hide=("Time", "__name__", "job", "instance"),
        ),
        by_sensor("Voltages", "Voltage sensors.", "voltage_volts", "volt"),
        by_sensor(
            "Power sensors",
            "Individual power sensors (CPU, memory, PSU readings where the BMC has them).",
            "power_watts",
            "watt",
        ),
        graph(
            "System Event Log entries",
            "SEL entries (IPMI; Redfish with `sel: true`): a sudden rise is "
            "worth reading the log for; a full SEL stops recording.",
            f"colo_bmc_sel_entries{{{S}}}",
            "{{target}}",
        ),
        by_sensor(
            "Scrape duration per BMC",
            "How long reading each BMC took; near the scrape timeout means "
            "the BMC is slow or a sensor walk is too long.",
            "scrape_duration_seconds",
            "s",
            label="source",
        ),
    ]
    return Board(
        "colo-bmc",
        "Colo / BMC: temperatures, fans, power",
        "Servers' BMCs through colo-bmc-exporter (IPMI and Redfish in one vocabulary).",
        [Row("Servers", overview), Row("Sensors and power", sensors)],
        [label_var("target", "Server", f"colo_bmc_up{{{SEL}}}")],
    ).build()
