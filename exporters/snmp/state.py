"""What a target's scrapes remember between them, and the gate that makes them one at a time.

Two Prometheus servers (an HA pair) scrape the same target at nearly the same moment. Without the gate two
walks ran at once and finished in either order; the older sysUpTime, landing last, read as an agent restart
(43 false restarts in 30 s). Under the gate the second scrape waits (bounded by its deadline) and reads the
agent after the first has updated this state, so updates land in the order the agent was read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from exporters.core import Exclusive

from .parse import Interface, System


@dataclass
class TargetState:
    """Last sysUpTime and 64-bit counters; restarts and discontinuities seen since the exporter started."""

    uptime_ticks: int | None = None
    counters: dict[tuple[int, str], int] | None = None
    restarts: int = 0
    discontinuities: int = 0
    gate: Exclusive = field(default_factory=Exclusive, repr=False, compare=False)

    def update(self, system: System, interfaces: Sequence[Interface]) -> tuple[bool, list[str]]:
        """Returns (agent restarted, names of 64-bit counters that went backwards without a restart).
        Call it holding `gate`."""
        up = system.uptime_ticks
        restarted = up is not None and self.uptime_ticks is not None and up < self.uptime_ticks
        now = {(i.index, c): v for i in interfaces if i.hc for c, v in i.counters}
        back = []
        if self.counters is not None and not restarted:
            back = [f"{c}[{idx}]" for (idx, c), v in now.items() if v < self.counters.get((idx, c), 0)]
        self.restarts += restarted
        self.discontinuities += len(back)
        self.uptime_ticks, self.counters = up, now
        return restarted, back
