"""What every family shares: the context (config, timing, selectors) and the exporter health alerts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .model import Alert, Timing, held, indent

# The label convention that joins a server's sources: every series about a server (its BMC probe, its
# node_exporter, the colo-lxd-exporter on it, a router running on it) carries `host` = the server's LXD
# cluster member name, added by Prometheus relabelling (docs/alerts.md). LXD's own per-member series name
# the member in `member` or `location`; the rules copy it into `host`.
HOST = "host"

# RE2 has no negative look-ahead: this matches any non-empty value except "none" (LXD's location of
# the instances of a standalone server), so those keep the `host` their scrape config gave them.
NOT_NONE = "([^n].*|n|n[^o].*|no|no[^n].*|non|non[^e].*|none.+)"


@dataclass(frozen=True)
class Ctx:
    cfg: dict[str, Any]
    selectors: dict[str, str]
    t: Timing

    @property
    def hold(self) -> str:
        return self.t(self.cfg["blind_hold"])

    @property
    def delay(self) -> str:
        return self.t(self.cfg["resolve_delay"])

    def sub(self, family: str) -> dict[str, Any]:
        return self.cfg[family]


def host_from(label: str, expr: str) -> str:
    """`expr` with `host` set from `label` (LXD's member name), except where that says "none"."""
    return f'label_replace(\n{indent(expr)},\n  "{HOST}", "$1", "{label}", "{NOT_NONE}"\n)'


def source_down(ctx: Ctx, up: str) -> str:
    """`up` (an exporter's own up series: a device, daemon or collector it cannot read) at 0, held while
    the exporter itself cannot be scraped."""
    return held(lambda w: f"{w(up)} == 0", ctx.hold, "job, instance", "up == 1")


def held_alert(
    ctx: Ctx,
    name: str,
    expr: str,
    severity: str,
    obj: str,
    for_: str,
    summary: str,
    description: str,
    comment: str = "",
) -> Alert:
    """An alert on held data (`expr` keeps its last known state while its source cannot be read), for
    `for_` (scaled): it resolves only after the resolve delay, so the alert that inhibits it meanwhile has
    always resolved first (docs/alerts.md)."""
    return Alert(
        name,
        expr,
        severity,
        obj,
        summary,
        description,
        for_=ctx.t(for_),
        keep_firing_for=ctx.delay,
        comment=comment,
    )


def exporter_alerts(ctx: Ctx, key: str, prefix: str, program: str, what: str) -> list[Alert]:
    """<Prefix>ExporterDown and <Prefix>ExporterScrapeSlow for the jobs `selectors[key]` selects.

    The job selector (not the history of its metrics) says which targets are ours, so an exporter that
    stays down for days keeps alerting.
    """
    if key not in ctx.selectors or key not in ctx.cfg["exporters"]:
        raise KeyError(f'mixin/config.py needs SELECTORS["{key}"] and ALERTS["exporters"]["{key}"]')
    sel = ctx.selectors[key]
    e = ctx.cfg["exporters"][key]
    ratio = ctx.cfg["scrape_slow_ratio"]
    return [
        Alert(
            f"{prefix}ExporterDown",
            f"up{{{sel}}} == 0",
            e["severity"],
            "monitoring",
            f"{program} scrape {{{{ $labels.job }}}}/{{{{ $labels.instance }}}} fails",
            "Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}) from "
            f"{program}: "
            f"nothing is known about {what} it watches (the target's last error is on Prometheus' targets "
            "page).",
            for_=ctx.t(e["down_for"]),
            labels={"exporter": key},
        ),
        Alert(
            f"{prefix}ExporterScrapeSlow",
            f"(\n  scrape_duration_seconds{{{sel}}}\n    > {ratio} * "
            f"scrape_timeout_seconds{{{sel}}}\n)\n"
            f"or\n(\n  scrape_duration_seconds{{{sel}}} > {e['slow_seconds']}\n"
            f"    unless on (job, instance) scrape_timeout_seconds\n)",
            "warning",
            "monitoring",
            "Scrapes of {{ $labels.instance }} (job {{ $labels.job }}) take {{ $value | humanizeDuration }}",
            f"{program} answers {{{{ $labels.instance }}}} close to the scrape timeout; a little slower and "
            "the "
            "scrape fails as a whole. Raise scrape_timeout, or find what is slow in the exporter's "
            "scrape_duration_seconds per source.",
            for_=ctx.t(ctx.cfg["scrape_slow_for"]),
            labels={"exporter": key},
            comment=f"More than {ratio:.0%} of scrape_timeout_seconds (Prometheus with "
            "--enable-feature=extra-scrape-metrics), else more than a fixed time.",
        ),
    ]
