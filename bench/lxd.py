"""Benchmark colo-lxd-exporter on a real LXD with 30 running busybox containers.

In the same run: this exporter's scrape (HTTP /metrics of the real process), LXD's own /1.0/metrics
uncached (its answer is cached for a few seconds: each sample waits that out), and the naive pylxd way
(`instances.all()` per project, then `state()` per instance). Then a synthetic 5,000-instance answer,
served on a unix socket, parsed and exposed. Last line: a JSON object.

    .venv/bin/python bench/lxd.py [--containers 30] [--rounds 5]
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pylxd  # noqa: E402

from exporters.core import Deadline, parse_config  # noqa: E402
from exporters.core.exposition import render  # noqa: E402
from exporters.core.scrape import ErrorCounters, run_jobs  # noqa: E402
from exporters.lxd import collector, parse  # noqa: E402
from exporters.lxd.config import Config  # noqa: E402
from exporters.lxd.main import Runtime, _gc_paused  # noqa: E402
from lab.exporter import ExporterProc  # noqa: E402
from lab.lxd import LXDLab  # noqa: E402
from lab.lxd_fake import FakeLXD, Route, server_info, sync  # noqa: E402
from lab.proc import Lab  # noqa: E402

CACHE_WAIT = 9.0  # LXD 5.0 caches /1.0/metrics for 8 s


def ms(f) -> float:
    t0 = time.perf_counter()
    f()
    return (time.perf_counter() - t0) * 1000


def naive(socket: str) -> int:
    """What a script would write with pylxd: every project, every instance, one state() each.

    Returns the requests it made: /1.0 and the projects, then per project /1.0 and the list, then
    one state per instance."""
    root = pylxd.Client(endpoint=socket)
    projects = root.projects.all()
    n = 2
    for project in projects:
        n += 2
        c = pylxd.Client(endpoint=socket, project=project.name)
        for inst in c.instances.all():
            name = inst.name.split("?", 1)[0]  # pylxd 2.4.2 returns "c3?project=proj2"
            pylxd.models.Instance(c, name=name).state()
            n += 1
    return n


def exposition(rt: Runtime) -> bytes:
    """One scrape rendered as the core's server does."""
    return render(run_jobs(rt.jobs(None), Deadline(30), "colo_lxd", ErrorCounters(("timeout",))))


def calls_per_scrape(socket: str) -> int:
    rt = Runtime(parse_config(Config, {"socket": socket}))
    exposition(rt)  # the first scrape also connects
    n = rt.api.calls
    exposition(rt)
    rt.close()
    return rt.api.calls - n


def synthetic(n: int) -> bytes:
    real = json.loads(
        (ROOT / "tests" / "fixtures" / "lxd" / "instances_recursion2_allprojects.json").read_text()
    )
    running = next(i for i in real["metadata"] if i["name"] == "c2")
    out = []
    for k in range(n):
        inst = copy.deepcopy(running)
        inst["name"] = f"i{k:05d}"
        inst["project"] = f"p{k % 9}"
        inst["location"] = f"node{k % 3 + 1}"
        out.append(inst)
    return sync(out)


def scale(lab: Lab, n: int, rounds: int = 3) -> dict[str, float]:
    body = synthetic(n)
    fake = FakeLXD(
        lab,
        {
            "/1.0": Route(server_info("node1", clustered=False)),
            "/1.0/instances": Route(body),
            "/1.0/cluster/members": Route(
                b'{"type":"error","error":"Server is not clustered","error_code":500}', 500
            ),
            "/1.0/storage-pools": Route(sync([])),
            "/1.0/projects": Route(sync([{"name": f"p{k}"} for k in range(9)])),
        },
    )
    rt = Runtime(parse_config(Config, {"socket": fake.socket, "scope": "cluster"}))
    total, jobs, expo, size = [], [], [], 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        fams = run_jobs(rt.jobs(None), Deadline(30), "colo_lxd", ErrorCounters(("timeout",)))
        t1 = time.perf_counter()
        size = len(render(fams))
        t2 = time.perf_counter()
        total.append((t2 - t0) * 1000)
        jobs.append((t1 - t0) * 1000)
        expo.append((t2 - t1) * 1000)
    rt.close()
    parse_only, parse_expose = [], []
    for _ in range(rounds):  # the exporter's own CPU work, without the HTTP transfer from the fake
        t0 = time.perf_counter()
        with _gc_paused():  # as the instances job does
            insts = parse.instances(json.loads(body))
            inst_fams = list(collector.instance_families(insts))
        t1 = time.perf_counter()
        render(inst_fams)
        parse_only.append((t1 - t0) * 1000)
        parse_expose.append((time.perf_counter() - t0) * 1000)
    samples = sum(len(f.samples) for f in fams)
    return {
        # The figure: the response parsed and exposed (JSON decode, parse, series, text).
        "scale_5000_ms": round(statistics.median(parse_expose), 1),
        # A whole scrape against the fake peer, including the 13 MB transfer from a Python server that
        # shares the 2 cores.
        "scale_5000_end_to_end_ms": round(statistics.median(total), 1),
        "scale_5000_read_parse_ms": round(statistics.median(jobs), 1),  # jobs: HTTP from the fake + parse
        "scale_5000_exposition_ms": round(statistics.median(expo), 1),
        "scale_5000_json_parse_families_ms": round(statistics.median(parse_only), 1),
        "scale_5000_samples": samples,
        "scale_5000_bytes": size,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--containers", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scale-only", action="store_true", help="only the synthetic 5,000 instances (no LXD)")
    args = ap.parse_args()
    out: dict[str, object] = {}
    if args.scale_only:
        with Lab(Path(tempfile.mkdtemp(prefix="colo-lxd-bench-"))) as lab:
            out.update(scale(lab, 5000))
            shutil.rmtree(lab.workdir, ignore_errors=True)
        print(json.dumps(out))
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="colo-lxd-bench-"))
    with Lab(workdir) as lab:
        t0 = time.monotonic()
        lxd = LXDLab(lab).start()
        lxd.populate(btrfs=False)  # c1..c3 running (c1 busy), c4 stopped, two projects
        out["api_calls_per_scrape_4_instances"] = calls_per_scrape(lxd.socket)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda k: lxd.launch(f"b{k:02d}"), range(args.containers - 3)))
        running = sum(
            1
            for i in lxd.api("/1.0/instances?recursion=1&all-projects=true")["metadata"]
            if i["status"] == "Running"
        )
        print(f"lxd up with {running} running containers in {time.monotonic() - t0:.1f}s", flush=True)
        exp = ExporterProc(lab, "lxd", {"socket": lxd.socket}, log_level="warn")
        exp.metrics()  # warm: connect
        scrape, lxdm, nv, raw = [], [], [], []
        for r in range(args.rounds):
            time.sleep(CACHE_WAIT)
            lxdm.append(ms(lambda: lxd.api("/1.0/metrics")))
            cached = ms(lambda: lxd.api("/1.0/metrics"))
            scrape.append(ms(lambda: exp.metrics()))
            nv.append(ms(lambda: naive(lxd.socket)))
            raw.append(ms(lambda: lxd.api("/1.0/instances?recursion=2&all-projects=true")))
            print(
                f"round {r + 1}: exporter {scrape[-1]:.1f} ms, /1.0/metrics uncached {lxdm[-1]:.1f} ms "
                f"(cached {cached:.1f} ms), naive pylxd {nv[-1]:.1f} ms, "
                f"LXD's recursion=2 alone {raw[-1]:.1f} ms",
                flush=True,
            )
        out["instances"] = running + 1
        out["running"] = running
        out["scrape_ms"] = round(statistics.median(scrape), 1)
        out["lxd_metrics_ms"] = round(statistics.median(lxdm), 1)
        out["naive_ms"] = round(statistics.median(nv), 1)
        out["lxd_instances_recursion2_ms"] = round(statistics.median(raw), 1)
        out["api_calls_per_scrape"] = calls_per_scrape(lxd.socket)
        out["naive_api_calls"] = naive(lxd.socket)
        out.update(scale(lab, 5000))
        print("stopping lxd ...", flush=True)
    shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
