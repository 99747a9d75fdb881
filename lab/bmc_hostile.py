"""A hostile Redfish service, and a tripwire: a second loopback listener that must never receive a byte.

A BMC is not trusted (old firmware, a shared management VLAN). This server answers like a small Redfish
service (one system, one chassis with legacy Thermal and Power, sessions), but every link it hands out
also comes in hostile forms pointing at the tripwire: `@host:port/...`, `//host:port/...`, absolute
URLs to another port or host, backslashes, control characters (CR LF, NUL, TAB), a relative path, and a
"port concatenation" link (`9/redfish/v1`, which `base + link` turns into the tripwire's port when the
service listens on P and the tripwire on P*10+9). It hides them in the service root's `Links.Sessions`,
in collection `Members`, in `Members@odata.nextLink`, in the chassis' `Thermal`/`Power`/`Sensors` links,
and in the session's `Location` header. With `redirects=True` every method (GET, POST, DELETE: also the
logout) answers with a redirect to the tripwire, cycling through 301, 302, 303, 307 and 308 (or only the
methods named in `redirects`); methods named in `hang` answer only after 30 s.

Both run in threads of the test process: `with Tripwire() as trip, HostileRedfish(trip) as bmc: ...`;
`trip.touched()` is what a test asserts to be empty. The good part of the tree has values the exporter must
still read: `GOOD` (temperature 31 C, fan 4100 RPM, PSU 1 ok, power 250 W).
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .bmc import PASSWORD, USER

R = "/redfish/v1"
GOOD = {"temperature": ("Inlet Temp", 31.0), "fan": ("Fan 1", 4100.0), "psu": "PSU 1", "watts": 250.0}
REDIRECTS = (301, 302, 303, 307, 308)
HANG_SECONDS = 30.0


class Tripwire:
    """Listens on 127.0.0.1 (a given port or a free one) and records every connection and byte."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.host, self.port = self.sock.getsockname()[:2]
        self.connections = 0
        self.data = bytearray()
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True, name=f"tripwire {self.port}")
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    def _drain(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        with conn:
            try:
                while chunk := conn.recv(65536):
                    with self._lock:
                        self.data.extend(chunk)
            except OSError:
                pass

    def touched(self) -> str:
        """'' if nothing ever arrived, else what did (connections and the first bytes)."""
        with self._lock:
            if not self.connections and not self.data:
                return ""
            return f"{self.connections} connection(s), {len(self.data)} bytes: {bytes(self.data[:300])!r}"

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.sock.close()

    def __enter__(self) -> Tripwire:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def concat_port_pair() -> tuple[int, int]:
    """Two free loopback ports P and P*10+9, for the `9/redfish/v1` link (P below 6554)."""
    for p in range(2001, 6553, 37):
        q = p * 10 + 9
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", p))
                b.bind(("127.0.0.1", q))
        except OSError:
            continue
        return p, q
    raise OSError("no free port pair P, P*10+9 on 127.0.0.1")


def _powered(path: str, name: str, **links: str) -> dict[str, Any]:
    """A healthy, powered-on resource `1` (a chassis or a system) with `links` as `{"@odata.id": ...}`."""
    return {
        "@odata.id": path,
        "Id": "1",
        "Name": name,
        "PowerState": "On",
        "Status": {"State": "Enabled", "Health": "OK", "HealthRollup": "OK"},
        **{k: {"@odata.id": v} for k, v in links.items()},
    }


class HostileRedfish:
    """The hostile service on 127.0.0.1:`port` (free if 0), links aimed at `trip`."""

    def __init__(
        self,
        trip: Tripwire,
        port: int = 0,
        redirects: bool | set[str] = False,
        hang: frozenset[str] = frozenset(),
        user: str = USER,
        password: str = PASSWORD,
    ) -> None:
        self.trip, self.user, self.password = trip, user, password
        self.redirects: set[str] = {"GET", "POST", "DELETE"} if redirects is True else set(redirects or ())
        self.hang = set(hang)  # methods answered only after HANG_SECONDS (a BMC that stopped answering)
        self.sessions: dict[str, str] = {}
        self.requests: list[tuple[str, str]] = []  # (method, raw request target) as received
        self.logins = self.logouts = 0
        self.lock = threading.Lock()
        self._n = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.server.daemon_threads = True
        self.server.bmc = self  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name=f"hostile redfish {self.port}",
        )
        self._thread.start()

    # -- links ------------------------------------------------------------------------------------------
    def hostile(self, path: str) -> list[str]:
        """Every way a link to `path` can leave the service."""
        t = f"{self.trip.host}:{self.trip.port}"
        out = [
            f"@{t}{path}",
            f"//{t}{path}",
            f"http://{t}{path}",
            f"https://{t}{path}",
            f"http://colo-hostile.invalid{path}",
            f"\\\\{t}\\{path.lstrip('/')}",
            f"{path}\\..\\@{t}",
            f"/\\{t}{path}",
            f"{path}\r\nHost: {t}",
            f"{path}\x00@{t}",
            f"{path}\t@{t}",
            path.lstrip("/"),
            f":{self.trip.port}{path}",
            f"{R}/../..//{t}{path}",
        ]
        if str(self.trip.port) == f"{self.port}9":
            out.append(f"9{path}")
        return out

    def _trip_url(self, path: str, scheme: str = "http:") -> str:
        """`path` on the tripwire as an absolute URL, or with `scheme=""` as `//host:port/...`."""
        return f"{scheme}//{self.trip.host}:{self.trip.port}{path}"

    def _members(self, paths: list[str]) -> list[dict[str, str]]:
        out = [{"@odata.id": p} for p in paths]
        for p in paths:
            out += [{"@odata.id": h} for h in self.hostile(p)]
        return out

    def resource(self, path: str) -> dict[str, Any] | None:
        p = path.rstrip("/") or "/"
        if p in (R, "/redfish"):
            return {
                "@odata.id": f"{R}/",
                "Id": "RootService",
                "Name": "Hostile Root",
                "RedfishVersion": "1.15.0",
                "Systems": {"@odata.id": self._trip_url(f"{R}/Systems", scheme="")},
                "Chassis": {"@odata.id": f"{R}/Chassis"},
                "SessionService": {"@odata.id": self._trip_url(f"{R}/SessionService")},
                "Links": {
                    "Sessions": {
                        "@odata.id": f"@{self.trip.host}:{self.trip.port}{R}/SessionService/Sessions"
                    }
                },
            }
        if p == f"{R}/Chassis":
            return {
                "@odata.id": p,
                "Name": "Chassis",
                "Members": self._members([f"{R}/Chassis/1"]),
                "Members@odata.nextLink": self._trip_url(f"{R}/Chassis?$skip=1"),
            }
        if p == f"{R}/Chassis/1":
            return _powered(
                p,
                "Hostile Chassis",
                Thermal=f"{p}/Thermal",
                Power=f"{p}/Power",
                Sensors=self._trip_url(f"{p}/Sensors", scheme=""),
                ThermalSubsystem=f"{p}/ThermalSubsystem\\..\\..\\@{self.trip.host}",
                PowerSubsystem=self._trip_url(f"{p}/PowerSubsystem"),
            )
        if p == f"{R}/Chassis/1/Thermal":
            (tn, tv), (fn, fv) = GOOD["temperature"], GOOD["fan"]
            return {
                "@odata.id": p,
                "Id": "Thermal",
                "Name": "Thermal",
                "Temperatures": [
                    {
                        "MemberId": "0",
                        "Name": tn,
                        "ReadingCelsius": tv,
                        "Status": {"State": "Enabled", "Health": "OK"},
                        "RelatedItem": self._members([f"{R}/Chassis/1"]),
                    }
                ],
                "Fans": [
                    {
                        "MemberId": "0",
                        "Name": fn,
                        "Reading": fv,
                        "ReadingUnits": "RPM",
                        "Status": {"State": "Enabled", "Health": "OK"},
                    }
                ],
            }
        if p == f"{R}/Chassis/1/Power":
            return {
                "@odata.id": p,
                "Id": "Power",
                "Name": "Power",
                "PowerControl": [
                    {"MemberId": "0", "Name": "System Power Control", "PowerConsumedWatts": GOOD["watts"]}
                ],
                "PowerSupplies": [
                    {"MemberId": "0", "Name": GOOD["psu"], "Status": {"State": "Enabled", "Health": "OK"}}
                ],
            }
        if p == f"{R}/Systems":
            return {"@odata.id": p, "Name": "Systems", "Members": self._members([f"{R}/Systems/1"])}
        if p == f"{R}/Systems/1":
            return _powered(
                p,
                "System",
                LogServices=self._trip_url(f"{p}/LogServices"),
                Storage=self._trip_url(f"{p}/Storage", scheme=""),
                Memory=f"{p}/Memory",
                Processors=f"@{self.trip.host}{p}",
            )
        if p == f"{R}/Systems/1/Memory":
            return {
                "@odata.id": p,
                "Name": "Memory",
                "Members": [{"@odata.id": h} for h in self.hostile(f"{p}/DIMM1")],
            }
        return None

    def next_redirect(self) -> int:
        with self.lock:
            self._n += 1
            return REDIRECTS[self._n % len(REDIRECTS)]

    def stats(self) -> dict[str, int]:
        with self.lock:
            return {
                "logins": self.logins,
                "logouts": self.logouts,
                "sessions": len(self.sessions),
                "requests": len(self.requests),
            }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(2)

    def __enter__(self) -> HostileRedfish:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet
        pass

    @property
    def bmc(self) -> HostileRedfish:
        return self.server.bmc  # type: ignore[attr-defined, no-any-return]

    def _send(self, code: int, doc: Any = None, headers: dict[str, str] | None = None) -> None:
        body = b"" if doc is None else json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self) -> bool:
        if self.command in self.bmc.hang:
            time.sleep(HANG_SECONDS)
        if self.command not in self.bmc.redirects:
            return False
        trip = self.bmc.trip
        self._send(
            self.bmc.next_redirect(),
            {"error": {"code": "Moved"}},
            {"Location": f"http://{trip.host}:{trip.port}{urllib.parse.urlsplit(self.path).path}"},
        )
        return True

    def _authorized(self) -> bool:
        tok = self.headers.get("X-Auth-Token")
        if tok:
            return tok in self.bmc.sessions
        import base64

        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.bmc.user and pw == self.bmc.password

    def _record(self) -> str:
        with self.bmc.lock:
            self.bmc.requests.append((self.command, self.path))
        return urllib.parse.urlsplit(self.path).path

    def do_GET(self) -> None:
        path = self._record()
        if self._redirect():
            return
        if path.rstrip("/") not in (R, "/redfish") and not self._authorized():
            return self._send(401, {"error": {"code": "Base.1.8.NoValidSession"}})
        doc = self.bmc.resource(path)
        if doc is None:
            return self._send(404, {"error": {"code": "Base.1.8.ResourceMissingAtURI"}})
        return self._send(200, doc)

    def do_POST(self) -> None:
        path = self._record()
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if self._redirect():
            return
        if path.rstrip("/") != f"{R}/SessionService/Sessions":
            return self._send(405, {"error": {"code": "Base.1.8.ActionNotSupported"}})
        try:
            body = json.loads(raw)
        except ValueError:
            return self._send(400, {"error": {"code": "Base.1.8.MalformedJSON"}})
        if body.get("UserName") != self.bmc.user or body.get("Password") != self.bmc.password:
            return self._send(401, {"error": {"code": "Base.1.8.ResourceAtUriUnauthorized"}})
        token, sid = secrets.token_hex(16), secrets.token_hex(4)
        with self.bmc.lock:
            self.bmc.sessions[token] = sid
            self.bmc.logins += 1
        trip = self.bmc.trip
        good = f"{R}/SessionService/Sessions/{sid}"
        # The Location leaves the service; the body's @odata.id is the good one.
        return self._send(
            201,
            {"@odata.id": good, "Id": sid},
            {"X-Auth-Token": token, "Location": f"http://{trip.host}:{trip.port}{good}"},
        )

    def do_DELETE(self) -> None:
        path = self._record()
        if self._redirect():
            return
        with self.bmc.lock:
            for token, sid in list(self.bmc.sessions.items()):
                if (
                    path.rstrip("/") == f"{R}/SessionService/Sessions/{sid}"
                    and self.headers.get("X-Auth-Token") == token
                ):
                    del self.bmc.sessions[token]
                    self.bmc.logouts += 1
                    return self._send(204)
        return self._send(404, {"error": {"code": "Base.1.8.ResourceMissingAtURI"}})
