"""A minimal exporter on the core, for testing the core itself: each target is a TCP peer that answers
one line with a number. Run: `python tests/core/toyexporter.py --config.file ...`."""

from __future__ import annotations

import socket
import sys
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from exporters.core import ConfigError, Duration, Families, Job, ScrapeError, Secret, get_logger
from exporters.core.app import ExporterSpec
from exporters.core.config import ReadableFile


class LibraryWarning(UserWarning):
    """What a library's warnings.warn() raises; Python's default filter shows it once per place (as it
    did urllib3's InsecureRequestWarning, which the exporters met before the core's HTTP client)."""


@dataclass(frozen=True)
class Target:
    address: str
    password: Secret
    timeout: Duration = Duration(5)

    def validate(self) -> None:
        if ":" not in self.address:
            raise ConfigError("address", "expected host:port")


@dataclass(frozen=True)
class Config:
    targets: dict[str, Target] = field(default_factory=dict)
    multi: bool = True
    # Knobs for the core's own tests:
    build_delay: Duration = Duration(0)  # building the runtime takes this long (a slow reload)
    close_delay: Duration = Duration(0)  # close() takes this long (a peer that hangs at logout)
    marker: str = ""  # named in the log line when this runtime is closed
    warn: bool = False  # every scrape raises a library's warning (LibraryWarning)
    explode: bool = False  # jobs() raises: an error inside the HTTP handler
    samples: int = 0  # extra series per target scrape (a slow render)
    extra_file: ReadableFile | None = None  # a file the config refers to


log = get_logger("toy")


class Runtime:
    def __init__(self, config: Config) -> None:
        self.config = config
        time.sleep(config.build_delay)

    def targets(self) -> list[str]:
        return list(self.config.targets)

    def jobs(self, target: str | None) -> list[Job]:
        if self.config.explode:
            raise RuntimeError("the toy exploded")
        names = [target] if target else list(self.config.targets)
        return [
            Job({"target": n}, lambda d, n=n: self._read(n, d), self.config.targets[n].timeout) for n in names
        ]

    def _read(self, name: str, deadline) -> Families:
        t = self.config.targets[name]
        host, _, port = t.address.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=deadline.timeout(doing="connect")) as s:
                s.settimeout(deadline.timeout(doing="reading the answer"))
                s.sendall(t.password.reveal().encode() + b"\n")
                line = s.makefile().readline()
        except OSError as e:
            raise ScrapeError("connect", f"{t.address}: {e}") from None
        if line.startswith("denied"):
            raise ScrapeError("auth", "peer refused the password")
        try:
            v = float(line)
        except ValueError:
            raise ScrapeError("malformed", f"not a number: {line[:40]!r}") from None
        if self.config.warn:
            warnings.warn(f"the library is unsure about host '{host}'", LibraryWarning, stacklevel=1)
        f = Families(SPEC.namespace)
        f.gauge("reading_celsius", "The peer's reading.", ["sensor"]).add_metric(["a"], v)
        f.counter("reads_total", "Reads served by the peer.", ["sensor"]).add_metric(["a"], 7)
        if self.config.samples:
            g = f.gauge("extra", "Many series, for a render that takes time.", ["target", "i"])
            for i in range(self.config.samples):
                g.add_metric([name, str(i)], i)
        return f

    def close(self) -> None:
        time.sleep(self.config.close_delay)
        log.info("toy runtime closed", marker=self.config.marker)


SINGLE = ExporterSpec("toy", "Toy exporter, single-target.", 19470, Config, Runtime)
SPEC = replace(
    SINGLE,
    description="Toy exporter for core tests.",
    multi_target=True,
    config_required=True,
    error_reasons=("connect", "auth"),
)

if __name__ == "__main__":
    single = "--single" in sys.argv
    if single:
        sys.argv.remove("--single")
    (SINGLE if single else SPEC).main()
