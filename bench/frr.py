"""Benchmark: one full scrape of a lab router (all four daemons, over their vty sockets) against one
`vtysh -c 'show bgp vrf all summary json'`, in the same run; and a synthetic 1,000-peer router parsed and
exposed. Last line: a JSON object with scrape_ms, vtysh_ms, ratio, scale_ms (and details).

    .venv/bin/python bench/frr.py [--runs 50]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from exporters.core import Deadline, parse_config  # noqa: E402
from exporters.core.exposition import render  # noqa: E402
from exporters.core.scrape import BASE_REASONS, ErrorCounters, run_jobs  # noqa: E402
from exporters.frr import collector  # noqa: E402
from exporters.frr.config import Config  # noqa: E402
from exporters.frr.main import SPEC, Runtime  # noqa: E402
from exporters.frr.parse_bgp import parse_neighbors, parse_summary  # noqa: E402
from lab.frr import ANYCAST_V4, ANYCAST_V6, VTYSH, FrrRack  # noqa: E402
from lab.proc import Lab  # noqa: E402

FIX = ROOT / "tests" / "fixtures" / "frr" / "shared" / "r1" / "established"


def median_ms(fn: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def synthetic(n: int) -> tuple[bytes, bytes]:
    """A summary and a neighbors reply with `n` eBGP peers, built from real r1 entries."""
    summary = json.loads((FIX / "show_bgp_vrf_all_summary.json").read_bytes())
    neighbors = json.loads((FIX / "show_bgp_vrf_all_neighbors.json").read_bytes())
    s_peer = summary["default"]["ipv4Unicast"]["peers"]["192.0.2.0"]
    n_peer = neighbors["default"]["192.0.2.0"]
    s_peers, n_out = {}, {"vrfId": 0, "vrfName": "default"}
    for i in range(n):
        ip = f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}"
        sp = dict(s_peer, remoteAs=65000 + i, pfxRcd=i % 900, msgRcvd=1000 + i)
        s_peers[ip] = sp
        np_ = copy.deepcopy(n_peer)
        np_["remoteAs"] = 65000 + i
        n_out[ip] = np_
    summary = {"default": {"ipv4Unicast": dict(summary["default"]["ipv4Unicast"], peers=s_peers)}}
    return json.dumps(summary, indent=2).encode(), json.dumps({"default": n_out}, indent=2).encode()


def scale(n: int, runs: int) -> tuple[float, int, int]:
    s_text, n_text = synthetic(n)

    def once() -> bytes:
        fams = list(collector.bgp("r1", parse_summary(s_text), parse_neighbors(n_text)))
        return render(fams)

    out = once()
    series = sum(1 for line in out.splitlines() if line and not line.startswith(b"#"))
    return median_ms(once, runs), len(s_text) + len(n_text), series


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--vtysh-runs", type=int, default=20)
    args = ap.parse_args()
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
            fams = run_jobs(rt.jobs(None), Deadline(5), "colo_frr", errors)
            return render(fams)

        text = scrape()
        down = [
            line
            for line in text.splitlines()
            if line.startswith(b"colo_frr_up{") and not line.endswith(b" 1.0")
        ]
        assert not down, down
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
    scale_ms, scale_bytes, scale_series = scale(1000, 5)
    print(
        f"synthetic 1,000 peers ({scale_bytes / 1e6:.1f} MB JSON, {scale_series} series): "
        f"parse + expose median {scale_ms:.1f} ms"
    )
    result = {
        "scrape_ms": round(scrape_ms, 3),
        "vtysh_ms": round(vtysh_ms, 3),
        "ratio": round(scrape_ms / vtysh_ms, 4),
        "scale_ms": round(scale_ms, 1),
        "target_ratio": 0.2,
        "per_daemon_ms": per_daemon,
        "scale_peers": 1000,
        "scale_json_bytes": scale_bytes,
        "scale_series": scale_series,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
