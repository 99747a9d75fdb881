# fmt: off
"""Write every generated dashboard and rule file, or check that the committed ones are current.

    python -m mixin.build           # write
    python -m mixin.build --check   # exit 1 and name the stale files
"""
# fmt: on

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Each part is a module with `outputs() -> dict[str, str]`; parts that do not exist yet are skipped.
PARTS = ("mixin.rules", "mixin.dashboards", "mixin.alerts")


def outputs() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in PARTS:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        for path, text in mod.outputs().items():
            if path in out:
                raise SystemExit(f"{name} writes {path}, which another part writes too")
            out[path] = text
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="fail if a committed file differs from its source")
    args = ap.parse_args(argv)
    stale = []
    for rel, text in sorted(outputs().items()):
        path = ROOT / rel
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(rel)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print("stale generated files (run `python -m mixin.build`): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
