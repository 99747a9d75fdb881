"""Two Prometheus servers on one target (an HA pair): scrapes that overlap must not make up agent restarts."""

from __future__ import annotations

import threading
import time

from lab.exporter import ExporterProc, parse, value
from lab.snmp_fake import FakeAgent, small_switch


def test_two_scrapers_for_30s_see_no_false_restart(snmp_lab):
    # An agent whose sysUpTime follows the clock and whose answers come after 0-50 ms each: two overlapping
    # scrapes read different uptimes and may finish in either order. Its own exporter, so the restart
    # counter starts at 0 and sees only these scrapes.
    agent = FakeAgent(small_switch(), jitter=0.05, clock_uptime=True)
    snmp_lab.callback(agent.close)
    cfg = {
        "auths": {"fake": {"version": "2c", "community": "fake"}},
        "targets": {"ha": {"address": "127.0.0.1", "port": agent.port, "auth": "fake", "timeout": "2s"}},
    }
    e = ExporterProc(snmp_lab, "snmp", cfg)
    stop = time.monotonic() + 30
    results: list[tuple[float, float]] = []  # (up, agent_restarts_total) per scrape
    lock = threading.Lock()

    def scraper() -> None:
        while time.monotonic() < stop:
            s = parse(e.probe("ha", timeout=30))
            with lock:
                results.append(
                    (value(s, "colo_snmp_up", target="ha"), value(s, "colo_snmp_agent_restarts_total"))
                )

    threads = [threading.Thread(target=scraper) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    print(f"{len(results)} scrapes, restarts counted: {max(r for _, r in results)}")
    assert len(results) >= 60, len(results)  # both kept scraping
    assert all(up == 1 for up, _ in results), [r for r in results if r[0] != 1][:3]
    assert max(r for _, r in results) == 0, (
        f"false restarts in {len(results)} scrapes: {max(r for _, r in results)}"
    )
