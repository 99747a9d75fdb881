"""A real FRR rack (lab/frr.py) and an exporter watching it, shared by a test module."""

from __future__ import annotations

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
