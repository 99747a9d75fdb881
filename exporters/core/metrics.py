"""A small builder for the metric families one scrape emits, all under one namespace."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
    StateSetMetricFamily,
)
from prometheus_client.samples import Sample

Add = Callable[[dict[str, str], float], None]
_SUFFIX = {"counter": "_total", "info": "_info"}
_tuple_new = tuple.__new__


_FAST = Sample._fields == ("name", "labels", "value", "timestamp", "exemplar", "native_histogram")
if _FAST:

    def sample(name: str, labels: dict[str, str], value: float) -> Sample:
        """`Sample(name, labels, value)`, without the namedtuple's keyword handling: collectors with
        a quarter of a million series make them in their hot loop."""
        return _tuple_new(Sample, (name, labels, value, None, None, None))

else:  # pragma: no cover - other prometheus_client versions

    def sample(name: str, labels: dict[str, str], value: float) -> Sample:
        return Sample(name, labels, value)


def adder(fam: Metric) -> Add:
    """`add(labels, value)`: append one sample to `fam`, the labels dict used as it is (shared among
    an object's series: never change it afterwards)."""
    name = fam.name + _SUFFIX.get(fam.type, "")
    append = fam.samples.append
    if _FAST:

        def add(labels: dict[str, str], value: float) -> None:
            append(_tuple_new(Sample, (name, labels, value, None, None, None)))  # sample(), inlined

    else:  # pragma: no cover - other prometheus_client versions

        def add(labels: dict[str, str], value: float) -> None:
            append(sample(name, labels, value))

    return add


M = TypeVar("M", GaugeMetricFamily, CounterMetricFamily, InfoMetricFamily, StateSetMetricFamily)


class Families:
    """`f = Families("colo_frr"); f.gauge("bgp_peer_up", "...", ["peer"]).add_metric(["10.0.0.1"], 1)`.

    Asking twice for the same name returns the same family, so loops need not pre-declare them.
    """

    def __init__(self, namespace: str) -> None:
        self.ns = namespace
        self._fams: dict[str, Metric] = {}

    def _get(self, cls: type[M], name: str, doc: str, labels: Sequence[str]) -> M:
        full = f"{self.ns}_{name}"
        fam: Any = self._fams.get(full)  # the first ask for a name fixes its family's type
        if fam is None:
            fam = self._fams[full] = cls(full, doc, labels=list(labels))
        return fam

    def gauge(self, name: str, doc: str, labels: Sequence[str] = ()) -> GaugeMetricFamily:
        return self._get(GaugeMetricFamily, name, doc, labels)

    def counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> CounterMetricFamily:
        """`name` ends in `_total`; the exposition keeps it."""
        if not name.endswith("_total"):
            raise ValueError(f"counter {name} must end in _total")
        return self._get(CounterMetricFamily, name, doc, labels)

    def info(self, name: str, doc: str, labels: Sequence[str] = ()) -> InfoMetricFamily:
        """Exposed as `<name>_info 1` with the labels."""
        return self._get(InfoMetricFamily, name, doc, labels)

    def stateset(self, name: str, doc: str, labels: Sequence[str] = ()) -> StateSetMetricFamily:
        return self._get(StateSetMetricFamily, name, doc, labels)

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._fams.values())
