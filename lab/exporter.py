"""Running one of our exporters as a real process, and reading what it exposes."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from .proc import Lab, free_port, port_open, wait_for

ROOT = Path(__file__).resolve().parent.parent


class ExporterProc:
    """`colo-<name>-exporter` started with a config (a dict is written as YAML) on a free loopback port."""

    def __init__(
        self,
        lab: Lab,
        name: str,
        config: dict[str, Any] | str | Path | None = None,
        args: list[str] | None = None,
        port: int | None = None,
        log_level: str = "debug",
        prefix: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """`prefix` runs the exporter under a wrapper (`["prlimit", "--nofile=1024"]`); `env` adds to its
        environment (secrets for --config.expand-environment-variables)."""
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            *(prefix or []),
            sys.executable,
            "-m",
            "exporters",
            name,
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--log.level={log_level}",
        ]
        if isinstance(config, dict):
            path = lab.workdir / f"{name}-exporter.yml"
            path.write_text(yaml.safe_dump(config, sort_keys=False))
            config = path
        self.config_file = Path(config) if config else None
        if config:
            argv.append(f"--config.file={config}")
        self.proc = lab.start(
            f"{name}-exporter-{self.port}",
            argv + list(args or []),
            cwd=ROOT,
            env={**(env or {}), "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")},
        )
        wait_for(
            lambda: self.proc.check_alive() and port_open("127.0.0.1", self.port),
            30,
            f"colo-{name}-exporter to listen",
            log=self.proc.log,
        )

    def get(self, path: str, timeout: float = 30, headers: dict[str, str] | None = None) -> tuple[int, str]:
        req = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self, path: str = "/metrics", **kw: Any) -> str:
        code, body = self.get(path, **kw)
        assert code == 200, f"{path}: HTTP {code}: {body[:300]}"
        return body

    def probe(self, target: str, **kw: Any) -> str:
        return self.metrics(f"/probe?target={target}", **kw)

    def log_text(self) -> str:
        return self.proc.log.read_text(errors="replace")


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Exposition text -> {(sample name, labels): value}."""
    out: Samples = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def find(samples: Samples, name: str, **labels: str) -> list[tuple[dict[str, str], float]]:
    """Samples called `name` whose labels include `labels`."""
    want = set(labels.items())
    return [(dict(lbl), v) for (n, lbl), v in samples.items() if n == name and want <= lbl]


def value(samples: Samples, name: str, **labels: str) -> float:
    """The one sample called `name` with these labels (AssertionError if none or several)."""
    hits = find(samples, name, **labels)
    assert len(hits) == 1, f"{name}{labels}: expected one sample, found {len(hits)}: {hits[:5]}"
    return hits[0][1]
