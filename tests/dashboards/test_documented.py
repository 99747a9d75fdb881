"""Every colo_* series the running exporters really emit, against real peers, is in its exporter's metrics
reference (docs/<exporter>.md): the demo rack of tests/dashboards/conftest.py, read back from Prometheus."""

from __future__ import annotations

import re
from pathlib import Path

from lab.prometheus import Prometheus

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"colo_([a-z]+)_[a-z0-9_]+")
# The exposition adds these to the documented family name.
SUFFIXES = ("_total", "_info", "_bucket", "_count", "_sum", "_created")


def test_every_emitted_series_is_documented(rack_prometheus: Prometheus) -> None:
    names = [n for n in rack_prometheus.api("label/__name__/values") if NAME.fullmatch(n)]
    docs: dict[str, str] = {}
    missing = []
    for n in names:
        exporter = NAME.fullmatch(n).group(1)  # type: ignore[union-attr]
        doc = ROOT / "docs" / f"{exporter}.md"
        if exporter not in docs:
            docs[exporter] = doc.read_text() if doc.exists() else ""
        bases = {n} | {n.removesuffix(s) for s in SUFFIXES if n.endswith(s)}
        if not any(f"`{b}`" in docs[exporter] or f"`{b}{{" in docs[exporter] for b in bases):
            missing.append(n)
    assert len(names) > 100, f"too few colo_* series to judge: {len(names)}"
    assert not missing, f"emitted but not in docs/<exporter>.md: {missing}"
