"""Our text renderer says exactly what prometheus_client's generate_latest says, faster."""

from __future__ import annotations

from prometheus_client import REGISTRY
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    StateSetMetricFamily,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from exporters.core.exposition import render
from lab.prometheus import check_metrics


class _Registry:
    def __init__(self, fams: list) -> None:
        self.fams = fams

    def collect(self) -> list:
        return self.fams


def _canon(text: bytes) -> list:
    return sorted(
        (f.name, f.type, f.documentation, s.name, tuple(sorted(s.labels.items())), repr(s.value))
        for f in text_string_to_metric_families(text.decode())
        for s in f.samples
    )


def _families() -> list:
    g = GaugeMetricFamily(
        "colo_t_peer_state", 'help with \\ and\nnewline and "quotes"', labels=["peer", "desc"]
    )
    g.add_metric(["10.0.0.1", 'a "q" \\ b\nc'], 1.5)
    g.add_metric(["2001:db8::1", ""], float("nan"))
    g.add_metric(["x", "y"], float("inf"))
    g.add_metric(["z", "ü ✓"], -1e-9)
    for i, v in enumerate((float("-inf"), 0, -1, -2, 1024, 1025, 0.5, 7.0, True)):
        g.add_metric([f"v{i}", ""], v)  # the small-value table's edges and what lies beyond
    c = CounterMetricFamily("colo_t_messages_total", "msgs", labels=["type"])
    c.add_metric(["open"], 3)
    c.add_metric(["update"], 12345678901234)
    return [
        g,
        c,
        InfoMetricFamily("colo_t_version", "v", value={"version": "8.4"}),
        StateSetMetricFamily("colo_t_mode", "m", value={"a": True, "b": False}),
        GaugeMetricFamily("colo_t_plain", "p", value=2.0),
    ]


def test_same_series_as_generate_latest() -> None:
    fams = _families()
    assert _canon(render(fams)) == _canon(generate_latest(_Registry(fams)))


def test_process_metrics_render_the_same_and_pass_promtool() -> None:
    fams = list(REGISTRY.collect())
    body = render(fams)
    assert _canon(body) == _canon(generate_latest(_Registry(fams)))
    assert check_metrics(render(_families()[1:])) == []


def test_shared_label_dicts_and_generators() -> None:
    """Label text is cached per dict: shared dicts render once, and a generator that drops its families
    (so dict ids could be reused) still renders every series with its own labels."""
    shared = {"name": "c1", "project": "default"}
    a = GaugeMetricFamily("colo_t_a", "a", labels=["name", "project"])
    b = GaugeMetricFamily("colo_t_b", "b", labels=["name", "project"])
    from prometheus_client.samples import Sample

    a.samples.append(Sample("colo_t_a", shared, 1.0))
    b.samples.append(Sample("colo_t_b", shared, 2.0))

    def gen():
        for i in range(200):
            f = GaugeMetricFamily(f"colo_t_g{i}", "g", labels=["i"])
            f.add_metric([str(i)], i)
            yield f

    text = render([a, b, *[]]).decode() + render(gen()).decode()
    assert 'colo_t_a{name="c1",project="default"} 1.0' in text
    assert 'colo_t_b{name="c1",project="default"} 2.0' in text
    for i in range(200):
        assert f'colo_t_g{i}{{i="{i}"}} {float(i)!r}' in text


def test_labels_carry_their_text_and_render_as_plain_dicts_do() -> None:
    """`Labels` and what `plus` derives from them render exactly as the same plain dicts, escaping the
    added value too; `plus` of a key already there replaces it (one pair, as a dict would have)."""
    from prometheus_client.samples import Sample

    from exporters.core.exposition import Labels

    base = Labels({"peer": "10.0.0.1", "desc": 'a "q" \\ b\nc'})
    derived = [
        base,
        base.plus("type", "open"),
        base.plus("type", 'x"\\\n'),
        base.plus("type", "open").plus("reason", ""),
        base.plus("peer", "10.0.0.2"),
        Labels({}).plus("only", "one"),
    ]
    fast = GaugeMetricFamily("colo_t_fast", "f", labels=[])
    plain = GaugeMetricFamily("colo_t_fast", "f", labels=[])
    for i, lv in enumerate(derived):
        fast.samples.append(Sample("colo_t_fast", lv, float(i)))
        plain.samples.append(Sample("colo_t_fast", dict(lv), float(i)))
    assert dict(derived[4]) == {"peer": "10.0.0.2", "desc": 'a "q" \\ b\nc'}
    assert render([fast]) == render([plain])
    assert _canon(render([fast])) == _canon(generate_latest(_Registry([plain])))
