"""The dashboards, generated into grafana/*.json: the rack overview and the four detail dashboards."""

from __future__ import annotations

from . import bmc, frr, lxd, rack, snmp
from .core import render

BOARDS = {"rack": rack.board, "lxd": lxd.board, "snmp": snmp.board, "bmc": bmc.board, "frr": frr.board}


def outputs() -> dict[str, str]:
    return {f"grafana/{name}.json": render(fn()) for name, fn in BOARDS.items()}
