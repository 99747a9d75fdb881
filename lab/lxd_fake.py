"""A tiny LXD look-alike on a unix socket, for bad input the real daemon will not produce.

Malformed JSON, a slow member, VM-shaped state, 5,000 instances: each route answers fixed bytes,
optionally after a delay. It is a fake of bad input, never a stand-in for the real peer's behaviour.
"""

from __future__ import annotations

import json
import socket
import socketserver
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .proc import Lab


def sync(metadata: Any) -> bytes:
    return json.dumps(
        {
            "type": "sync",
            "status": "Success",
            "status_code": 200,
            "operation": "",
            "error_code": 0,
            "error": "",
            "metadata": metadata,
        }
    ).encode()


def error(code: int, message: str) -> bytes:
    return json.dumps(
        {
            "type": "error",
            "status": "",
            "status_code": 0,
            "operation": "",
            "error_code": code,
            "error": message,
            "metadata": None,
        }
    ).encode()


def server_info(name: str = "node1", clustered: bool = False) -> bytes:
    return sync(
        {
            "api_version": "1.0",
            "auth": "trusted",
            "api_extensions": ["instance_all_projects"],
            "environment": {"server_name": name, "server_version": "5.0.2", "server_clustered": clustered},
        }
    )


class Route:
    """`delay` before the answer; `drip` seconds between each 64-byte piece of the body."""

    def __init__(self, body: bytes, status: int = 200, delay: float = 0.0, drip: float = 0.0) -> None:
        self.body, self.status, self.delay, self.drip = body, status, delay, drip


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeLXD:
    """`FakeLXD(lab, routes)`: path -> Route; `hits` counts requests per path (without the query).

    A route key may carry a query (`/1.0/metrics?target=node1`, `/1.0/instances?recursion=2`): it is taken
    when every `k=v` in it is in the request's query, before the plain path's route."""

    def __init__(self, lab: Lab, routes: dict[str, Route], socket: str | None = None) -> None:
        self.dir = Path(socket).parent if socket else Path(tempfile.mkdtemp(prefix="colo-lxd-fake-"))
        self.socket = socket or str(self.dir / "unix.socket")
        self._own_dir = socket is None
        self.routes = routes
        self.hits: dict[str, int] = {}
        self.requests: list[str] = []  # every request line's target, in order
        self.conns: set[socket.socket] = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                fake.conns.add(self.connection)

            def finish(self) -> None:
                fake.conns.discard(self.connection)
                super().finish()

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                path = path.rstrip("/")
                fake.hits[path] = fake.hits.get(path, 0) + 1
                fake.requests.append(self.path)
                route = fake.route(path, query) or Route(error(404, "not found"), 404)
                if route.delay:
                    time.sleep(route.delay)
                try:
                    self.send_response(route.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    if route.drip:
                        for i in range(0, len(route.body), 64):
                            self.wfile.write(route.body[i : i + 64])
                            self.wfile.flush()
                            time.sleep(route.drip)
                    else:
                        self.wfile.write(route.body)
                except OSError:
                    pass

            def log_message(self, *args: Any) -> None:
                pass

            def address_string(self) -> str:
                return "unix"

        self.server = _Server(self.socket, Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self.thread.start()
        self.closed = False
        lab.callback(self.close)

    def route(self, path: str, query: str) -> Route | None:
        have = set(unquote(query).split("&")) if query else set()
        for key, r in self.routes.items():
            base, _, want = key.partition("?")
            if want and base == path and set(want.split("&")) <= have:
                return r
        return self.routes.get(path)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.shutdown()
        for c in list(self.conns):  # as a daemon that exits: kept-alive connections die too
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server.server_close()
        Path(self.socket).unlink(missing_ok=True)
        if self._own_dir:
            self.dir.rmdir()
