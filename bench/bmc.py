"""Benchmark colo-bmc-exporter (one command; the last line of output is a JSON object).

1. IPMI, same ipmi_sim, same run: this exporter's /probe vs Debian's prometheus-ipmi-exporter (Go +
   FreeIPMI, ipmi collector only), scrapes interleaved, medians of warm scrapes.
2. Redfish: requests per scrape and scrape time against the lab Redfish server.
3. Fleet: 50 Redfish BMCs with 1 s of latency per request, scraped at once (as Prometheus does), with
   the component-health refresh running in the background on every BMC; compared with the slowest single
   BMC scraped alone.
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

from lab.bmc import PASSWORD, USER, IpmiSim, ipmi_target
from lab.bmc_redfish import RedfishServer
from lab.exporter import ExporterProc, parse, value
from lab.proc import Lab, free_port, port_open, require, wait_for

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
        cfg = {
            "auths": {"lab": {"user": USER, "password": PASSWORD}},
            "targets": {
                "s1": {"ipmi": ipmi_target(sim)},
                "r1": {"redfish": {"url": rf.url, "auth": "lab", "insecure_http": True}},
            },
        }
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
        fcfg = {
            "auths": {"lab": {"user": USER, "password": PASSWORD}},
            "targets": {
                # component health refreshed in the background (every 10 s here, 5 min by default)
                f"bmc{i:02d}": {
                    "redfish": {
                        "url": u,
                        "auth": "lab",
                        "insecure_http": True,
                        "components": True,
                        "components_interval": "10s",
                    }
                }
                for i, u in enumerate(fleet_urls)
            },
        }
        fexp = ExporterProc(lab, "bmc", fcfg, log_level="warn")
        names = list(fcfg["targets"])

        def scrape_all() -> tuple[float, list[float], int]:
            times: dict[str, float] = {}
            ups: list[float] = []

            def one(n: str) -> None:
                ms, body = get_ms(f"{fexp.url}/probe?target={n}", "15")
                times[n] = ms
                ups.append(value(parse(body), "colo_bmc_up", target=n, source="redfish"))

            t0 = time.perf_counter()
            ths = [threading.Thread(target=one, args=(n,)) for n in names]
            for t in ths:
                t.start()
            for t in ths:
                t.join(60)
            return (time.perf_counter() - t0) * 1000, list(times.values()), int(sum(ups))

        scrape_all()  # log in everywhere (sessions are then reused)
        singles = [get_ms(f"{fexp.url}/probe?target={n}", "15")[0] for n in names[:5]]
        slowest_single = max(singles)
        runs = [scrape_all() for _ in range(3)]
        fleet_ms = statistics.median(r[0] for r in runs)
        up = min(r[2] for r in runs)
        print(
            f"fleet: {FLEET} BMCs at once median {fleet_ms:.0f} ms (up {up}/{FLEET}); one BMC alone: "
            f"slowest {slowest_single:.0f} ms of {len(singles)}",
            flush=True,
        )
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
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
