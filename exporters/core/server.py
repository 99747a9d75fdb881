"""The HTTP side: landing page, the telemetry path, /probe, /-/healthy, /-/ready, /-/reload.

One reactor thread holds every connection that is not being answered — TLS handshakes, request heads
being read, idle keep-alive connections — in a selector, so an idle connection costs a file descriptor
and a few hundred bytes, not a thread. A complete request (head and body) is answered on a thread of its
own. What a client can take is bounded:

* connections: at most `max_connections` (from the open-files limit); at the limit the oldest connection
  that has not yet sent a whole request is closed first, then the oldest idle keep-alive one;
* time: a request head and body must arrive within HEAD_TIMEOUT of the connection (or, on a keep-alive
  connection, of the request's first byte) — in total, however slowly the bytes come; an idle keep-alive
  connection is closed after IDLE_TIMEOUT; an answer must be written within WRITE_TIMEOUT;
* size: a request head of at most 64 KiB, a body of at most 64 KiB (read and dropped: a body is never
  run as the next request; a larger or chunked one closes the connection);
* work: at most `max_requests` scrapes (/metrics, /probe) at once (`--web.max-requests`, 0 = no limit),
  503 beyond it, and `rate_limit` from the web config (429) before basic auth (401).
Answers go out in one send (head and body together, TCP_NODELAY), so a keep-alive request does not wait
for the client's delayed ACK.
"""

from __future__ import annotations

import collections
import email.utils
import errno
import gzip
import html
import http
import os
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import parse_qs, urlsplit

from prometheus_client.core import Metric

from .. import __version__
from .app import App, UnknownTarget
from .exposition import render
from .log import get_logger
from .workers import WORKERS

log = get_logger("exporters.core.server")

# The classic text format every Prometheus understands (client_python 0.26 labels its output 1.0.0).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SERVER = f"colo-exporters/{__version__}"

HEAD_TIMEOUT = 5.0  # seconds for a whole request (head and body), from the connection or its first byte
IDLE_TIMEOUT = 120.0  # an idle keep-alive connection is closed after this
WRITE_TIMEOUT = 30.0  # seconds to write one answer
MAX_HEAD = 64 * 1024
MAX_HEADERS = 100
MAX_BODY = 64 * 1024
LINGER = 1.0  # after refusing a request, its unread bytes are drained this long before closing
TICK = 0.25  # the reactor wakes at least this often (timeouts, web config changes)
_PAUSE_ON_EMFILE = 0.1


@dataclass
class Request:
    method: str
    target: str  # as sent: "/probe?target=sw1"
    path: str
    query: str
    version: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    client: str
    keep_alive: bool
    der: bytes | None = None  # the client's TLS certificate, if any


@dataclass
class Response:
    code: int
    body: bytes = b""
    ctype: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False


def text(code: int, message: str, **kw: object) -> Response:
    return Response(code, (message.rstrip("\n") + "\n").encode(), **kw)  # type: ignore[arg-type]


class _Conn:
    __slots__ = (
        "addr",
        "buf",
        "busy",
        "continued",
        "deadline",
        "der",
        "fresh",
        "mask",
        "sock",
        "state",
        "tls",
    )

    def __init__(self, sock: socket.socket, addr: str, deadline: float, tls: bool) -> None:
        self.sock = sock
        self.addr = addr
        self.buf = bytearray()
        self.deadline = deadline
        self.state = "handshake" if tls else "head"  # handshake | head | idle | busy | linger
        self.tls = tls
        self.fresh = True  # has not completed a request yet
        self.busy = False
        self.mask = selectors.EVENT_READ
        self.der: bytes | None = None
        self.continued = False  # "100 Continue" sent for the request being read


class _Every:
    """A warning logged at most once per `seconds`, with how many were left out in between."""

    def __init__(self, seconds: float = 10.0) -> None:
        self.seconds, self.last, self.skipped = seconds, -1e9, 0
        self._lock = threading.Lock()

    def warn(self, msg: str, **kv: object) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self.last < self.seconds:
                self.skipped += 1
                return
            self.last, skipped, self.skipped = now, self.skipped, 0
        log.warning(msg, **kv, **({"not_logged_since": skipped} if skipped else {}))


class Server:
    """The exporter's HTTP server on one or more listening sockets."""

    def __init__(
        self,
        app: App,
        listeners: list[socket.socket],
        *,
        max_requests: int = 40,
        max_connections: int = 1024,
        telemetry_path: str = "/metrics",
    ) -> None:
        self.app = app
        self.listeners = listeners
        self.max_requests = max_requests
        self.max_connections = max_connections
        self.telemetry_path = telemetry_path
        # Threads answering requests: the scrapes, and room for cheap requests beside them.
        self.max_handlers = max_requests + 32 if max_requests > 0 else 0
        self._scrapes = threading.BoundedSemaphore(max_requests) if max_requests > 0 else None
        self._sel = selectors.DefaultSelector()
        self._fresh: collections.OrderedDict[_Conn, None] = collections.OrderedDict()  # oldest first
        self._kept: collections.OrderedDict[_Conn, None] = collections.OrderedDict()
        self._busy: set[_Conn] = set()
        self._back: collections.deque[_Conn] = collections.deque()  # connections workers hand back
        self._lock = threading.Lock()
        self._handlers = 0
        self._idle = threading.Condition(self._lock)
        self._stopping = False
        self._paused_until = 0.0
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread = threading.Thread(target=self._loop, name="http reactor", daemon=True)
        self._warn_conns = _Every()
        self._warn_fds = _Every()
        self._warn_busy = _Every()
        self._warn_scrapes = _Every()

    # --- the reactor ----------------------------------------------------------------------------------
    def start(self) -> None:
        for s in self.listeners:
            s.setblocking(False)
            self._sel.register(s, selectors.EVENT_READ, "listener")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread.start()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def _loop(self) -> None:
        while not self._stopping:
            try:
                events = self._sel.select(TICK)
            except OSError as e:  # EINTR is retried by Python; anything else is a bug worth a line
                log.error("selector failed", err=str(e))
                time.sleep(TICK)
                continue
            for key, mask in events:
                try:
                    if key.data == "listener":
                        self._accept(key.fileobj)  # type: ignore[arg-type]
                    elif key.data == "wake":
                        self._drain_wake()
                    else:
                        self._ready(key.data, mask)
                except Exception as e:  # noqa: BLE001 - one connection's surprise must not stop the server
                    log.error("HTTP connection handling failed", err=f"{type(e).__name__}: {e}"[:300])
                    if isinstance(key.data, _Conn):
                        self._close(key.data)
            try:
                self._take_back()
                self._expire()
            except Exception as e:  # noqa: BLE001 - as above
                log.error("HTTP connection handling failed", err=f"{type(e).__name__}: {e}"[:300])
            try:
                self.app.web.refresh()
            except Exception as e:  # noqa: BLE001 - a watcher bug must never stop the server
                log.error("checking the web config for changes failed", err=f"{type(e).__name__}: {e}")
        for conn in list(self._fresh) + list(self._kept):
            self._close(conn)

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass

    def _count(self) -> int:
        return len(self._fresh) + len(self._kept) + len(self._busy)

    def _evict(self) -> bool:
        """Close the oldest connection that is not being answered: one that never sent a whole request
        first, then an idle keep-alive one."""
        for table in (self._fresh, self._kept):
            if table:
                conn = next(iter(table))
                self._close(conn)
                return True
        return False

    def _accept(self, lsock: socket.socket) -> None:
        now = time.monotonic()
        if now < self._paused_until:
            return
        for _ in range(64):
            if self._count() >= self.max_connections:
                self._warn_conns.warn(
                    "connection limit reached; closing the oldest idle connections",
                    limit=self.max_connections,
                )
                if not self._evict():
                    self._warn_busy.warn(
                        "every connection is busy; refusing new ones", limit=self.max_connections
                    )
                    self._paused_until = now + _PAUSE_ON_EMFILE
                    return
            try:
                sock, addr = lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    self._warn_fds.warn(
                        "out of file descriptors; closing the oldest idle connection", err=str(e)
                    )
                    if not self._evict():
                        self._paused_until = now + _PAUSE_ON_EMFILE
                        return
                    continue
                if e.errno in (errno.ECONNABORTED, errno.EPROTO, errno.EPERM):
                    continue
                log.error("accept failed", err=str(e))
                self._paused_until = now + _PAUSE_ON_EMFILE
                return
            self._add(sock, addr, now)

    def _add(self, sock: socket.socket, addr: object, now: float) -> None:
        client = addr[0] if isinstance(addr, tuple) else str(addr or "local")
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        ctx = self.app.web.current.ssl_context
        if ctx is not None:
            try:
                sock = ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            except (OSError, ssl.SSLError) as e:
                log.debug("TLS setup failed", client=client, err=str(e))
                sock.close()
                return
        conn = _Conn(sock, client, now + HEAD_TIMEOUT, ctx is not None)
        self._fresh[conn] = None
        self._sel.register(sock, selectors.EVENT_READ, conn)

    def _close(self, conn: _Conn) -> None:
        self._fresh.pop(conn, None)
        self._kept.pop(conn, None)
        self._busy.discard(conn)
        if not conn.busy:
            try:
                self._sel.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass
        try:
            conn.sock.close()
        except OSError:
            pass

    def _expire(self) -> None:
        now = time.monotonic()
        for table in (self._fresh, self._kept):
            for conn in [c for c in table if c.deadline <= now]:
                log.debug(
                    "closing a connection that sent no whole request in time",
                    client=conn.addr,
                    state=conn.state,
                )
                self._close(conn)

    def _want(self, conn: _Conn, mask: int) -> None:
        if conn.mask != mask:
            conn.mask = mask
            self._sel.modify(conn.sock, mask, conn)

    def _ready(self, conn: _Conn, mask: int) -> None:
        if conn.state == "handshake":
            try:
                conn.sock.do_handshake()  # type: ignore[attr-defined]
            except ssl.SSLWantReadError:
                self._want(conn, selectors.EVENT_READ)
                return
            except ssl.SSLWantWriteError:
                self._want(conn, selectors.EVENT_WRITE)
                return
            except (ssl.SSLError, OSError) as e:
                log.debug("TLS handshake failed", client=conn.addr, err=str(e)[:200])
                self._close(conn)
                return
            der = conn.sock.getpeercert(binary_form=True)  # type: ignore[attr-defined]
            if not self.app.web.current.client_allowed(conn.sock.getpeercert()):  # type: ignore[attr-defined]
                log.warning(
                    "client certificate refused: none of its SANs is in client_allowed_sans", client=conn.addr
                )
                self._close(conn)
                return
            conn.der = der
            conn.state = "head"
            self._want(conn, selectors.EVENT_READ)
        self._read(conn)

    def _read(self, conn: _Conn) -> None:
        while True:
            try:
                data = conn.sock.recv(65536)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
                break
            except ssl.SSLWantWriteError:
                self._want(conn, selectors.EVENT_WRITE)
                return
            except OSError:
                self._close(conn)
                return
            if not data:
                self._close(conn)
                return
            if conn.state == "linger":  # refused: drain what the client still sends, then close
                continue
            if conn.state == "idle":  # the first byte of the next request: the head timeout starts now
                conn.state = "head"
                conn.deadline = time.monotonic() + HEAD_TIMEOUT
            conn.buf += data
            if len(conn.buf) > MAX_HEAD + MAX_BODY:
                break
            if not (conn.tls and conn.sock.pending()):  # type: ignore[attr-defined]
                break
        self._want(conn, selectors.EVENT_READ)
        if conn.state != "linger":
            self._parse(conn)

    # --- requests -----------------------------------------------------------------------------------
    def _parse(self, conn: _Conn) -> None:
        buf = conn.buf
        end = buf.find(b"\r\n\r\n")
        sep = 4
        lf = buf.find(b"\n\n")
        if lf != -1 and (end == -1 or lf < end):
            end, sep = lf, 2
        if end == -1:
            if len(buf) > MAX_HEAD:
                self._refuse(conn, 431, "request head too large")
            return
        if end > MAX_HEAD:
            self._refuse(conn, 431, "request head too large")
            return
        lines = bytes(buf[:end]).decode("latin-1").split("\n")
        parts = lines[0].strip().split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self._refuse(conn, 400, "bad request line")
            return
        method, target, version = parts
        headers: dict[str, str] = {}
        if len(lines) - 1 > MAX_HEADERS:
            self._refuse(conn, 431, "too many headers")
            return
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip():
                self._refuse(conn, 400, "bad header line")
                return
            key = name.lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if "transfer-encoding" in headers:
            self._refuse(conn, 411, "send the body with Content-Length (Transfer-Encoding is not supported)")
            return
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self._refuse(conn, 400, "bad Content-Length")
            return
        if length > MAX_BODY:
            self._refuse(conn, 413, f"request body larger than {MAX_BODY} bytes")
            return
        start = end + sep
        if len(buf) - start < length:
            if headers.get("expect", "").lower() == "100-continue" and not conn.continued:
                conn.continued = True
                self._send_now(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
            return
        conn.continued = False
        body = bytes(buf[start : start + length])
        del buf[: start + length]  # what is left is the next (pipelined) request
        conn_hdr = headers.get("connection", "").lower()
        keep = ("close" not in conn_hdr) if version == "HTTP/1.1" else ("keep-alive" in conn_hdr)
        url = urlsplit(target)
        req = Request(method, target, url.path, url.query, version, headers, body, conn.addr, keep, conn.der)
        self._dispatch(conn, req)

    def _send_now(self, conn: _Conn, data: bytes) -> None:
        try:
            conn.sock.send(data)
        except (OSError, ssl.SSLError):
            pass

    def _refuse(self, conn: _Conn, code: int, message: str) -> None:
        """An answer from the reactor itself (a bad or refused request), then close the connection: after a
        half-close and LINGER seconds of draining, so the client reads the answer (closing with unread bytes
        would send a reset that can destroy it)."""
        self._send_now(conn, _encode(text(code, message), head_only=False, keep_alive=False, extra={}))
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        conn.state = "linger"
        conn.buf.clear()
        conn.deadline = min(conn.deadline, time.monotonic() + LINGER)

    def _dispatch(self, conn: _Conn, req: Request) -> None:
        with self._lock:
            full = self.max_handlers and self._handlers >= self.max_handlers
            if not full:
                self._handlers += 1
        if full:
            self._warn_busy.warn("too many requests at once; answering 503", limit=self.max_handlers)
            self._refuse(conn, 503, "too many requests at once; try again later")
            return
        self._fresh.pop(conn, None)
        self._kept.pop(conn, None)
        self._sel.unregister(conn.sock)
        conn.busy = True
        conn.state = "busy"
        self._busy.add(conn)
        WORKERS.run(partial(self._work, conn, req), f"http {req.path[:40]}")

    def _work(self, conn: _Conn, req: Request) -> None:
        ok = keep = False
        try:
            resp = self._answer(req)
            keep = req.keep_alive and not resp.close and not self._stopping
            ok = self._write(conn, _encode(resp, req.method == "HEAD", keep, self.app.web.current.headers))
        finally:
            with self._lock:
                self._handlers -= 1
                self._idle.notify_all()
        if ok and keep:
            self._back.append(conn)
            self._wake()
        else:
            conn.busy = False
            self._busy.discard(conn)
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                conn.sock.close()
            except OSError:
                pass

    def _take_back(self) -> None:
        while self._back:
            conn = self._back.popleft()
            self._busy.discard(conn)
            conn.busy = False
            if self._stopping:
                self._close(conn)
                continue
            try:
                conn.sock.setblocking(False)
                conn.mask = selectors.EVENT_READ
                self._sel.register(conn.sock, selectors.EVENT_READ, conn)
            except (OSError, ValueError):
                self._close(conn)
                continue
            conn.fresh = False
            conn.state = "idle"
            conn.deadline = time.monotonic() + IDLE_TIMEOUT
            self._kept[conn] = None
            if conn.buf:  # pipelined bytes already here
                conn.state = "head"
                conn.deadline = time.monotonic() + HEAD_TIMEOUT
                self._parse(conn)
            elif conn.tls and conn.sock.pending():  # type: ignore[attr-defined]
                self._read(conn)

    def _write(self, conn: _Conn, data: bytes) -> bool:
        deadline = time.monotonic() + WRITE_TIMEOUT
        view = memoryview(data)
        try:
            while view:
                left = deadline - time.monotonic()
                if left <= 0:
                    log.debug("client too slow to read its answer; closing", client=conn.addr)
                    return False
                conn.sock.settimeout(left)
                n = conn.sock.send(view[: 1 << 18])
                view = view[n:]
        except (OSError, ssl.SSLError) as e:
            log.debug("writing the answer failed", client=conn.addr, err=str(e)[:200])
            return False
        return True

    # --- what the routes answer ---------------------------------------------------------------------
    def _answer(self, req: Request) -> Response:
        try:
            return self._route(req)
        except Exception as e:  # noqa: BLE001 - one request fails with a 500, never the server
            log.error(
                "request failed",
                path=req.target[:200],
                method=req.method[:10],
                err=f"{type(e).__name__}: {e}"[:300],
            )
            return text(500, "internal error; see the exporter's log")

    def _route(self, req: Request) -> Response:
        web = self.app.web.current
        if not web.rate_allowed():
            return text(429, "Too Many Requests")
        if not web.check_basic_auth(req.headers.get("authorization")):
            return text(401, "Unauthorized", headers={"WWW-Authenticate": 'Basic realm="colo-exporters"'})
        path = req.path
        if req.method in ("GET", "HEAD"):
            if path == self.telemetry_path:
                return self._scrape(req, None)
            if path == "/probe":
                return self._scrape(req, parse_qs(req.query))
            if path == "/":
                return Response(200, self._landing().encode(), "text/html; charset=utf-8")
            if path == "/-/healthy":
                return text(200, "Healthy")
            if path == "/-/ready":
                return text(200, "Ready")
            if path == "/-/reload":
                return text(405, "use POST to reload the config")
            return text(404, "Not found")
        if req.method == "POST":
            if path == "/-/reload":
                err = self.app.reload()
                return (
                    text(200, "config reloaded")
                    if err is None
                    else text(500, f"failed to reload config: {err}")
                )
            known = path in ("/", self.telemetry_path, "/probe", "/-/healthy", "/-/ready")
            return text(405, "Method not allowed") if known else text(404, "Not found")
        return text(501, "Unsupported method")

    def _scrape(self, req: Request, query: dict[str, list[str]] | None) -> Response:
        app = self.app
        target = None
        if query is not None:
            if not app.spec.multi_target:
                return text(404, f"{app.spec.name} is not a multi-target exporter: use {self.telemetry_path}")
            names = query.get("target", [])
            if len(names) != 1 or not names[0]:
                return text(400, "'target' parameter must be given once")
            target = names[0]
        if self._scrapes is not None and not self._scrapes.acquire(blocking=False):
            self._warn_scrapes.warn(
                "too many scrapes at once; answering 503 (raise --web.max-requests if this is expected)",
                limit=self.max_requests,
            )
            return text(
                503, f"too many scrapes at once (--web.max-requests={self.max_requests}); try again later"
            )
        try:
            deadline = app.deadline(req.headers.get("x-prometheus-scrape-timeout-seconds"))
            try:
                if target is None:
                    families: list[Metric] = list(app.metrics_families(deadline))
                else:
                    families = list(app.probe_families(target, deadline))
            except UnknownTarget:
                shown = target if target is not None and len(target) <= 64 else f"{(target or '')[:64]}..."
                return text(
                    400, f"unknown target {shown!r}: only targets named in the config file can be probed"
                )
            t0 = time.perf_counter()
            resp = self._render(families, req)
            app.note_render(target or "", time.perf_counter() - t0, sum(len(f.samples) for f in families))
            return resp
        finally:
            if self._scrapes is not None:
                self._scrapes.release()

    def _render(self, families: Iterable[Metric], req: Request) -> Response:
        try:
            body = render(families)
        except Exception as e:  # noqa: BLE001 - a broken family must give a clear 500, not a dropped socket
            log.error("cannot render metrics", path=req.target[:200], err=f"{type(e).__name__}: {e}"[:300])
            return text(500, "error rendering metrics; see the exporter's log")
        headers = {}
        if len(body) > 4096 and "gzip" in req.headers.get("accept-encoding", ""):
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        return Response(200, body, CONTENT_TYPE, headers)

    def _landing(self) -> str:
        app = self.app
        spec = app.spec
        esc = html.escape
        tpath = self.telemetry_path
        rows = [
            f'<li><a href="{esc(tpath.lstrip("/"), quote=True)}">{esc(tpath)}</a>: '
            "the exporter's own metrics" + ("" if spec.multi_target else " and the data") + "</li>"
        ]
        if spec.multi_target:
            rows.append("<li>/probe?target=NAME: one configured target</li>")
        rows += ['<li><a href="-/healthy">/-/healthy</a></li>', "<li>POST /-/reload: re-read the config</li>"]
        targets = app.targets()
        tlist = "".join(
            f'<li><a href="probe?target={esc(t, quote=True)}">{esc(t)}</a></li>'
            if spec.multi_target
            else f"<li>{esc(t)}</li>"
            for t in targets
        )
        return (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>colo-{esc(spec.name)}-exporter"
            f"</title></head><body><h1>colo-{esc(spec.name)}-exporter {esc(__version__)}</h1>"
            f"<p>{esc(spec.description)}</p><h2>Endpoints</h2><ul>{''.join(rows)}</ul>"
            + (f"<h2>Configured targets</h2><ul>{tlist}</ul>" if targets else "")
            + "</body></html>"
        )

    # --- stopping -------------------------------------------------------------------------------------
    def close_listeners(self) -> None:
        """Stop accepting; connections already open are still answered."""
        for s in self.listeners:
            try:
                self._sel.unregister(s)
            except (KeyError, ValueError, OSError):
                pass
            try:
                s.close()
            except OSError:
                pass

    def wait_idle(self, timeout: float) -> bool:
        """Wait (at most `timeout`) until no request is being answered."""
        end = time.monotonic() + timeout
        with self._lock:
            while self._handlers:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def stop(self) -> None:
        self._stopping = True
        self._wake()
        self._thread.join(2.0)
        self.close_listeners()


def _encode(resp: Response, head_only: bool, keep_alive: bool, extra: dict[str, str]) -> bytes:
    """Status line, headers and body in one buffer, for one send."""
    try:
        phrase = http.HTTPStatus(resp.code).phrase
    except ValueError:
        phrase = ""
    lines = [
        f"HTTP/1.1 {resp.code} {phrase}",
        f"Server: {SERVER}",
        f"Date: {email.utils.formatdate(usegmt=True)}",
        f"Content-Type: {resp.ctype}",
        f"Content-Length: {len(resp.body)}",
    ]
    lines += [f"{k}: {v}" for k, v in {**extra, **resp.headers}.items()]
    if not keep_alive:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + resp.body


# --- listening sockets ------------------------------------------------------------------------------------


def parse_listen_address(text: str) -> tuple[str, int, int]:
    """`:9100`, `0.0.0.0:9100`, `[::1]:9100`, `localhost:9100` -> (host, port, family)."""
    host, sep, port_s = text.rpartition(":")
    if not sep or not port_s.isdigit() or int(port_s) > 65535:
        raise ValueError(f"invalid listen address {text!r}: expected host:port, [v6]:port or :port")
    port = int(port_s)
    if host.startswith("[") and host.endswith("]"):
        return host[1:-1], port, socket.AF_INET6
    if host == "":
        return ("::", port, socket.AF_INET6) if socket.has_ipv6 else ("0.0.0.0", port, socket.AF_INET)
    if ":" in host:
        raise ValueError(f"invalid listen address {text!r}: put IPv6 addresses in brackets, [::1]:9100")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise ValueError(f"invalid listen address {text!r}: {e.strerror}") from None
    family, _, _, _, sockaddr = infos[0]
    return str(sockaddr[0]), port, family  # an AF_INET/AF_INET6 address: already a str


def _bind(host: str, port: int, family: int) -> socket.socket:
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and host in ("::", ""):
            try:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            except OSError:
                pass
        s.bind((host, port))
        s.listen(socket.SOMAXCONN)
    except OSError:
        s.close()
        raise
    return s


def listen(address: str) -> socket.socket:
    """A listening socket for `--web.listen-address`."""
    host, port, family = parse_listen_address(address)
    try:
        return _bind(host, port, family)
    except OSError as e:
        if host == "::" and family == socket.AF_INET6 and e.errno == errno.EAFNOSUPPORT:
            return _bind("0.0.0.0", port, socket.AF_INET)  # no IPv6 on this host: all IPv4 addresses
        raise OSError(e.errno, f"cannot listen on {address}: {e.strerror}") from None


SD_LISTEN_FDS_START = 3


def systemd_listeners(environ: dict[str, str] | None = None) -> list[socket.socket]:
    """The sockets systemd passed (socket activation, sd_listen_fds(3)), as exporter-toolkit takes them with
    --web.systemd-socket; LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES are then removed from the environment."""
    env = os.environ if environ is None else environ
    pid, fds = env.get("LISTEN_PID", ""), env.get("LISTEN_FDS", "")
    if pid != str(os.getpid()) or not fds.isdigit() or int(fds) < 1:
        raise ValueError(
            "--web.systemd-socket: no socket activation file descriptors found (LISTEN_FDS and LISTEN_PID "
            "are not set for this process); start it from a .socket unit, or use --web.listen-address"
        )
    out = []
    for fd in range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + int(fds)):
        s = socket.socket(fileno=fd)
        if s.type != socket.SOCK_STREAM:
            raise ValueError(f"--web.systemd-socket: file descriptor {fd} is not a stream socket")
        s.set_inheritable(False)
        out.append(s)
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        env.pop(name, None)
    return out


def describe(s: socket.socket) -> str:
    addr = s.getsockname()
    if isinstance(addr, tuple):
        host, port = addr[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return str(addr)
