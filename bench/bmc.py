"""Benchmark colo-bmc-exporter (one command; the last line of output is a JSON object).

1. IPMI, same ipmi_sim, same run: this exporter's /probe vs Debian's prometheus-ipmi-exporter (Go +
   FreeIPMI, ipmi collector only), scrapes interleaved, medians of warm scrapes.
2. Redfish: requests per scrape and scrape time against the lab Redfish server.
3. Fleet: 50 Redfish BMCs with 1 s of latency per request, scraped at once (as Prometheus does), with
   the component-health refresh on every BMC (at the default 5 min cadence, and again every 10 s so that a
   refresh round runs during the fleet scrapes); compared with the slowest single BMC scraped alone.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from lab.bmc import PASSWORD, USER, IpmiSim, exporter_config, ipmi_target, redfish_target
from lab.bmc_redfish import RedfishServer
from lab.exporter import ExporterProc, parse, value
from lab.proc import Lab, cpu_ms, free_port, port_open, require, wait_for

ROUNDS = 30
FLEET = 50


def get_ms(url: str, timeout_header: str = "10") -> tuple[float, str]:
    req = urllib.request.Request(url, headers={"X-Prometheus-Scrape-Timeout-Seconds": timeout_header})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        body = r.read().decode()
    return (time.perf_counter() - t0) * 1000, body


def main() -> None:
    go = require("prometheus-ipmi-exporter", "prometheus-ipmi-exporter")
    with Lab(tempfile.mkdtemp(prefix="colo-bmc-bench-")) as lab:
        sim = IpmiSim(lab, name="bmc-bench-sim")
        rf = RedfishServer(lab, name="bmc-bench-redfish")
        cfg = exporter_config({"s1": {"ipmi": ipmi_target(sim)}, "r1": {"redfish": redfish_target(rf.url)}})
        ours = ExporterProc(lab, "bmc", cfg, log_level="warn")
        go_port = free_port()
        go_cfg = lab.workdir / "ipmi_exporter.yml"
        go_cfg.write_text(
            yaml.safe_dump(
                {
                    "modules": {
                        "default": {
                            "user": USER,
                            "pass": PASSWORD,
                            "driver": "LAN_2_0",
                            "privilege": "user",
                            "timeout": 10000,
                            "workaround_flags": ["opensesspriv"],
                            "collectors": ["ipmi"],
                        }
                    }
                }
            )
        )
        gp = lab.start(
            "bmc-bench-go-ipmi-exporter",
            [go, f"--config.file={go_cfg}", f"--web.listen-address=127.0.0.1:{go_port}", "--log.level=warn"],
        )
        wait_for(
            lambda: gp.check_alive() and port_open("127.0.0.1", go_port),
            20,
            "prometheus-ipmi-exporter",
            log=gp.log,
        )
        our_url = f"{ours.url}/probe?target=s1"
        go_url = f"http://127.0.0.1:{go_port}/ipmi?target=127.0.0.1:{sim.port}&module=default"
        _, body = get_ms(go_url)
        assert 'ipmi_up{collector="ipmi"} 1' in body, body[-500:]
        assert value(parse(get_ms(our_url)[1]), "colo_bmc_up", target="s1", source="ipmi") == 1
        for _ in range(3):
            get_ms(our_url)
            get_ms(go_url)
        a, b = [], []
        for _ in range(ROUNDS):
            a.append(get_ms(our_url)[0])
            b.append(get_ms(go_url)[0])
        ipmi_ms, go_ms = statistics.median(a), statistics.median(b)
        print(
            f"ipmi: ours median {ipmi_ms:.1f} ms (min {min(a):.1f}, max {max(a):.1f}); "
            f"go median {go_ms:.1f} ms (min {min(b):.1f}, max {max(b):.1f})",
            flush=True,
        )

        rf_url = f"{ours.url}/probe?target=r1"
        get_ms(rf_url)
        r, reqs = [], []
        for _ in range(ROUNDS):
            ms, body = get_ms(rf_url)
            r.append(ms)
            reqs.append(value(parse(body), "colo_bmc_scrape_requests", target="r1", source="redfish"))
        rf_ms, rf_reqs = statistics.median(r), statistics.median(reqs)
        print(f"redfish: median {rf_ms:.1f} ms, {rf_reqs:.0f} requests per scrape", flush=True)

        # The 50 BMCs in 5 server processes (10 ports each): real BMCs are independent machines, so the peer
        # side must not be one Python process serialising every answer behind its GIL.
        groups = [
            RedfishServer(lab, name=f"bmc-bench-fleet{g}", count=FLEET // 5, delay=1.0) for g in range(5)
        ]
        fleet_urls = [u for g in groups for u in g.urls]

        def fleet(interval: str) -> tuple[float, float, int]:
            """(median ms of 50 BMCs scraped at once, slowest of 5 BMCs scraped alone, BMCs up), with the
            component-health refresh on every BMC every `interval`."""
            fcfg = exporter_config(
                {
                    f"bmc{i:02d}": {
                        "redfish": redfish_target(u, components=True, components_interval=interval)
                    }
                    for i, u in enumerate(fleet_urls)
                }
            )
            # 50 probes at once, as one Prometheus job with 50 BMCs sends them: above the default cap of 40
            fexp = ExporterProc(lab, "bmc", fcfg, args=["--web.max-requests=0"], log_level="warn")
            names = list(fcfg["targets"])

            def scrape_all() -> tuple[float, int]:
                bodies: dict[str, str] = {}
                done: list[float] = []

                def one(n: str) -> None:
                    _, bodies[n] = get_ms(f"{fexp.url}/probe?target={n}", "15")
                    done.append(time.perf_counter())

                t0 = time.perf_counter()
                ths = [threading.Thread(target=one, args=(n,)) for n in names]
                for t in ths:
                    t.start()
                for t in ths:
                    t.join(60)
                # The answers are parsed after the last one came: parsing 50 of them (in Python, in the
                # benchmark's process) while the others are still on their way took CPU from the exporter
                # and the BMCs on these 2 cores, and counted against the fleet.
                ups = [value(parse(b), "colo_bmc_up", target=n, source="redfish") for n, b in bodies.items()]
                return (max(done, default=time.perf_counter()) - t0) * 1000, int(sum(ups))

            scrape_all()  # log in everywhere (sessions are then reused); the first component round starts
            singles = [get_ms(f"{fexp.url}/probe?target={n}", "15")[0] for n in names[:5]]
            pids = [fexp.proc.pid, *(g.proc.pid for g in groups)]
            c0 = [cpu_ms(p) for p in pids]
            runs = [scrape_all() for _ in range(3)]
            c1 = [cpu_ms(p) for p in pids]
            fexp.proc.stop()
            ms, up = statistics.median(r[0] for r in runs), min(r[1] for r in runs)
            own, peers = (c1[0] - c0[0]) / 3, sum(b - a for a, b in zip(c0[1:], c1[1:], strict=True)) / 3
            print(
                f"fleet (components every {interval}): {FLEET} BMCs at once median {ms:.0f} ms "
                f"(up {up}/{FLEET}); one BMC alone: slowest {max(singles):.0f} ms of {len(singles)}; CPU per "
                f"round: exporter {own:.0f} ms, the 5 BMC processes {peers:.0f} ms",
                flush=True,
            )
            return ms, max(singles), up

        fleet_ms, slowest_single, up = fleet("5m")  # the default cadence
        busy_ms, busy_single, busy_up = fleet("10s")  # a refresh round during every fleet scrape
        result = {
            "ipmi_scrape_ms": round(ipmi_ms, 2),
            "go_ipmi_scrape_ms": round(go_ms, 2),
            "ratio": round(ipmi_ms / go_ms, 3),
            "redfish_requests_per_scrape": rf_reqs,
            "redfish_scrape_ms": round(rf_ms, 2),
            "fleet_scrape_ms": round(fleet_ms, 1),
            "fleet_single_bmc_ms": round(slowest_single, 1),
            "fleet_ratio": round(fleet_ms / slowest_single, 3),
            "fleet_up": up,
            "fleet_ratio_components_10s": round(busy_ms / busy_single, 3),
            "fleet_up_components_10s": busy_up,
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
