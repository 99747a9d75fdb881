"""colo-lxd-exporter: every instance of every project on every member, LXD or Incus.

A scrape asks the daemon only for what changes fast and matters at once: the counters of running
instances from its own `/1.0/metrics` (one request per member) and, on a cluster, the members' status
(`/1.0/cluster/members`). The instance list (`/1.0/instances?recursion=1`: config, limits, status) is kept
and read again when `/1.0/metrics` contradicts it or it is older than `instances_max_age`
(listcache.py). Server info, storage pools and projects are refreshed in the background every
`server_interval`; disk usage and quota, expensive for the daemon, every `disk_interval`. Cached data is
served with its age; a scrape never waits for a background refresh (only the first, for the first one).
The number of requests per scrape does not depend on the number of instances.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from prometheus_client.core import Metric

from exporters.core import Deadline, Exclusive, Job, Malformed, ScrapeError, get_logger
from exporters.core.app import ExporterSpec
from exporters.core.gcpause import paused_gc
from exporters.core.workers import WORKERS

from . import collector, metrics_text, parse
from .config import Config, label_name
from .listcache import RUNNING, ListCache, Listed, Seen
from .lxdapi import LXD

log = get_logger(__name__)
T = TypeVar("T")

INSTANCES_PARAMS = {"recursion": "1", "all-projects": "true"}
DISK_PARAMS = {"recursion": "2", "all-projects": "true"}
# Where the daemon can leave out what the disk refresh does not need (network state): see docs/lxd.md.
DISK_PARAMS_SELECTIVE = {"recursion": "2;fields=state.disk", "all-projects": "true"}
SELECTIVE = "instances_state_selective_recursion"
COLLECTORS = ("instances", "counters", "disk", "cluster", "storage_pools", "projects")
# Members whose /1.0/metrics can be read (an Offline member's instances are reported as Error).
REACHABLE = ("Online", "Evacuated")
# A failed refresh of the cheap background data is tried again this soon (seconds), not a whole interval on.
RETRY = 10.0


class _Once(Generic[T]):
    """A fetch shared by the jobs of one scrape: the first caller runs it (or `start()` runs it in a thread
    of its own), the others wait for it."""

    def __init__(self, fn: Callable[[Deadline], T], name: str = "") -> None:
        self._fn, self._name = fn, name
        self._lock = threading.Lock()
        self._started = False
        self._done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None

    def _claim(self) -> bool:
        with self._lock:
            first, self._started = not self._started, True
        return first

    def _run(self, deadline: Deadline) -> None:
        try:
            self._value = self._fn(deadline)
        except BaseException as e:  # noqa: BLE001 - re-raised to every caller
            self._error = e
        finally:
            self._done.set()

    def __call__(self, deadline: Deadline) -> T:
        if self._claim():
            self._run(deadline)
        return self.wait(deadline.remaining())

    def start(self, deadline: Deadline) -> None:
        """Run it on a worker (bounded by `deadline`) unless a job already did."""
        if self._claim():
            WORKERS.run(partial(self._run, deadline), f"lxd {self._name}")

    def wait(self, seconds: float) -> T:
        """The result of a run another job started, if it comes within `seconds`."""
        if not self._done.wait(max(0.0, seconds)):
            raise ScrapeError("timeout", f"{self._name or 'shared request'} still running")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def peek(self) -> T | None:
        """The result if it is there and good, else None; never waits."""
        return self._value if self._done.is_set() and self._error is None else None


def _parsed(fn: Callable[[Any], T], envelope: Any, where: str) -> T:
    try:
        return fn(envelope)
    except parse.Malformed as e:
        raise Malformed(f"{where}: {e}") from None


class Refresher:
    """Runs `fetch` in a thread of its own every `interval` seconds (from start to start; `retry` seconds
    after a failure) and keeps the last good result with when it was read; `snapshot()` never waits,
    except for the very first result."""

    def __init__(
        self,
        name: str,
        fetch: Callable[[Deadline], Any],
        interval: float,
        timeout: float,
        retry: float | None = None,
    ) -> None:
        self.name, self._fetch, self.interval, self.timeout = name, fetch, interval, timeout
        self.retry = interval if retry is None else min(retry, interval)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._first = threading.Event()
        self._thread: threading.Thread | None = None
        self.value: Any = None
        self.at: float | None = None  # monotonic time the value was read
        self.error: ScrapeError | None = None
        self.runs = 0

    def start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name=f"lxd {self.name} refresh", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        last = ""
        while not self._stop.is_set():
            t0 = time.monotonic()
            wait = self.interval
            try:
                value = self._fetch(Deadline(self.timeout))
                with self._lock:
                    self.value, self.at, self.error = value, time.monotonic(), None
                last = ""
            except Exception as e:  # noqa: BLE001 - kept for the scrapes to report
                err = e if isinstance(e, ScrapeError) else ScrapeError("internal", f"{type(e).__name__}: {e}")
                with self._lock:
                    self.error = err
                if err.message != last:
                    log.warning(
                        "background refresh failed", refresh=self.name, reason=err.reason, err=err.message
                    )
                last = err.message
                wait = self.retry
            finally:
                self.runs += 1
                self._first.set()
            self._stop.wait(max(0.0, wait - (time.monotonic() - t0)))

    def snapshot(self, wait: float) -> tuple[Any, float | None, ScrapeError | None]:
        """(last good value, its age in seconds, the last attempt's error); waits up to `wait` for the first
        attempt."""
        self.start()
        if not self._first.is_set():
            self._first.wait(max(0.0, wait))
        with self._lock:
            age = None if self.at is None else time.monotonic() - self.at
            return self.value, age, self.error

    def current(self, d: Deadline) -> tuple[Any, float]:
        """(value, age) for a collector to serve: up 0 while the last attempt failed or none succeeded."""
        value, age, error = self.snapshot(d.remaining() - 0.1)
        if error is not None:
            raise error
        if value is None or age is None:
            raise ScrapeError("timeout", f"the first background read ({self.name}) is still running")
        return value, age

    def close(self) -> None:
        self._stop.set()


@dataclass(frozen=True)
class _MetricsRead:
    per_member: list[tuple[str, list[metrics_text.Counters]]]  # (location, counters) per member read
    at: float  # monotonic time the answers were read


class _Scrape:
    """What one scrape reads; each request is made at most once, whichever job asks first."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.metrics = _Once(self._metrics_all, "/1.0/metrics")
        self.members = _Once(rt.read_members, "/1.0/cluster/members")
        self.instances = _Once(self._instances, "instance list")

    # --- the instance list: kept, and read again when /1.0/metrics contradicts it or it is too old ---

    def _instances(self, d: Deadline) -> Listed:
        rt = self.rt
        server = rt.server_info(d)
        cache = rt.listing
        seen: Seen | None = None
        age = cache.age(time.monotonic())
        if age is not None and age < cache.max_age:
            seen = self._seen(d, server)
        reason = cache.reason(time.monotonic(), seen)
        listed = cache.listed
        if reason is None and listed is not None:
            return listed
        cache.note_read(reason or "age")
        log.debug("reading the instance list", reason=reason, age=None if age is None else round(age, 1))
        listed = self._read_list(d, server, seen)
        cache.store(listed, seen, reason or "age")
        return listed

    def _seen(self, d: Deadline, server: parse.Server) -> Seen | None:
        """This scrape's /1.0/metrics (and members) as the list cache compares them; None if not in time.

        Waits at most until a reserve is left for reading the list again."""
        self.metrics.start(d)
        if server.clustered:
            self.members.start(d)
        reserve = min(d.remaining() / 2, max(1.0, 3 * self.rt.list_seconds))
        try:
            read = self.metrics.wait(d.remaining() - reserve)
            members = None
            if server.clustered:
                members = frozenset((m.name, m.status) for m in self.members.wait(d.remaining() - reserve))
        except ScrapeError as e:
            log.debug("instance list not checked", reason=e.reason, err=e.message[:200])
            return None
        running = frozenset((k.project, k.name, loc) for loc, ks in read.per_member for k in ks)
        return Seen(running, frozenset(loc for loc, _ in read.per_member), read.at, members)

    def _read_list(self, d: Deadline, server: parse.Server, seen: Seen | None) -> Listed:
        rt = self.rt
        t0 = time.monotonic()
        env = rt.api.get("instances", d, INSTANCES_PARAMS)
        with paused_gc():
            insts = rt.mine(
                _parsed(lambda e: parse.instances(e, rt.config.user_labels), env, "/1.0/instances"), server
            )
            families = list(collector.instance_families(rt.ns, insts, rt.user_label_names))
        at = time.monotonic()
        rt.list_seconds = at - t0
        if seen is not None:
            members = seen.members
        else:  # first read, or unverified: this scrape's members if they are already there
            got = self.members.peek() if server.clustered else None
            members = None if got is None else frozenset((m.name, m.status) for m in got)
        running = frozenset((i.project, i.name, i.location) for i in insts if i.status in RUNNING)
        return Listed(insts, families, at, running, members)

    # --- per scrape: /1.0/metrics of this member, or (scope cluster) of each reachable member ---

    def _metrics_all(self, d: Deadline) -> _MetricsRead:
        rt = self.rt
        if rt.config.scope == "member":  # the same request whatever /1.0 says: no need to wait for it
            counters = self._metrics("this member", None, d)
            server = rt.server_info(d)
            location = server.server_name if server.clustered else "none"  # LXD's location when standalone
            return _MetricsRead([(location, counters)], time.monotonic())
        server = rt.server_info(d)
        if not server.clustered:
            return _MetricsRead([("none", self._metrics("none", None, d))], time.monotonic())
        targets = [(m.name, {"target": m.name}) for m in self.members(d) if m.status in REACHABLE]
        # One thread per member, each bounded by the same deadline less a reserve for what follows: a member
        # that does not answer costs only its own counters.
        sub = d.within(max(0.05, d.remaining() - min(0.5, d.remaining() / 4)))
        results: dict[str, list[metrics_text.Counters] | ScrapeError] = {}

        def one(location: str, params: dict[str, str] | None) -> None:
            try:
                results[location] = self._metrics(location, params, sub)
            except ScrapeError as e:
                results[location] = e

        tasks = [WORKERS.run(partial(one, *t), f"lxd metrics {t[0]}") for t in targets]
        for task in tasks:
            task.wait(sub.remaining() + 0.05)
        per_member, failed = [], None
        for location, _ in targets:
            got = results.get(location)
            if isinstance(got, list):
                per_member.append((location, got))
                continue
            failed = got or ScrapeError("timeout", f"/1.0/metrics of member {location}: no answer in time")
            d.skip(failed.reason, f"/1.0/metrics of member {location}: {failed.message}")
        if failed is not None and not per_member:
            raise failed
        return _MetricsRead(per_member, time.monotonic())

    def _metrics(
        self, location: str, params: dict[str, str] | None, d: Deadline
    ) -> list[metrics_text.Counters]:
        text = self.rt.api.get_text("metrics", d, params)
        with paused_gc():
            counters, odd = metrics_text.parse(text)
        if odd:
            d.skip("malformed", f"/1.0/metrics of {location}: {odd} sample lines not understood, skipped")
        return counters

    # --- the jobs ---

    def instances_job(self, d: Deadline) -> Iterable[Metric]:
        listed = self.instances(d)
        cache = self.rt.listing
        return [
            *listed.families,
            *collector.list_families(self.rt.ns, time.monotonic() - listed.at, cache.reads_so_far()),
        ]

    def counters_job(self, d: Deadline) -> Iterable[Metric]:
        read = self.metrics(d)
        with paused_gc():  # tens of thousands of samples, none in a cycle
            return list(collector.counter_families(self.rt.ns, read.per_member))

    def disk_job(self, d: Deadline) -> Iterable[Metric]:
        insts, age, error = self.rt.disk.snapshot(d.remaining() - 0.1)
        if error is not None:
            raise error
        if insts is None or age is None:
            return []  # the first refresh is still running: absent, not zero
        return collector.disk_families(self.rt.ns, insts, age)

    def cluster_job(self, d: Deadline) -> Iterable[Metric]:
        server, age = self.rt.server.current(d)
        members = self.members(d) if server.clustered else []
        return collector.cluster_families(self.rt.ns, server, members, age)

    def pools_job(self, d: Deadline) -> Iterable[Metric]:
        (pools, usage), age = self.rt.pools.current(d)
        server = self.rt.server_info(d)
        if server.clustered and self.rt.config.scope == "cluster":
            # The space of a member that is no longer reachable is not served from the last refresh.
            try:
                reachable = {m.name for m in self.members(d) if m.status in REACHABLE}
                usage = [u for u in usage if u[1] in reachable]
            except ScrapeError:
                pass  # the cluster job reports it
        return collector.pool_families(self.rt.ns, pools, usage, age)

    def projects_job(self, d: Deadline) -> Iterable[Metric]:
        projects, age = self.rt.projects.current(d)
        try:  # the instances job decides on the list; wait for it, but not past this job's deadline
            listed: Listed | None = self.instances.wait(d.remaining() - 0.2)
        except Exception:  # noqa: BLE001
            listed = None  # the instances job reports it; counts are absent
        return collector.project_families(
            self.rt.ns, projects, None if listed is None else listed.instances, age
        )


class Runtime:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.ns = SPEC.namespace
        self.api = LXD(config)
        if config.tls is not None and config.tls.insecure_skip_verify:
            log.warning("tls.insecure_skip_verify is set: the LXD server is not verified", url=config.url)
        self.user_label_names = [label_name(k) for k in config.user_labels]
        # One scrape of each collector at a time; one stuck past its deadline is not queued behind.
        self.gates = {name: Exclusive() for name in COLLECTORS}
        self.listing = ListCache(float(config.instances_max_age))
        self.list_seconds = 0.0  # how long the last read of the list took
        every = float(config.server_interval)
        bg = max(float(config.timeout), 30.0)
        self.server = Refresher("server", self._read_server, every, timeout=bg, retry=RETRY)
        self.pools = Refresher("storage pools", self._read_pools, every, timeout=bg, retry=RETRY)
        self.projects = Refresher("projects", self._read_projects, every, timeout=bg, retry=RETRY)
        interval = float(config.disk_interval)
        self.disk = Refresher("disk", self._disk_usage, interval, timeout=max(interval, 60.0))

    def targets(self) -> list[str]:
        return []

    def mine(self, insts: list[parse.Instance], server: parse.Server) -> list[parse.Instance]:
        """With `scope: member` on a cluster, only the instances located on this member."""
        if self.config.scope == "member" and server.clustered:
            return [i for i in insts if i.location == server.server_name]
        return insts

    def server_info(self, d: Deadline) -> parse.Server:
        """The last good `/1.0` (what the other requests depend on), waiting within `d` for the first."""
        value, _, error = self.server.snapshot(d.remaining() - 0.1)
        if value is None:
            raise error or ScrapeError("timeout", "the first read of /1.0 is still running")
        return value

    def read_members(self, d: Deadline) -> list[parse.Member]:
        env = self.api.get("cluster/members", d, {"recursion": "1"}, error_ok=True)
        if isinstance(env, dict) and env.get("type") == "error":
            if "not clustered" in str(env.get("error", "")):
                return []  # a standalone server: no members, not an error
            raise ScrapeError("api", f"/1.0/cluster/members: {str(env.get('error'))[:200]!r}")
        return _parsed(parse.members, env, "/1.0/cluster/members")

    # --- background reads ---

    def _read_server(self, d: Deadline) -> parse.Server:
        return _parsed(parse.server, self.api.get("", d), "/1.0")

    def _read_projects(self, d: Deadline) -> list[parse.Project]:
        return _parsed(parse.projects, self.api.get("projects", d, {"recursion": "1"}), "/1.0/projects")

    def _read_pools(self, d: Deadline) -> tuple[list[parse.Pool], list[tuple[str, str, parse.PoolUsage]]]:
        """Every pool, and its space on this member or (scope cluster) on every reachable member."""
        api = self.api
        server = self.server_info(d)
        pools = _parsed(parse.pools, api.get("storage-pools", d, {"recursion": "1"}), "/1.0/storage-pools")
        targets: list[str | None] = [None]
        if server.clustered and self.config.scope == "cluster":
            targets = [m.name for m in self.read_members(d) if m.status in REACHABLE]
        usage = []
        for p in pools:
            for t in targets:
                env = api.get(
                    f"storage-pools/{p.name}/resources", d, {"target": t} if t else None, error_ok=True
                )
                if isinstance(env, dict) and env.get("type") == "error":
                    log.debug(
                        "no pool resources",
                        pool=p.name,
                        member=t or server.server_name,
                        err=str(env.get("error"))[:200],
                    )
                    continue
                usage.append(
                    (
                        p.name,
                        t or server.server_name,
                        _parsed(parse.pool_usage, env, f"/1.0/storage-pools/{p.name}/resources"),
                    )
                )
        return pools, usage

    def _disk_usage(self, d: Deadline) -> list[parse.Instance]:
        """Every instance with its state (disk usage, quota, peak memory)."""
        server = self.server_info(d)
        params = DISK_PARAMS_SELECTIVE if SELECTIVE in server.extensions else DISK_PARAMS
        env = self.api.get("instances", d, params)
        with paused_gc():
            insts = _parsed(parse.instances, env, "/1.0/instances")
        return self.mine(insts, server)

    def jobs(self, target: str | None) -> list[Job]:
        s = _Scrape(self)
        t = float(self.config.timeout)
        runs = {
            "instances": s.instances_job,
            "counters": s.counters_job,
            "disk": s.disk_job,
            "cluster": s.cluster_job,
            "storage_pools": s.pools_job,
            "projects": s.projects_job,
        }
        return [Job({"collector": name}, self._gated(name, runs[name]), timeout=t) for name in COLLECTORS]

    def _gated(
        self, name: str, run: Callable[[Deadline], Iterable[Metric]]
    ) -> Callable[[Deadline], list[Metric]]:
        gate = self.gates[name]

        def gated(d: Deadline) -> list[Metric]:
            with gate.enter(d):
                return list(run(d))

        return gated

    def close(self) -> None:
        for r in (self.server, self.pools, self.projects, self.disk):
            r.close()
        self.api.close()


SPEC = ExporterSpec(
    name="lxd",
    description="Prometheus exporter for LXD and Incus: instances of every project and member, cluster "
    "members, storage pools, projects",
    default_port=9471,
    config_type=Config,
    build=Runtime,
    error_reasons=("connect", "permission", "auth", "tls", "api"),
)
