"""Shared fixtures: a `Lab` that always cleans up, and skip-or-fail for peers that are not installed.

A test (or fixture) that raises `lab.proc.PeerMissing` is skipped with the reason, except under
`COLO_LAB_STRICT=1` (set by `make test`, so CI never silently skips a peer), where it fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lab.proc import Lab, PeerMissing

STRICT = os.environ.get("COLO_LAB_STRICT") == "1"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if call.excinfo is not None and call.excinfo.errisinstance(PeerMissing) and not STRICT:
        rep.outcome = "skipped"
        rep.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {call.excinfo.value}")


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    with Lab(tmp_path / "lab") as lab:
        yield lab


@pytest.fixture(scope="module")
def module_lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    with Lab(tmp_path_factory.mktemp("lab")) as lab:
        yield lab


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared` beside the project; tests about its data skip cleanly when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (only CI and developer machines have it)")
    return SHARED
