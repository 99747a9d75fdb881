"""colo-lxd-exporter: every instance of every project on every member, in one API call per scrape."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from prometheus_client.core import Metric

from exporters.core import Deadline, Job, ScrapeError, get_logger
from exporters.core.app import ExporterSpec
from exporters.core.cli import main_for

from . import collector, parse
from .config import Config, label_name
from .lxdapi import LXD, decode_json

log = get_logger(__name__)
T = TypeVar("T")

INSTANCES_PARAMS = {"recursion": "2", "all-projects": "true"}
COLLECTORS = ("instances", "cluster", "storage_pools", "projects")


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
        return self._value  # type: ignore[return-value]  # set before _done, since _error is None


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

        def decode(body: bytes, where: str) -> list[parse.Instance]:
            with _gc_paused():
                return _parsed(lambda e: parse.instances(e, keys), decode_json(body, where), where)

        insts = self.rt.api.get("instances", d, INSTANCES_PARAMS, decode=decode)
        if self.rt.config.scope == "member":
            server = self.server(d)
            if server.clustered:
                insts = [i for i in insts if i.location == server.server_name]
        return insts

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
            return collector.instance_families(insts, self.rt.user_label_names)

    def cluster_job(self, d: Deadline) -> Iterable[Metric]:
        server = self.server(d)
        members = self.members(d) if server.clustered else []
        return collector.cluster_families(server, members)

    def pools_job(self, d: Deadline) -> Iterable[Metric]:
        api = self.rt.api
        env = api.get("storage-pools", d, {"recursion": "1"})
        pools = _parsed(parse.pools, env, "/1.0/storage-pools")
        server = self.server(d)
        # Whose space: this member's, or (scope cluster) every reachable member's.
        targets: list[str | None] = [None]
        if server.clustered and self.rt.config.scope == "cluster":
            targets = [m.name for m in self.members(d) if m.status in ("Online", "Evacuated")]
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
        return collector.pool_families(pools, usage)

    def projects_job(self, d: Deadline) -> Iterable[Metric]:
        env = self.rt.api.get("projects", d, {"recursion": "1"})
        projects = _parsed(parse.projects, env, "/1.0/projects")
        try:  # the instances job makes the request; wait for it, but not past this job's deadline
            insts: list[parse.Instance] | None = self.instances.wait(d.remaining() - 0.2)
        except Exception:  # noqa: BLE001
            insts = None  # the instances job reports it; counts are absent
        return collector.project_families(projects, insts)


class Runtime:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.api = LXD(config)
        if config.tls is not None and config.tls.insecure_skip_verify:
            log.warning("tls.insecure_skip_verify is set: the LXD server is not verified", url=config.url)
        self.user_label_names = [label_name(k) for k in config.user_labels]

    def targets(self) -> list[str]:
        return []

    def jobs(self, target: str | None) -> list[Job]:
        s = _Scrape(self)
        t = float(self.config.timeout)
        runs = {
            "instances": s.instances_job,
            "cluster": s.cluster_job,
            "storage_pools": s.pools_job,
            "projects": s.projects_job,
        }
        return [Job({"collector": name}, runs[name], timeout=t) for name in COLLECTORS]

    def close(self) -> None:
        self.api.close()


SPEC = ExporterSpec(
    name="lxd",
    namespace="colo_lxd",
    description="Prometheus exporter for LXD: instances of every project and member, cluster members, "
    "storage pools, projects",
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
