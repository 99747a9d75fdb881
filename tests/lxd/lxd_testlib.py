"""Helpers for the LXD tests: an in-process scrape, and find/value that allow a `name` label."""

from __future__ import annotations

from typing import Any

from exporters.core import Deadline, ScrapeError, parse_config
from exporters.core.scrape import merge
from exporters.lxd.config import Config
from exporters.lxd.main import Runtime


class Scrape:
    """One in-process scrape: samples by (name, labels), and the ScrapeError of each failed collector."""

    def __init__(self, config: dict[str, Any], seconds: float = 10.0, runtime: Runtime | None = None) -> None:
        self.runtime = runtime or Runtime(parse_config(Config, config))
        self.errors: dict[str, ScrapeError] = {}
        fams = []
        for job in self.runtime.jobs(None):
            try:
                fams.extend(job.run(Deadline(seconds)))
            except ScrapeError as e:
                self.errors[job.labels["collector"]] = e
        if runtime is None:
            self.runtime.close()  # no idle connections left to LXD
        self.samples = {
            (s.name, frozenset(s.labels.items())): s.value for f in merge(fams) for s in f.samples
        }

    def find(self, metric: str, /, **labels: str) -> list[tuple[dict[str, str], float]]:
        return find(self.samples, metric, **labels)

    def value(self, metric: str, /, **labels: str) -> float:
        return value(self.samples, metric, **labels)


# lab.exporter's find/value take `name` as a parameter; instance series have a `name` label.
def find(samples: dict, metric: str, /, **labels: str) -> list[tuple[dict[str, str], float]]:
    want = set(labels.items())
    return [(dict(lbl), v) for (n, lbl), v in samples.items() if n == metric and want <= lbl]


def value(samples: dict, metric: str, /, **labels: str) -> float:
    hits = find(samples, metric, **labels)
    assert len(hits) == 1, f"{metric}{labels}: expected one sample, found {len(hits)}: {hits[:5]}"
    return hits[0][1]
