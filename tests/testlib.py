"""Helpers for every test area (each area's own are in tests/<area>/<area>_testlib.py).

Importable as `testlib`: pytest puts tests/ on sys.path for tests/conftest.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Every exporter, found from its package: tests that cover "each exporter" use this, never a list.
EXPORTERS = tuple(sorted(p.parent.name for p in (ROOT / "exporters").glob("*/main.py")))


def config_check(exporter: str, config: Path | str) -> subprocess.CompletedProcess[str]:
    """`python -m exporters <exporter> --config.file=<config> --config.check`, run to its exit."""
    return subprocess.run(
        [sys.executable, "-m", "exporters", exporter, f"--config.file={config}", "--config.check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
