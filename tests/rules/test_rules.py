"""rules/links.yml: current with its source (mixin), valid, and its promtool unit tests pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.prometheus import promtool
from mixin import build

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def test_generated_files_are_current() -> None:
    assert build.main(["--check"]) == 0, "run `python -m mixin.build` and commit the result"


def test_rules_check() -> None:
    rc, out = promtool("check", "rules", str(ROOT / "rules" / "links.yml"))
    assert rc == 0, out


@pytest.mark.parametrize("name", ["links_test.yml", "wan_test.yml"])
def test_rules_unit_tests(name: str) -> None:
    rc, out = promtool("test", "rules", str(HERE / name))
    assert rc == 0 and "SUCCESS" in out, out
