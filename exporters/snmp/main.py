"""colo-snmp-exporter: switch port counters with link roles, per configured target (`/probe?target=`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import Metric

from exporters.core import Deadline, Job, ScrapeError, get_logger
from exporters.core.app import ExporterSpec
from exporters.core.cli import main_for

from . import parse
from .client import Engine, Session, Stats
from .collector import families
from .config import Config
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
    lldp: tuple[list, list, list] | None
    stats: Stats


async def fetch(session: Session, deadline: Deadline) -> Walked:
    """Everything one scrape reads from one agent (runs on the engine loop)."""
    stats = Stats()
    t = session.target
    got = await session.get(
        [parse.SYS_DESCR, parse.SYS_OBJECT_ID, parse.SYS_UPTIME, parse.SYS_NAME], deadline, stats
    )
    names = list(parse.COLUMNS)
    cols = [parse.COLUMNS[n] for n in names]
    if t.lag:
        cols += parse.LAG_COLUMNS
    if t.lldp:
        cols += parse.LLDP_COLUMNS
    rows = await session.walk(cols, deadline, stats)
    tables = {n: parse.by_index(rows[k]) for k, n in enumerate(names)}
    rest = rows[len(names) :]
    lag = (rest[0], rest[1]) if t.lag else None
    lldp = tuple(rest[-3:]) if t.lldp else None
    fallback: dict[tuple[str, int], Any] = {}
    missing = parse.missing_hc(tables)
    if missing:
        ports = {i for _, i in missing}
        wanted = sorted({c for c, _ in missing})
        if len(ports) > FALLBACK_WALK_AT:
            walked = await session.walk([parse.FALLBACK[c] for c in wanted], deadline, stats)
            for c, col in zip(wanted, walked, strict=True):
                for i, v in parse.by_index(col).items():
                    fallback[(c, i)] = v
        else:
            res = await session.get([parse.FALLBACK[c] + (i,) for c, i in missing], deadline, stats)
            for c, i in missing:
                fallback[(c, i)] = res.get(parse.FALLBACK[c] + (i,))
    # Ignored below: lldp is exactly the three LLDP columns, which mypy cannot see in tuple(rest[-3:]).
    return Walked(parse.parse_system(got), tables, fallback, lag, lldp, stats)  # type: ignore[arg-type]


class Runtime:
    def __init__(self, config: Config) -> None:
        self.config = config
        self._engines: dict[int, Engine] = {}
        self._lock = threading.Lock()
        # pysnmp keeps one USM entry per user name: two auths with one user name but other keys need two
        # engines. Usually every target lands on engine 0.
        self._engine_of: dict[str, int] = {}
        users: dict[str, list[tuple]] = {}
        for name, a in sorted(config.auths.items()):
            if a.version == "3":
                keys = (a.security_level, a.auth_protocol, a.auth_password, a.priv_protocol, a.priv_password)
                same = users.setdefault(a.username, [])
                if keys not in same:
                    same.append(keys)
                self._engine_of[name] = same.index(keys)
        self._sessions: dict[str, Session] = {}
        self._state = {name: TargetState() for name in config.targets}

    def engine(self, auth: str = "") -> Engine:
        n = self._engine_of.get(auth, 0)
        with self._lock:  # started on first use, so --config.check and idle reloads cost nothing
            if n not in self._engines:
                self._engines[n] = Engine()
            return self._engines[n]

    def targets(self) -> list[str]:
        return sorted(self.config.targets)

    def jobs(self, target: str | None) -> list[Job]:
        names = [target] if target is not None else []

        def job(n: str) -> Job:
            return Job({"target": n}, lambda d: self.scrape(n, d))

        return [job(n) for n in names]

    def session(self, name: str) -> Session:
        s = self._sessions.get(name)
        if s is None:
            t = self.config.targets[name]
            s = self._sessions[name] = Session(self.engine(t.auth), name, t, self.config.auths[t.auth])
        return s

    def scrape(self, name: str, deadline: Deadline) -> list[Metric]:
        session = self.session(name)
        t = session.target
        state = self._state[name]
        # One scrape of a target at a time: state updates land in the order the agent was read.
        with state.gate.enter(deadline):
            w: Walked = session.engine.call(fetch(session, deadline), deadline.remaining())
            if not w.tables.get("descr") and not w.tables.get("name"):
                raise ScrapeError(
                    "malformed", "agent has no ifTable or ifXTable rows (no IF-MIB in its view?)"
                )
            interfaces = parse.parse_interfaces(w.tables, w.fallback)
            restarted, back = state.update(w.system, interfaces)
            restarts, discontinuities = state.restarts, state.discontinuities
        roles = parse.assign_roles(interfaces, t.ports)
        lag = parse.parse_lag(w.lag[0], w.lag[1], interfaces) if w.lag else None
        lldp = parse.parse_lldp(*w.lldp) if w.lldp else None
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
            lldp,
            w.stats,
            restarts,
            discontinuities,
            expected_speed=parse.expected_speeds(interfaces, t.ports),
        )

    def close(self) -> None:
        for e in self._engines.values():
            e.close()


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
    namespace="colo_snmp",
    default_port=9472,
    config_type=Config,
    build=Runtime,
    multi_target=True,
    description="Switch port traffic, errors and status over SNMP (IF-MIB), with link roles",
    default_config_file="/etc/colo-exporters/snmp.yml",
    config_required=False,
    error_reasons=("auth", "malformed", "agent"),
)


def main() -> None:
    main_for(SPEC)


if __name__ == "__main__":
    main()
