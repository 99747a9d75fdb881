"""colo-bmc-exporter: fans, temperatures, power and health of servers' BMCs over IPMI and Redfish.

Multi-target: `/probe?target=NAME` reads the BMC named NAME in the config, one job per source
(`colo_bmc_up{target,source}`); nothing that is not in the config is ever contacted.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable

from prometheus_client.core import Metric

from ..core import Deadline, Job, get_logger
from ..core.app import ExporterSpec
from .collector import families
from .config import Config
from .ipmi import IpmiSource
from .redfish import LOGINS, RedfishSource

log = get_logger(__name__)
CLOSE_BUDGET = 4.0  # seconds: closing every source at shutdown (the core allows 5)
_BUILT = itertools.count(1)
_latest = 0  # the newest runtime built: closing it means the process is stopping


class Runtime:
    def __init__(self, config: Config) -> None:
        global _latest
        self.config = config
        self.serial = _latest = next(_BUILT)
        self.sources: dict[str, list[tuple[str, IpmiSource | RedfishSource, float | None]]] = {}
        for name, t in config.targets.items():
            srcs: list[tuple[str, IpmiSource | RedfishSource, float | None]] = []
            timeout = float(t.timeout) if t.timeout is not None else None
            if t.ipmi is not None:
                ipmi, auth, no_effect = config.ipmi_for(name)
                if no_effect:
                    log.info("ipmi_exporter module settings that have no effect here", target=name,
                             settings="; ".join(no_effect))  # fmt: skip
                srcs.append(("ipmi", IpmiSource(name, ipmi, auth), timeout))
            if t.redfish is not None:
                if t.redfish.origin.startswith("http://"):
                    log.warning(
                        "redfish over plain http (insecure_http: true): the password crosses the network "
                        "in clear",
                        target=name,
                    )
                srcs.append(
                    ("redfish", RedfishSource(name, t.redfish, config.auths[t.redfish.auth]), timeout)
                )
            self.sources[name] = srcs
        # Targets the new config no longer has: their Redfish sessions are deleted now, not with the old
        # runtime (the core closes that one later).
        LOGINS.keep_only({n for n, t in config.targets.items() if t.redfish is not None})

    def targets(self) -> list[str]:
        return list(self.sources)

    def jobs(self, target: str | None) -> list[Job]:
        if target is None:
            return []
        return [
            Job({"target": target, "source": kind}, _runner(target, kind, src), timeout)
            for kind, src, timeout in self.sources.get(target, [])
        ]

    def close(self) -> None:
        """Close every source at once, within CLOSE_BUDGET. Closing the newest runtime means shutdown (or
        the end of --config.check): then every Redfish session of the process is deleted, including those
        of older runtimes the core has not closed yet; an older runtime's close gives up only its own."""
        last = self.serial == _latest
        calls: list[Callable[[], None]] = [src.close for srcs in self.sources.values() for _, src, _ in srcs]
        if last:
            calls.append(LOGINS.close_all)
        threads = [threading.Thread(target=c, daemon=True, name="bmc close") for c in calls]
        deadline = Deadline(CLOSE_BUDGET)
        for t in threads:
            t.start()
        for t in threads:
            t.join(deadline.remaining())


def _runner(
    target: str, kind: str, src: IpmiSource | RedfishSource
) -> Callable[[Deadline], Iterable[Metric]]:
    def run(deadline: Deadline) -> Iterable[Metric]:
        return families(SPEC.namespace, target, kind, src.read(deadline))

    return run


SPEC = ExporterSpec(
    name="bmc",
    description="Fans, temperatures, power and PSU health of server BMCs over IPMI and Redfish",
    default_port=9473,
    config_type=Config,
    build=Runtime,
    multi_target=True,
    config_required=True,
    error_reasons=("auth", "session_limit", "connect", "tls", "http", "bad_link", "bad_sdr"),
)
