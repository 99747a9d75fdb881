"""One demo rack for the dashboard query checks: every `lab/*.py` demo part (the exporters against their
real peers, the mesh with node_exporter) and one Prometheus with the shipped alert and recording rules.

The WAN billing group samples every 10 s here instead of 5 minutes (a shortened evaluation interval, as
the lab allows), so its panels have data within the test's time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import mixin
from lab.demo import parts
from lab.proc import Lab, require_root, wait_for
from lab.prometheus import Prometheus
from mixin import rules

ROOT = Path(__file__).resolve().parents[2]
WAN_SAMPLE_SECONDS = 10


_racks: list[Lab] = []


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """The rack goes with this folder's last test, not at the end of the session: its exporters hold the
    fixed ports the demo test (tests/test_demo.py) needs free."""
    if nextitem is None or Path(__file__).parent not in Path(nextitem.path).parents:
        while _racks:
            _racks.pop().close()


@pytest.fixture(scope="session")
def rack_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Prometheus:
    require_root()
    with Lab(tmp_path_factory.mktemp("rack")) as lab:
        _racks.append(lab)
        t0 = time.monotonic()
        scrape = []
        for _name, fn in parts():
            scrape += fn(lab)  # type: ignore[operator]
        links = lab.workdir / "links.yml"
        links.write_text(rules.render(wan_sample_seconds=WAN_SAMPLE_SECONDS))
        alert_files = [str(p) for p in mixin.alert_rule_files()]
        prom = Prometheus(lab, scrape, [*alert_files, str(links)], interval="2s")
        prom.wait_targets_up(timeout=120)
        # rates need two samples of the slowest job (15 s), the billing group two of its own
        wait_for(
            lambda: (
                prom.query("colo:wan_billable_bits:p95_30d")
                and prom.query('colo:link_receive_bits:rate5m{role="wan"} > 0')
            ),
            90,
            "the WAN recording rules to have data",
        )
        prom.started_in = time.monotonic() - t0  # type: ignore[attr-defined]
        yield prom
