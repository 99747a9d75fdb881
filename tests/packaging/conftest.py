"""Fixtures of tests/packaging: the packages built once per session, and a lab per module."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.proc import Lab, require

from pkg_testlib import EXPORTERS, ROOT, SCORES, TIMES, Timer


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMES:
        line = ", ".join(f"{k} {v:.0f}s" for k, v in TIMES.items())
        terminalreporter.write_line(f"packaging: {line}")
    if SCORES:
        line = ", ".join(f"{k} {v}" for k, v in SCORES.items())
        terminalreporter.write_line(f"packaging: systemd-analyze security: {line}")


@pytest.fixture(scope="session")
def debs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """packaging/build.sh run once: package name -> .deb."""
    require("dpkg-deb", "dpkg")
    out = tmp_path_factory.mktemp("debs")
    with Timer("build"):
        r = subprocess.run(
            ["bash", str(ROOT / "packaging" / "build.sh"), str(out)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert r.returncode == 0, f"packaging/build.sh failed:\n{r.stdout}\n{r.stderr[-3000:]}"
    found = {p.name.split("_")[0]: p for p in out.glob("*.deb")}
    assert sorted(found) == sorted([*(f"colo-{x}-exporter" for x in EXPORTERS), "colo-exporters-bundle"])
    return found


@pytest.fixture(scope="module")
def packaging_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with Lab(tmp_path_factory.mktemp("pkg-lab")) as lab:
        yield lab
