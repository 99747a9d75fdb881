"""Check dashboard JSON against Grafana's own published types (@grafana/schema), compiled with tsc.

Each dashboard becomes one TypeScript module that assigns: the whole dashboard to `Dashboard`; each panel
to `Panel` (or `RowPanel`); each panel's `options` to its plugin's `Options` and its
`fieldConfig.defaults.custom` to its plugin's `FieldConfig`; each target to `PrometheusDataQuery`.
Object literals get TypeScript's excess-property checks, so an unknown key, a wrong type, a missing
required key or a value outside an enum is a compile error that names the line, hence the panel.

Top-level plugin options are `Partial<>` (Grafana fills its defaults for what a dashboard leaves out);
nested objects, once given, must be complete. Enums are accepted as their string values (`Json<T>`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "build" / "grafana-schema"
TSC = SCHEMA_DIR / "node_modules" / "typescript" / "bin" / "tsc"
RAW = "@grafana/schema/dist/esm/raw"
# panel type -> (module, has FieldConfig)
PLUGINS = {
    "timeseries": ("timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen", True),
    "stat": ("stat/panelcfg/x/StatPanelCfg_types.gen", False),
    "table": ("table/panelcfg/x/TablePanelCfg_types.gen", True),
    "bargauge": ("bargauge/panelcfg/x/BarGaugePanelCfg_types.gen", False),
    "state-timeline": ("statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen", True),
}

PRELUDE = f"""\
import type {{ Dashboard, Panel, RowPanel }} from "{RAW}/dashboard/x/dashboard_types.gen";
import type {{ PrometheusDataQuery }}
  from "{RAW}/composable/prometheus/dataquery/x/PrometheusDataQuery_types.gen";
{{imports}}
// Enums as their string values; everything else as declared.
type Json<T> = T extends string ? `${{T}}` : T extends number | boolean | null | undefined ? T
  : T extends Array<infer U> ? Array<Json<U>> : T extends object ? {{ [K in keyof T]: Json<T[K]> }} : T;
"""


def _alias(kind: str) -> str:
    return "p_" + kind.replace("-", "_")


def module(name: str, board: dict[str, Any]) -> str:
    """The TypeScript module that type-checks one dashboard."""
    kinds = sorted({p["type"] for p in _panels(board) if p["type"] != "row"})
    unknown = [k for k in kinds if k not in PLUGINS]
    if unknown:
        raise ValueError(f"{name}: no plugin types known for panel type(s) {unknown}")
    imports = "\n".join(
        f'import type * as {_alias(k)} from "{RAW}/composable/{PLUGINS[k][0]}";' for k in kinds
    )
    out = [
        PRELUDE.replace("{imports}", imports),
        f"export const dashboard: Json<Dashboard> = {json.dumps(board, indent=1)};\n",
    ]
    for p in _panels(board):
        pid = f"{p['type'].replace('-', '_')}_{p['id']}"
        out.append(f"// panel {p['id']}: {p.get('title', '')!r}")
        if p["type"] == "row":
            out.append(f"export const row_{p['id']}: Json<RowPanel> = {json.dumps(p)};")
            continue
        has_fc = PLUGINS[p["type"]][1]
        out.append(f"export const panel_{pid}: Json<Panel> = {json.dumps(p)};")
        out.append(
            f"export const options_{pid}: Json<Partial<{_alias(p['type'])}.Options>> = "
            f"{json.dumps(p.get('options', {}))};"
        )
        custom = p.get("fieldConfig", {}).get("defaults", {}).get("custom")
        if custom is not None:
            kind = f"Partial<{_alias(p['type'])}.FieldConfig>" if has_fc else "Record<string, never>"
            out.append(f"export const custom_{pid}: Json<{kind}> = {json.dumps(custom)};")
        for i, t in enumerate(p.get("targets", [])):
            out.append(f"export const target_{pid}_{i}: Json<PrometheusDataQuery> = {json.dumps(t)};")
    return "\n".join(out) + "\n"


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for p in board.get("panels", []):
        out.append(p)
        out.extend(p.get("panels", []))
    return out


def check(boards: dict[str, dict[str, Any]], workdir: Path) -> tuple[int, str]:
    """Write one module per dashboard under `workdir` and run tsc on them; (exit code, output)."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    files = []
    for name, board in boards.items():
        f = workdir / f"{name}.ts"
        f.write_text(module(name, board))
        files.append(f.name)
    (workdir / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "strict": True,
                    "noEmit": True,
                    "target": "es2020",
                    "module": "es2020",
                    "moduleResolution": "node",
                    "skipLibCheck": True,
                    "types": [],
                    "typeRoots": [],
                    "baseUrl": ".",
                    "paths": {"*": [str(SCHEMA_DIR / "node_modules" / "*")]},
                },
                "files": files,
            }
        )
    )
    r = subprocess.run(
        ["node", str(TSC), "-p", str(workdir / "tsconfig.json"), "--pretty", "false"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=workdir,
    )
    return r.returncode, (r.stdout + r.stderr).strip()
