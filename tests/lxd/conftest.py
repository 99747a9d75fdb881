"""LXD test fixtures: one real daemon per module and flavour (starting one takes seconds).

`lxd` is parametrized: every test that uses it runs against LXD 5.0 and against Incus 6.0 (the same
exporter, the same expectations; where the two differ, the test says so)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lab.lxd import FLAVOURS, LXDLab
from lab.proc import Lab


@pytest.fixture(scope="module", params=sorted(FLAVOURS), ids=sorted(FLAVOURS))
def lxd(module_lab: Lab, request: pytest.FixtureRequest) -> Iterator[LXDLab]:
    """A real daemon with the standard containers (c1 busy, c2 limited, c4 stopped, proj2/c3)."""
    d = LXDLab(module_lab, flavour=FLAVOURS[request.param]).start()
    d.populate()
    yield d
    d.shutdown()  # before the other flavour's daemon starts: two at once compete for the 2 cores
