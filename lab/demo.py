"""`make demo`: a demo rack of real peers on loopback, every exporter against them, Prometheus with the
rules, and Alertmanager with the shipped config (its receivers pointed at a local webhook that writes
every notification to logs/notifications.log).

Each `lab/<peer>.py` that defines `demo(lab) -> list[scrape_config]` adds its peers and its exporter.
At rest the demo fires only the alerts listed in AT_REST, each with why; it says so if any other fires,
and if one of its processes has died (a dead peer shows up as an alert that is not about the rack).
Every start begins with an empty Prometheus and Alertmanager: the last run's samples would make every
switch look restarted (sysUpTime went back) and hold its alerts for an hour. The exporters' ports are
fixed (the README's); the demo refuses to start while something else listens on one of them (another
demo, or a test rack), rather than scrape that.
Ctrl-C stops everything and removes what was created.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import lab as lab_pkg
import mixin

from .alertmanager import Alertmanager, WebhookReceiver, lab_config
from .proc import Lab, LabError, Proc, port_open
from .prometheus import Prometheus

ROOT = Path(__file__).resolve().parent.parent

# The alerts the demo rack raises at rest, on purpose or because a lab peer cannot do better:
# (alertname, labels the alert has, why).
AT_REST: list[tuple[str, dict[str, str], str]] = [
    ("LxdCriticalInstanceNotRunning", {"name": "c4"}, "on purpose: c4 is user.monitor=critical and stopped"),
    (
        "FrrBgpSessionDown",
        {"vrf": "CUST"},
        "on purpose: r1's CUST VRF has no kernel VRF in the lab, so its session never comes up",
    ),
    (
        "BmcChassisPoweredOff",
        {"target": "server1"},
        "ipmi_sim emulates a BMC with no chassis power control: it reads powered off",
    ),
    (
        "SnmpLinkSpeedLow",
        {"ifname": "mgmt0"},
        "on purpose: the simulated switch's mgmt0 runs at 100M where its port rule expects 1G",
    ),
    (
        "LinkDown",
        {"link": "srv1-b"},
        "on purpose: the simulated switch's Te1/1/2, one member of Po1, is down",
    ),
    (
        "LinkDegraded",
        {"link": "srv1-bond"},
        "on purpose: Po1 runs on one of its two members (Te1/1/2 is down)",
    ),
    ("LinkDown", {"link": "srv3"}, "on purpose: the simulated switch's Gi1/0/3 is lowerLayerDown"),
    (
        "NodeClockNotSynchronising",
        {"job": "node"},
        "lab limit: this sandbox runs no NTP client, so the kernel clock reads unsynchronised",
    ),
    (
        "NodeCPUHighUsage",
        {"job": "node"},
        "lab limit: the mesh's node_exporters share one machine's CPUs, busy while the demo starts",
    ),
    (
        "NodeSystemSaturation",
        {"job": "node"},
        "lab limit: the load average is the machine's, shared by the whole demo (and whatever else runs)",
    ),
]
# The exporters' fixed ports (README, examples/prometheus.yml).
EXPORTER_PORTS = (9471, 9472, 9473, 9474)


class DemoLab(Lab):
    """A Lab that remembers what it started, so the demo can tell when one of its processes dies."""

    def __init__(self, workdir: str | Path) -> None:
        super().__init__(workdir)
        self.procs: list[Proc] = []

    def start(self, name: str, argv: Any, **kw: object) -> Proc:
        p = super().start(name, argv, **kw)
        self.procs.append(p)
        return p

    def dead(self) -> list[str]:
        return [
            f"{p.name} exited (status {p.popen.returncode}; log {p.log})" for p in self.procs if not p.alive()
        ]


def fresh_state(workdir: Path) -> None:
    """An empty TSDB and Alertmanager state for this run (the directories Prometheus and Alertmanager of
    lab/prometheus.py and lab/alertmanager.py keep under the workdir)."""
    for d in (workdir / "prometheus" / "data", workdir / "alertmanager" / "data"):
        shutil.rmtree(d, ignore_errors=True)


def parts() -> list[tuple[str, object]]:
    found = []
    for m in sorted(pkgutil.iter_modules(lab_pkg.__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"lab.{m.name}")
        fn = getattr(mod, "demo", None)
        if callable(fn) and m.name != "demo":
            found.append((m.name, fn))
    return found


def with_host(scrape_configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `host` label convention (docs/alerts.md): BMC targets are named after their server, and the
    demo's LXD runs on server1."""
    for sc in scrape_configs:
        if sc["job_name"] == "colo-bmc":
            relabel = sc["relabel_configs"]
            relabel.insert(len(relabel) - 1, {"source_labels": ["__param_target"], "target_label": "host"})
        elif sc["job_name"] == "colo-lxd":
            for st in sc["static_configs"]:
                st.setdefault("labels", {})["host"] = "server1"
    return scrape_configs


def at_rest(prom: Prometheus, settle: float, lab: DemoLab | None = None) -> tuple[list[str], list[str]]:
    """(explained, unexplained) pending or firing alerts after `settle` seconds; a demo process that has
    died is unexplained too."""
    time.sleep(settle)
    explained: list[str] = []
    unexplained = [f"process {d}" for d in (lab.dead() if lab else [])]
    for a in prom.alerts():
        lbl = a["labels"]
        if lbl.get("severity") == "info":
            continue
        name = lbl["alertname"]
        shown = ", ".join(f"{k}={v}" for k, v in sorted(lbl.items()) if k not in ("alertname", "object"))
        why = next((w for n, sub, w in AT_REST if n == name and sub.items() <= lbl.items()), None)
        line = f"{name} {{{shown}}} ({a['state']})"
        (explained if why else unexplained).append(f"{line}: {why}" if why else line)
    return sorted(explained), sorted(unexplained)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workdir", default="/tmp/colo-demo")
    ap.add_argument("--prometheus-port", type=int, default=9090)
    ap.add_argument("--alertmanager-port", type=int, default=9093)
    ap.add_argument("--only", action="append", help="start only these parts (repeatable)")
    ap.add_argument(
        "--check",
        action="store_true",
        help="start, wait until every target is up and the alerts at rest are known, then stop "
        "(exit 1 if an alert fires that the demo does not explain)",
    )
    args = ap.parse_args()

    busy = [
        p
        for p in (*EXPORTER_PORTS, args.prometheus_port, args.alertmanager_port)
        if port_open("127.0.0.1", p)
    ]
    if busy:
        print(
            f"demo not started: something already listens on 127.0.0.1:{', '.join(map(str, busy))} (another "
            "demo or test rack?); stop it, or wait and retry",
            file=sys.stderr,
        )
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    t0 = time.monotonic()
    fresh_state(Path(args.workdir))
    with DemoLab(args.workdir) as lab:
        scrape_configs = []
        try:
            for name, fn in parts():
                if args.only and name not in args.only:
                    continue
                print(f"starting {name} ...", flush=True)
                scrape_configs += fn(lab)  # type: ignore[operator]
            rules = [str(p) for p in mixin.rule_files()]
            scrape_configs.append(
                {
                    "job_name": "prometheus",
                    "static_configs": [{"targets": [f"127.0.0.1:{args.prometheus_port}"]}],
                }
            )
            webhook = WebhookReceiver(lab, log=lab.workdir / "logs" / "notifications.log")
            am = Alertmanager(lab, lab_config(webhook.url), port=args.alertmanager_port)
            prom = Prometheus(
                lab,
                with_host(scrape_configs),
                rules,
                port=args.prometheus_port,
                interval="5s",
                alertmanagers=[f"127.0.0.1:{am.port}"],
                extra_args=["--enable-feature=extra-scrape-metrics"],
            )
            targets = prom.wait_targets_up(timeout=90)
        except LabError as e:
            print(f"demo failed: {e}", file=sys.stderr)
            return 1
        print(f"\nDemo rack up in {time.monotonic() - t0:.1f}s; every target is up:")
        for t in sorted(targets, key=lambda t: t["scrapeUrl"]):
            print(f"  {t['labels'].get('job', ''):20} {t['scrapeUrl']}")
        print(f"\nPrometheus: {prom.url}   (targets: {prom.url}/targets, alerts: {prom.url}/alerts)")
        print(f"Alertmanager: {am.url}   (notifications go to {webhook.log})")
        print(f"Dashboards: {ROOT / 'grafana'}/*.json (rack.json: 'Colo / Rack overview'); in Grafana, add")
        print(f"  {prom.url} as a Prometheus data source, then Dashboards > Import each (docs/dashboards.md)")
        explained, unexplained = at_rest(prom, settle=20, lab=lab)
        print("Alerts at rest (pending or firing), each on purpose or a lab limit:")
        for line in explained or ["none"]:
            print(f"  {line}")
        if unexplained:
            print("UNEXPECTED alerts at rest (the demo does not explain these):")
            for line in unexplained:
                print(f"  {line}")
        print(f"Logs: {lab.workdir}/logs\nPress Ctrl-C to stop and clean up.", flush=True)
        if not args.check:
            reported: set[str] = set()
            while not stop.wait(5):
                for d in lab.dead():
                    if d not in reported:
                        reported.add(d)
                        print(f"a demo process died: {d}", flush=True)
        print("stopping ...", flush=True)
    print("stopped; nothing left behind.")
    return 1 if args.check and unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
