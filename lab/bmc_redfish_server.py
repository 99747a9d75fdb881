"""The Redfish test server's HTTP side (standard library only): one `Bmc` (lab/bmc_redfish_model.py) per
port, or a static mockup/fixture tree, with sessions, basic auth and faults.

Control plane (no auth) under /_lab/: POST sensor {id, reading?, state?, health?}, psu {id, health?, state?},
part {id, health?, state?} (drives, controller, DIMMs, CPUs),
fault {status?, message_id?, delay?, trickle? (seconds per byte), body? ("html"|"malformed"|"half"), path?,
count?}, config {option: value}, expire (drops every session), reset; GET stats. The quirk options in
`DEFAULTS` turn on real-world differences one by one. Instead of the sensor table, `--mockup DIR` serves a
static mockup tree (DIR/<path>/index.json, no login) and `--tree FILE` a fixture tree.json (with login).

Run: `python -m lab.bmc_redfish_server --port 8000 [--port 8001 ...] [--delay 1.0]`.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .bmc_redfish_model import DEFAULTS, Bmc, R


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(
        self,
        code: int,
        body: bytes,
        ctype: str = "application/json",
        headers: dict[str, str] | None = None,
        full_length: int | None = None,
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(full_length if full_length is not None else len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if full_length is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, doc: Any, headers: dict[str, str] | None = None) -> None:
        self._send(code, json.dumps(doc).encode(), headers=headers)

    def _error(self, code: int, message_id: str) -> None:
        self._json(
            code,
            {
                "error": {
                    "code": f"Base.1.8.{message_id}",
                    "message": message_id,
                    "@Message.ExtendedInfo": [{"MessageId": f"Base.1.8.{message_id}"}],
                }
            },
        )

    def _body(self) -> Any:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw else {}

    def _authorized(self, bmc: Bmc) -> bool:
        token = self.headers.get("X-Auth-Token")
        if token:
            return token in bmc.sessions
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return False
            return user == bmc.user and pw == bmc.password
        return False

    def _fault(self, bmc: Bmc, path: str) -> bool:
        with bmc.lock:
            f = next((f for f in bmc.faults if f.get("path", "") in path), None)
            if f is not None and f.get("count") is not None:
                f["count"] -= 1
                if f["count"] <= 0:
                    bmc.faults.remove(f)
        if f is None:
            return False
        if f.get("delay"):
            time.sleep(float(f["delay"]))
        if f.get("trickle"):
            self._trickle(float(f["trickle"]))
            return True
        body = f.get("body")
        if body == "html":
            self._send(
                int(f.get("status", 200)),
                b"<html><body><h1>Service Unavailable</h1></body></html>",
                "text/html",
            )
        elif body == "malformed":
            self._send(int(f.get("status", 200)), b'{"@odata.id": "/redfish/v1/", "Name": ')
        elif body == "half":
            self._send(int(f.get("status", 200)), b'{"@odata.id": "/redfish/v1/", "Na', full_length=400)
        elif f.get("status"):
            self._error(int(f["status"]), f.get("message_id", "InternalError"))
        else:
            return False  # a pure delay: answer normally
        return True

    def _trickle(self, every: float) -> None:
        """A BMC that hangs mid-answer: headers at once, then one byte of the body every `every` seconds."""
        body = b'{"@odata.id": "/redfish/v1/", "Name": "' + b"x" * 4000 + b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.close_connection = True
        try:
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(every)
        except OSError:
            pass  # the client gave up

    def do_GET(self) -> None:
        bmc = self.server.bmc
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_lab/stats":
            return self._json(200, {**bmc.stats, "sessions": len(bmc.sessions)})
        if not url.path.startswith(R):
            return self._error(404, "ResourceMissingAtURI")
        with bmc.lock:
            bmc.stats["requests"] += 1
            delay = float(bmc.opts["delay"])
        if delay:
            time.sleep(delay)
        if self._fault(bmc, url.path):
            return None
        if self.server.mockup is not None:
            return self._mockup(url.path)
        if url.path.rstrip("/") not in (R, "/redfish") and not self._authorized(bmc):
            return self._error(401, "NoValidSession")
        query = urllib.parse.unquote(url.query)
        expand = "$expand" in query
        if self.server.tree is not None:
            return self._tree(url.path, expand)
        skip = urllib.parse.parse_qs(url.query).get("$skip", ["0"])[0]
        with bmc.lock:
            bmc.skip = int(skip) if skip.isdigit() else 0
            doc = bmc.resource(url.path, expand)
        if doc is None:
            return self._error(404, "ResourceMissingAtURI")
        return self._json(200, doc)

    def _tree(self, path: str, expand: bool) -> None:
        """A fixture tree (path -> resource); collections expanded when asked and the root advertises it."""
        tree = self.server.tree
        assert tree is not None
        doc = tree.get(urllib.parse.unquote(path).rstrip("/") or "/")
        if doc is None:
            return self._error(404, "ResourceMissingAtURI")
        feats = tree.get(R, {}).get("ProtocolFeaturesSupported", {}).get("ExpandQuery", {})
        if expand and feats.get("ExpandAll") and isinstance(doc.get("Members"), list):
            members = [tree.get(m.get("@odata.id", "").rstrip("/"), m) for m in doc["Members"]]
            doc = {**doc, "Members": members}
        return self._json(200, doc)

    def _mockup(self, path: str) -> None:
        f = self.server.mockup / path.strip("/") / "index.json"  # type: ignore[operator]
        if ".." in path or not f.is_file():
            return self._error(404, "ResourceMissingAtURI")
        return self._send(200, f.read_bytes())

    def do_POST(self) -> None:
        bmc = self.server.bmc
        path = urllib.parse.urlsplit(self.path).path
        try:
            body = self._body()
        except ValueError:
            return self._error(400, "MalformedJSON")
        if path.startswith("/_lab/"):
            return self._control(bmc, path[6:], body)
        with bmc.lock:
            bmc.stats["requests"] += 1
            delay = float(bmc.opts["delay"])
        if delay:
            time.sleep(delay)
        if self._fault(bmc, path):
            return None
        if path.rstrip("/") == f"{R}/SessionService/Sessions":
            if body.get("UserName") != bmc.user or body.get("Password") != bmc.password:
                return self._error(401, "ResourceAtUriUnauthorized")
            with bmc.lock:
                if len(bmc.sessions) >= int(bmc.opts["max_sessions"]):
                    return self._error(503, "SessionLimitExceeded")
                token, sid = secrets.token_hex(16), secrets.token_hex(4)
                bmc.sessions[token] = sid
                bmc.stats["logins"] += 1
            loc = f"{R}/SessionService/Sessions/{sid}"
            return self._json(
                201,
                {"@odata.id": loc, "Id": sid, "UserName": bmc.user},
                headers={"X-Auth-Token": token, "Location": loc},
            )
        return self._error(405, "ActionNotSupported")

    def do_DELETE(self) -> None:
        bmc = self.server.bmc
        path = urllib.parse.urlsplit(self.path).path
        with bmc.lock:
            bmc.stats["requests"] += 1
            for token, sid in list(bmc.sessions.items()):
                if (
                    path.rstrip("/") == f"{R}/SessionService/Sessions/{sid}"
                    and self.headers.get("X-Auth-Token") in bmc.sessions
                ):
                    del bmc.sessions[token]
                    bmc.stats["logouts"] += 1
                    self._send(204, b"")
                    return
        self._error(404, "ResourceMissingAtURI")

    def _control(self, bmc: Bmc, what: str, body: dict[str, Any]) -> None:
        with bmc.lock:
            if what == "part":
                x = bmc.parts.get(body.get("id", ""))
                if x is None:
                    return self._error(404, "ResourceMissingAtURI")
                x.update({k: body[k] for k in ("health", "state") if k in body})
                return self._json(200, {"ok": True})
            if what in ("sensor", "psu"):
                s = bmc.sensors.get(body.get("id", ""))
                if s is None:
                    return self._error(404, "ResourceMissingAtURI")
                for k in ("reading", "state", "health"):
                    if k in body:
                        s[k] = body[k]
                n = len(bmc.sel) + 1  # every change is logged, as a BMC would
                bmc.sel.append(
                    {
                        "@odata.id": f"{R}/Systems/1/LogServices/SEL/Entries/{n}",
                        "Id": str(n),
                        "Name": "Log Entry",
                        "EntryType": "SEL",
                        "Message": f"{s['name']} changed",
                    }
                )
            elif what == "fault":
                bmc.faults.append(body)
            elif what == "config":
                unknown = set(body) - set(DEFAULTS)
                if unknown:
                    return self._error(400, "PropertyUnknown")
                bmc.opts.update(body)
            elif what == "expire":
                bmc.sessions.clear()
            elif what != "reset":
                return self._error(404, "ResourceMissingAtURI")
        if what == "reset":
            bmc.reset()
        return self._json(200, {"ok": True})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        port: int,
        bmc: Bmc,
        mockup: Path | None = None,
        host: str = "127.0.0.1",
        tls: tuple[str, str] | None = None,
        tree: dict[str, Any] | None = None,
    ) -> None:
        self.bmc, self.mockup, self.tree = bmc, mockup, tree
        super().__init__((host, port), Handler)
        if tls:
            import ssl

            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            # the handshake happens in the request's thread, not in the accept loop
            self.socket = ctx.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, action="append", required=True)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--mockup", type=Path)
    ap.add_argument("--tree", type=Path, help="a fixture tree.json (path -> resource) to serve, with login")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()
    tls = (a.tls_cert, a.tls_key) if a.tls_cert else None
    tree = json.loads(a.tree.read_text()) if a.tree else None
    servers = [Server(p, Bmc(a.delay), a.mockup, tls=tls, tree=tree) for p in a.port]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
