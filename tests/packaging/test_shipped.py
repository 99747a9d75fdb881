"""What the packages are made of, checked without building them: units, extras, shipped configs, examples."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions, requires
from pathlib import Path

import pytest
import yaml

from exporters import launch
from exporters.core.config import load_config
from lab.proc import require
from lab.prometheus import promtool

from pkg_testlib import EXPORTERS, PORTS, ROOT

UNITS = ROOT / "examples" / "systemd"
SCORE = re.compile(r"Overall exposure level for \S+: (\d+\.\d+)")


def test_every_exporter_has_a_pinned_port() -> None:
    assert set(PORTS) == set(EXPORTERS), "PORTS in tests/packaging/pkg_testlib.py pins each exporter's port"


@pytest.mark.parametrize("x", EXPORTERS)
def test_unit_scores_at_most_3(x: str) -> None:
    exe = require("systemd-analyze", "systemd")
    r = subprocess.run(
        [exe, "security", "--offline=yes", str(UNITS / f"colo-{x}-exporter.service")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    m = SCORE.search(r.stdout)
    assert m and float(m[1]) <= 3.0, r.stdout + r.stderr


@pytest.mark.parametrize("x", EXPORTERS)
def test_unit_runs_the_package_command_as_its_user(x: str) -> None:
    name = f"colo-{x}-exporter"
    unit = (UNITS / f"{name}.service").read_text()
    assert f"\nUser={name}\n" in unit and f"\nGroup={name}\n" in unit
    assert f"\nEnvironmentFile=-/etc/default/{name}\n" in unit
    assert f"\nExecStart=/usr/bin/{name} $ARGS\n" in unit
    assert "SupplementaryGroups" not in unit, "group rights come from postinst, where the group exists"
    socket = (UNITS / f"{name}.socket").read_text()
    assert f"\nListenStream={PORTS[x]}\n" in socket
    spec = importlib.import_module(f"exporters.{x}.main").SPEC
    assert spec.default_port == PORTS[x] and spec.default_config_file == f"/etc/colo-exporters/{x}.yml"


def test_extras_split_the_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = re.compile(r"^[A-Za-z0-9_.-]+")

    def dists(reqs: list[str]) -> set[str]:
        return {names.match(r)[0].lower() for r in reqs}  # type: ignore[index]

    extras = project["optional-dependencies"]
    assert dists(project["dependencies"]) == {"prometheus-client", "pyyaml", "bcrypt"}
    assert dists(extras["frr"]) == {"orjson"}
    assert extras["lxd"] == []  # the core's HTTP session is all LXD needs
    assert dists(extras["snmp"]) == {"cryptography"}
    assert dists(extras["bmc"]) == {"python-ipmi", "cryptography"}
    assert extras["all"] == ["colo-exporters[frr,lxd,snmp,bmc]"]
    assert "colo-exporters[all]" in extras["test"] and {"pylxd", "pysnmp"} <= dists(extras["test"])
    scripts = project["scripts"]
    assert scripts == {f"colo-{x}-exporter": f"exporters.launch:{x}" for x in EXPORTERS}


def _imports(path: Path) -> set[str]:
    """The top-level modules a source file imports (relative imports are the package's own)."""
    tops = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            tops |= {a.name.partition(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops.add(node.module.partition(".")[0])
    return tops


def _dependencies() -> tuple[list[str], dict[str, set[str]]]:
    """What exporters/ imports beyond the standard library against what it may: (the undeclared imports
    as "path imports module (distributions)", extra -> its distributions nothing imports or needs).
    A module of exporters/<x>/ may import the core's dependencies and extra x's; the core and launch.py
    only the core's. The Debian package of x holds just those."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    norm = re.compile(r"[-_.]+")

    def dists(reqs: list[str]) -> set[str]:
        return {norm.sub("-", re.match(r"^[A-Za-z0-9_.-]+", r)[0]).lower() for r in reqs}  # type: ignore[index]

    extras = {x: dists(project["optional-dependencies"][x]) for x in EXPORTERS}
    core = dists(project["dependencies"])
    owners = {m: {norm.sub("-", d).lower() for d in ds} for m, ds in packages_distributions().items()}
    local = set(sys.stdlib_module_names) | {"exporters", "_typeshed"}  # _typeshed: for type checkers only
    undeclared, used = [], {x: set[str]() for x in EXPORTERS}
    for path in sorted((ROOT / "exporters").rglob("*.py")):
        part = path.relative_to(ROOT / "exporters").parts
        x = part[0] if part[0] in EXPORTERS else ""
        for top in sorted(_imports(path) - local):
            from_ = owners.get(top, set())
            if not from_ & (core | extras.get(x, set())):
                undeclared.append(f"{path.relative_to(ROOT)} imports {top} ({', '.join(from_) or '?'})")
            if x:
                used[x] |= from_ & extras[x]
    for x in EXPORTERS:  # a distribution may be declared for one it brings (python-ipmi[rmcpplus]'s)
        used[x] |= {d for dist in used[x] for d in dists(requires(dist) or [])}
    return undeclared, {x: extras[x] - used[x] for x in EXPORTERS}


def test_exporters_import_only_the_core_and_their_extra() -> None:
    """Nothing imported is missing from an exporter's package, nothing in its extra goes unused (LXD's and
    the Redfish client's HTTP is the core's, on http.client: no requests or urllib3 anywhere)."""
    undeclared, unused = _dependencies()
    assert [u for u in undeclared if not u.startswith("exporters/core/")] == []
    assert unused == {x: set() for x in EXPORTERS}


def test_core_imports_only_its_dependencies() -> None:
    undeclared, _ = _dependencies()
    assert [u for u in undeclared if u.startswith("exporters/core/")] == []


@pytest.mark.parametrize("x", [x for x in EXPORTERS if launch.EXTRA_MODULES[x]])
def test_console_script_without_its_extra_names_it(x: str) -> None:
    """The first module of the extra made unimportable: one line on stderr naming the extra, exit 1."""
    missing = launch.EXTRA_MODULES[x][0]
    code = f"import sys; sys.modules[{missing!r}] = None\nfrom exporters.launch import {x}\n{x}()"
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.splitlines() == [
        f"colo-{x}-exporter: Python package {missing!r} is missing: "
        f"install the {x} extra: pip install 'colo-exporters[{x}]'"
    ]


def test_console_script_runs_with_its_extra() -> None:
    r = subprocess.run(
        [sys.executable, "-c", "from exporters.launch import snmp; snmp()", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert r.returncode == 0 and "--config.file" in r.stdout, r.stderr


@pytest.mark.parametrize("x", EXPORTERS)
def test_shipped_config_is_valid_and_contacts_nothing(x: str) -> None:
    spec = importlib.import_module(f"exporters.{x}.main").SPEC
    path = ROOT / "packaging" / "etc" / f"{x}.yml"
    config = load_config(spec.config_type, path)
    if spec.multi_target:
        assert not config.targets, "a fresh install names no target"
    assert yaml.safe_load(path.read_text()) in ({}, {"auths": {}, "targets": {}})


@pytest.mark.parametrize("x", EXPORTERS)
def test_default_file_sets_only_args(x: str) -> None:
    text = (ROOT / "packaging" / "default" / f"colo-{x}-exporter").read_text()
    live = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert live == ['ARGS=""']


@pytest.mark.parametrize("script", ["postinst", "prerm", "postrm"])
def test_maintainer_scripts_parse(script: str) -> None:
    r = subprocess.run(
        ["sh", "-n", str(ROOT / "packaging" / "maint" / script)], capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stderr


def _probe_targets(job: str) -> set[str]:
    cfg = yaml.safe_load((ROOT / "examples" / "prometheus.yml").read_text())
    (scrape,) = [s for s in cfg["scrape_configs"] if s["job_name"] == job]
    return {t for sc in scrape["static_configs"] for t in sc["targets"]}


@pytest.mark.parametrize("x", ["snmp", "bmc"])
def test_example_prometheus_probes_only_configured_targets(x: str) -> None:
    defined = set(yaml.safe_load((ROOT / "examples" / f"{x}.yml").read_text())["targets"])
    probed = _probe_targets(f"colo-{x}")
    assert probed and probed <= defined, f"examples/prometheus.yml probes {probed - defined}, not in {x}.yml"


def test_example_prometheus_config_is_valid() -> None:
    rc, out = promtool("check", "config", "--syntax-only", str(ROOT / "examples" / "prometheus.yml"))
    assert rc == 0, out


def test_migration_guide_names_only_documented_metrics() -> None:
    """Every colo_* name docs/migration.md maps to is in that exporter's reference."""
    text = (ROOT / "docs" / "migration.md").read_text()
    names = set(re.findall(r"\bcolo_(?:lxd|snmp|bmc|frr)_[a-z0-9_]*[a-z0-9]", text))
    assert len(names) > 80
    missing = sorted(n for n in names if n not in (ROOT / "docs" / f"{n.split('_')[1]}.md").read_text())
    assert not missing, f"docs/migration.md names metrics the references do not: {missing}"
