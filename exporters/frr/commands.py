"""Which commands a daemon is asked, and what its answer to each one means.

Each collector (`Query`) has one or more equivalent command sets, the preferred first. Every command
succeeds or fails on its own:

* status 0, or 1 (warning) with a JSON body: the reply is parsed; a reply that does not parse fails that
  collector only (counted as `malformed`).
* status 2-4 (unknown, ambiguous, incomplete command): this FRR release does not have the command. That
  is logged once at info, the command is not sent again until the daemon restarts, and the collector
  falls back to its next command set, in the same scrape. With none left the collector is 0, uncounted.
* any other status, or a `% ...` error line: the collector fails (counted as `command`), and the same
  command is sent again next time.

A daemon has restarted when its vty socket is a new file (a daemon creates it when it starts), or after
it could not be reached at all: then everything it did not know is asked again.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from exporters.core import ScrapeError, get_logger
from exporters.core.gcpause import paused_gc

from .parse_common import ParseError
from .vty import STATUS, UNKNOWN, Reply, first_line

log = get_logger("exporters.frr")
T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """What parsers and collectors of one job get: where, when, and how to count a skipped entry."""

    ns: str
    instance: str
    daemon: str
    now: float
    description_label: bool = False
    count: Callable[[str, str], None] = lambda reason, message: None  # deadline.skip
    # Raises when the job's deadline has passed: a late job stops instead of competing for the GIL with
    # the scrapes that follow (its result would be dropped anyway).
    check: Callable[[], object] = lambda: None

    def malformed(self, message: str) -> None:
        """One odd entry left out: counted and logged once (by the core), the rest kept."""
        self.count("malformed", f"{self.instance}/{self.daemon}: {message}")


Parser = Callable[[Sequence[tuple[str, bytes]], Context], Any]


@dataclass(frozen=True)
class Query:
    """One collector: its name (the `collector` label), its command sets, preferred first, and the
    parser that turns the (command, reply) pairs of the set that answered into data."""

    name: str
    alternatives: tuple[tuple[str, ...], ...]
    parse: Parser


class Session(Protocol):
    def run(self, cmds: Sequence[str], pipeline: bool = True) -> list[Reply]: ...


_NOT_SEEN = object()


@dataclass
class DaemonState:
    """What one daemon process told us about itself, kept between scrapes."""

    identity: object = _NOT_SEEN
    unknown: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def seen(self, identity: object) -> bool:
        """Record which socket file answered; True (and everything forgotten) if it is another one."""
        with self.lock:
            if identity == self.identity:
                return False
            restarted = self.identity is not _NOT_SEEN
            self.identity = identity
            self.unknown.clear()
            return restarted

    def lost(self) -> None:
        """The daemon could not be reached: whatever answers next is asked everything again."""
        with self.lock:
            self.identity = None


@dataclass
class Outcome:
    """What became of one collector: its parsed data, or why not."""

    ok: bool
    value: Any = None
    commands: tuple[str, ...] = ()


def _usable(q: Query, start: int, unknown: set[str]) -> int | None:
    """The first alternative from `start` on that has a command the daemon may know."""
    for i in range(start, len(q.alternatives)):
        if any(c not in unknown for c in q.alternatives[i]):
            return i
    return None


_NONSPACE = re.compile(rb"\S")


def _failure(r: Reply) -> str | None:
    """Why a reply that is not `unknown command` cannot be used; None if it can."""
    m = _NONSPACE.search(r.text)  # (lstrip() would copy a 40 MB reply)
    head = r.text[m.start() : m.start() + 1] if m else b""
    if r.status == 0 and head != b"%":
        return None
    if r.status == 1 and head in (b"{", b"["):
        return None  # a warning that still answered in JSON, e.g. {"warning": "View/Vrf is unknown"}
    what = STATUS.get(r.status, f"status {r.status}")
    line = first_line(r.text)
    return f"{what}: {line}" if line else what


def run_queries(
    session: Session, queries: Sequence[Query], state: DaemonState, ctx: Context, pipeline: bool = True
) -> dict[str, Outcome]:
    """Ask the daemon every query's current command set; for each it does not know, its next set (on
    the same connection). Replies are not parsed here (see `parse_all`)."""
    where = f"{ctx.instance}/{ctx.daemon}"
    with state.lock:
        unknown = set(state.unknown)
    out: dict[str, Outcome] = {}
    todo: list[tuple[Query, int]] = []
    for q in queries:
        i = _usable(q, 0, unknown)
        if i is None:
            out[q.name] = Outcome(False)
        else:
            todo.append((q, i))
    while todo:
        cmds = list(dict.fromkeys(c for q, i in todo for c in q.alternatives[i] if c not in unknown))
        replies = dict(zip(cmds, session.run(cmds, pipeline), strict=True))
        new = {c for c, r in replies.items() if r.status in UNKNOWN}
        for c in sorted(new):
            log.info(
                "the daemon does not know this command; not sending it again until it restarts",
                frr_instance=ctx.instance,
                daemon=ctx.daemon,
                command=c,
                answer=first_line(replies[c].text),
            )
        unknown |= new
        again = []
        for q, i in todo:
            used = tuple(c for c in q.alternatives[i] if c in replies and c not in unknown)
            if not used:
                j = _usable(q, i + 1, unknown)
                if j is None:
                    out[q.name] = Outcome(False)
                    continue
                log.info(
                    "falling back to an equivalent command",
                    frr_instance=ctx.instance,
                    daemon=ctx.daemon,
                    collector=q.name,
                    command=", ".join(q.alternatives[j]),
                )
                again.append((q, j))
                continue
            bad = [(c, why) for c in used if (why := _failure(replies[c])) is not None]
            if bad:
                c, why = bad[0]
                ctx.count("command", f"{where}: {c!r}: {why}")
                out[q.name] = Outcome(False, None, used)
            else:
                out[q.name] = Outcome(True, [(c, replies[c].text) for c in used], used)
        todo = again
    with state.lock:
        state.unknown |= unknown
    return {q.name: out[q.name] for q in queries}


def parse_all(queries: Sequence[Query], outcomes: dict[str, Outcome], ctx: Context) -> dict[str, Outcome]:
    """Parse the replies of the collectors that answered; one that does not parse fails alone."""
    where = f"{ctx.instance}/{ctx.daemon}"
    with paused_gc():
        for q in queries:
            o = outcomes[q.name]
            if not o.ok:
                continue
            replies, o.value = o.value, None
            try:
                ctx.check()
                o.value = q.parse(replies, ctx)
            except ParseError as e:
                o.ok = False
                ctx.count("malformed", f"{where}: {q.name}: {e}")
            finally:
                replies.clear()
    return outcomes


def paused(fn: Callable[..., T], *args: Any, owned: dict[str, Outcome]) -> T:
    """`fn(*args)` with the cyclic GC paused. Cut at the deadline, what it built is let go before the
    collector resumes, and so is `owned`: the traceback holds it, and a collection of it then would hold
    the GIL for tenths of a second while the scrape's answer waits."""
    late: ScrapeError | None = None
    with paused_gc():
        try:
            return fn(*args)
        except ScrapeError as e:
            late = e.with_traceback(None)
            for o in owned.values():
                o.value = None
    raise late
