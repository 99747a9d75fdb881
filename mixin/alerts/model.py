"""The pieces every alert family is built from: durations that scale, held expressions, the rule
records, and a small YAML writer that keeps comments (PyYAML drops them)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def seconds(duration: str) -> float:
    """A Prometheus duration ("1h30m", "90s") in seconds."""
    parts = _PART.findall(duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise ValueError(f"not a Prometheus duration: {duration!r}")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def fmt(secs: float) -> str:
    """Seconds as the shortest Prometheus duration ("2m", "1m30s", "1500ms")."""
    ms = round(secs * 1000)
    if ms <= 0:
        return "0s"
    out = ""
    for unit, size in (("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000), ("ms", 1)):
        n, ms = divmod(ms, size)
        if n:
            out += f"{n}{unit}"
    return out


# A condition written once, over series selectors wrapped in `w`: `held` writes it on the live series and
# again on their last known values.
W = Callable[[str], str]
Cond = Callable[[W], str]


@dataclass(frozen=True)
class Timing:
    """Every duration of the rules goes through here, so the lab can run them faster (`scale` < 1):
    `for`, `keep_firing_for` and the range windows alike."""

    scale: float = 1.0

    def __call__(self, duration: str) -> str:
        return duration if self.scale == 1 else fmt(seconds(duration) * self.scale)


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    severity: str  # critical (pages), warning (e-mail), info (no notification)
    object: str  # the rack object: link, switch, server, router, cluster, instance, ...
    summary: str
    description: str
    for_: str = "0s"  # already scaled
    keep_firing_for: str = ""  # already scaled; "" for none
    labels: dict[str, str] = field(default_factory=dict)
    comment: str = ""
    anchor: str = ""  # docs/alerts.md anchor; the alert's name in lower case by default


@dataclass(frozen=True)
class Record:
    record: str
    expr: str
    comment: str = ""


@dataclass(frozen=True)
class Group:
    name: str
    rules: list[Alert | Record]
    interval: str = ""


def held(cond: Cond, hold: str, on: str, fresh: str) -> str:
    """`cond` while its series can be read; its last known state, for up to `hold`, while they cannot.

    `cond(w)` writes the condition with every series selector `s` as `w(s)`. The held branch is the same
    condition on `last_over_time(s[hold])`, for the label sets (`on`) that `fresh` does not cover: while an
    exporter is down or a device unreachable, an alert keeps firing on what was last seen instead of
    sending a "resolved" nobody checked, and resolves as soon as fresh data says so.
    """
    return either(cond(lambda s: s), cond(lambda s: f"last_over_time({s}[{hold}])"), on, fresh)


def either(now: str, last: str, on: str, fresh: str) -> str:
    """`now`, or `last` for the label sets (`on`) that `fresh` does not cover: `held`'s layout, for a
    condition whose held branch differs in more than its selectors."""
    return f"(\n{indent(now)}\n)\nor\n(\n  (\n{indent(last, '    ')}\n  )\n  unless on ({on}) {fresh}\n)"


def indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line if line else line for line in text.splitlines())


# --- YAML --------------------------------------------------------------------------------------------


def q(s: str) -> str:
    """A double-quoted YAML scalar (JSON's escaping is valid YAML)."""
    return json.dumps(s, ensure_ascii=False)


def scalar(v: Any) -> str:
    """Plain where YAML reads it back as the same string, else single-quoted, else double-quoted."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_./-]*", v) and not re.fullmatch(
            r"[0-9._-]+|true|false|null|yes|no|on|off|y|n", v, re.IGNORECASE
        ):
            return v
        if "'" not in v and "\n" not in v and "\\" not in v:
            return f"'{v}'"
        return q(v)
    raise TypeError(f"no YAML scalar for {v!r}")


@dataclass(frozen=True)
class C:
    """A value with a comment written above it."""

    comment: str
    value: Any


def _comment(text: str, pad: str) -> list[str]:
    return [f"{pad}# {line}".rstrip() for line in text.splitlines()]


def to_yaml(value: Any, level: int = 0) -> list[str]:
    """Block-style YAML for dicts, lists and scalars; multi-line strings as `|` blocks; `C` comments."""
    pad = "  " * level
    out: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, C):
                out += _comment(v.comment, pad)
                v = v.value
            out += _entry(f"{pad}{scalar(k)}:", v, level)
    elif isinstance(value, list):
        for v in value:
            if isinstance(v, C):
                out += _comment(v.comment, pad)
                v = v.value
            if isinstance(v, dict) and v:
                first, *rest = to_yaml(v, level + 1)
                out.append(f"{pad}- {first.lstrip()}")
                out += rest
            else:
                out += _entry(f"{pad}-", v, level)
    else:
        out.append(pad + scalar(value))
    return out


def _entry(head: str, v: Any, level: int) -> list[str]:
    if isinstance(v, str) and "\n" in v:
        return [f"{head} |"] + [
            "  " * (level + 1) + line if line else "" for line in v.rstrip("\n").split("\n")
        ]
    if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
        flow = f"{head} [{', '.join(scalar(x) for x in v)}]"
        if len(flow) <= 110:
            return [flow]
    if isinstance(v, (dict, list)):
        if not v:
            return [f"{head} {'{}' if isinstance(v, dict) else '[]'}"]
        return [head] + to_yaml(v, level + 1)
    return [f"{head} {scalar(v)}"]


def rule_dict(r: Alert | Record, runbook: Callable[[Alert], str]) -> Any:
    if isinstance(r, Record):
        d: Any = {"record": r.record, "expr": r.expr}
    else:
        d = {"alert": r.name, "expr": r.expr}
        if r.for_ not in ("", "0s"):
            d["for"] = r.for_
        if r.keep_firing_for:
            d["keep_firing_for"] = r.keep_firing_for
        d["labels"] = {"severity": r.severity, "object": r.object, **r.labels}
        d["annotations"] = {"summary": r.summary, "description": r.description, "runbook_url": runbook(r)}
    return C(r.comment, d) if r.comment else d


def render(groups: Iterable[Group], header: str, runbook: Callable[[Alert], str]) -> str:
    gs = []
    for g in groups:
        gd: dict[str, Any] = {"name": g.name}
        if g.interval:
            gd["interval"] = g.interval
        gd["rules"] = [rule_dict(r, runbook) for r in g.rules]
        gs.append(gd)
    lines = _comment(header, "") + to_yaml({"groups": gs})
    return "\n".join(lines) + "\n"


def sel(metric: str, **matchers: str) -> str:
    """`metric{k="v",...}`; a value starting with `~` is a regex match (`=~`), with `!` a negative one."""
    parts = []
    for k, v in matchers.items():
        op = "="
        if v.startswith("~"):
            op, v = "=~", v[1:]
        elif v.startswith("!"):
            op, v = "!=", v[1:]
        parts.append(f"{k}{op}{json.dumps(v)}")
    return f"{metric}{{{','.join(parts)}}}" if parts else metric
