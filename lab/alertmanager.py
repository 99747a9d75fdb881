"""Debian's Alertmanager on loopback with a given config, and a webhook receiver of the tests' own that
records every notification it gets (for the end-to-end alert tests and the demo)."""

from __future__ import annotations

import copy
import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from .proc import Lab, free_port, port_open, require, wait_for

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
AMTOOL = "/usr/bin/amtool"
SHIPPED = Path(__file__).resolve().parent.parent / "alerts" / "alertmanager.yml"


@dataclass(frozen=True)
class Notification:
    """One webhook POST: when it arrived (time.monotonic()), the receiver (URL path) and its payload."""

    at: float
    receiver: str
    body: dict[str, Any]

    @property
    def status(self) -> str:
        return self.body["status"]

    @property
    def group(self) -> dict[str, str]:
        return self.body.get("groupLabels", {})

    def alerts(self, status: str | None = None) -> list[dict[str, Any]]:
        return [a for a in self.body["alerts"] if status is None or a["status"] == status]

    def brief(self) -> str:
        names = ", ".join(f"{a['labels'].get('alertname')}[{a['status']}]" for a in self.body["alerts"])
        return f"{self.receiver} {self.status} {self.group}: {names}"


@dataclass
class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that keeps every Alertmanager webhook notification it receives."""

    lab: Lab
    log: Path | None = None
    notifications: list[Notification] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                note = Notification(time.monotonic(), self.path.strip("/"), body)
                with outer._lock:
                    outer.notifications.append(note)
                if outer.log:
                    with open(outer.log, "a") as f:
                        f.write(time.strftime("%H:%M:%S ") + note.brief() + "\n")
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True, name="webhook").start()
        self.lab.callback(self.server.server_close)
        self.lab.callback(self.server.shutdown)

    def received(self) -> list[Notification]:
        with self._lock:
            return list(self.notifications)


def lab_config(
    receiver_url: str,
    shipped: Path = SHIPPED,
    group_wait: str | None = None,
    group_interval: str | None = None,
    repeat_interval: str | None = None,
) -> dict[str, Any]:
    """The shipped config with every receiver replaced by a webhook to `<receiver_url>/<receiver name>`
    (routes, grouping and inhibitions as shipped), and the root route's timers optionally shortened."""
    cfg = copy.deepcopy(yaml.safe_load(shipped.read_text()))
    for r in cfg["receivers"]:
        name = r["name"]
        for k in [k for k in r if k.endswith("_configs")]:
            del r[k]
        if name != "blackhole":
            r["webhook_configs"] = [{"url": f"{receiver_url}/{name}", "send_resolved": True}]
    cfg["global"] = {"resolve_timeout": cfg.get("global", {}).get("resolve_timeout", "5m")}
    for key, v in (
        ("group_wait", group_wait),
        ("group_interval", group_interval),
        ("repeat_interval", repeat_interval),
    ):
        if v:
            cfg["route"][key] = v
    return cfg


class Alertmanager:
    """`prometheus-alertmanager` on 127.0.0.1 (no clustering), with `config` (a dict, or a file)."""

    def __init__(
        self, lab: Lab, config: dict[str, Any] | Path, port: int | None = None, name: str = "alertmanager"
    ) -> None:
        require(ALERTMANAGER, "prometheus-alertmanager")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        d = lab.workdir / name
        (d / "data").mkdir(parents=True, exist_ok=True)
        if isinstance(config, dict):
            path = d / "alertmanager.yml"
            path.write_text(yaml.safe_dump(config, sort_keys=False))
        else:
            path = Path(config)
        self.config_file = path
        self.proc = lab.start(
            name,
            [
                ALERTMANAGER,
                f"--config.file={path}",
                f"--storage.path={d / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                "--log.level=info",
            ],
        )
        wait_for(
            lambda: self.proc.check_alive() and port_open("127.0.0.1", self.port) and self._ready(),
            30,
            "alertmanager to be ready",
            log=self.proc.log,
        )

    def _ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/-/ready", timeout=5) as r:
            return r.status == 200

    def alerts(self, **params: str) -> list[dict[str, Any]]:
        """GET /api/v2/alerts (params: active, silenced, inhibited, unprocessed, filter)."""
        q = "&".join(f"{k}={v}" for k, v in params.items())
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts" + (f"?{q}" if q else ""), timeout=10) as r:
            return json.load(r)


def amtool(*args: str) -> tuple[int, str]:
    import subprocess

    require(AMTOOL, "prometheus-alertmanager")
    r = subprocess.run([AMTOOL, *args], capture_output=True, text=True, timeout=60, check=False)
    return r.returncode, r.stdout + r.stderr
