"""BMC peers for tests, benchmark and demo: OpenIPMI's `ipmi_sim` on UDP loopback (with its runtime
console on TCP), and the project's Redfish test server (`lab/bmc_redfish.py`), fed one sensor table
(`lab/bmc_sensors.py`).

The SDRs are generated here from `SENSORS`, compiled with `sdrcomp -8` and loaded with `main_sdr_add`
BEFORE `sensor_add` (which copies thresholds from the SDR). Readings change at runtime through the
console: `sim.set_fan(3, 0)`, `sim.set_temp("CPU1 Temp", 97)`, `sim.set_psu(2, "fail")`.
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path
from typing import Any

from .bmc_redfish import RedfishServer
from .bmc_sensors import MONITOR_PASSWORD, MONITOR_USER, PASSWORD, SENSORS, USER, LabSensor
from .proc import Lab, LabError, free_port, require, run, wait_for

__all__ = [
    "MONITOR_PASSWORD",
    "MONITOR_USER",
    "PASSWORD",
    "SENSORS",
    "USER",
    "IpmiSim",
    "LabSensor",
    "exporter_config",
    "ipmi_target",
    "redfish_target",
]


_TYPE = {
    "temperature": ("Temperature", "degrees_C", 0x01),
    "fan": ("Fan", "RPM", 0x04),
    "power": ("Current", "Watts", 0x03),
    "current": ("Current", "Amps", 0x03),
    "voltage": ("Voltage", "Volts", 0x02),
}
_THRESH_SDR = {"lnr": "lnr", "lcr": "lc", "lnc": "lnc", "unc": "unc", "ucr": "uc", "unr": "unr"}
_ASSERT = {"lnc": "lncgl", "lcr": "lcgl", "lnr": "lnrgl", "unc": "uncgh", "ucr": "ucgh", "unr": "unrgh"}


def raw_of(s: LabSensor, value: float) -> int:
    """The raw byte for a value: value = (m * raw + b * 10^b_exp) * 10^r_exp."""
    raw = round((value / 10**s.r_exp - s.b * 10**s.b_exp) / s.m)
    return max(0, min(255, raw))


def sdr_key(sdr_type: int, number: int, entity: str, instance: int, mc: int = 0x20) -> list[str]:
    """The opening lines of a sensor record in sdrcomp(1) source: type, key, entity and, but for an
    event-only record (type 3), the init flags."""
    out = [
        f"sdr type {sdr_type}",
        f"\tsensor_owner_id 0x{mc:02x}",
        "\tsensor_owner_lun 0",
        "\tchannel_number 0",
        f"\tsensor_number 0x{number:02x}",
        f"\tentity_id {entity}",
        f"\tentity_instance {instance}",
    ]
    if sdr_type != 3:
        out += [
            "\tinit_scanning true",
            "\tinit_events true",
            "\tinit_sensor_type true",
            "\tdefault_event_gen_on true",
            "\tdefault_sensor_scan_on true",
            "\tsensor_auto_rearm true",
        ]
    return out


def sdr_events(n: int) -> list[str]:
    """Discrete states 0..n-1 assert, deassert and are returned as the state."""
    return [
        line
        for i in range(n)
        for line in (f"\tassert_event{i} true", f"\tdeassert_event{i} true", f"\tevent{i}_state_ret true")
    ]


def sdr_analog(
    unit: str,
    m: int,
    r_exp: int,
    b: int = 0,
    b_exp: int = 0,
    percentage: bool = False,
    linearization: str = "linear",
) -> list[str]:
    """The reading format of an analog record: value = (m * raw + b * 10^b_exp) * 10^r_exp in `unit`."""
    return [
        "\tanalog_data_format unsigned",
        "\trate_unit none",
        "\tmodifier_unit none",
        f"\tpercentage {'true' if percentage else 'false'}",
        f"\tbase_unit {unit}",
        "\tmodifier_unit_code unspecified",
        f"\tlinearization {linearization}",
        f"\tm {m}",
        "\ttolerance 0",
        f"\tb {b}",
        "\taccuracy 1",
        "\taccuracy_exp 0",
        "\tsensor_direction input",
        f"\tr_exp {r_exp}",
        f"\tb_exp {b_exp}",
        "\tsensor_maximum 255",
        "\tsensor_minimum 0",
    ]


def sdr_source(sensors: tuple[LabSensor, ...] = SENSORS) -> str:
    """The sdrcomp(1) source of the BMC's main SDR repository."""
    out = [
        "sdr type 18",
        "\tdevice_slave_address 0x20",
        "\tdevice_channel_number 0",
        "\tchassis true",
        "\tipmb_event_gen false",
        "\tipmb_event_recv true",
        "\tfru_inventory true",
        "\tsel true",
        "\tsdr true",
        "\tsensor true",
        "\tentity_id system_management_module",
        "\tentity_instance 1",
        '\tid_string "BMC"',
        "endsdr",
        "",
    ]
    for s in sensors:
        if s.kind == "psu":
            key = sdr_key(2, s.number, s.entity, s.instance)
            out += [*key, "\tsensor_type Power_Supply", "\tevent_reading_type_code 0x6f", *sdr_events(7)]
            out += [f'\tid_string "{s.name}"', "endsdr", ""]
            continue
        stype, unit, _ = _TYPE[s.kind]
        out += [
            *sdr_key(1, s.number, s.entity, s.instance),
            "\tinit_thresholds true",
            "\tinit_hysteresis true",
            "\tsensor_hysteresis settable",
            "\tsensor_threshold_access settable",
            "\tsensor_event_msg_ctrl per_state",
            f"\tsensor_type {stype}",
            "\tevent_reading_type_code 1",
        ]
        for t in s.thresholds:
            k = _THRESH_SDR[t]
            out += [
                f"\treturn_{k} true",
                f"\tassert_{_ASSERT[t]} true",
                f"\tdeassert_{_ASSERT[t]} true",
                f"\t{k}_thrsh_readable true",
                f"\t{k}_thrsh_settable true",
            ]
        out += sdr_analog(unit, s.m, s.r_exp, b=s.b, b_exp=s.b_exp)
        for t, v in s.thresholds.items():
            out.append(f"\t{_THRESH_SDR[t]}_thresh {raw_of(s, v)}")
        out += ["\tpositive_hysteresis 0", "\tnegative_hysteresis 0", f'\tid_string "{s.name}"', "endsdr", ""]
    return "\n".join(out)


def sdr_add_lines(blob: bytes, mc: int = 0x20) -> list[str]:
    """`sdrcomp -r` output (records back to back) -> `main_sdr_add` console lines."""
    lines, i = [], 0
    while i < len(blob):
        n = blob[i + 4] + 5
        lines.append(f"main_sdr_add 0x{mc:02x} " + " ".join(f"0x{b:02x}" for b in blob[i : i + n]))
        i += n
    return lines


class IpmiSim:
    """`ipmi_sim` on 127.0.0.1:<udp port> with 17 sensors; `console()` sends emulation commands."""

    def __init__(
        self,
        lab: Lab,
        name: str = "bmc-ipmi-sim",
        port: int | None = None,
        sensors: tuple[LabSensor, ...] = SENSORS,
        extra_sdrs: str = "",
        extra_emu: tuple[str, ...] = (),
    ) -> None:
        """`extra_sdrs` (sdrcomp source) and `extra_emu` (emulation commands, after the SDRs) add records
        that LabSensor cannot describe (lab/bmc_sdr_odd.py)."""
        sim = require("ipmi_sim", "openipmi")
        sdrcomp = require("sdrcomp", "openipmi")
        self.sensors = {s.name: s for s in sensors}
        self.host = "127.0.0.1"
        self.port = port or free_port(kind=socket.SOCK_DGRAM)
        self.console_port = free_port()
        d = lab.workdir / name
        (d / "state").mkdir(parents=True, exist_ok=True)
        (d / "bmc.sdrs").write_text(sdr_source(sensors) + "\n" + extra_sdrs)
        run([sdrcomp, "-8", "-r", "-o", str(d / "bmc.sdr.bin"), str(d / "bmc.sdrs")], cwd=d)
        emu = [
            "mc_setbmc 0x20",
            # IPMB DevID  SDRs  Rev  FW 2.17  IPMI 1.5+  Mfg  Product
            "mc_add 0x20 0x20 no-device-sdrs 0x03 0x02 0x17 0x9f 0x1291 0x0f02",
            "sel_enable 0x20 1000 0x0a",
            *sdr_add_lines((d / "bmc.sdr.bin").read_bytes()),
        ]
        for s in sensors:
            stype, reading = (0x08, 0x6F) if s.kind == "psu" else (_TYPE[s.kind][2], 0x01)
            emu.append(f"sensor_add 0x20 0 0x{s.number:02x} 0x{stype:02x} 0x{reading:02x}")
        for s in sensors:
            emu.append(
                f"sensor_set_bit_clr_rest 0x20 0 0x{s.number:02x} 0 1 0"
                if s.kind == "psu"
                else f"sensor_set_value 0x20 0 0x{s.number:02x} {raw_of(s, s.value)} 0"
            )
        emu += extra_emu
        emu.append("mc_enable 0x20")
        (d / "bmc.emu").write_text("\n".join(emu) + "\n")
        (d / "lan.conf").write_text(f"""name "{name}"
set_working_mc 0x20
  startlan 1
    addr {self.host} {self.port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user md2 md5 straight
    allowed_auths_operator md2 md5 straight
    allowed_auths_admin md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  user 2 true "{USER}" "{PASSWORD}" admin 10 md2 md5 straight
  user 3 true "{MONITOR_USER}" "{MONITOR_PASSWORD}" user 10 md2 md5 straight
console {self.host} {self.console_port}
""")
        self.proc = lab.start(
            name, [sim, "-n", "-c", str(d / "lan.conf"), "-f", str(d / "bmc.emu"), "-s", str(d / "state")]
        )
        # Never probe the console with a bare connect: ipmi_sim dies of SIGPIPE when a console client
        # leaves before reading the telnet greeting.
        wait_for(
            lambda: self.proc.check_alive() and self._answers(),
            15,
            "ipmi_sim to answer RMCP+",
            log=self.proc.log,
        )

    def _answers(self) -> bool:
        from exporters.bmc.config import Auth, IpmiTarget
        from exporters.bmc.ipmi import IpmiSource
        from exporters.core import Deadline, Secret

        src = IpmiSource(
            "probe", IpmiTarget(host=self.host, port=self.port, auth="a"), Auth(USER, Secret(PASSWORD))
        )
        try:
            return len(src.read(Deadline(3)).sensors) > 0
        finally:
            src.close()

    def console(self, *commands: str, timeout: float = 5.0) -> list[str]:
        """Run ipmi_sim emulation commands; LabError if one is refused."""
        outs = []
        with socket.create_connection((self.host, self.console_port), timeout=timeout) as s:
            buf = bytearray()

            def prompt() -> str:
                end = time.monotonic() + timeout
                while not bytes(buf).rstrip(b" ").endswith(b">"):
                    if time.monotonic() > end:
                        raise LabError(f"ipmi_sim console: no prompt (got {bytes(buf)[-80:]!r})")
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    buf.extend(chunk)
                text = bytes(buf).decode(errors="replace").replace("\r", "")
                buf.clear()
                return text.rstrip(" >").strip()

            prompt()
            s.sendall(b"noecho\n")
            prompt()
            for c in commands:
                s.sendall(c.encode() + b"\n")
                out = prompt()
                if "**" in out or "Invalid" in out:
                    raise LabError(f"ipmi_sim refused {c!r}: {out}")
                outs.append(out)
        return outs

    # -- runtime changes ------------------------------------------------------------------------------
    def set_value(self, name: str, value: float, event: bool = True) -> None:
        s = self.sensors[name]
        self.console(f"sensor_set_value 0x20 0 0x{s.number:02x} {raw_of(s, value)} {int(event)}")

    def set_fan(self, n: int, rpm: float) -> None:
        self.set_value(f"FAN{n}", rpm)

    def set_temp(self, name: str, celsius: float) -> None:
        self.set_value(name, celsius)

    def set_psu(self, n: int, state: str) -> None:
        num = self.sensors[f"PSU{n} Status"].number
        cmds = {
            "ok": [f"sensor_set_bit_clr_rest 0x20 0 0x{num:02x} 0 1 1"],
            "fail": [f"sensor_set_bit 0x20 0 0x{num:02x} 0 1 0", f"sensor_set_bit 0x20 0 0x{num:02x} 1 1 1"],
            "absent": [
                f"sensor_set_bit 0x20 0 0x{num:02x} 1 0 0",
                f"sensor_set_bit 0x20 0 0x{num:02x} 0 0 1",
            ],
        }[state]
        self.console(*cmds)

    def set_scanning(self, name: str, on: bool) -> None:
        """Scanning off makes the BMC report the reading as unavailable ("na")."""
        s = self.sensors[name]
        self.console(
            f"sensor_set_event_support 0x20 0 0x{s.number:02x} 1 {int(on)} per-state "
            "000000000000000 000000000000000 000000000000000 000000000000000"
        )

    def add_sensor(self, sensor: LabSensor, workdir: Path) -> None:
        """Add a sensor at runtime (its SDR first): the SDR repository changes."""
        sdrcomp = require("sdrcomp", "openipmi")
        src = workdir / f"extra-{sensor.number:02x}.sdrs"
        src.write_text(sdr_source((sensor,)).split("endsdr", 1)[1].lstrip())
        out = workdir / f"extra-{sensor.number:02x}.bin"
        run([sdrcomp, "-8", "-r", "-o", str(out), str(src)], cwd=workdir)
        stype = _TYPE[sensor.kind][2]
        self.console(
            *sdr_add_lines(out.read_bytes()),
            f"sensor_add 0x20 0 0x{sensor.number:02x} 0x{stype:02x} 0x01",
            f"sensor_set_value 0x20 0 0x{sensor.number:02x} {raw_of(sensor, sensor.value)} 0",
        )
        self.sensors[sensor.name] = sensor

    def stop(self) -> None:
        self.proc.stop()


def ipmi_target(sim: IpmiSim, **extra: Any) -> dict[str, Any]:
    return {"host": sim.host, "port": sim.port, "auth": "lab", "cipher_suite": 3, **extra}


def redfish_target(url: str, **extra: Any) -> dict[str, Any]:
    """A target on one of the lab's Redfish servers (plain HTTP on loopback)."""
    return {"url": url, "auth": "lab", "insecure_http": True, **extra}


def exporter_config(targets: dict[str, Any]) -> dict[str, Any]:
    """colo-bmc-exporter's config for `targets`, with the lab's credentials as the auth `lab`."""
    return {"auths": {"lab": {"user": USER, "password": PASSWORD}}, "targets": targets}


def demo(lab: Lab) -> list[dict[str, Any]]:
    """Two BMCs (one IPMI, one Redfish) and colo-bmc-exporter on its default port."""
    from .exporter import ExporterProc

    sim = IpmiSim(lab, name="bmc-demo-ipmi")
    rf = RedfishServer(lab, name="bmc-demo-redfish")
    config = exporter_config(
        {"server1": {"ipmi": ipmi_target(sim)}, "server2": {"redfish": redfish_target(rf.url)}}
    )
    exp = ExporterProc(lab, "bmc", config, port=9473, log_level="info")
    print(
        f"  ipmi_sim udp/{sim.port} (console tcp/{sim.console_port}); redfish {rf.url}; exporter {exp.url}",
        file=sys.stderr,
    )
    return [
        {
            "job_name": "colo-bmc",
            "metrics_path": "/probe",
            "static_configs": [{"targets": ["server1", "server2"]}],
            "relabel_configs": [
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["__param_target"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": "127.0.0.1:9473"},
            ],
        },
        {"job_name": "colo-bmc-exporter", "static_configs": [{"targets": ["127.0.0.1:9473"]}]},
    ]
