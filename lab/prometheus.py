"""Debian's Prometheus, started on loopback with a generated config, and its HTTP API."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from .proc import Lab, LabError, free_port, port_open, require, wait_for

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"


class Prometheus:
    def __init__(
        self,
        lab: Lab,
        scrape_configs: list[dict[str, Any]],
        rule_files: list[str] = (),
        port: int | None = None,
        interval: str = "2s",
        name: str = "prometheus",
        *,
        evaluation_interval: str | None = None,
        alertmanagers: list[str] = (),
        extra_args: list[str] = (),
    ) -> None:
        """`alertmanagers`: host:port of Alertmanagers to send alerts to; `extra_args`: more flags (e.g.
        `--rules.alert.resend-delay=2s`, `--enable-feature=extra-scrape-metrics`)."""
        require(PROMETHEUS, "prometheus")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        d = lab.workdir / name
        d.mkdir(parents=True, exist_ok=True)
        cfg = {
            "global": {
                "scrape_interval": interval,
                "scrape_timeout": interval,
                "evaluation_interval": evaluation_interval or interval,
            },
            "rule_files": [str(Path(r).resolve()) for r in rule_files],
            "scrape_configs": scrape_configs,
        }
        if alertmanagers:
            cfg["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": list(alertmanagers)}]}]}
        (d / "prometheus.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        self.proc = lab.start(
            name,
            [
                PROMETHEUS,
                f"--config.file={d / 'prometheus.yml'}",
                f"--storage.tsdb.path={d / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
                *extra_args,
            ],
        )
        wait_for(
            lambda: self.proc.check_alive() and port_open("127.0.0.1", self.port),
            30,
            "prometheus to listen",
            log=self.proc.log,
        )

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise LabError(f"prometheus API {path}: {body}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return self.api("query", query=expr)["result"]

    def alerts(self) -> list[dict[str, Any]]:
        """Pending and firing alerts (/api/v1/alerts)."""
        return self.api("alerts")["alerts"]

    def targets(self) -> list[dict[str, Any]]:
        return self.api("targets")["activeTargets"]

    def wait_targets_up(self, timeout: float = 60) -> list[dict[str, Any]]:
        def all_up() -> list[dict[str, Any]] | None:
            ts = self.targets()
            return ts if ts and all(t["health"] == "up" for t in ts) else None

        try:
            return wait_for(all_up, timeout, "every Prometheus target to be up", interval=0.5)  # type: ignore[return-value]
        except LabError as e:
            detail = "; ".join(
                f"{t['scrapeUrl']}: {t['health']} {t.get('lastError', '')}" for t in self.targets()
            )
            raise LabError(f"{e}: {detail}") from None


def promtool(*args: str) -> tuple[int, str]:
    import subprocess

    require(PROMTOOL, "prometheus")
    r = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60, check=False)
    return r.returncode, r.stdout + r.stderr


def check_metrics(text: str | bytes) -> list[str]:
    """`promtool check metrics` problems (an empty list when clean)."""
    import subprocess

    require(PROMTOOL, "prometheus")
    data = text.encode() if isinstance(text, str) else text
    r = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=data, capture_output=True, timeout=60, check=False
    )
    out = (r.stdout + r.stderr).decode(errors="replace").strip()
    return [line for line in out.splitlines() if line.strip()] if (r.returncode or out) else []
