"""Every exporter has everything an exporter must ship (the checklist in exporters/core/README.md).

The exporters are found, not named: a package `exporters/<name>/` with a `main.py` that defines `SPEC`.
A new exporter that forgets its console script, docs, example config, units, alerts, dashboard, demo part,
Debian package files, live tests, fixtures README or benchmark fails here by name.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from exporters.core.app import ExporterSpec
from lab.configs import example_with_files
from mixin import config

from testlib import EXPORTERS, config_check

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def spec(name: str) -> ExporterSpec:
    s = importlib.import_module(f"exporters.{name}.main").SPEC
    assert isinstance(s, ExporterSpec)
    return s


def test_the_four_are_found() -> None:
    assert {"lxd", "snmp", "bmc", "frr"} <= set(EXPORTERS)


@pytest.mark.parametrize("name", EXPORTERS)
def test_spec_names_and_port(name: str) -> None:
    s = spec(name)
    assert s.name == name and s.namespace == f"colo_{name}"
    ports = {n: spec(n).default_port for n in EXPORTERS}
    assert list(ports.values()).count(s.default_port) == 1, (
        f"default port {s.default_port} is shared: {ports}"
    )
    readme = (ROOT / "README.md").read_text()
    assert re.search(rf"`colo-{name}-exporter`.*\b{s.default_port}\b", readme), "README's exporter table"


@pytest.mark.parametrize("name", EXPORTERS)
def test_console_script_and_extra(name: str) -> None:
    script = f"colo-{name}-exporter"
    assert script in PYPROJECT["project"]["scripts"], f"[project.scripts] has no {script}"
    assert name in PYPROJECT["project"]["optional-dependencies"], f"no pip extra [{name}]"
    installed = Path(sys.executable).parent / script
    assert installed.exists(), f"{installed} is not installed (pip install -e .)"
    r = subprocess.run([str(installed), "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0 and script in r.stdout + r.stderr, r.stdout + r.stderr


@pytest.mark.parametrize("name", EXPORTERS)
def test_docs_with_a_metrics_reference(name: str) -> None:
    doc = ROOT / "docs" / f"{name}.md"
    assert doc.exists(), f"{doc} is missing"
    text = doc.read_text()
    for core in ("up", "scrape_duration_seconds", "scrape_errors_total"):
        assert f"colo_{name}_{core}" in text, f"{doc.name} does not describe colo_{name}_{core}"
    assert f"](docs/{name}.md)" in (ROOT / "README.md").read_text(), "README does not link the docs"


@pytest.mark.parametrize("name", EXPORTERS)
def test_example_config_passes_config_check(name: str, tmp_path: Path) -> None:
    example = ROOT / "examples" / f"{name}.yml"
    assert example.exists(), f"{example} is missing"
    config = example_with_files(example, tmp_path)
    r = config_check(name, config)
    assert r.returncode == 0 and "config OK" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("name", EXPORTERS)
def test_units_and_package(name: str) -> None:
    units = ROOT / "examples" / "systemd"
    for suffix in ("service", "socket"):
        assert (units / f"colo-{name}-exporter.{suffix}").exists(), f"no colo-{name}-exporter.{suffix}"
    # packaging/etc and packaging/default: tests/packaging/test_shipped.py, for each of testlib.EXPORTERS.
    assert re.search(rf"^exporter {name} ", (ROOT / "packaging" / "build.sh").read_text(), re.M), (
        "packaging/build.sh builds no package for it"
    )
    launch = importlib.import_module("exporters.launch")
    assert name in launch.EXTRA_MODULES, "exporters/launch.py does not know its extra's modules"


@pytest.mark.parametrize("name", EXPORTERS)
def test_alerts_dashboard_and_demo_part(name: str) -> None:
    assert (ROOT / "alerts" / f"{name}.yml").exists(), "no alert rules (mixin/alerts/)"
    assert (ROOT / "grafana" / f"{name}.json").exists(), "no dashboard (mixin/dashboards/)"
    part = importlib.import_module(f"lab.{name}")
    assert callable(getattr(part, "demo", None)), f"lab/{name}.py has no demo(lab) part for `make demo`"
    assert name in config.SELECTORS, f'mixin/config.py: no SELECTORS["{name}"] (its job selector)'
    assert name in config.ALERTS["exporters"], f'mixin/config.py: no ALERTS["exporters"]["{name}"]'
    assert (ROOT / "tests" / "alerts" / f"test_alerts_{name}.py").exists(), "no promtool tests of its alerts"


@pytest.mark.parametrize("name", EXPORTERS)
def test_live_tests_fixtures_and_bench(name: str) -> None:
    here = ROOT / "tests" / name
    tests = sorted(here.glob("test_*.py"))
    assert tests, f"no tests/{name}/test_*.py"
    # lab/<name>.py starts the real peers (its demo part, item 6); a fake lives in another module.
    peers = re.compile(
        rf"^(?:from lab import (?:.*\W)?{name}\b|from lab\.{name} import|import lab\.{name}\b)", re.M
    )
    live = [t.name for t in [*tests, here / "conftest.py"] if t.exists() and peers.search(t.read_text())]
    assert live, f"nothing in tests/{name}/ uses the real peers of lab/{name}.py"
    fixtures = ROOT / "tests" / "fixtures" / name
    readme = fixtures / "README.md"
    assert readme.exists(), f"no {readme.relative_to(ROOT)} saying where each fixture comes from"
    # Named in backticks, whole or as a pattern (`cluster_members_*`, `captured/<router>/`).
    named = [n.split("/")[0] for n in re.findall(r"`([^`\s]+)`", readme.read_text())]
    unnamed = [
        f.name
        for f in sorted(fixtures.iterdir())
        if f.name != "README.md" and not any(fnmatch(f.name, n) for n in named)
    ]
    assert not unnamed, f"{readme.relative_to(ROOT)} does not say where these come from: {unnamed}"
    bench = ROOT / "bench" / f"{name}.py"
    assert bench.exists(), f"no bench/{name}.py (against the field's anchor, outside the test suite)"
    assert "json.dumps" in bench.read_text(), f"bench/{name}.py prints no JSON last line"
