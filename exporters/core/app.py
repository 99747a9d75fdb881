"""What one running exporter holds: its spec, the current config and runtime, reload, and scrapes."""

from __future__ import annotations

import platform
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric

from .. import __version__
from .config import ConfigError, load_config
from .log import get_logger
from .scrape import BASE_REASONS, Deadline, ErrorCounters, Job, run_jobs

log = get_logger("exporters.core.app")


class Runtime(Protocol):
    """What an exporter builds from its config; rebuilt on reload, the old one closed."""

    def targets(self) -> list[str]:
        """Names a `/probe?target=` may ask for (empty for single-target exporters)."""

    def jobs(self, target: str | None) -> list[Job]:
        """The jobs of one scrape: of `target` for /probe, of everything for /metrics (target None)."""

    def close(self) -> None:
        """Release sessions and sockets."""


@dataclass(frozen=True)
class ExporterSpec:
    name: str  # "snmp"
    namespace: str  # "colo_snmp"
    description: str  # one line, for --help and the landing page
    default_port: int
    config_type: type  # root dataclass of the config file
    build: Callable[[Any], Runtime]  # config -> runtime
    multi_target: bool = False  # /probe?target=NAME instead of data on /metrics
    config_required: bool = False
    default_config_file: str | None = None  # read when --config.file is not given and it exists
    error_reasons: tuple[str, ...] = ()  # pre-declared values of <ns>_scrape_errors_total{reason}
    docs_url: str = "https://github.com/colo-exporters/colo-exporters"


class UnknownTarget(Exception):
    pass


class App:
    # A closed runtime may still be in use by a scrape that started before the reload.
    CLOSE_GRACE_SECONDS = 120.0

    def __init__(
        self,
        spec: ExporterSpec,
        config_file: str | None,
        *,
        timeout_offset: float = 0.5,
        default_timeout: float = 10.0,
        expand_env: bool = False,
    ) -> None:
        self.spec = spec
        self.config_file = config_file
        self.expand_env = expand_env
        self.timeout_offset = timeout_offset
        self.default_timeout = default_timeout
        self.errors = ErrorCounters(
            BASE_REASONS + tuple(r for r in spec.error_reasons if r not in BASE_REASONS)
        )
        self._lock = threading.Lock()
        self.config, self.runtime = self._load()
        self.last_reload_ok = True
        self.last_reload_time = time.time()

    def _load(self) -> tuple[Any, Runtime]:
        config: Any = load_config(self.spec.config_type, self.config_file, expand_env=self.expand_env)
        try:
            runtime = self.spec.build(config)
        except ConfigError as e:
            raise e.within(file=self.config_file) if not e.file else e from None
        return config, runtime

    def reload(self) -> str | None:
        """Re-read the config; on failure keep the old one. Returns the error, or None."""
        try:
            config, runtime = self._load()
        except ConfigError as e:
            self.last_reload_ok = False
            log.error("reload failed; keeping the previous config", err=str(e))
            return str(e)
        except Exception as e:  # noqa: BLE001 - a broken build must not take the exporter down
            self.last_reload_ok = False
            log.error("reload failed; keeping the previous config", err=f"{type(e).__name__}: {e}")
            return f"{type(e).__name__}: {e}"
        with self._lock:
            old, self.config, self.runtime = self.runtime, config, runtime
        self.last_reload_ok = True
        self.last_reload_time = time.time()
        log.info("config reloaded", file=self.config_file, targets=len(runtime.targets()))
        t = threading.Timer(self.CLOSE_GRACE_SECONDS, _close_quietly, args=(old,))
        t.daemon = True
        t.start()
        return None

    def close(self) -> None:
        _close_quietly(self.runtime)

    def targets(self) -> list[str]:
        return list(self.runtime.targets())

    def deadline(self, header: str | None) -> Deadline:
        """`X-Prometheus-Scrape-Timeout-Seconds` minus the offset, or the default timeout."""
        timeout = self.default_timeout
        if header:
            try:
                timeout = float(header)
            except ValueError:
                log.debug("ignoring bad scrape timeout header", value=header[:40])
        return Deadline(max(0.05, timeout - self.timeout_offset))

    def scrape(self, target: str | None, deadline: Deadline) -> list[Metric]:
        runtime = self.runtime
        if target is not None and target not in runtime.targets():
            raise UnknownTarget(target)
        return run_jobs(runtime.jobs(target), deadline, self.spec.namespace, self.errors, scope=target or "")

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
        log.warning("closing the previous runtime failed", err=f"{type(e).__name__}: {e}")
