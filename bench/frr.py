"""Benchmark: one full scrape of a lab router (all four daemons, over their vty sockets) against one
`vtysh -c 'show bgp vrf all summary json'`, in the same run; a synthetic 1,000- and 10,000-peer router
parsed, collected and rendered as the server does; and the exporter's RSS after 50 failing scrapes (an
endless reply and a huge invalid one). Last line: a JSON object with scrape_ms, vtysh_ms, ratio,
scale_ms, scale_10k_ms, rss_after_failures_mb (and details).

    .venv/bin/python bench/frr.py [--runs 100]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from prometheus_client.core import Metric  # noqa: E402

from exporters.core import Deadline, parse_config  # noqa: E402
from exporters.core.exposition import render  # noqa: E402
from exporters.core.scrape import BASE_REASONS, ErrorCounters, run_jobs  # noqa: E402
from exporters.frr.commands import Context, Outcome, paused  # noqa: E402
from exporters.frr.config import Config, Instance  # noqa: E402
from exporters.frr.daemons import DAEMONS  # noqa: E402
from exporters.frr.main import SPEC, Runtime  # noqa: E402
from lab.exporter import ExporterProc  # noqa: E402
from lab.frr import ANYCAST_V4, ANYCAST_V6, VTYSH, FrrRack  # noqa: E402
from lab.frr_fake import FakeVty, big_bgpd  # noqa: E402
from lab.proc import Lab  # noqa: E402


def median_ms(fn: object, runs: int) -> float:
    """Median time of `fn()`; what it returns is freed after the clock stops (a server frees the
    answer's objects after sending it)."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        kept = fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
        del kept
    return statistics.median(times)


def scale(n: int, runs: int) -> tuple[float, int, int]:
    """Parse + collect + render of bgpd's summary and neighbors replies for `n` peers, through the
    daemon table as a scrape does (the replies already read)."""
    replies = big_bgpd(n)
    bgpd = DAEMONS["bgpd"]
    inst, cfg = Instance(), Config()
    queries = bgpd.queries(inst, cfg)

    def once() -> tuple[bytes, list[Metric]]:
        ctx = Context(SPEC.namespace, "r1", "bgpd", time.time())
        outcomes = {q.name: Outcome(True, [(c, replies[c]) for c in q.alternatives[0]]) for q in queries}
        # As a scrape does: parsed and collected in one pause of the cyclic GC, then rendered.
        fams = list(paused(Runtime._build, bgpd, queries, outcomes, ctx, inst, owned=outcomes))  # noqa: SLF001
        del outcomes
        return render(fams), fams

    out = once()[0]
    series = sum(1 for line in out.splitlines() if line and not line.startswith(b"#"))
    return median_ms(once, runs), sum(len(v) for v in replies.values()), series


def rss_after_failures(lab: Lab, scrapes: int = 50) -> tuple[float, float]:
    """RSS (MiB) of an exporter process after 10 and after `scrapes` scrapes of two daemons that fail:
    one never ends its reply, one sends 40 MiB of invalid JSON."""
    dirs = []
    for name in ("endless", "huge"):
        d = Path("/tmp") / f"colo-frr-bench-{os.getpid()}-{name}"
        d.mkdir(exist_ok=True)
        lab.callback(shutil.rmtree, d, True)
        dirs.append(str(d))
    FakeVty(lab, dirs[0], "bgpd", {}, mode="endless")
    FakeVty(
        lab, dirs[1], "bgpd", {"show bgp vrf all summary json": b'{"default": {"x": "' + b"x" * (40 << 20)}
    )
    cfg = {
        "instances": {
            n: {"socket_dir": d, "daemons": ["bgpd"]} for n, d in zip(("e", "h"), dirs, strict=True)
        }
    }
    exp = ExporterProc(lab, "frr", cfg, log_level="warn")
    status = Path(f"/proc/{exp.proc.pid}/status")
    rss = []
    for _ in range(scrapes):
        exp.metrics(headers={"X-Prometheus-Scrape-Timeout-Seconds": "10"})
        kb = next(int(x.split()[1]) for x in status.read_text().splitlines() if x.startswith("VmRSS:"))
        rss.append(kb / 1024)
    exp.proc.stop()
    return rss[9], rss[-1]


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--vtysh-runs", type=int, default=20)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="colo-frr-bench-") as tmp, Lab(tmp) as lab:
        t0 = time.monotonic()
        rack = FrrRack(lab).start()
        print(f"lab up in {time.monotonic() - t0:.1f}s (pathspaces {rack.inst('r1')} ...)", flush=True)
        cfg = parse_config(
            Config,
            {
                "instances": {
                    "r1": {
                        "pathspace": rack.inst("r1"),
                        "expected_advertisements": [
                            {"prefix": ANYCAST_V4, "peers": ["192.0.2.0"]},
                            {"prefix": ANYCAST_V6, "peers": ["2001:db8:0:1::1"]},
                        ],
                    }
                }
            },
        )
        rt = Runtime(cfg)
        errors = ErrorCounters(BASE_REASONS + SPEC.error_reasons)

        def scrape() -> bytes:
            fams = run_jobs(rt.jobs(None), Deadline(5), SPEC.namespace, errors)
            return render(fams)

        text = scrape()
        down = [
            line
            for line in text.splitlines()
            if line.startswith(b"colo_frr_up{") and not line.endswith(b" 1.0")
        ]
        failed = [
            line
            for line in text.splitlines()
            if line.startswith(b"colo_frr_collector_success{") and not line.endswith(b" 1.0")
        ]
        assert not down and not failed, (down, failed)
        ups = text.count(b"colo_frr_up{")
        for _ in range(5):
            scrape()
        argv = [VTYSH, "-N", rack.inst("r1"), "-c", "show bgp vrf all summary json"]
        # Interleaved, so that load from elsewhere on the machine hits both sides alike.
        scrapes, vtyshs = [], []
        every = max(1, args.runs // args.vtysh_runs)
        for i in range(args.runs):
            scrapes.append(median_ms(scrape, 1))
            if i % every == 0:
                vtyshs.append(median_ms(lambda: subprocess.run(argv, capture_output=True, check=True), 1))
        scrape_ms, vtysh_ms = statistics.median(scrapes), statistics.median(vtyshs)
        # Per daemon: the socket round trips alone.
        per_daemon = {}
        for d in ("bgpd", "bfdd", "vrrpd", "zebra"):
            (job,) = [j for j in rt.jobs(None) if j.labels["daemon"] == d]
            per_daemon[d] = round(median_ms(lambda job=job: list(job.run(Deadline(5))), args.runs), 3)
        print(f"r1 full scrape ({ups} daemons, {len(text)} bytes): median {scrape_ms:.2f} ms")
        print(f"per daemon, alone: {per_daemon}")
        print(f"one vtysh -c 'show bgp vrf all summary json': median {vtysh_ms:.2f} ms")
        rss10, rss50 = rss_after_failures(lab)
        print(f"exporter RSS over 50 failing scrapes: {rss10:.1f} MiB after 10, {rss50:.1f} MiB after 50")
    scale_ms, scale_bytes, scale_series = scale(1000, 5)
    print(
        f"synthetic 1,000 peers ({scale_bytes / 1e6:.1f} MB JSON, {scale_series} series): "
        f"parse + collect + render median {scale_ms:.1f} ms"
    )
    scale10_ms, scale10_bytes, scale10_series = scale(10_000, 5)
    print(
        f"synthetic 10,000 peers ({scale10_bytes / 1e6:.1f} MB JSON, {scale10_series} series): "
        f"parse + collect + render median {scale10_ms:.0f} ms"
    )
    # How fast this machine runs Python, to compare numbers across machines: an empty 10M-step loop.
    t0 = time.perf_counter()
    for _ in range(10_000_000):
        pass
    loop_ms = (time.perf_counter() - t0) * 1000
    result = {
        "scrape_ms": round(scrape_ms, 3),
        "vtysh_ms": round(vtysh_ms, 3),
        "ratio": round(scrape_ms / vtysh_ms, 4),
        "scale_ms": round(scale_ms, 1),
        "scale_10k_ms": round(scale10_ms, 1),
        "rss_after_failures_mb": round(rss50, 1),
        "target_ratio": 0.2,
        "target_scale_10k_ms": 1000,
        "per_daemon_ms": per_daemon,
        "scale_peers": 1000,
        "scale_json_bytes": scale_bytes,
        "scale_series": scale_series,
        "scale_10k_json_bytes": scale10_bytes,
        "scale_10k_series": scale10_series,
        "rss_after_10_failures_mb": round(rss10, 1),
        "python_loop_10m_ms": round(loop_ms),
        "load_avg_1m_at_start": round(load, 2),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
