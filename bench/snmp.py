"""Benchmark: colo-snmp-exporter vs Debian's prometheus-snmp-exporter (Go 0.21) vs snmpbulkwalk.

Everything runs inside one fresh network namespace (snmpd there sees ~500 veth/bridge interfaces):
snmpsim serving the 54-port switch, snmpd, both exporters walking the same columns, v2c and v3 authPriv.
Tools are interleaved round-robin; wall time per scrape (HTTP request, median) and exporter CPU per scrape
(mean, from a cpuacct cgroup per exporter, which keeps the CPU of threads that have exited: our scrapes run
on a thread each). The targets (issue 16): wall <= 1.0x Go and CPU per varbind <= 1.5x Go in every scenario.
Last line: a JSON object, with the load average before and after.

    .venv/bin/python bench/snmp.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from exporters.snmp import parse as P  # noqa: E402
from lab import snmp as L  # noqa: E402
from lab import snmp_gen  # noqa: E402
from lab.exporter import ExporterProc, value  # noqa: E402
from lab.exporter import parse as parse_text  # noqa: E402
from lab.proc import Lab, free_port, port_open, require, require_root, wait_for  # noqa: E402

TARGETS = {"wall_ratio_vs_go": 1.0, "cpu_per_varbind_ratio_vs_go": 1.5}


def cpuacct(lab: Lab) -> Path | None:
    """The cpuacct hierarchy, mounted where this process can see it (`ip netns exec` gives a fresh /sys)."""
    for p in (Path("/sys/fs/cgroup/cpuacct"), Path("/sys/fs/cgroup/cpu,cpuacct")):
        if (p / "cpuacct.usage").exists():
            return p
    mnt = lab.workdir / "cpuacct"
    mnt.mkdir(parents=True, exist_ok=True)
    if subprocess.run(
        ["mount", "-t", "cgroup", "-o", "cpuacct", "cpuacct", str(mnt)], check=False
    ).returncode:
        return None
    lab.callback(subprocess.run, ["umount", str(mnt)], check=False)
    return mnt


class Cpu:
    """CPU used by one process and all its threads, dead or alive: a cpuacct cgroup of its own (ns), else
    /proc/<pid>/stat (clock ticks: coarse, but it counts exited threads too)."""

    def __init__(self, lab: Lab, root: Path | None, pid: int, name: str) -> None:
        self.pid = pid
        self.root = root
        self.group: Path | None = None
        if root is not None:
            group = root / f"{name}-{uuid.uuid4().hex[:8]}"
            try:
                group.mkdir()
                (group / "cgroup.procs").write_text(str(pid))
                self.group = group
                lab.callback(self._remove)
            except OSError:
                self.group = None

    def _remove(self) -> None:
        assert self.group is not None and self.root is not None
        try:
            for p in (self.group / "cgroup.procs").read_text().split():
                (self.root / "cgroup.procs").write_text(p)
            self.group.rmdir()
        except OSError:
            pass

    def ns(self) -> int:
        if self.group is not None:
            return int((self.group / "cpuacct.usage").read_text())
        f = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) * 10**9 // os.sysconf("SC_CLK_TCK")


def http(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.read().decode(errors="replace")  # Go 0.21 passes invalid UTF-8 through
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{url}: HTTP {e.code}: {e.read().decode(errors='replace')[:500]}") from None


def go_config(scenarios: dict[str, dict]) -> dict:
    # OctetString, not DisplayString: Go 0.21 answers HTTP 500 to an ifAlias that is not UTF-8.
    cols = list(P.COLUMNS.values())
    metrics = [
        {
            "name": f"if_{name}",
            "oid": ".".join(map(str, oid)),
            "type": "OctetString"
            if name in ("descr", "name", "alias")
            else "counter"
            if name.startswith(("in_", "out_"))
            else "gauge",
            "help": name,
            "indexes": [{"labelname": "ifIndex", "type": "gauge"}],
            "lookups": [
                {
                    "labels": ["ifIndex"],
                    "labelname": "ifName",
                    "oid": ".".join(map(str, P.COLUMNS["name"])),
                    "type": "DisplayString",
                }
            ],
        }
        for name, oid in P.COLUMNS.items()
    ]
    metrics.append({"name": "sysUpTime", "oid": "1.3.6.1.2.1.1.3", "type": "gauge", "help": "uptime"})
    modules = {}
    for name, sc in scenarios.items():
        m = {
            "walk": [".".join(map(str, c)) for c in cols],
            "get": ["1.3.6.1.2.1.1.3.0"],
            "metrics": metrics,
            "max_repetitions": 25,
            "retries": 0,
            "timeout": "10s",
        }
        if sc["version"] == "3":
            m["version"] = 3
            m["auth"] = {
                "security_level": "authPriv",
                "username": L.V3_USER,
                "password": L.V3_AUTH,
                "auth_protocol": "SHA",
                "priv_protocol": "AES",
                "priv_password": L.V3_PRIV,
                "context_name": sc["context"],
            }
        else:
            m["version"] = 2
            m["auth"] = {"community": sc["community"]}
        modules[name] = m
    return modules


def inside(args: argparse.Namespace) -> dict:
    go_exe = require("prometheus-snmp-exporter", "prometheus-snmp-exporter")
    walk_exe = require("snmpbulkwalk", "snmp")
    with Lab(args.workdir) as lab:
        sim = L.start_snmpsim(lab, {"sw54": snmp_gen.switch54()})
        d = L.start_snmpd(lab, name="snmpd500")
        sc = {
            "sim54_v2c": {"agent": sim, "version": "2c", "community": "sw54", "context": ""},
            "sim54_v3": {"agent": sim, "version": "3", "community": "", "context": "sw54"},
            "snmpd500_v2c": {"agent": d, "version": "2c", "community": d.community, "context": ""},
            "snmpd500_v3": {"agent": d, "version": "3", "community": "", "context": ""},
        }
        auths, targets = {}, {}
        for name, s in sc.items():
            a = s["agent"]
            auths[name] = (
                {"version": "2c", "community": s["community"]}
                if s["version"] == "2c"
                else {**a.auths()["v3"], "context_name": s["context"]}
            )
            targets[name] = {
                "address": a.host,
                "port": a.port,
                "auth": name,
                "lag": False,
                "lldp": False,
                "timeout": "10s",
                "retries": 0,
            }
        ours = ExporterProc(lab, "snmp", {"auths": auths, "targets": targets}, log_level="warn")
        gport = free_port()
        gcfg = lab.workdir / "go-snmp.yml"
        gcfg.write_text(yaml.safe_dump(go_config(sc), sort_keys=False))
        go = lab.start(
            "go-snmp-exporter",
            [go_exe, f"--config.file={gcfg}", f"--web.listen-address=127.0.0.1:{gport}", "--log.level=warn"],
        )
        wait_for(
            lambda: go.check_alive() and port_open("127.0.0.1", gport), 20, "Go snmp exporter", log=go.log
        )
        hdr = {"X-Prometheus-Scrape-Timeout-Seconds": "55"}

        root = cpuacct(lab)
        ours_cpu, go_cpu = (
            Cpu(lab, root, ours.proc.pid, "snmp-bench-ours"),
            Cpu(lab, root, go.pid, "snmp-bench-go"),
        )
        cpu_source = "cgroup" if ours_cpu.group and go_cpu.group else "proc-stat"

        def run_ours(name: str) -> tuple[float, float, int]:
            c0, t0 = ours_cpu.ns(), time.perf_counter()
            text = ours.probe(name, timeout=60, headers=hdr)
            wall, cpu = time.perf_counter() - t0, (ours_cpu.ns() - c0) / 1e9
            s = parse_text(text)
            assert value(s, "colo_snmp_up", target=name) == 1, name
            return (
                wall,
                cpu,
                int(value(s, "colo_snmp_scrape_varbinds")),
                int(value(s, "colo_snmp_scrape_pdus_sent")),
            )

        def run_go(name: str) -> tuple[float, float, int]:
            a = sc[name]["agent"]
            c0, t0 = go_cpu.ns(), time.perf_counter()
            text = http(f"http://127.0.0.1:{gport}/snmp?target={a.host}:{a.port}&module={name}")
            wall, cpu = time.perf_counter() - t0, (go_cpu.ns() - c0) / 1e9
            s = parse_text(text)
            return (
                wall,
                cpu,
                int(value(s, "snmp_scrape_pdus_returned")),
                int(value(s, "snmp_scrape_packets_sent")),
            )

        def run_walk(name: str) -> tuple[float, float, int]:
            s = sc[name]
            a = s["agent"]
            auth = (
                ["-v2c", "-c", s["community"]]
                if s["version"] == "2c"
                else [
                    "-v3",
                    "-l",
                    "authPriv",
                    "-u",
                    L.V3_USER,
                    "-a",
                    "SHA",
                    "-A",
                    L.V3_AUTH,
                    "-x",
                    "AES",
                    "-X",
                    L.V3_PRIV,
                ]
                + (["-n", s["context"]] if s["context"] else [])
            )
            r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            n = 0
            for table in ("1.3.6.1.2.1.2.2", "1.3.6.1.2.1.31.1.1"):
                out = subprocess.run(
                    [walk_exe, *auth, "-On", "-Cr25", "-t", "10", "-r", "0", f"{a.host}:{a.port}", table],
                    capture_output=True,
                    text=True,
                    env={**os.environ, "MIBS": ""},
                    check=True,
                ).stdout
                n += out.count("\n")
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            return time.perf_counter() - t0, (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime), n, 0

        tools = {"ours": run_ours, "go": run_go, "snmpbulkwalk": run_walk}
        results: dict = {name: {t: [] for t in tools} for name in sc}
        for name in sc:  # warm up: engines, v3 discovery, snmpsim caches
            for fn in tools.values():
                fn(name)
        for r in range(args.rounds):
            for name in sc:
                for t, fn in tools.items():
                    results[name][t].append(fn(name))
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    out: dict = {}
    for name, per in results.items():
        row: dict = {}
        for t, samples in per.items():
            wall = statistics.median(s[0] for s in samples)
            cpu = statistics.mean(s[1] for s in samples)
            vb = statistics.median(s[2] for s in samples)
            pdus = statistics.median(s[3] for s in samples)
            row[t] = {
                "wall_ms": round(wall * 1e3, 1),
                "cpu_ms": round(cpu * 1e3, 1),
                "varbinds": vb,
                "pdus": pdus or None,
                "cpu_us_per_varbind": round(cpu * 1e6 / vb, 1) if vb else None,
            }
        row["wall_ratio_vs_go"] = round(row["ours"]["wall_ms"] / row["go"]["wall_ms"], 2)
        row["cpu_ratio_vs_go"] = round(row["ours"]["cpu_ms"] / max(row["go"]["cpu_ms"], 0.001), 2)
        row["cpu_us_per_varbind"] = row["ours"]["cpu_us_per_varbind"]
        ours_vb, go_vb = row["ours"]["cpu_us_per_varbind"], row["go"]["cpu_us_per_varbind"]
        row["cpu_per_varbind_ratio_vs_go"] = round(ours_vb / go_vb, 2) if ours_vb and go_vb else None
        row["cpu_source"] = cpu_source
        row["targets_met"] = all(row[k] is not None and row[k] <= limit for k, limit in TARGETS.items())
        out[name] = row
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inside:
        print(json.dumps(inside(args)))
        return 0
    require_root()
    load_before = os.getloadavg()
    base = Path(tempfile.mkdtemp(prefix="snmp-bench-"))
    with Lab(base) as lab:
        ns = lab.netns(f"snmp-bench-{uuid.uuid4().hex[:6]}")
        L.make_links(lab, ns)
        r = subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                ns,
                sys.executable,
                __file__,
                "--inside",
                f"--rounds={args.rounds}",
                f"--workdir={base / 'inside'}",
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            check=False,
        )
    if r.returncode != 0:
        print(f"benchmark failed; logs in {base}", file=sys.stderr)
        return 1
    shutil.rmtree(base, ignore_errors=True)
    data = json.loads(r.stdout.strip().splitlines()[-1])
    data["machine"] = {
        "cpus": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "rounds": args.rounds,
    }
    data["targets"] = TARGETS
    print(
        f"{'scenario':14} {'tool':13} {'wall ms':>9} {'cpu ms':>9} "
        f"{'varbinds':>9} {'pdus':>6} {'cpu us/vb':>10}"
    )
    for name, row in data.items():
        if name in ("machine", "targets"):
            continue
        for t in ("ours", "go", "snmpbulkwalk"):
            x = row[t]
            print(
                f"{name:14} {t:13} {x['wall_ms']:9.1f} {x['cpu_ms']:9.1f} "
                f"{x['varbinds']:9.0f} {x['pdus'] or 0:6.0f} "
                f"{x['cpu_us_per_varbind'] or 0:10.1f}"
            )
    print(json.dumps(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
