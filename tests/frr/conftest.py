"""A real FRR rack (lab/frr.py) and an exporter watching it, shared by a test module; a socket directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.exporter import ExporterProc
from lab.frr import FrrRack
from lab.proc import Lab

from frr_testlib import exporter_config


@pytest.fixture(scope="module")
def rack(module_lab: Lab) -> FrrRack:
    return FrrRack(module_lab).start(timeout=90)


@pytest.fixture(scope="module")
def exporter(rack: FrrRack, module_lab: Lab) -> ExporterProc:
    return ExporterProc(module_lab, "frr", exporter_config(rack))


@pytest.fixture
def sock_dir(request: pytest.FixtureRequest) -> Iterator[str]:
    """A directory for the fake daemons' vty sockets: short (pytest's tmp_path can pass the 108 bytes of a
    unix socket path), unique, and holding nothing but files when the test is over."""
    d = Path("/tmp") / f"colo-{request.module.__name__.removeprefix('test_')}{os.getpid()}"
    d.mkdir(exist_ok=True)
    yield str(d)
    for p in d.iterdir():
        p.unlink()
    d.rmdir()
