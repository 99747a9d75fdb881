"""Render a dashboard's panels from a live Prometheus to PNG, one image per row, laid out as Grafana lays
them out (24 columns). A preview for the docs, drawn from real data, not a Grafana screenshot: time series
as lines (negative-Y series below the axis), stats as their last values with the panel's value mappings,
tables as text, state timelines as steps, bar gauges as bars.

    .venv/bin/pip install -e '.[docs]'
    python -m mixin.preview --prometheus http://127.0.0.1:9090 --out docs/preview   # while `make demo` runs
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from . import dashboards

ROW_UNIT_PX = 30  # Grafana's grid row height


def _get(base: str, path: str, **params: str) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=30) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"{url}: {body}")
    return body["data"]["result"]


def _expr(expr: str, board: dict[str, Any], step: int, span: int) -> str:
    expr = expr.replace("$__rate_interval", f"{max(4 * step, 60)}s").replace("$__interval", f"{step}s")
    expr = expr.replace("$__range", f"{span}s")
    for v in board["templating"]["list"]:
        expr = expr.replace(f"${{{v['name']}}}", ".*").replace(f"${v['name']}", ".*")
    return expr


def _legend(fmt: str, labels: dict[str, str]) -> str:
    if not fmt:
        return "{" + ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__") + "}"
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), fmt).strip()


def _mapped(panel: dict[str, Any], value: float) -> str:
    for m in panel["fieldConfig"]["defaults"].get("mappings", []):
        text = m.get("options", {}).get(f"{value:g}", {}).get("text")
        if text:
            return text
    unit = panel["fieldConfig"]["defaults"].get("unit", "")
    return _human(value, unit)


def _human(v: float, unit: str) -> str:
    if unit == "percentunit":
        return f"{v:.1%}"
    scale = {"bps": ("b/s", 1000), "Bps": ("B/s", 1000), "bytes": ("B", 1024), "decbytes": ("B", 1000)}
    if unit in scale:
        suffix, base = scale[unit]
        for p in ("", "k", "M", "G", "T", "P"):
            if abs(v) < base:
                return f"{v:.3g} {p}{suffix}"
            v /= base
    short = {"celsius": "°C", "watt": "W", "rotrpm": "rpm", "volt": "V", "s": "s", "ms": "ms"}
    return f"{v:.3g} {short.get(unit, '')}".strip()


def render(base: str, name: str, out: Path, minutes: int = 30) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    board = dashboards.BOARDS[name]()
    end = time.time()
    span = minutes * 60
    step = max(span // 120, 5)
    rows: list[tuple[str, list[dict[str, Any]]]] = []
    for p in board["panels"]:
        if p["type"] == "row":
            rows.append((p["title"], list(p.get("panels", []))))
        elif rows:
            rows[-1][1].append(p)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for title, panels in rows:
        if not panels:
            continue
        top = min(p["gridPos"]["y"] for p in panels)
        height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels) - top
        fig_h = height * ROW_UNIT_PX + 50  # pixels: the rows' grid units, a band for the title, a margin
        fig = plt.figure(figsize=(24 * 0.75, fig_h / 80), dpi=80)
        fig.suptitle(f"{board['title']} — {title}", x=0.01, y=0.995, ha="left", va="top", fontsize=13)
        for p in panels:
            g = p["gridPos"]
            y0 = 1 - (40 + (g["y"] - top + g["h"]) * ROW_UNIT_PX - 22) / fig_h  # 22 px for the x labels
            ax = fig.add_axes(
                (g["x"] / 24 + 0.035, y0, g["w"] / 24 - 0.045, (g["h"] * ROW_UNIT_PX - 44) / fig_h)
            )
            _draw(ax, p, board, base, end, span, step)
        path = out / f"{name}-{re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written


def _draw(
    ax: Any, p: dict[str, Any], board: dict[str, Any], base: str, end: float, span: int, step: int
) -> None:
    ax.set_title(p["title"], fontsize=9, loc="left")
    ax.tick_params(labelsize=7)
    negative = {
        o["matcher"]["options"]
        for o in p["fieldConfig"]["overrides"]
        if any(pr.get("value") == "negative-Y" for pr in o["properties"])
    }
    unit = p["fieldConfig"]["defaults"].get("unit", "")
    series = []
    for t in p["targets"]:
        expr = _expr(t["expr"], board, step, span)
        if p["type"] in ("timeseries", "state-timeline"):
            res = _get(base, "query_range", query=expr, start=str(end - span), end=str(end), step=str(step))
            for r in res:
                pts = [(float(ts), float(v)) for ts, v in r["values"]]
                series.append((_legend(t.get("legendFormat", ""), r["metric"]), pts, t["refId"] in negative))
        elif p["type"] == "table":
            hidden = {
                k for tr in p.get("transformations", []) for k in tr["options"].get("excludeByName", {})
            }
            for r in _get(base, "query", query=expr, time=str(end)):
                label = " ".join(v for k, v in sorted(r["metric"].items()) if k not in hidden)
                series.append((label, float(r["value"][1]), "Value" in hidden))
        else:
            for r in _get(base, "query", query=expr, time=str(end)):
                series.append((_legend(t.get("legendFormat", ""), r["metric"]), float(r["value"][1]), False))
    if not series:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", color="grey", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    if p["type"] in ("timeseries", "state-timeline"):
        for label, pts, neg in series[:24]:
            xs = [(x - end) / 60 for x, _ in pts]
            ys = [-y if neg else y for _, y in pts]
            ax.step(xs, ys, where="post", lw=1, label=label[:40]) if p[
                "type"
            ] == "state-timeline" else ax.plot(xs, ys, lw=1, label=label[:40])
        ax.set_xlabel("minutes", fontsize=7)
        ax.yaxis.set_major_formatter(lambda v, _pos: _human(abs(v), unit))
        ax.legend(
            fontsize=5,
            loc="upper left",
            ncol=3 if len(series) > 10 else (2 if len(series) > 5 else 1),
            framealpha=0.5,
        )
        return
    ax.set_xticks([])
    ax.set_yticks([])
    if p["type"] == "table":
        maps = [
            pr["value"]
            for o in p["fieldConfig"]["overrides"]
            for pr in o["properties"]
            if pr["id"] == "mappings"
        ]
        table = {**p, "fieldConfig": {"defaults": {"mappings": maps[0] if maps else []}}}
        lines = [
            label[:70] + ("" if no_value else f"  {_mapped(table, v)}") for label, v, no_value in series[:16]
        ]
    else:
        lines = [f"{label[:38]}: {_mapped(p, v)}" for label, v, _ in series[:14]]
    if p["type"] == "stat" and len(series) <= 3:
        ax.text(
            0.5,
            0.5,
            "\n".join(
                _mapped(p, v) if len(series) == 1 else ln
                for ln, (_, v, _n) in zip(lines, series, strict=False)
            ),
            ha="center",
            va="center",
            fontsize=16 if len(series) == 1 else 9,
            transform=ax.transAxes,
        )
    elif p["type"] == "bargauge":
        vals = [v for _, v, _ in series[:14]]
        ax.barh(range(len(vals)), vals)
        ax.set_yticks(range(len(vals)), [lb[:30] for lb, _, _ in series[:14]], fontsize=6)
    else:
        ax.text(
            0.01,
            0.98,
            "\n".join(lines),
            ha="left",
            va="top",
            fontsize=7,
            family="monospace",
            transform=ax.transAxes,
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prometheus", default="http://127.0.0.1:9090")
    ap.add_argument("--dashboard", default="rack", choices=sorted(dashboards.BOARDS))
    ap.add_argument("--out", default="docs/preview")
    ap.add_argument("--minutes", type=int, default=30, help="time range to draw")
    args = ap.parse_args(argv)
    for path in render(args.prometheus, args.dashboard, Path(args.out), args.minutes):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
