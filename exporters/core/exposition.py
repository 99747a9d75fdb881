"""The Prometheus text format (0.0.4), rendered directly from metric families.

prometheus_client's `generate_latest` spends 14-20 µs per sample (name validation and escaping rules of
newer formats); a 10,000-peer router or a 5,000-instance cluster is a quarter of a million samples. This
renders the same classic format several times faster: label dicts shared among an object's series are
rendered once, and `Labels` carry their text, built from their parent's (a session's labels plus `type`).
Checked against `generate_latest` in the tests; bench/frr.py and bench/lxd.py measure it.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import Metric

_TYPES = {
    "counter": "counter",
    "gauge": "gauge",
    "summary": "summary",
    "histogram": "histogram",
    "info": "gauge",
    "stateset": "gauge",
    "gaugehistogram": "histogram",
    "unknown": "untyped",
}


_SPECIAL = {"inf": "+Inf", "-inf": "-Inf", "nan": "NaN"}
# Small integral values (states, flags, counts) are most samples: their text is looked up, not built.
_SMALL = {float(i): repr(float(i)) for i in range(-1, 1025)}


def _esc(v: str) -> str:
    if "\\" in v or '"' in v or "\n" in v:
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return v


def _label_text(labels: dict[str, str]) -> str:
    return ",".join([f'{k}="{_esc(v)}"' for k, v in labels.items()])


class Labels(dict[str, str]):
    """A label dict that carries its exposition text, for collectors that emit many series per object:
    `lv = Labels({...})` once per object, `lv.plus("type", t)` for a series with one label more (its
    text is the parent's plus one pair). Never changed after it is made: the text would be stale."""

    __slots__ = ("head",)
    head: str  # `{k="v",...} `: what follows the sample name

    def __init__(self, labels: dict[str, str]) -> None:
        super().__init__(labels)
        self.head = f"{{{_label_text(self)}}} "

    def plus(self, key: str, value: str) -> Labels:
        if key in self or not self:
            return Labels({**self, key: value})
        d = _new_labels(Labels)
        d.update(self)
        d[key] = value
        if "\\" in value or '"' in value or "\n" in value:
            value = _esc(value)
        d.head = f'{self.head[:-2]},{key}="{value}"}} '
        return d


_new_labels = dict.__new__
# The text of small integral values (states, flags, counts: most samples) and its line end, looked up.
_SMALL_NL = {k: f"{v}\n" for k, v in _SMALL.items()}


def _esc_help(v: str) -> str:
    if "\\" in v or "\n" in v:
        return v.replace("\\", "\\\\").replace("\n", "\\n")
    return v


def _value(value: float) -> str:
    v = _SMALL.get(value)
    if v is None:
        v = repr(float(value))
        if v[-1] in "fn":  # inf, -inf, nan
            v = _SPECIAL.get(v, v)
    return v


def render(families: Iterable[Metric]) -> bytes:
    out: list[str] = []
    add = out.append
    small_nl = _SMALL_NL
    # Collectors often share one label dict among an object's series (an instance's CPU, memory, ...):
    # render each dict once. Keyed by id(); the dict is kept with its text so its id cannot be reused
    # while we render (families may come from a generator that lets earlier ones go).
    seen: dict[int, tuple[dict[str, str], str]] = {}
    for fam in families:
        name = fam.name
        kind = fam.type
        if kind == "counter":
            name += "_total"
        elif kind == "info":
            name += "_info"
        add(f"# HELP {name} {_esc_help(fam.documentation)}\n# TYPE {name} {_TYPES.get(kind, 'untyped')}\n")
        openmetrics_created = kind in ("counter", "histogram", "summary")
        for s in fam.samples:
            sname, labels, value, ts = s[0], s[1], s[2], s[3]  # a Sample tuple; indexing beats attributes
            if openmetrics_created and sname.endswith("_created"):
                continue  # OpenMetrics-only series
            # Pieces are appended, not formatted into a line: one join copies them all, once.
            add(sname)
            if not labels:
                add(" ")
            elif type(labels) is Labels:
                add(labels.head)
            else:
                hit = seen.get(id(labels))
                if hit is None:
                    head = f"{{{_label_text(labels)}}} "
                    seen[id(labels)] = (labels, head)
                    add(head)
                else:
                    add(hit[1])
            if ts is None:
                v = small_nl.get(value)
                if v is None:
                    v = f"{_value(value)}\n"
            else:
                v = f"{_value(value)} {int(float(ts) * 1000)}\n"
            add(v)
    return "".join(out).encode()
