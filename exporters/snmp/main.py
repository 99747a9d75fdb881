"""colo-snmp-exporter: switch port counters with link roles, per configured target (`/probe?target=`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import Metric

from exporters.core import Deadline, Job, Malformed, get_logger
from exporters.core.app import ExporterSpec

from . import lldp, parse
from .collector import families
from .config import Config
from .session import Session, Stats
from .state import TargetState

log = get_logger("exporters.snmp")
# More interfaces than this without 64-bit counters: walk the 32-bit columns instead of GETs per port.
FALLBACK_WALK_AT = 8


@dataclass
class Walked:
    system: parse.System
    tables: dict[str, dict[int, Any]]
    fallback: dict[tuple[str, int], Any]
    lag: tuple[list, list] | None
    lldp: dict[str, list] | None  # lldp.COLUMNS name -> walked column
    phys: dict[int, Any] | None  # ifPhysAddress, when LLDP names ports by MAC
    stats: Stats


def fetch(session: Session, deadline: Deadline) -> Walked:
    """Everything one scrape reads from one agent."""
    stats = Stats()
    t = session.target
    got = session.get(
        [parse.SYS_DESCR, parse.SYS_OBJECT_ID, parse.SYS_UPTIME, parse.SYS_NAME], deadline, stats
    )
    names = list(parse.COLUMNS)
    cols = [parse.COLUMNS[n] for n in names]
    if t.lag:
        cols += parse.LAG_COLUMNS
    lldp_names = list(lldp.COLUMNS) if t.lldp else []
    cols += [lldp.COLUMNS[n] for n in lldp_names]
    rows = session.walk(cols, deadline, stats, deadline.skip, t.in_flight)
    tables = parse.drop_wrong_types({n: parse.by_index(rows[k]) for k, n in enumerate(names)}, deadline.skip)
    rest = rows[len(names) :]
    lag = (rest[0], rest[1]) if t.lag else None
    lldp_cols = dict(zip(lldp_names, rest[len(rest) - len(lldp_names) :], strict=True)) if t.lldp else None
    phys = None
    if lldp_cols is not None and lldp.names_by_mac(lldp_cols):
        phys = parse.by_index(session.walk([lldp.IF_PHYS_ADDRESS], deadline, stats, deadline.skip)[0])
    fallback: dict[tuple[str, int], Any] = {}
    missing = parse.missing_hc(tables)
    if missing:
        ports = {i for _, i in missing}
        wanted = sorted({c for c, _ in missing})
        if len(ports) > FALLBACK_WALK_AT:
            walked = session.walk(
                [parse.FALLBACK[c] for c in wanted], deadline, stats, deadline.skip, t.in_flight
            )
            for c, col in zip(wanted, walked, strict=True):
                for i, v in parse.by_index(col).items():
                    fallback[(c, i)] = v
        else:
            res = session.get([parse.FALLBACK[c] + (i,) for c, i in missing], deadline, stats)
            for c, i in missing:
                fallback[(c, i)] = res.get(parse.FALLBACK[c] + (i,))
    return Walked(parse.parse_system(got), tables, fallback, lag, lldp_cols, phys, stats)


class Runtime:
    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._state = {name: TargetState() for name in config.targets}

    def targets(self) -> list[str]:
        return sorted(self.config.targets)

    def jobs(self, target: str | None) -> list[Job]:
        names = [target] if target is not None else []

        def job(n: str) -> Job:
            return Job({"target": n}, lambda d: self.scrape(n, d))

        return [job(n) for n in names]

    def session(self, name: str) -> Session:
        with self._lock:  # made on first use, so --config.check and idle reloads open no socket
            s = self._sessions.get(name)
            if s is None:
                t = self.config.targets[name]
                s = self._sessions[name] = Session(t, self.config.auths[t.auth])
            return s

    def scrape(self, name: str, deadline: Deadline) -> list[Metric]:
        state = self._state[name]
        # One scrape of a target at a time (its session too): state updates land in the order the agent
        # was read.
        with state.gate.enter(deadline):
            session = self.session(name)
            t = session.target
            w = fetch(session, deadline)
            if not w.tables.get("descr") and not w.tables.get("name"):
                raise Malformed("agent has no ifTable or ifXTable rows (no IF-MIB in its view?)")
            interfaces = parse.parse_interfaces(w.tables, w.fallback)
            restarted, back = state.update(w.system, interfaces)
            restarts, discontinuities = state.restarts, state.discontinuities
        roles = parse.assign_roles(interfaces, t.ports)
        members = lldp.lag_members(w.lldp, interfaces, w.phys) if w.lldp is not None else None
        lag = parse.parse_lag(w.lag[0], w.lag[1], interfaces, members) if w.lag else None
        neighbors = lldp.neighbors(w.lldp, interfaces, w.phys, deadline.skip) if w.lldp is not None else None
        if restarted:
            log.info("agent restarted (sysUpTime went backwards); counters reset", target=name)
        if back:
            log.warning(
                "64-bit counters went backwards without an agent restart",
                target=name,
                counters=",".join(back[:5]),
                count=len(back),
            )
        dup = _duplicates(interfaces)
        if dup:
            log.debug(
                "interfaces share an ifName; ifindex tells them apart", target=name, ifnames=",".join(dup)
            )
        return families(
            SPEC.namespace,
            w.system,
            interfaces,
            roles,
            lag,
            neighbors,
            w.stats,
            restarts,
            discontinuities,
            expected_speed=parse.expected_speeds(interfaces, t.ports),
        )

    def close(self) -> None:
        with self._lock:
            for s in self._sessions.values():
                s.close()


def _duplicates(interfaces: list[parse.Interface]) -> list[str]:
    seen: set[str] = set()
    dup = []
    for i in interfaces:
        if i.name in seen:
            dup.append(i.name)
        seen.add(i.name)
    return dup


SPEC = ExporterSpec(
    name="snmp",
    default_port=9472,
    config_type=Config,
    build=Runtime,
    multi_target=True,
    description="Switch port traffic, errors and status over SNMP (IF-MIB), with link roles",
    error_reasons=("auth", "agent"),
)
