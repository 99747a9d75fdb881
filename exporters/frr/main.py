"""colo-frr-exporter: BGP sessions, BFD peers, VRRP state and routes of one or more FRR instances.

Each scrape runs one job per (FRR instance, daemon); a job opens one connection to that daemon's vty
socket and sends all its commands on it. `colo_frr_up{frr_instance,daemon}` says whether the daemon
answered at all; `colo_frr_collector_success{frr_instance,daemon,collector}` whether each of its commands
did (see commands.py). What each daemon is asked, and how it becomes metrics, is in daemons.py.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import AbstractContextManager
from functools import partial

from prometheus_client.core import Metric

from exporters.core import Deadline, Exclusive, Families, Job, ScrapeError, get_logger
from exporters.core.app import ExporterSpec

from . import collector
from .commands import Context, DaemonState, Outcome, Query, parse_all, paused, run_queries
from .config import Config, Instance
from .daemons import DAEMONS, Daemon
from .vty import Vtysh, VtySocket, identity

log = get_logger(__name__)


class Runtime:
    def __init__(self, config: Config) -> None:
        self.config = config
        self._states: dict[tuple[str, str], tuple[DaemonState, Exclusive]] = {}
        self._lock = threading.Lock()

    def targets(self) -> list[str]:
        return list(self.config.instances)

    def jobs(self, target: str | None) -> list[Job]:
        return [
            Job({"frr_instance": name, "daemon": d}, partial(self.collect, name, d))
            for name, inst in self.config.instances.items()
            for d in inst.daemons
        ]

    def close(self) -> None:
        pass

    def state(self, name: str, daemon: str) -> tuple[DaemonState, Exclusive]:
        """What this daemon told us about itself, and the gate that keeps its scrapes one at a time."""
        with self._lock:
            return self._states.setdefault((name, daemon), (DaemonState(), Exclusive()))

    # one job ---------------------------------------------------------------------------------------
    def _session(
        self, name: str, daemon: str, deadline: Deadline
    ) -> AbstractContextManager[VtySocket | Vtysh]:
        c = self.config
        sock_dir = c.socket_dir(name)
        vtysh = partial(Vtysh, c.vtysh_path, sock_dir, daemon, deadline, c.max_reply_bytes)
        if c.transport == "vtysh":
            return vtysh()
        try:
            return VtySocket(os.path.join(sock_dir, f"{daemon}.vty"), deadline, c.max_reply_bytes)
        except ScrapeError as e:
            if not (c.vtysh_fallback and e.reason in ("connect", "permission")):
                raise
            log.debug("socket failed; trying vtysh", frr_instance=name, daemon=daemon, err=e.message)
        return vtysh()

    @staticmethod
    def _build(
        d: Daemon, queries: list[Query], outcomes: dict[str, Outcome], ctx: Context, inst: Instance
    ) -> Families:
        parse_all(queries, outcomes, ctx)
        return d.collect(ctx, {k: o.value for k, o in outcomes.items() if o.ok}, inst)

    def collect(self, name: str, daemon: str, deadline: Deadline) -> list[Metric]:
        c = self.config
        inst = c.instances[name]
        d = DAEMONS[daemon]
        state, gate = self.state(name, daemon)
        ctx = Context(
            ns=SPEC.namespace,
            instance=name,
            daemon=daemon,
            now=time.time(),
            description_label=c.description_label,
            count=deadline.skip,
            check=partial(deadline.timeout, doing="reading the replies"),
        )
        # A scrape still reading this daemon past its deadline makes the next one fail at once ("busy")
        # instead of stacking a second one on the same daemon.
        with gate.enter(deadline):
            if state.seen(identity(os.path.join(c.socket_dir(name), f"{daemon}.vty"))):
                log.info(
                    "the daemon restarted; asking it every command again", frr_instance=name, daemon=daemon
                )
            queries = d.queries(inst, c)
            try:
                with self._session(name, daemon, deadline) as session:
                    outcomes = run_queries(session, queries, state, ctx, c.pipeline)
            except ScrapeError as e:
                if e.reason in ("connect", "permission"):  # not reached at all: maybe not the same daemon
                    state.lost()
                raise
            # Parsed and turned into metrics in one pause of the cyclic GC (see `paused`).
            fams = paused(self._build, d, queries, outcomes, ctx, inst, owned=outcomes)
        success = collector.collector_success(ctx.ns, name, daemon, {k: o.ok for k, o in outcomes.items()})
        return [*fams, *success]


SPEC = ExporterSpec(
    name="frr",
    description="Prometheus exporter for FRR: BGP sessions, BFD peers, VRRP state and routes, "
    "read from the daemons' vty sockets.",
    default_port=9474,
    config_type=Config,
    build=Runtime,
    error_reasons=("connect", "permission", "protocol", "command", "vtysh"),
)
