"""LXD test fixtures: one real daemon per module (starting LXD takes seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lab.lxd import LXDLab
from lab.proc import Lab


@pytest.fixture(scope="module")
def lxd(module_lab: Lab) -> Iterator[LXDLab]:
    """A real LXD with the standard containers (c1 busy, c2 limited, c4 stopped, proj2/c3)."""
    d = LXDLab(module_lab).start()
    d.populate()
    yield d
