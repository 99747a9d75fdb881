"""Issue 10 §1: a Redfish BMC that hangs mid-answer (one byte every 0.5 s) must not keep the request slots.

Every read is bounded by the scrape deadline as a whole (the core's guarded sockets), so each scrape of the
trickling BMC ends at its deadline and gives its slot back; once the BMC answers again, the next scrape is
up. Before (requests' timeouts restart on every byte): 0 of 10 scrapes up after the BMC recovered.
"""

from __future__ import annotations

import threading
import time

from lab.bmc import PASSWORD, USER
from lab.bmc_redfish import RedfishServer
from lab.exporter import ExporterProc, parse, value
from lab.proc import Lab

LB = {"target": "r", "source": "redfish"}


def test_trickling_bmc_gives_slots_back_and_recovers(lab: Lab) -> None:
    rfs = RedfishServer(lab, name="bmc-trickle")
    target = {"url": rfs.url, "auth": "lab", "insecure_http": True, "timeout": "2s"}
    exp = ExporterProc(
        lab,
        "bmc",
        {"auths": {"lab": {"user": USER, "password": PASSWORD}}, "targets": {"r": {"redfish": target}}},
    )

    def probe() -> tuple[float, float]:
        t0 = time.monotonic()
        text = exp.probe("r", headers={"X-Prometheus-Scrape-Timeout-Seconds": "3"})
        return value(parse(text), "colo_bmc_up", **LB), time.monotonic() - t0

    assert probe()[0] == 1
    rfs.fault(trickle=0.5)  # every request from now on: headers, then a byte every 0.5 s
    results: list[tuple[float, float]] = []
    threads = [threading.Thread(target=lambda: results.append(probe())) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 10
    assert all(up == 0 for up, _ in results)
    assert max(took for _, took in results) < 4.0  # each ended at its 2.5 s deadline (plus the render)
    rfs.reset()  # the BMC recovers
    ups = [probe()[0] for _ in range(10)]
    assert ups == [1] * 10, ups
