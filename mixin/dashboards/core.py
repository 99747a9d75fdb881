"""Grafana dashboard JSON as plain Python data: a few builders and layout helpers.

Plain data rather than grafana-foundation-sdk: the dashboards use six panel types and a handful of
options, the SDK would add a dependency pinned to one Grafana release for what is a dict, and the JSON
is checked against Grafana's own published types anyway (tests/dashboards, `@grafana/schema` with tsc).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

from .. import config

DS = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39  # Grafana 10.3-11.0; checked against @grafana/schema 10.4
Json = dict[str, Any]

UP_DOWN = [
    {
        "type": "value",
        "options": {
            "0": {"text": "down", "color": "red", "index": 0},
            "1": {"text": "up", "color": "green", "index": 1},
        },
    }
]
OK_WARN_CRIT = [
    {
        "type": "value",
        "options": {
            "0": {"text": "ok", "color": "green", "index": 0},
            "1": {"text": "warning", "color": "orange", "index": 1},
            "2": {"text": "critical", "color": "red", "index": 2},
        },
    }
]


def steps(*pairs: tuple[float | None, str]) -> Json:
    """Absolute thresholds: steps((None, "green"), (0.7, "orange"), (0.85, "red"))."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in pairs]}


GREEN_AT_1 = steps((None, "red"), (1, "green"))  # up, on, online
RED_AT_1 = steps((None, "green"), (1, "red"))  # a count of things wrong
EXACTLY_1 = steps((None, "red"), (1, "green"), (2, "red"))
FULLNESS = steps((None, "green"), (0.85, "orange"), (0.95, "red"))  # space used over size
OK_WARN_CRIT_STEPS = steps((None, "green"), (1, "orange"), (2, "red"))
TEMPERATURE = steps(
    (None, "green"),
    (config.TEMPERATURE_WARN_CELSIUS, "orange"),
    (config.TEMPERATURE_CRIT_CELSIUS, "red"),
)


def target(expr: str, legend: str = "", ref: str = "A", instant: bool = False, table: bool = False) -> Json:
    t: Json = {
        "datasource": DS,
        "refId": ref,
        "expr": expr,
        "editorMode": "code",
        "range": not instant,
        "instant": instant,
    }
    if legend:
        t["legendFormat"] = legend
    if table:
        t["format"] = "table"
    return t


def targets(*items: str | tuple[str, str] | Json) -> list[Json]:
    """Targets from exprs, (expr, legend) pairs or ready dicts, with refIds A, B, ..."""
    out = []
    for i, it in enumerate(items):
        ref = chr(ord("A") + i)
        if isinstance(it, dict):
            out.append({**it, "refId": ref})
        elif isinstance(it, tuple):
            out.append(target(it[0], it[1], ref))
        else:
            out.append(target(it, "", ref))
    return out


class Size(TypedDict, total=False):
    """A panel's width and height where they are not its type's (SIZE)."""

    w: int
    h: int


class Fields(Size, total=False):
    """Size, field-config defaults and links, the same for every panel type."""

    decimals: int | None
    min_: float | None
    max_: float | None
    mappings: list[Json] | None
    thresholds: Json | None
    links: list[Json] | None


SIZE = {
    "timeseries": (12, 8),
    "stat": (4, 4),
    "bargauge": (8, 6),
    "table": (12, 8),
    "state-timeline": (12, 8),
}


def _panel(
    kind: str,
    title: str,
    description: str,
    tgts: list[Json],
    options: Json,
    *,
    unit: str | None = None,
    custom: Json | None = None,
    overrides: list[Json] | None = None,
    **fields: Unpack[Fields],
) -> Json:
    """A panel of type `kind`, SIZE[kind] unless `fields` gives w or h."""
    w, h = SIZE[kind]
    defaults: Json = {}
    if unit:
        defaults["unit"] = unit
    for key in ("decimals", "min_", "max_"):
        if fields.get(key) is not None:
            defaults[key.rstrip("_")] = fields.get(key)
    if mappings := fields.get("mappings"):
        defaults["mappings"] = mappings
    if thresholds := fields.get("thresholds"):
        defaults["thresholds"] = thresholds
        defaults["color"] = {"mode": "thresholds"}
    if custom:
        defaults["custom"] = custom
    p: Json = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "gridPos": {"w": fields.get("w", w), "h": fields.get("h", h)},
        "targets": tgts,
        "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
        "options": options,
    }
    if links := fields.get("links"):
        p["links"] = links
    return p


def _default(fields: Fields, thresholds: Json) -> Fields:
    """`fields` with `thresholds` where it has none."""
    return {**fields, "thresholds": fields.get("thresholds") or thresholds}


def _overrides(matcher: str, properties: dict[str, Json]) -> list[Json]:
    """Field overrides: the fields `matcher` matches with each option get its {property: value}."""
    return [
        {
            "matcher": {"id": matcher, "options": option},
            "properties": [{"id": k, "value": v} for k, v in props.items()],
        }
        for option, props in properties.items()
    ]


LEGEND_TABLE = {
    "showLegend": True,
    "displayMode": "table",
    "placement": "right",
    "calcs": ["lastNotNull", "max"],
}
LEGEND_LIST = {"showLegend": True, "displayMode": "list", "placement": "bottom", "calcs": []}
TOOLTIP = {"mode": "multi", "sort": "desc"}
NEGATIVE_Y = {"custom.transform": "negative-Y"}


def timeseries(
    title: str,
    description: str,
    tgts: list[Json],
    unit: str = "short",
    *,
    legend: Json | None = None,
    negative: tuple[str, ...] = (),
    stack: bool = False,
    draw: str = "line",
    **fields: Unpack[Fields],
) -> Json:
    """A time series panel; `negative` names the refIds drawn below the axis (a negative-Y transform, so
    the legend and tooltips keep the true, positive values)."""
    custom: Json = {
        "drawStyle": draw,
        "lineWidth": 1,
        "fillOpacity": 10 if not stack else 40,
        "showPoints": "never",
        "spanNulls": False,
    }
    if stack:
        custom["stacking"] = {"mode": "normal", "group": "A"}
    if fields.get("thresholds"):
        custom["thresholdsStyle"] = {"mode": "dashed"}
    overrides = _overrides("byFrameRefID", dict.fromkeys(negative, NEGATIVE_Y))
    options = {"legend": legend or LEGEND_TABLE, "tooltip": TOOLTIP}
    return _panel(
        "timeseries",
        title,
        description,
        tgts,
        options,
        unit=unit,
        custom=custom,
        overrides=overrides,
        **fields,
    )


def stat(
    title: str,
    description: str,
    tgts: list[Json],
    unit: str | None = None,
    *,
    color_mode: str = "background",
    graph: bool = False,
    text_mode: str = "auto",
    calc: str = "lastNotNull",
    **fields: Unpack[Fields],
) -> Json:
    options = {
        "reduceOptions": {"calcs": [calc], "fields": "", "values": False},
        "orientation": "auto",
        "colorMode": color_mode,
        "graphMode": "area" if graph else "none",
        "justifyMode": "auto",
        "textMode": text_mode,
        "wideLayout": True,
        "showPercentChange": False,
    }
    fields = _default(fields, steps((None, "blue")))
    return _panel("stat", title, description, tgts, options, unit=unit, **fields)


def bargauge(
    title: str, description: str, tgts: list[Json], unit: str = "short", **fields: Unpack[Fields]
) -> Json:
    options = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "orientation": "horizontal",
        "displayMode": "gradient",
        "valueMode": "color",
        "showUnfilled": True,
        "namePlacement": "auto",
        "sizing": "auto",
        "minVizHeight": 10,
        "minVizWidth": 0,
        "maxVizHeight": 300,
    }
    fields = _default(fields, steps((None, "green")))
    return _panel("bargauge", title, description, tgts, options, unit=unit, **fields)


HIDDEN = ("Time", "__name__", "job")  # the columns a table hides by default


def table(
    title: str,
    description: str,
    tgts: list[Json],
    *,
    hide: tuple[str, ...] = HIDDEN,
    rename: dict[str, str] | None = None,
    columns: dict[str, Json] | None = None,
    merge: bool = False,
    unit: str | None = None,
    **fields: Unpack[Fields],
) -> Json:
    """A table of instant queries; `columns` maps a (renamed) column to field-config properties."""
    tgts = [{**t, "instant": True, "range": False, "format": "table"} for t in tgts]
    transformations: list[Json] = []
    if merge:
        transformations.append({"id": "merge", "options": {}})
    transformations.append(
        {
            "id": "organize",
            "options": {
                "excludeByName": dict.fromkeys(hide, True),
                "renameByName": rename or {},
                "indexByName": {},
            },
        }
    )
    options = {
        "showHeader": True,
        "cellHeight": "sm",
        "footer": {"show": False, "reducer": ["sum"], "countRows": False, "fields": []},
    }
    custom = {"align": "auto", "cellOptions": {"type": "auto"}, "inspect": False}
    overrides = _overrides("byName", columns or {})
    p = _panel(
        "table", title, description, tgts, options, unit=unit, custom=custom, overrides=overrides, **fields
    )
    return {**p, "transformations": transformations}


def state_timeline(title: str, description: str, tgts: list[Json], **fields: Unpack[Fields]) -> Json:
    options = {
        "mergeValues": True,
        "showValue": "auto",
        "alignValue": "left",
        "rowHeight": 0.9,
        "legend": LEGEND_LIST,
        "tooltip": {"mode": "single", "sort": "none"},
    }
    fields = _default(fields, steps((None, "blue")))
    custom = {"lineWidth": 0, "fillOpacity": 80}
    return _panel("state-timeline", title, description, tgts, options, custom=custom, **fields)


class States(TypedDict):
    """Value mappings of a state with the colour steps that go with them, as a panel's fields."""

    mappings: list[Json]
    thresholds: Json


def up_down(down: str = "down", up: str = "up") -> States:
    """Fields of a panel whose value is 0 (`down`, red) or 1 (`up`, green)."""
    return {"mappings": values(**{"0": (down, "red"), "1": (up, "green")}), "thresholds": GREEN_AT_1}


HEALTH: States = {"mappings": OK_WARN_CRIT, "thresholds": OK_WARN_CRIT_STEPS}  # 0 ok, 1 warning, 2 critical


def graph(
    title: str, description: str, expr: str, legend: str, unit: str = "short", **fields: Unpack[Fields]
) -> Json:
    """A time series of one query."""
    return timeseries(title, description, targets((expr, legend)), unit, **fields)


def mirrored(
    title: str,
    description: str,
    above: tuple[str, str],
    below: tuple[str, str],
    unit: str,
    **fields: Unpack[Fields],
) -> Json:
    """A time series of two (expr, legend) queries, the second drawn below the axis (in/out, read/write)."""
    return timeseries(title, description, targets(above, below), unit, negative=("B",), **fields)


def sized(panels: list[Json], w: int, h: int | None = None) -> list[Json]:
    """`panels` all `w` columns wide (and `h` high): a line, or a grid, of equal panels."""
    return [{**p, "gridPos": {"w": w, "h": h or p["gridPos"]["h"]}} for p in panels]


def coloured(mappings: list[Json], style: str = "background") -> Json:
    """Table column properties: values mapped and coloured (style "background" or "text")."""
    return {"mappings": mappings, "custom.cellOptions": {"type": f"color-{style}"}}


def status_table(
    title: str,
    description: str,
    expr: str,
    column: str,
    mappings: list[Json],
    *,
    hide: tuple[str, ...] = HIDDEN,
    **size: Unpack[Size],
) -> Json:
    """A table of one query whose value is a status: shown as column `column`, mapped and coloured."""
    columns = {column: coloured(mappings)}
    return table(
        title, description, targets(expr), hide=hide, rename={"Value": column}, columns=columns, **size
    )


def count_or_zero(expr: str) -> str:
    """How many series `expr` has, 0 rather than no data when it has none."""
    return f"count({expr}) or vector(0)"


def count_stat(title: str, description: str, expr: str, **fields: Unpack[Fields]) -> Json:
    """A stat of how many series `expr` has (0 when none), red from 1 unless `thresholds` says otherwise."""
    return stat(title, description, targets(count_or_zero(expr)), **_default(fields, RED_AT_1))


def query_var(name: str, label: str, query: str, *, multi: bool = True, include_all: bool = True) -> Json:
    v: Json = {
        "name": name,
        "type": "query",
        "label": label,
        "datasource": DS,
        "query": {"query": query, "refId": name},
        "refresh": 2,
        "includeAll": include_all,
        "multi": multi,
        "sort": 1,
        "hide": 0,
        "current": {"selected": False, "text": "All", "value": "$__all"}
        if include_all
        else {"text": "", "value": ""},
        "options": [],
        "skipUrlSync": False,
    }
    if include_all:
        v["allValue"] = ".*"
    return v


def label_var(name: str, label: str, series: str) -> Json:
    """A variable of the values of label `name` on `series`."""
    return query_var(name, label, f"label_values({series}, {name})")


DATASOURCE_VAR: Json = {
    "name": "datasource",
    "type": "datasource",
    "query": "prometheus",
    "label": "Data source",
    "hide": 0,
    "options": [],
    "refresh": 1,
    "regex": "",
    "skipUrlSync": False,
}


def dash_link(uid: str, title: str) -> Json:
    """A panel link to another dashboard that keeps the time range and the data source."""
    return {
        "title": title,
        "type": "link",
        "url": f"/d/{uid}?${{__url_time_range}}&${{datasource:queryparam}}",
        "asDropdown": False,
        "icon": "dashboard",
        "includeVars": False,
        "keepTime": True,
        "tags": [],
        "targetBlank": False,
        "tooltip": "",
    }


BACK_TO_RACK = [dash_link("colo-rack", "Colo / Rack overview")]  # on each detail board's first panel


def exporter_up(title: str, description: str, tgts: list[Json], *, w: int = 8, h: int = 4) -> Json:
    """A detail board's first panel: its exporter's up series, with the link back to the rack view."""
    return stat(title, description, tgts, w=w, h=h, links=BACK_TO_RACK, **up_down())


@dataclass
class Row:
    title: str
    panels: list[Json]
    collapsed: bool = False


@dataclass
class Board:
    uid: str
    title: str
    description: str
    rows: list[Row] = field(default_factory=list)
    variables: list[Json] = field(default_factory=list)
    time_from: str = "now-6h"

    def build(self) -> Json:
        panels: list[Json] = []
        ids = iter(range(1, 10_000))
        y = 0
        for row in self.rows:
            rid = next(ids)
            children = _layout(row.panels, y + 1, ids)
            rp: Json = {
                "type": "row",
                "title": row.title,
                "id": rid,
                "collapsed": row.collapsed,
                "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
                "panels": [],
            }
            height = max((p["gridPos"]["y"] + p["gridPos"]["h"] for p in children), default=y + 1) - y - 1
            if row.collapsed:
                rp["panels"] = children
                panels.append(rp)
                y += 1
            else:
                panels.append(rp)
                panels.extend(children)
                y += 1 + height
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["colo"],
            "editable": True,
            "graphTooltip": 1,
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "time": {"from": self.time_from, "to": "now"},
            "timezone": "",
            "refresh": "1m",
            "fiscalYearStartMonth": 0,
            "liveNow": False,
            "weekStart": "",
            "annotations": {"list": []},
            "links": [
                {
                    "title": "Colo dashboards",
                    "type": "dashboards",
                    "tags": ["colo"],
                    "asDropdown": True,
                    "includeVars": True,
                    "keepTime": True,
                    "icon": "external link",
                    "targetBlank": False,
                    "tooltip": "",
                    "url": "",
                }
            ],
            "templating": {"list": [DATASOURCE_VAR, *self.variables]},
            "panels": panels,
        }


def _layout(panels: list[Json], y0: int, ids: Any) -> list[Json]:
    """Left to right, wrapping at 24 columns; each panel gets the next id and its x/y."""
    out = []
    x, y, line_h = 0, y0, 0
    for p in panels:
        w, h = p["gridPos"]["w"], p["gridPos"]["h"]
        if x + w > 24:
            x, y, line_h = 0, y + line_h, 0
        q = {**p, "id": next(ids), "gridPos": {"x": x, "y": y, "w": w, "h": h}}
        out.append(q)
        x += w
        line_h = max(line_h, h)
    return out


def render(board: Json) -> str:
    return json.dumps(board, indent=2, ensure_ascii=False) + "\n"


def panels_of(board: Json) -> list[Json]:
    """Every panel, rows' children included."""
    out = []
    for p in board["panels"]:
        out.append(p)
        out.extend(p.get("panels", []))
    return out


def values(**texts: tuple[str, str]) -> list[Json]:
    """Value mappings from code -> (text, colour): values(**{"1": ("up", "green")})."""
    return [
        {
            "type": "value",
            "options": {
                k: {"text": t, "color": c, "index": i} for i, (k, (t, c)) in enumerate(texts.items())
            },
        }
    ]


IF_OPER = values(
    **{
        "1": ("up", "green"),
        "2": ("down", "red"),
        "3": ("testing", "yellow"),
        "4": ("unknown", "orange"),
        "5": ("dormant", "orange"),
        "6": ("notPresent", "red"),
        "7": ("lowerLayerDown", "red"),
    }
)
BGP_STATE = values(
    **{
        "0": ("Other", "red"),
        "1": ("Idle", "red"),
        "2": ("Connect", "orange"),
        "3": ("Active", "orange"),
        "4": ("OpenSent", "yellow"),
        "5": ("OpenConfirm", "yellow"),
        "6": ("Established", "green"),
    }
)
VRRP_STATE = values(**{"0": ("Initialize", "red"), "1": ("Backup", "blue"), "2": ("Master", "green")})
YES_NO = values(**{"0": ("no", "text"), "1": ("yes", "green")})
