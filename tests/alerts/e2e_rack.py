"""The end-to-end alert rack: real peers (FRR, a net-snmp "switch" in a namespace, ipmi_sim BMCs with a
chassis that can be powered off, LXD as a one-member cluster), the real exporters, Debian's Prometheus
with the generated rules (every duration scaled by SCALE) and Debian's Alertmanager with the shipped
config (receivers pointed at a webhook receiver of the test's own), and the bookkeeping that turns the
notifications into the table "fault -> notifications (count, delay) -> resolved (delay)".
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mixin.alerts
from lab import snmp as labsnmp
from lab.alertmanager import Alertmanager, Notification, WebhookReceiver, lab_config
from lab.bmc import PASSWORD, USER, IpmiSim, exporter_config, ipmi_target
from lab.exporter import ExporterProc
from lab.frr import FrrRack
from lab.lxd import LXDLab
from lab.proc import Lab, LabError, Proc, require, run, wait_for
from lab.prometheus import Prometheus

# The lab runs the shipped rules with every duration (for, keep_firing_for, windows, holds) 20 times
# shorter: `for: 1m` is 3 s, resolve_delay 2m is 6 s, the maintenance grace 10m is 30 s. Prometheus scrapes
# and evaluates every second (BMC and LXD every 2 s); Alertmanager groups with group_wait 3s and
# group_interval 5s (30s and 5m as shipped). Routes, grouping and inhibitions are the shipped ones.
SCALE = 1 / 20
GROUP_WAIT, GROUP_INTERVAL = "3s", "5s"
ROOT = Path(__file__).resolve().parents[2]


def link_rules() -> Path:
    return ROOT / "rules" / "links.yml"


# --- peers -------------------------------------------------------------------------------------------


class _ChassisLab:
    """Hands IpmiSim a lan.conf with `chassis_control` (a script keeping the power state in a file), so
    the simulated server is powered on and `ipmitool chassis power off|on` works (lab/bmc.py's ipmi_sim
    has no chassis: it reads powered off)."""

    def __init__(self, lab: Lab, script: Path) -> None:
        self._lab, self._script = lab, script

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lab, name)

    def start(self, name: str, argv: list[str], **kw: Any) -> Proc:
        conf = Path(argv[argv.index("-c") + 1])
        text = conf.read_text().replace(
            "set_working_mc 0x20\n", f'set_working_mc 0x20\n  chassis_control "{self._script}"\n', 1
        )
        conf.write_text(text)
        return self._lab.start(name, argv, **kw)


class Bmc:
    """ipmi_sim for one server, powered on, with `power(on)`."""

    def __init__(self, lab: Lab, host: str) -> None:
        d = lab.workdir / f"chassis-{host}"
        d.mkdir(parents=True, exist_ok=True)
        self.state = d / "power"
        self.state.write_text("1\n")
        script = d / "chassis.sh"
        script.write_text(
            '#!/bin/sh\ncase "$1" in\n'
            f'  get) echo "power:$(cat {self.state})";;\n'
            f'  set) [ "$2" = power ] && echo "$3" > {self.state};;\n'
            "esac\nexit 0\n"
        )
        script.chmod(0o755)
        self.sim = IpmiSim(_ChassisLab(lab, script), name=f"ipmi-{host}")  # type: ignore[arg-type]
        self.host = host

    def power(self, on: bool) -> None:
        ipmitool = require("ipmitool", "ipmitool")
        s = self.sim
        run(
            [
                ipmitool,
                "-I",
                "lanplus",
                "-H",
                s.host,
                "-p",
                str(s.port),
                "-U",
                USER,
                "-P",
                PASSWORD,
                "-C",
                "3",
                "chassis",
                "power",
                "on" if on else "off",
            ]
        )


class Switch:
    """A net-snmp "switch" in its own namespace: management on a veth to the root namespace (a /30 the
    test picks), and its WAN port wan0, cabled (a veth pair) to isp0 in the same namespace. `wan(False)`
    takes isp0 down: wan0 stays administratively up, operationally down, as when the provider's side
    goes. `freeze()` SIGSTOPs the agent."""

    def __init__(self, lab: Lab, prefix: str) -> None:
        require("snmpd", "snmpd")
        require("snmpget", "snmp")  # (without it, snmpget_ok would test a bind on 127.0.0.1)
        self.ns = lab.netns(f"{prefix}sw")
        self.mgmt = f"{prefix}m"
        self.root_ip, self.ip = _free_slash30()
        run(["ip", "link", "add", self.mgmt, "type", "veth", "peer", "name", "mgmt0", "netns", self.ns])
        lab.callback(run, ["ip", "link", "del", self.mgmt], check=False)
        run(["ip", "addr", "add", f"{self.root_ip}/30", "dev", self.mgmt])
        run(["ip", "link", "set", self.mgmt, "up"])
        run(["ip", "-n", self.ns, "addr", "add", f"{self.ip}/30", "dev", "mgmt0"])
        run(["ip", "-n", self.ns, "link", "set", "mgmt0", "up"])
        run(["ip", "-n", self.ns, "link", "add", "wan0", "type", "veth", "peer", "name", "isp0"])
        run(["ip", "-n", self.ns, "link", "set", "wan0", "up"])
        run(["ip", "-n", self.ns, "link", "set", "isp0", "up"])
        self.port = 1161
        d = lab.workdir / "switch"
        (d / "persist").mkdir(parents=True, exist_ok=True)
        conf = labsnmp.snmpd_conf(self.port).replace("udp:127.0.0.1:", f"udp:{self.ip}:")
        conf = conf.replace(
            f"rocommunity {labsnmp.COMMUNITY} 127.0.0.1", f"rocommunity {labsnmp.COMMUNITY} {self.root_ip}"
        )
        (d / "snmpd.conf").write_text(conf)
        # A copy of the binary: `service snmpd stop` (scripts/install.sh, now only right after it installs
        # packages) ends in `start-stop-daemon --stop ... --exec /usr/sbin/snmpd`, which SIGKILLs every
        # process of that executable 30 s later, this test's switch too (it did, mid-test).
        exe = d / "snmpd"
        shutil.copy2(require("snmpd", "snmpd"), exe)
        self.proc = lab.start(
            "switch-snmpd",
            [str(exe), "-f", "-Lo", "-C", "-c", str(d / "snmpd.conf"), "-p", str(d / "snmpd.pid")],
            env={"SNMP_PERSISTENT_DIR": str(d / "persist"), "MIBS": ""},
            netns=self.ns,
        )
        agent = labsnmp.Agent(self.ip, self.port)
        wait_for(
            lambda: self.proc.check_alive() and labsnmp.snmpget_ok(agent),
            20,
            "the switch's snmpd",
            log=self.proc.log,
        )
        lab.callback(self.proc.signal, signal.SIGCONT)  # never leave it stopped for the teardown
        self.agent = agent

    def targets(self) -> dict[str, Any]:
        ports = [{"ifname": "wan0", "role": "wan", "link": "transit"}]
        common = {"timeout": "0.4s", "retries": 0, "lag": False, "lldp": False, "ports": ports}
        return {"sw": self.agent.target("v2", **common), "sw-v3": self.agent.target("v3", **common)}

    def wan(self, up: bool) -> None:
        run(["ip", "-n", self.ns, "link", "set", "isp0", "up" if up else "down"])

    def shut(self, shut: bool) -> None:
        """The operator shuts wan0 itself (administratively down), or brings it back."""
        run(["ip", "-n", self.ns, "link", "set", "wan0", "down" if shut else "up"])

    def freeze(self, frozen: bool) -> None:
        self.proc.signal(signal.SIGSTOP if frozen else signal.SIGCONT)


def _free_slash30() -> tuple[str, str]:
    """Two addresses of a 10.x.y.z/30 that no interface here uses: (root side, switch side)."""
    used = run(["ip", "-4", "-o", "addr"]).stdout
    for _ in range(200):
        a, b, c = random.randint(200, 254), random.randint(0, 255), random.choice(range(0, 256, 4))
        if f" 10.{a}.{b}." not in used:
            return f"10.{a}.{b}.{c + 1}", f"10.{a}.{b}.{c + 2}"
    raise LabError("no free 10.x.y.z/30 for the switch's management link")


class Lxd:
    """LXD as a one-member cluster (member `host`) with the critical container c2, its exporter, and
    what a planned reboot does to them (LXD and the exporter on the member stop, then start again)."""

    def __init__(self, lab: Lab, host: str) -> None:
        self.lab, self.host = lab, host
        self.lxd = LXDLab(lab).start()
        self.lxd.enable_cluster(host)
        self.lxd.launch("c2", "-c", "user.monitor=critical")
        self.config = {"socket": self.lxd.socket, "user_labels": ["user.monitor"]}
        self.exporter = ExporterProc(lab, "lxd", self.config, log_level="info")

    def lxc(self, *args: str) -> str:
        return self.lxd.lxc(*args, timeout=120)

    def stop_lxd(self) -> None:
        self.lxd.shutdown()

    def stop_exporter(self) -> None:
        self.exporter.proc.stop()

    def start_lxd(self) -> None:
        x = self.lxd
        x.proc = self.lab.start(
            f"lxd-{x.id}-again",
            ["lxd", "--group", "root"],
            env={"LXD_DIR": str(x.dir), "LXD_CONF": str(x.conf)},
        )
        r = run(["lxd", "waitready", "--timeout=60"], check=False, timeout=70, env=x.env)
        if r.returncode != 0:
            raise LabError(f"lxd did not come back: {r.stderr.strip()}")

    def start_exporter(self) -> None:
        self.exporter = ExporterProc(self.lab, "lxd", self.config, port=self.exporter.port, log_level="info")


# --- the whole rack -----------------------------------------------------------------------------------


def _probe_job(
    job: str, port: int, targets: list[str], relabel_host: bool = False, **kw: Any
) -> dict[str, Any]:
    relabel = [
        {"source_labels": ["__address__"], "target_label": "__param_target"},
        {"source_labels": ["__param_target"], "target_label": "instance"},
    ]
    if relabel_host:  # BMC targets are named after their server: host = the target's name
        relabel.append({"source_labels": ["__param_target"], "target_label": "host"})
    relabel.append({"target_label": "__address__", "replacement": f"127.0.0.1:{port}"})
    return {
        "job_name": job,
        "metrics_path": "/probe",
        "static_configs": [{"targets": targets}],
        "relabel_configs": relabel,
        **kw,
    }


@dataclass
class Rack:
    lab: Lab
    frr: FrrRack
    frr_exporter: ExporterProc
    frr_config: dict[str, Any]
    switch: Switch
    bmcs: dict[str, Bmc]
    lxd: Lxd
    prom: Prometheus
    am: Alertmanager
    webhook: WebhookReceiver
    started_in: float = 0.0

    def restart_frr_exporter(self) -> None:
        self.frr_exporter = ExporterProc(
            self.lab, "frr", self.frr_config, port=self.frr_exporter.port, log_level="info"
        )


def start_rack(lab: Lab) -> Rack:
    t0 = time.monotonic()
    prefix = f"ca{os.getpid() % 100000}"
    # FRR and LXD take the longest: start them side by side.
    out: dict[str, Any] = {}

    def frr() -> None:
        rack = FrrRack(lab).start()
        # r1's CUST VRF has no kernel VRF in the lab, so its session never comes up: shut it here, on
        # purpose, so that the rack is quiet at rest.
        rack.configure("r1", "router bgp 64501 vrf CUST", "neighbor 10.1.1.1 shutdown")
        out["frr"] = rack

    def lxd() -> None:
        out["lxd"] = Lxd(lab, "server3")

    threads = [threading.Thread(target=_catching(f, out, name)) for f, name in ((frr, "frr"), (lxd, "lxd"))]
    for t in threads:
        t.start()
    switch = Switch(lab, prefix)
    bmcs = {h: Bmc(lab, h) for h in ("server1", "server2", "server3")}
    for t in threads:
        t.join()
    for name in ("frr", "lxd"):
        if isinstance(out.get(f"{name}-error"), BaseException):
            raise out[f"{name}-error"]
    rack: FrrRack = out["frr"]
    frr_config = rack.exporter_config()
    frr_exp = ExporterProc(lab, "frr", frr_config, log_level="info")
    snmp_exp = ExporterProc(
        lab,
        "snmp",
        {
            "auths": {"v2": switch.agent.auths()["v2"], "v3": switch.agent.auths()["v3"]},
            "targets": switch.targets(),
        },
        log_level="info",
    )
    bmc_exp = ExporterProc(
        lab,
        "bmc",
        exporter_config({h: {"ipmi": ipmi_target(b.sim)} for h, b in bmcs.items()}),
        log_level="info",
    )
    lxdp: Lxd = out["lxd"]

    webhook = WebhookReceiver(lab, log=lab.workdir / "logs" / "notifications.log")
    am = Alertmanager(
        lab,
        lab_config(webhook.url, group_wait=GROUP_WAIT, group_interval=GROUP_INTERVAL, repeat_interval="1h"),
    )
    rules = lab.workdir / "rules"
    rules.mkdir(exist_ok=True)
    files = [link_rules()]
    for path, text in mixin.alerts.outputs(SCALE).items():
        if not path.endswith("alertmanager.yml"):
            (rules / Path(path).name).write_text(text)
            files.append(rules / Path(path).name)
    slow = {"scrape_interval": "2s", "scrape_timeout": "2s"}
    scrape = [
        {"job_name": "colo-frr", "static_configs": [{"targets": [f"127.0.0.1:{frr_exp.port}"]}]},
        _probe_job("colo-snmp", snmp_exp.port, sorted(switch.targets())),
        {"job_name": "colo-snmp-exporter", "static_configs": [{"targets": [f"127.0.0.1:{snmp_exp.port}"]}]},
        _probe_job("colo-bmc", bmc_exp.port, sorted(bmcs), relabel_host=True, **slow),
        {
            "job_name": "colo-lxd",
            **slow,
            "static_configs": [
                {"targets": [f"127.0.0.1:{lxdp.exporter.port}"], "labels": {"host": "server3"}}
            ],
        },
    ]
    prom = Prometheus(
        lab,
        scrape,
        [str(f) for f in files],
        interval="1s",
        alertmanagers=[f"127.0.0.1:{am.port}"],
        extra_args=["--enable-feature=extra-scrape-metrics"],
    )
    prom.wait_targets_up(90)
    return Rack(
        lab,
        rack,
        frr_exp,
        frr_config,
        switch,
        bmcs,
        lxdp,
        prom,
        am,
        webhook,
        started_in=time.monotonic() - t0,
    )


def _catching(fn: Callable[[], None], out: dict[str, Any], name: str) -> Callable[[], None]:
    def run_it() -> None:
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            out[f"{name}-error"] = e

    return run_it


# --- expectations and the table ----------------------------------------------------------------------


@dataclass(frozen=True)
class Want:
    """A notification: receiver, status, the group's labels (a subset), and exactly these alerts, each
    (alertname, status, labels it must have)."""

    receiver: str
    status: str
    group: dict[str, str]
    alerts: tuple[tuple[str, str, dict[str, str]], ...]

    def matches(self, n: Notification) -> bool:
        if n.receiver != self.receiver or n.status != self.status:
            return False
        if any(n.group.get(k) != v for k, v in self.group.items()):
            return False
        got = [(a["labels"].get("alertname"), a["status"], a["labels"]) for a in n.alerts()]
        if len(got) != len(self.alerts):
            return False
        left = list(got)
        for name, status, labels in self.alerts:
            hit = next(
                (
                    g
                    for g in left
                    if g[0] == name and g[1] == status and all(g[2].get(k) == v for k, v in labels.items())
                ),
                None,
            )
            if hit is None:
                return False
            left.remove(hit)
        return True

    def brief(self) -> str:
        names: dict[str, int] = {}
        for name, _, _ in self.alerts:
            names[name] = names.get(name, 0) + 1
        return ", ".join(f"{k} x{v}" if v > 1 else k for k, v in names.items())


@dataclass
class Row:
    order: int  # the table's row order (the scenarios run in parallel)
    fault: str
    notified: str = ""
    notify_delay: float | None = None
    resolved: str = ""
    resolve_delay: float | None = None


@dataclass
class Book:
    """Every notification the webhook got must be claimed by exactly one Want, in order, by the scenario
    that caused it; `unclaimed()` is what nobody expected (a duplicate, a lying resolved, a page that the
    inhibitions should have stopped)."""

    webhook: WebhookReceiver
    claimed: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    rows: list[Row] = field(default_factory=list)

    def wait(self, want: Want, since: float, timeout: float) -> tuple[Notification, float]:
        _, n, delay = self.wait_any([want], since, timeout)
        return n, delay

    def wait_any(self, wants: list[Want], since: float, timeout: float) -> tuple[int, Notification, float]:
        """The first notification that one of `wants` matches: which one, the notification, its delay."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                for i, n in enumerate(self.webhook.received()):
                    if i in self.claimed or n.at < since:
                        continue
                    for k, want in enumerate(wants):
                        if want.matches(n):
                            self.claimed.add(i)
                            return k, n, n.at - since
            time.sleep(0.2)
        seen = "\n  ".join(n.brief() for n in self.webhook.received()) or "none"
        shown = " or ".join(str(w) for w in wants)
        raise AssertionError(f"no notification {shown} within {timeout:.0f}s; received:\n  {seen}")

    def unclaimed(self) -> list[Notification]:
        with self.lock:
            return [n for i, n in enumerate(self.webhook.received()) if i not in self.claimed]

    def table(self) -> str:
        def d(x: float | None) -> str:
            return "" if x is None else f"{x:.1f} s"

        lines = [
            "| fault | notifications (count, delay) | resolved (delay) |",
            "|---|---|---|",
        ]
        for r in sorted(self.rows, key=lambda r: r.order):
            lines.append(
                f"| {r.fault} | "
                f"{r.notified}{(', ' + d(r.notify_delay)) if r.notify_delay is not None else ''} "
                f"| {r.resolved}{(', ' + d(r.resolve_delay)) if r.resolve_delay is not None else ''} |"
            )
        return "\n".join(lines)
