"""alerts/bmc.yml: colo-bmc-exporter (IPMI and Redfish alike, one vocabulary).

One fault, one alert: a fan at 0 is "stopped", not also "below threshold"; a temperature above its critical
threshold is "critical", not also "high"; the BMC's health rollup alerts only when no sensor or component
alert explains it (one failed drive is one notification); a threshold crossing and the BMC's own sensor
state for the same sensor are one series.

Components (drives, storage controllers, memory, processors) are Redfish's `colo_bmc_component_health`
and, for IPMI, the discrete sensors of those kinds (`colo_bmc_sensor_state{type=drive|memory|processor}`),
as one vocabulary: labels `kind` and `component`.
"""

from __future__ import annotations

from .common import Ctx, exporter_alerts, held_alert, source_down
from .model import Alert, Cond, Group, W, held, indent, sel

SRC = "job, instance, target, source"
# IPMI discrete sensor types that are components (colo_bmc_sensor_state{type}), as Redfish's kinds.
IPMI_KINDS = ("drive", "memory", "processor")
SEN = f"{SRC}, sensor"
FRESH = "colo_bmc_up == 1"


def _thr(reading: str, op: str, threshold: str, w: W) -> str:
    """The reading (`fan_speed_rpm`: colo_bmc_fan_speed_rpm) compared with one of its thresholds
    (colo_bmc_fan_speed_threshold_rpm{threshold=...})."""
    quantity, unit = reading.rsplit("_", 1)
    limit = sel(f"colo_bmc_{quantity}_threshold_{unit}", threshold=threshold)
    return f"{w('colo_bmc_' + reading)} {op} ignoring (threshold) {w(limit)}"


def _state(metric: str, kind: str, op: str, w: W) -> str:
    """The reading of the sensors whose BMC state matches (so the alert's value is the reading)."""
    return f"({w(metric)} and on ({SEN}) {w(sel('colo_bmc_sensor_state', type=kind))} {op})"


def _crossed(kind: str, state: str, readings: tuple[str, ...], *limits: tuple[str, str]) -> Cond:
    """Any of `readings` (sensors of type `kind`) beyond one of its `limits` ((op, threshold)), or in BMC
    sensor state `state`."""

    def cond(w: W) -> str:
        crossings = [_thr(r, op, threshold, w) for r in readings for op, threshold in limits]
        return "\nor ".join(crossings + [_state(f"colo_bmc_{r}", kind, state, w) for r in readings])

    return cond


def groups(ctx: Ctx) -> list[Group]:
    c, t = ctx.sub("bmc"), ctx.t

    def hardware(name: str, cond: Cond, severity: str, for_key: str, summary: str, description: str) -> Alert:
        """A sensor or component alert: held while the BMC cannot be read."""
        expr = held(cond, ctx.hold, SRC, FRESH)
        return held_alert(ctx, name, expr, severity, "server", c[for_key], summary, description)

    def stopped(w: W) -> str:
        return f"{w('colo_bmc_fan_speed_rpm')} == 0 or {w('colo_bmc_fan_speed_ratio')} == 0"

    fan_critical = _crossed("fan", "== 2", ("fan_speed_rpm", "fan_speed_ratio"), ("<", "lower_critical"))

    def fan_low(w: W) -> str:
        return f"(\n{indent(fan_critical(w))}\n)\nunless on ({SEN}) ({stopped(w)})"

    temp_crit = _crossed("temperature", "== 2", ("temperature_celsius",), (">=", "upper_critical"))
    temp_warn = _crossed("temperature", "== 1", ("temperature_celsius",), (">=", "upper_non_critical"))

    def temp_high(w: W) -> str:
        return f"(\n{indent(temp_warn(w))}\n)\nunless on ({SEN}) (\n{indent(temp_crit(w))}\n)"

    def psu_failed(w: W) -> str:
        return f"{w('colo_bmc_psu_health')} == 2"

    def redundancy(w: W) -> str:
        return (
            f"(count without (sensor) ({w('colo_bmc_psu_present')}) > 1)\n"
            f"unless on ({SRC}) (\n"
            f"  count without (sensor) ({w('colo_bmc_psu_health')} == 0)\n"
            f"    >= count without (sensor) ({w('colo_bmc_psu_present')})\n"
            f")\nunless on ({SRC}) {w('colo_bmc_psu_health')} == 2"
        )

    power_high = _crossed("power", "> 0", ("power_watts",), (">", "upper_non_critical"))

    def chassis_off(w: W) -> str:
        return f"{w('colo_bmc_chassis_power_on')} == 0"

    def out_of_range(reading: str, kind: str) -> Cond:
        return _crossed(kind, "== 2", (reading,), ("<", "lower_critical"), (">", "upper_critical"))

    def component(value: int) -> Cond:
        def cond(w: W) -> str:
            ipmi = sel("colo_bmc_sensor_state", type="~" + "|".join(IPMI_KINDS))
            as_component = (
                f'label_replace(label_replace({w(ipmi)} == {value}, "kind", "$1", "type", "(.*)"),\n'
                f'    "component", "$1", "sensor", "(.*)")'
            )
            return (
                f"{w('colo_bmc_component_health')} == {value}\n"
                f"or max without (type, sensor) (\n  {as_component}\n)"
            )

        return cond

    def psu_load(w: W) -> str:
        watts = f"({w('colo_bmc_psu_output_watts')} or {w('colo_bmc_psu_input_watts')})"
        return f"{watts} / ({w('colo_bmc_psu_capacity_watts')} > 0) > {c['psu_load_ratio']}"

    specific = (
        "BmcFan.*|BmcTemperature.*|BmcPsu.*|BmcPowerDrawHigh|BmcChassisPoweredOff|BmcVoltage.*|BmcCurrent.*"
        "|BmcComponent.*"
    )
    rules = [
        *exporter_alerts(ctx, "bmc", "Bmc", "colo-bmc-exporter", "the BMCs"),
        Alert(
            "BmcUnreachable",
            source_down(ctx, "colo_bmc_up"),
            "warning",
            "server",
            "BMC {{ $labels.target }} ({{ $labels.source }}) cannot be read",
            "colo-bmc-exporter could not read {{ $labels.target }} over {{ $labels.source }}; its sensor "
            "alerts "
            "keep their last state meanwhile. The reason is in the exporter's log and "
            "colo_bmc_scrape_errors_total.",
            for_=t(c["unreachable_for"]),
        ),
        hardware(
            "BmcFanStopped",
            stopped,
            "critical",
            "fan_stopped_for",
            "Fan {{ $labels.sensor }} of {{ $labels.target }} has stopped",
            "The fan reads 0. Absent fans have no series, so this is a present fan that does not turn.",
        ),
        hardware(
            "BmcFanBelowThreshold",
            fan_low,
            "critical",
            "fan_low_for",
            "Fan {{ $labels.sensor }} of {{ $labels.target }} is below its critical threshold",
            "The fan turns at {{ $value }}, below its lower critical threshold (or the BMC reports it "
            "critical).",
        ),
        hardware(
            "BmcTemperatureCritical",
            temp_crit,
            "critical",
            "temperature_critical_for",
            "{{ $labels.sensor }} of {{ $labels.target }} is above its critical temperature",
            "{{ $labels.sensor }} reads {{ $value }} °C, at or above its upper critical threshold (or the "
            "BMC "
            "reports it critical).",
        ),
        hardware(
            "BmcTemperatureHigh",
            temp_high,
            "warning",
            "temperature_high_for",
            "{{ $labels.sensor }} of {{ $labels.target }} is above its non-critical temperature",
            "{{ $labels.sensor }} reads {{ $value }} °C; check airflow and the inlet temperature.",
        ),
        hardware(
            "BmcPsuFailed",
            psu_failed,
            "critical",
            "psu_failed_for",
            "Power supply {{ $labels.sensor }} of {{ $labels.target }} has failed",
            "The BMC reports the power supply failed or without input.",
        ),
        hardware(
            "BmcPsuRedundancyLost",
            redundancy,
            "warning",
            "psu_redundancy_for",
            "{{ $labels.target }} has lost power supply redundancy",
            "Not every power supply bay of {{ $labels.target }} holds a healthy supply (one is absent or "
            "degraded; a failed one raises BmcPsuFailed instead).",
        ),
        hardware(
            "BmcPowerDrawHigh",
            power_high,
            "warning",
            "power_high_for",
            "Power draw of {{ $labels.target }} ({{ $labels.sensor }}) is high",
            "{{ $value }} W, above the BMC's upper non-critical threshold (or the BMC reports the sensor not "
            "OK).",
        ),
        hardware(
            "BmcPsuLoadHigh",
            psu_load,
            "warning",
            "psu_load_for",
            "Power supply {{ $labels.sensor }} of {{ $labels.target }} runs at "
            "{{ $value | humanizePercentage }} of its capacity",
            f"For {c['psu_load_for']} the supply has delivered (or, where the BMC reports only its input, "
            f"drawn) more than {c['psu_load_ratio']:.0%} of its rated capacity: little headroom, and if its "
            "partner fails it cannot carry the server alone.",
        ),
        hardware(
            "BmcChassisPoweredOff",
            chassis_off,
            "critical",
            "chassis_off_for",
            "{{ $labels.target }} is powered off",
            "The BMC of {{ $labels.target }} reports the chassis powered off. During a planned reboot of an "
            "evacuated member this is inhibited.",
        ),
        hardware(
            "BmcVoltageOutOfRange",
            out_of_range("voltage_volts", "voltage"),
            "critical",
            "out_of_range_for",
            "{{ $labels.sensor }} of {{ $labels.target }} is out of range",
            "{{ $labels.sensor }} reads {{ $value }} V, beyond a critical threshold (or the BMC reports it "
            "critical): a failing power supply or board regulator.",
        ),
        hardware(
            "BmcCurrentOutOfRange",
            out_of_range("current_amperes", "current"),
            "critical",
            "out_of_range_for",
            "{{ $labels.sensor }} of {{ $labels.target }} is out of range",
            "{{ $labels.sensor }} reads {{ $value }} A, beyond a critical threshold (or the BMC reports it "
            "critical).",
        ),
        hardware(
            "BmcComponentFailed",
            component(2),
            "critical",
            "component_failed_for",
            "{{ $labels.kind }} {{ $labels.component }} of {{ $labels.target }} has failed",
            "The BMC reports {{ $labels.kind }} {{ $labels.component }} critical (Redfish Status.Health, or "
            "the IPMI sensor's state): a failed drive, a memory module with uncorrectable errors, a "
            "processor error. The server's health rollup is not alerted on its own meanwhile.",
        ),
        hardware(
            "BmcComponentDegraded",
            component(1),
            "warning",
            "component_degraded_for",
            "{{ $labels.kind }} {{ $labels.component }} of {{ $labels.target }} reports a warning",
            "The BMC reports {{ $labels.kind }} {{ $labels.component }} in warning (Redfish Status.Health, "
            "or the IPMI sensor's state): a drive predicting failure, correctable memory errors, a degraded "
            "controller. Plan the replacement.",
        ),
        Alert(
            "BmcSelAlmostFull",
            "colo_bmc_sel_free_bytes / (colo_bmc_sel_free_bytes + 16 * colo_bmc_sel_entries)"
            f" < {c['sel_free_ratio']}",
            "warning",
            "server",
            "The event log of {{ $labels.target }} is almost full",
            "{{ $value | humanizePercentage }} of the System Event Log is free (16 bytes an entry); a full "
            "log "
            "records no new hardware events. Read it (`ipmitool sel elist`), then clear it (`ipmitool sel "
            "clear`).",
            for_=t(c["sel_for"]),
        ),
        Alert(
            "BmcHealthNotOk",
            f'colo_bmc_health_rollup > 0\nunless on ({SRC}) ALERTS{{alertname=~"{specific}"}}',
            "warning",
            "server",
            "{{ $labels.target }} reports {{ $labels.component }} health not OK",
            f"Health rollup {{{{ $value }}}} (1 warning, 2 critical) for {c['health_for']}, and no sensor or "
            "component alert says why: look at the BMC's event log.",
            for_=t(c["health_for"]),
            comment="Only when no sensor or component alert (pending or firing) of the same BMC explains the "
            "rollup.",
        ),
    ]
    return [Group("colo-bmc", rules)]
