"""The HTTP side: landing page, /metrics, /probe, /-/healthy, /-/reload; TLS and basic auth per request."""

from __future__ import annotations

import gzip
import html
import socket
import ssl
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from prometheus_client.core import Metric

from .. import __version__
from .app import App, UnknownTarget
from .exposition import render
from .log import get_logger
from .webconfig import WebSecurity

log = get_logger("exporters.core.server")

# The classic text format every Prometheus understands (client_python 0.26 labels its output 1.0.0).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Handler(BaseHTTPRequestHandler):
    server: ExporterHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = f"colo-exporters/{__version__}"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this

    # --- plumbing -------------------------------------------------------------------------------
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        log.debug("http", client=self.client_address[0], line=format % args)

    def _send(
        self,
        code: int,
        body: bytes,
        ctype: str = "text/plain; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        if len(body) > 4096 and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, compresslevel=1)
            headers = {**(headers or {}), "Content-Encoding": "gzip"}
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in {**self.server.security.headers, **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _text(self, code: int, text: str) -> None:
        self._send(code, (text.rstrip("\n") + "\n").encode())

    def _authorized(self) -> bool:
        if self.server.security.check_basic_auth(self.headers.get("Authorization")):
            return True
        self._send(401, b"Unauthorized\n", headers={"WWW-Authenticate": 'Basic realm="colo-exporters"'})
        return False

    # --- routes ---------------------------------------------------------------------------------
    def do_GET(self) -> None:
        if not self._authorized():
            return
        url = urlsplit(self.path)
        app = self.server.app
        if url.path == "/metrics":
            self._metrics(app.metrics_families(app.deadline(self._timeout_header())))
        elif url.path == "/probe":
            self._probe(parse_qs(url.query))
        elif url.path == "/":
            self._send(200, self._landing().encode(), "text/html; charset=utf-8")
        elif url.path == "/-/healthy":
            self._text(200, "Healthy")
        elif url.path == "/-/ready":
            self._text(200, "Ready")
        elif url.path == "/-/reload":
            self._text(405, "use POST to reload the config")
        else:
            self._text(404, "Not found")

    do_HEAD = do_GET  # noqa: N815 - http.server dispatches on the method name

    def do_POST(self) -> None:
        if not self._authorized():
            return
        path = urlsplit(self.path).path
        if path != "/-/reload":
            known = path in ("/", "/metrics", "/probe", "/-/healthy", "/-/ready")
            self._text(405 if known else 404, "Method not allowed" if known else "Not found")
            return
        err = self.server.app.reload()
        if err is None:
            self._text(200, "config reloaded")
        else:
            self._text(500, f"failed to reload config: {err}")

    def _timeout_header(self) -> str | None:
        return self.headers.get("X-Prometheus-Scrape-Timeout-Seconds")

    def _metrics(self, families: Iterable[Metric]) -> None:
        try:
            body = render(families)
        except Exception as e:  # noqa: BLE001 - a broken family must give a clear 500, not a dropped socket
            log.error("cannot render metrics", err=f"{type(e).__name__}: {e}")
            self._text(500, "error rendering metrics; see the exporter's log")
            return
        self._send(200, body, CONTENT_TYPE)

    def _probe(self, query: dict[str, list[str]]) -> None:
        app = self.server.app
        if not app.spec.multi_target:
            self._text(404, f"{app.spec.name} is not a multi-target exporter: use /metrics")
            return
        names = query.get("target", [])
        if len(names) != 1 or not names[0]:
            self._text(400, "'target' parameter must be given once")
            return
        target = names[0]
        try:
            families = list(app.probe_families(target, app.deadline(self._timeout_header())))
        except UnknownTarget:
            shown = target if len(target) <= 64 else target[:64] + "..."
            self._text(400, f"unknown target {shown!r}: only targets named in the config file can be probed")
            return
        self._metrics(families)

    def _landing(self) -> str:
        app = self.server.app
        spec = app.spec
        esc = html.escape
        rows = [
            '<li><a href="metrics">/metrics</a>: the exporter\'s own metrics'
            + ("" if spec.multi_target else " and the data")
            + "</li>"
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


class ExporterHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], family: int, app: App, security: WebSecurity) -> None:
        self.address_family = family
        self.app = app
        self.security = security
        super().__init__(address, Handler, bind_and_activate=False)
        if family == socket.AF_INET6 and address[0] in ("::", ""):
            try:
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            except OSError:
                pass
        try:
            self.server_bind()
            self.server_activate()
        except OSError:
            self.server_close()
            raise

    # Narrower than the base signature (ignored below): a TCP server only ever hands this a socket.
    def finish_request(self, request: socket.socket, client_address: tuple) -> None:  # type: ignore[override]
        ctx = self.security.ssl_context
        if ctx is None:
            super().finish_request(request, client_address)
            return
        # The TLS handshake runs here, in the connection's own thread, so a slow client blocks no one.
        request.settimeout(Handler.timeout)
        try:
            tls = ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log.debug("TLS handshake failed", client=client_address[0], err=str(e))
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request: object, client_address: tuple) -> None:
        log.debug("connection error", client=client_address[0])


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


def serve(address: str, app: App, security: WebSecurity) -> ExporterHTTPServer:
    host, port, family = parse_listen_address(address)
    try:
        return ExporterHTTPServer((host, port), family, app, security)
    except OSError as e:
        if host == "::" and family == socket.AF_INET6:  # no IPv6 on this host: all IPv4 addresses
            return ExporterHTTPServer(("0.0.0.0", port), socket.AF_INET, app, security)
        raise OSError(e.errno, f"cannot listen on {address}: {e.strerror}") from None
