"""What one running exporter holds: its spec, the current config and runtime, reload, and scrapes."""

from __future__ import annotations

import gzip
import math
import platform
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric

from .. import __version__
from .config import ConfigError, load_config
from .exposition import render
from .log import get_logger
from .scrape import BASE_REASONS, Deadline, ErrorCounters, Job, run_jobs
from .webconfig import WebConfigHolder

log = get_logger("exporters.core.app")


class Runtime(Protocol):
    """What an exporter builds from its config; rebuilt on reload, the old one closed."""

    def targets(self) -> list[str]:
        """Names a `/probe?target=` may ask for (empty for single-target exporters)."""

    def jobs(self, target: str | None) -> list[Job]:
        """The jobs of one scrape: of `target` for /probe, of everything for /metrics (target None)."""

    def close(self) -> None:
        """Release sessions and sockets. Called in a thread of its own once no scrape uses the runtime any
        more; at shutdown the process exits when its budget is spent, finished or not, so close() should
        do its slow parts (logouts) in parallel and bound them."""


@dataclass(frozen=True)
class ExporterSpec:
    name: str  # "snmp"
    description: str  # one line, for --help and the landing page
    default_port: int
    config_type: type  # root dataclass of the config file
    build: Callable[[Any], Runtime]  # config -> runtime
    multi_target: bool = False  # /probe?target=NAME instead of data on /metrics
    config_required: bool = False  # else the default config file is read only when it exists
    error_reasons: tuple[str, ...] = ()  # pre-declared values of <ns>_scrape_errors_total{reason}
    docs_url: str = "https://github.com/colo-exporters/colo-exporters"

    @property
    def namespace(self) -> str:
        return f"colo_{self.name}"

    @property
    def default_config_file(self) -> str:
        """Where the Debian package puts the config (read when --config.file is not given)."""
        return f"/etc/colo-exporters/{self.name}.yml"

    def main(self) -> None:
        """Run the exporter (the console script, through exporters/launch.py)."""
        from .cli import main_for  # cli imports this module

        main_for(self)


class UnknownTarget(Exception):
    pass


class _Generation:
    """One config and the runtime built from it, with the scrapes using it."""

    __slots__ = ("closing", "config", "refs", "retired", "runtime")

    def __init__(self, config: Any, runtime: Runtime) -> None:
        self.config, self.runtime = config, runtime
        self.refs = 0
        self.retired = False  # replaced by a newer one: closed when its last scrape ends
        self.closing: threading.Thread | None = None


class App:
    """The running exporter. Reloads are serialised (each reads the files when it starts, so the last one
    wins); the runtime a reload replaces is closed as soon as no scrape uses it any more."""

    def __init__(
        self,
        spec: ExporterSpec,
        config_file: str | None,
        *,
        timeout_offset: float = 0.5,
        default_timeout: float = 10.0,
        expand_env: bool = False,
        web: WebConfigHolder | None = None,
    ) -> None:
        self.spec = spec
        self.config_file = config_file
        self.expand_env = expand_env
        self.timeout_offset = timeout_offset
        self.default_timeout = default_timeout
        self.web = web or WebConfigHolder(None)
        self.errors = ErrorCounters(
            BASE_REASONS + tuple(r for r in spec.error_reasons if r not in BASE_REASONS)
        )
        self._lock = threading.Lock()  # the generations
        self._reload_lock = threading.Lock()  # one reload at a time
        self._current = _Generation(*self._load())
        self._old: list[_Generation] = []  # retired, still in use or still closing
        self._render: dict[str, float] = {}  # seconds the last answer of a scope took to render
        self._partial: dict[str, bool] = {}  # whether the scope's last scrape had a source down
        self._rate: float | None = None  # seconds one sample takes to render, from large answers
        self._bad_headers: set[str] = set()
        self.last_reload_ok = True
        self.last_reload_time = time.time()

    @property
    def config(self) -> Any:
        return self._current.config

    def _load(self) -> tuple[Any, Runtime]:
        config: Any = load_config(self.spec.config_type, self.config_file, expand_env=self.expand_env)
        try:
            runtime = self.spec.build(config)
        except ConfigError as e:
            raise e.within(file=self.config_file) if not e.file else e from None
        return config, runtime

    def reload(self) -> str | None:
        """Re-read the config and the web config; what fails keeps its old version. The error, or None."""
        with self._reload_lock:
            errors = []
            web_err = self.web.reload()
            if web_err is not None:
                errors.append(f"web config: {web_err}")
            try:
                new = _Generation(*self._load())
            except ConfigError as e:
                log.error("reload failed; keeping the previous config", err=str(e))
                errors.append(str(e))
            except Exception as e:  # noqa: BLE001 - a broken build must not take the exporter down
                log.error("reload failed; keeping the previous config", err=f"{type(e).__name__}: {e}")
                errors.append(f"{type(e).__name__}: {e}")
            else:
                with self._lock:
                    old, self._current = self._current, new
                    old.retired = True
                    self._old.append(old)
                    idle = old.refs == 0
                if idle:
                    self._close(old)
                log.info("config reloaded", file=self.config_file, targets=len(new.runtime.targets()))
            self.last_reload_ok = not errors
            if not errors:
                self.last_reload_time = time.time()
            return "; ".join(errors) or None

    @contextmanager
    def _using(self) -> Iterator[Runtime]:
        with self._lock:
            gen = self._current
            gen.refs += 1
        try:
            yield gen.runtime
        finally:
            with self._lock:
                gen.refs -= 1
                idle = gen.retired and gen.refs == 0
            if idle:
                self._close(gen)

    def _close(self, gen: _Generation) -> None:
        """Close a retired runtime in a thread of its own (a logout may hang on a dead peer)."""
        with self._lock:
            if gen.closing is not None:
                return
            gen.closing = threading.Thread(
                target=self._closer, args=(gen,), name="close runtime", daemon=True
            )
        gen.closing.start()

    def _closer(self, gen: _Generation) -> None:
        _close_quietly(gen.runtime)
        with self._lock:
            if gen in self._old:
                self._old.remove(gen)

    def close(self) -> None:
        """Close the runtime in force (--config.check, or a start that failed after loading)."""
        _close_quietly(self._current.runtime)

    def shutdown(self, budget: float) -> bool:
        """Close every runtime, in parallel, for at most `budget` seconds; True if all closes finished."""
        end = time.monotonic() + budget
        with self._lock:
            gens = [self._current, *self._old]
            for g in gens:
                g.retired = True
        for g in gens:
            self._close(g)
        done = True
        for g in gens:
            t = g.closing
            if t is not None:
                t.join(max(0.0, end - time.monotonic()))
                done = done and not t.is_alive()
        return done

    def targets(self) -> list[str]:
        with self._using() as runtime:
            return list(runtime.targets())

    def deadline(self, header: str | None) -> Deadline:
        """`X-Prometheus-Scrape-Timeout-Seconds` minus the offset; without it (or if it is not a positive,
        finite number of seconds: `inf`, `1e400`, `nan`, `-5`), the default timeout."""
        timeout = self.default_timeout
        if header is not None:
            try:
                value = float(header)
            except ValueError:
                value = math.nan
            if 0 < value < math.inf:
                timeout = value
            else:
                shown = header[:40]
                with self._lock:
                    first = shown not in self._bad_headers and len(self._bad_headers) < 100
                    if first:
                        self._bad_headers.add(shown)
                (log.warning if first else log.debug)(
                    "ignoring a bad X-Prometheus-Scrape-Timeout-Seconds; using --scrape.default-timeout",
                    value=shown,
                )
        return Deadline(max(0.05, timeout - self.timeout_offset))

    def render_rate(self) -> float:
        """Seconds one sample takes to render: learned from large answers; before the first, measured
        once on 5,000 samples rendered and compressed as an answer is (about 40 ms)."""
        with self._lock:
            if self._rate is not None:
                return self._rate
        fam = GaugeMetricFamily(
            "colo_calibration_value", "Calibration.", labels=["instance", "vrf", "peer", "peer_as", "kind"]
        )
        n = 5_000
        for i in range(n):
            fam.add_metric(["r1", "default", f"10.0.{i >> 8}.{i & 255}", str(64512 + i), "x"], i)
        t0 = time.perf_counter()
        gzip.compress(render([fam]), compresslevel=1)
        rate = (time.perf_counter() - t0) / n
        log.debug("render rate", microseconds_per_sample=round(rate * 1e6, 2), samples=n)
        with self._lock:
            if self._rate is None:
                self._rate = rate
            return self._rate

    def _expect_render(self, scope: str, seconds: float) -> None:
        """An answer was cut for want of time to render it: keep that much back next time."""
        with self._lock:
            self._render[scope] = max(seconds, self._render.get(scope, 0.0))

    def note_render(self, scope: str, seconds: float, samples: int = 0) -> None:
        """How long rendering the answer of `scope` (a probe target, or "" for /metrics) took. An answer
        with a source down is smaller than a whole one: it may raise the estimate, never lower it (else
        the whole answer after a cut one has no time kept back and is late, and the next is cut again).
        Large answers also teach the time one sample takes to render (see run_jobs' `render_rate`)."""
        with self._lock:
            if samples >= 10_000:
                rate = seconds / samples
                self._rate = rate if self._rate is None else 0.7 * self._rate + 0.3 * rate
                log.debug("render rate", microseconds_per_sample=round(rate * 1e6, 2), samples=samples)
            if len(self._render) > 10_000:
                self._render.clear()
                self._partial.clear()
            if self._partial.pop(scope, False):
                seconds = max(seconds, self._render.get(scope, 0.0))
            self._render[scope] = seconds

    def scrape(self, target: str | None, deadline: Deadline) -> list[Metric]:
        scope = target or ""
        with self._using() as runtime:
            if target is not None and target not in runtime.targets():
                raise UnknownTarget(target)
            # Keep back what rendering this scope's answer took last time (x1.5; run_jobs caps it at half
            # the deadline), so the whole answer fits in Prometheus' timeout.
            reserve = 1.5 * self._render.get(scope, 0.0)
            families = run_jobs(
                runtime.jobs(target),
                deadline,
                self.spec.namespace,
                self.errors,
                scope=scope,
                reserve=reserve,
                render_rate=self.render_rate,
                on_cut=lambda seconds: self._expect_render(scope, seconds),
            )
        up = f"{self.spec.namespace}_up"
        partial = any(s.value != 1 for f in families if f.name == up for s in f.samples)
        with self._lock:
            self._partial[scope] = partial
        return families

    def probe_families(self, target: str, deadline: Deadline) -> Iterable[Metric]:
        yield from self.scrape(target, deadline)
        yield self.errors.family(self.spec.namespace, target)

    def metrics_families(self, deadline: Deadline) -> Iterable[Metric]:
        """/metrics: the process, build info, reload state, and (single-target exporters) the scrape."""
        ns = self.spec.namespace
        yield from REGISTRY.collect()
        info = GaugeMetricFamily(
            f"{ns}_build_info", "Version of the exporter; always 1.", labels=["version", "python_version"]
        )
        info.add_metric([__version__, platform.python_version()], 1)
        yield info
        yield GaugeMetricFamily(
            f"{ns}_config_last_reload_successful",
            "1 if the last config (re)load succeeded.",
            value=int(self.last_reload_ok),
        )
        yield GaugeMetricFamily(
            f"{ns}_config_last_reload_success_timestamp_seconds",
            "When the config was last loaded successfully.",
            value=self.last_reload_time,
        )
        if not self.spec.multi_target:
            yield from self.scrape(None, deadline)
        yield self.errors.family(ns, None)


def _close_quietly(runtime: Runtime) -> None:
    try:
        runtime.close()
    except Exception as e:  # noqa: BLE001
        log.warning("closing a runtime failed", err=f"{type(e).__name__}: {e}")
