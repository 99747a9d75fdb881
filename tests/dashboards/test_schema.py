"""Every generated dashboard against Grafana's own published types (@grafana/schema, pinned in
tests/dashboards/schema/package-lock.json), compiled with tsc: dashboard, panels, each panel plugin's
options and field config, and each Prometheus query. Spoiled copies of the rack dashboard, compiled in
the same run, show that the check catches each kind of mistake."""

from __future__ import annotations

import copy
import shutil

import grafana_types
import pytest

from lab.proc import PeerMissing
from mixin import dashboards

BOARDS = {name: fn() for name, fn in dashboards.BOARDS.items()}
SPOILS = {
    "enum": lambda d: d["panels"][3]["options"]["legend"].update(displayMode="tabel"),
    "unknown_key": lambda d: d["panels"][3]["options"].update(legnd={}),
    "type": lambda d: d["panels"][3]["fieldConfig"]["defaults"]["custom"].update(lineWidth="1"),
    "query": lambda d: d["panels"][3]["targets"][0].pop("expr"),
    "required": lambda d: d.pop("schemaVersion"),
}


@pytest.fixture(scope="module")
def tsc_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    if not shutil.which("node"):
        raise PeerMissing("node not found (Debian package nodejs; `make test` installs it)")
    if not grafana_types.TSC.exists():
        raise PeerMissing(
            f"{grafana_types.TSC} missing (scripts/install-rack.sh installs it; `make test` runs it)"
        )
    boards = dict(BOARDS)
    for name, spoil in SPOILS.items():
        board = copy.deepcopy(BOARDS["rack"])
        assert board["panels"][3]["type"] == "timeseries"
        spoil(board)
        boards[f"spoiled_{name}"] = board
    _rc, out = grafana_types.check(boards, tmp_path_factory.mktemp("tsc"))
    return out


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_dashboard_matches_grafana_types(tsc_output: str, name: str) -> None:
    errors = [line for line in tsc_output.splitlines() if line.startswith(f"{name}.ts(")]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("name", sorted(SPOILS))
def test_the_check_catches_a_spoiled_dashboard(tsc_output: str, name: str) -> None:
    assert f"spoiled_{name}.ts(" in tsc_output, tsc_output[-2000:]


def test_no_other_output(tsc_output: str) -> None:
    stray = [line for line in tsc_output.splitlines() if line and not line.startswith(("spoiled_", " "))]
    assert not stray, "\n".join(stray)
