"""A real FRR rack (lab/frr.py) and an exporter watching it, shared by a test module; a socket directory."""

from __future__ import annotations

import os
import shutil
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
    """A directory for the fake daemons' vty sockets: short (a unix socket path has ~100 bytes), unique."""
    d = Path("/tmp") / f"colo-{request.module.__name__.removeprefix('test_')}{os.getpid()}"
    d.mkdir(exist_ok=True)
    yield str(d)
    shutil.rmtree(d, True)
