"""Helpers for the FRR tests: the exporter's config for the rack, scraping, waiting for a change, and the
text exposition of collected metric families."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric

from lab.exporter import ExporterProc, Samples, find, parse
from lab.frr import ANYCAST_V4, ANYCAST_V6, DAEMONS, FrrRack
from lab.proc import Lab


class _Families:
    """A stand-in registry that yields the given metric families (for `generate_latest`)."""

    def __init__(self, fams: Iterable[Metric]) -> None:
        self.fams = list(fams)

    def collect(self) -> Iterable[Metric]:
        return iter(self.fams)


def expose(fams: Iterable[Metric]) -> str:
    """The text exposition of `fams`, as the exporter would serve them."""
    return generate_latest(_Families(fams)).decode()  # type: ignore[arg-type]


def socket_dir(lab: Lab, name: str) -> str:
    """A short directory (a unix socket path has 108 bytes) for fake daemons' vty sockets, gone with `lab`."""
    d = Path("/tmp") / f"colo-frr-{os.getpid()}-{name}"
    d.mkdir(exist_ok=True)
    lab.callback(shutil.rmtree, d, True)
    return str(d)


def exporter_config(rack: FrrRack, **extra: object) -> dict:
    inst = {}
    for r in ("prov", "r1", "r2"):
        inst[r] = {"pathspace": rack.inst(r), "daemons": list(DAEMONS[r])}
    for r, v4, v6 in (("r1", "192.0.2.0", "2001:db8:0:1::1"), ("r2", "192.0.2.2", "2001:db8:0:2::1")):
        inst[r]["expected_advertisements"] = [
            {"prefix": ANYCAST_V4, "peers": [v4]},
            {"prefix": ANYCAST_V6, "peers": [v6]},
        ]
    return {"instances": inst, **extra}


def scrape(exp: ExporterProc) -> Samples:
    return parse(exp.metrics(headers={"X-Prometheus-Scrape-Timeout-Seconds": "5"}))


def one(s: Samples, name: str, **labels: str) -> float | None:
    hits = find(s, name, **labels)
    assert len(hits) <= 1, f"{name}{labels}: {hits}"
    return hits[0][1] if hits else None


def until(exp: ExporterProc, check: Callable[[Samples], bool], timeout: float, what: str) -> Samples:
    """Scrape until `check` holds; fail with the last scrape's relevant lines otherwise."""
    end = time.monotonic() + timeout
    while True:
        s = scrape(exp)
        if check(s):
            return s
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for: {what}")
        time.sleep(0.3)
