"""`make demo`: a demo rack of real peers on loopback, every exporter against them, and Prometheus.

Each `lab/<peer>.py` that defines `demo(lab) -> list[scrape_config]` adds its peers and its exporter.
Ctrl-C stops everything and removes what was created.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import signal
import sys
import threading
import time
from pathlib import Path

import lab as lab_pkg

from .proc import Lab, LabError
from .prometheus import Prometheus

ROOT = Path(__file__).resolve().parent.parent


def parts() -> list[tuple[str, object]]:
    found = []
    for m in sorted(pkgutil.iter_modules(lab_pkg.__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"lab.{m.name}")
        fn = getattr(mod, "demo", None)
        if callable(fn) and m.name != "demo":
            found.append((m.name, fn))
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workdir", default="/tmp/colo-demo")
    ap.add_argument("--prometheus-port", type=int, default=9090)
    ap.add_argument("--only", action="append", help="start only these parts (repeatable)")
    ap.add_argument("--check", action="store_true", help="start, wait until every target is up, then stop")
    args = ap.parse_args()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    t0 = time.monotonic()
    with Lab(args.workdir) as lab:
        scrape_configs = []
        try:
            for name, fn in parts():
                if args.only and name not in args.only:
                    continue
                print(f"starting {name} ...", flush=True)
                scrape_configs += fn(lab)  # type: ignore[operator]
            rules = sorted(str(p) for p in (ROOT / "alerts").glob("*.yml"))
            rules += sorted(str(p) for p in (ROOT / "rules").glob("*.yml"))  # recording rules (links, WAN)
            scrape_configs.append(
                {
                    "job_name": "prometheus",
                    "static_configs": [{"targets": [f"127.0.0.1:{args.prometheus_port}"]}],
                }
            )
            prom = Prometheus(lab, scrape_configs, rules, port=args.prometheus_port, interval="5s")
            targets = prom.wait_targets_up(timeout=90)
        except LabError as e:
            print(f"demo failed: {e}", file=sys.stderr)
            return 1
        print(f"\nDemo rack up in {time.monotonic() - t0:.1f}s; every target is up:")
        for t in sorted(targets, key=lambda t: t["scrapeUrl"]):
            print(f"  {t['labels'].get('job', ''):20} {t['scrapeUrl']}")
        print(f"\nPrometheus: {prom.url}   (targets: {prom.url}/targets, alerts: {prom.url}/alerts)")
        print(f"Dashboards: {ROOT / 'grafana'}/*.json (rack.json: 'Colo / Rack overview'); in Grafana, add")
        print(f"  {prom.url} as a Prometheus data source, then Dashboards > Import each (docs/dashboards.md)")
        print(f"Logs: {lab.workdir}/logs\nPress Ctrl-C to stop and clean up.", flush=True)
        if not args.check:
            stop.wait()
        print("stopping ...", flush=True)
    print("stopped; nothing left behind.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
