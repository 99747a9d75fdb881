"""colo-lxd-exporter: every instance of every project on every member, LXD or Incus.

What changes fast is read on every scrape, cheaply: the counters of running instances from the daemon's
own `/1.0/metrics` (one request per member), config and status of every instance from
`/1.0/instances?recursion=1&all-projects=true` (no state). What is expensive — disk usage and quota, which
cost LXD a quotactl or `btrfs qgroup show` per instance — is read in the background every
`disk_interval` and served with its age; a scrape never waits for it. The number of requests per scrape
does not depend on the number of instances.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from prometheus_client.core import Metric

from exporters.core import Deadline, Exclusive, Job, ScrapeError, get_logger
from exporters.core.app import ExporterSpec
from exporters.core.cli import main_for

from . import collector, metrics_text, parse
from .config import Config, label_name
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


class _Once(Generic[T]):
    """A fetch shared by the jobs of one scrape: the first caller runs it, the others wait for it."""

    def __init__(self, fn: Callable[[Deadline], T]) -> None:
        self._fn = fn
        self._lock = threading.Lock()
        self._started = False
        self._done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None

    def __call__(self, deadline: Deadline) -> T:
        with self._lock:
            first, self._started = not self._started, True
        if first:
            try:
                self._value = self._fn(deadline)
            except BaseException as e:  # noqa: BLE001 - re-raised to every caller
                self._error = e
            finally:
                self._done.set()
        return self.wait(deadline.remaining())

    def wait(self, seconds: float) -> T:
        """The result of a run another job started, if it comes within `seconds`."""
        if not self._done.wait(max(0.0, seconds)):
            raise ScrapeError("timeout", "shared request still running")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Decoding and parsing thousands of instances allocates millions of objects, none in a cycle; the
    cyclic GC would scan them again and again (a third of the time at 5,000 instances). Paused only here;
    re-enabled by whoever paused it, so an overlapping scrape cannot leave it off."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _parsed(fn: Callable[[Any], T], envelope: Any, where: str) -> T:
    try:
        return fn(envelope)
    except parse.Malformed as e:
        raise ScrapeError("malformed", f"{where}: {e}") from None


class Refresher:
    """Runs `fetch` in a thread of its own every `interval` seconds (from start to start) and keeps the
    last result with when it was read; `snapshot()` never waits, except for the very first result."""

    def __init__(self, name: str, fetch: Callable[[Deadline], Any], interval: float, timeout: float) -> None:
        self.name, self._fetch, self.interval, self.timeout = name, fetch, interval, timeout
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
            finally:
                self.runs += 1
                self._first.set()
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - t0)))

    def snapshot(self, wait: float) -> tuple[Any, float | None, ScrapeError | None]:
        """(value, its age in seconds, the last attempt's error); waits up to `wait` for the first value."""
        self.start()
        if not self._first.is_set():
            self._first.wait(max(0.0, wait))
        with self._lock:
            age = None if self.at is None else time.monotonic() - self.at
            return self.value, age, self.error

    def close(self) -> None:
        self._stop.set()


class _Scrape:
    """What one scrape reads; each request is made at most once, whichever job asks first."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        api = rt.api
        self.server = _Once(lambda d: _parsed(parse.server, api.get("", d), "/1.0"))
        self.instances = _Once(self._instances)
        self.members = _Once(self._members)

    def _instances(self, d: Deadline) -> list[parse.Instance]:
        keys = self.rt.config.user_labels
        env = self.rt.api.get("instances", d, INSTANCES_PARAMS)
        with _gc_paused():
            insts = _parsed(lambda e: parse.instances(e, keys), env, "/1.0/instances")
        return self.rt.mine(insts, self.server(d))

    def _members(self, d: Deadline) -> list[parse.Member]:
        env = self.rt.api.get("cluster/members", d, {"recursion": "1"}, error_ok=True)
        if isinstance(env, dict) and env.get("type") == "error":
            if "not clustered" in str(env.get("error", "")):
                return []  # a standalone server: no members, not an error
            raise ScrapeError("api", f"/1.0/cluster/members: {str(env.get('error'))[:200]!r}")
        return _parsed(parse.members, env, "/1.0/cluster/members")

    # --- the jobs ---

    def instances_job(self, d: Deadline) -> Iterable[Metric]:
        insts = self.instances(d)
        with _gc_paused():
            return collector.instance_families(self.rt.ns, insts, self.rt.user_label_names)

    def counters_job(self, d: Deadline) -> Iterable[Metric]:
        """`/1.0/metrics` of this member, or (scope cluster) of each reachable member, relabelled."""
        if self.rt.config.scope == "member":  # the same request whatever /1.0 says: no need to wait for it
            counters = self._metrics("this member", None, d)
            server = self.server(d)
            location = server.server_name if server.clustered else "none"  # LXD's location when standalone
            return collector.counter_families(self.rt.ns, [(location, counters)])
        server = self.server(d)
        if not server.clustered:
            return collector.counter_families(self.rt.ns, [("none", self._metrics("none", None, d))])
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

        threads = [
            threading.Thread(target=one, args=t, name=f"lxd metrics {t[0]}", daemon=True) for t in targets
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(sub.remaining() + 0.05)
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
        return collector.counter_families(self.rt.ns, per_member)

    def _metrics(
        self, location: str, params: dict[str, str] | None, d: Deadline
    ) -> list[metrics_text.Counters]:
        text = self.rt.api.get_text("metrics", d, params)
        with _gc_paused():
            counters, odd = metrics_text.parse(text)
        if odd:
            d.skip("malformed", f"/1.0/metrics of {location}: {odd} sample lines not understood, skipped")
        return counters

    def disk_job(self, d: Deadline) -> Iterable[Metric]:
        insts, age, error = self.rt.disk.snapshot(d.remaining() - 0.1)
        if error is not None:
            raise error
        if insts is None or age is None:
            return []  # the first refresh is still running: absent, not zero
        return collector.disk_families(self.rt.ns, insts, age)

    def cluster_job(self, d: Deadline) -> Iterable[Metric]:
        server = self.server(d)
        members = self.members(d) if server.clustered else []
        return collector.cluster_families(self.rt.ns, server, members)

    def pools_job(self, d: Deadline) -> Iterable[Metric]:
        api = self.rt.api
        env = api.get("storage-pools", d, {"recursion": "1"})
        pools = _parsed(parse.pools, env, "/1.0/storage-pools")
        server = self.server(d)
        # Whose space: this member's, or (scope cluster) every reachable member's.
        targets: list[str | None] = [None]
        if server.clustered and self.rt.config.scope == "cluster":
            targets = [m.name for m in self.members(d) if m.status in REACHABLE]
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
        return collector.pool_families(self.rt.ns, pools, usage)

    def projects_job(self, d: Deadline) -> Iterable[Metric]:
        env = self.rt.api.get("projects", d, {"recursion": "1"})
        projects = _parsed(parse.projects, env, "/1.0/projects")
        try:  # the instances job makes the request; wait for it, but not past this job's deadline
            insts: list[parse.Instance] | None = self.instances.wait(d.remaining() - 0.2)
        except Exception:  # noqa: BLE001
            insts = None  # the instances job reports it; counts are absent
        return collector.project_families(self.rt.ns, projects, insts)


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
        interval = float(config.disk_interval)
        self.disk = Refresher("disk", self._disk_usage, interval, timeout=max(interval, 60.0))

    def targets(self) -> list[str]:
        return []

    def mine(self, insts: list[parse.Instance], server: parse.Server) -> list[parse.Instance]:
        """With `scope: member` on a cluster, only the instances located on this member."""
        if self.config.scope == "member" and server.clustered:
            return [i for i in insts if i.location == server.server_name]
        return insts

    def _disk_usage(self, d: Deadline) -> list[parse.Instance]:
        """The background refresh: every instance with its state (disk usage, quota, peak memory)."""
        server = _parsed(parse.server, self.api.get("", d), "/1.0")
        params = DISK_PARAMS_SELECTIVE if SELECTIVE in server.extensions else DISK_PARAMS
        env = self.api.get("instances", d, params)
        with _gc_paused():
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
        self.disk.close()
        self.api.close()


SPEC = ExporterSpec(
    name="lxd",
    namespace="colo_lxd",
    description="Prometheus exporter for LXD and Incus: instances of every project and member, cluster "
    "members, storage pools, projects",
    default_port=9471,
    config_type=Config,
    build=Runtime,
    multi_target=False,
    default_config_file="/etc/colo-exporters/lxd.yml",
    config_required=False,
    error_reasons=("connect", "permission", "auth", "tls", "api", "malformed"),
)


def main() -> None:
    main_for(SPEC)


if __name__ == "__main__":
    main()
