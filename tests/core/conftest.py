"""Fixtures for the core tests."""

from __future__ import annotations

import pytest

from core_testlib import Peer


@pytest.fixture
def peer() -> Peer:
    p = Peer()
    yield p
    p.close()
