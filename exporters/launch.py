"""The console scripts. Each exporter's dependencies come with its pip extra (`colo-exporters[snmp]`);
run without them, a script says in one line which extra to install and exits 1, instead of a traceback."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable

# The top-level modules each extra of pyproject.toml brings, and the core's own.
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "frr": (),
    "lxd": (),
    "snmp": ("cryptography",),
    "bmc": ("pyipmi", "cryptography"),
}
CORE_MODULES = ("prometheus_client", "yaml", "bcrypt")


def _present(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent that fails to import, or sys.modules[name] is None
        return False


def _missing(name: str, module: str) -> str:
    if module in CORE_MODULES:
        return f"colo-{name}-exporter: Python package {module!r} is missing: reinstall colo-exporters"
    return (
        f"colo-{name}-exporter: Python package {module!r} is missing: "
        f"install the {name} extra: pip install 'colo-exporters[{name}]'"
    )


def load(name: str) -> Callable[[], None]:
    """`SPEC.main` of exporters.<name>.main, or SystemExit(1) with one line naming the missing extra."""
    for module in CORE_MODULES + EXTRA_MODULES[name]:
        if not _present(module):
            print(_missing(name, module), file=sys.stderr)
            raise SystemExit(1)
    try:
        main: Callable[[], None] = importlib.import_module(f"exporters.{name}.main").SPEC.main
    except ModuleNotFoundError as e:  # a module of the extra imports one it does not declare
        top = (e.name or "").partition(".")[0]
        if not top or top.startswith("exporters"):
            raise
        print(_missing(name, top), file=sys.stderr)
        raise SystemExit(1) from None
    return main


def frr() -> None:
    load("frr")()


def lxd() -> None:
    load("lxd")()


def snmp() -> None:
    load("snmp")()


def bmc() -> None:
    load("bmc")()
