"""HTTP to one peer, bounded by the deadline: the client the Redfish and LXD exporters share.

A `Session` talks to ONE origin (scheme, host, port; or a unix socket). Every request names an absolute
path on it; anything else (`//host`, `@host`, a scheme, a backslash, control characters) raises `BadLink`
and is never sent, and the joined URL is checked to have exactly the configured origin. No request
follows a redirect, no proxy or netrc setting is taken from the environment, every socket is guarded by
the deadline (see `peerio`), and the answer is read whole with `read_body` under a size limit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json as _json
import re
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import peerio
from .scrape import Deadline, ScrapeError

DEFAULT_LIMIT = 32 * 2**20

# An absolute path with an optional query: no `//` (another host), no `@`, no backslash, no
# whitespace or control characters; `%`-escapes are kept as they are.
_PATH = re.compile(r"/(?!/)[^\s\\@#\x00-\x1f\x7f]*")


class BadLink(ScrapeError):
    """A link that would leave the configured origin, or is not a plain absolute path; never requested."""

    def __init__(self, link: object) -> None:
        shown = repr(link)
        super().__init__(
            "bad_link", f"refused link {shown[:120]}: not an absolute path on the configured host"
        )


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self, where: str) -> Any:
        try:
            return _json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            ctype = self.headers.get("Content-Type", "?").split(";")[0]
            raise ScrapeError(
                "malformed", f"{where}: not JSON (HTTP {self.status}, {ctype}, {len(self.body)} bytes)"
            ) from None


# --- connections that put their sockets under the current thread's deadline scope ---------------------
class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        peerio.arm(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        peerio.arm(self.sock)  # a pooled connection, reused under this request's deadline
        super().request(*args, **kwargs)


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        peerio.arm(sock)  # before the TLS handshake, which a trickling peer could stretch too
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        peerio.arm(self.sock)
        super().request(*args, **kwargs)


class _UnixConnection(_GuardedHTTPConnection):
    def __init__(self, *args: Any, socket_path: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.socket_path = socket_path

    def _new_conn(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if isinstance(self.timeout, (int, float)):
            sock.settimeout(self.timeout)
        peerio.arm(sock)
        try:
            sock.connect(self.socket_path)
        except OSError as e:
            sock.close()
            raise urllib3.exceptions.NewConnectionError(self, f"{self.socket_path}: {e.strerror or e}") from e
        return sock


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _UnixPool(HTTPConnectionPool):
    ConnectionCls = _UnixConnection


class _Adapter(HTTPAdapter):
    """requests' adapter with guarded connections and one TLS context for the session."""

    def __init__(self, ssl_context: ssl.SSLContext | None, fingerprint: str | None, pool: int) -> None:
        self._ctx, self._fingerprint = ssl_context, fingerprint
        super().__init__(pool_connections=1, pool_maxsize=pool, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None) -> Any:
        host_params, _ = super().build_connection_pool_key_attributes(request, verify, cert)
        kw: dict[str, Any] = {}
        if host_params["scheme"] == "https" and self._ctx is not None:
            kw["ssl_context"] = self._ctx
            # urllib3 sets the context's verify_mode from cert_reqs: keep them the same
            kw["cert_reqs"] = "CERT_REQUIRED" if self._ctx.verify_mode == ssl.CERT_REQUIRED else "CERT_NONE"
            if self._fingerprint:
                kw["assert_fingerprint"] = self._fingerprint
        return host_params, kw

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        pass  # the session's own TLS context decides, not requests' defaults


class _UnixAdapter(HTTPAdapter):
    def __init__(self, path: str, pool: int) -> None:
        super().__init__(pool_connections=1, pool_maxsize=pool, max_retries=0)
        self._pool = _UnixPool("localhost", maxsize=pool, socket_path=path)

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> HTTPConnectionPool:
        return self._pool

    def close(self) -> None:
        self._pool.close()
        super().close()


def _context(
    verify: bool, ca_file: str | None, client_cert: tuple[str, str] | None, pinned: bool
) -> ssl.SSLContext:
    if pinned or not verify:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx = ssl.create_default_context(cafile=ca_file)
    if client_cert:
        ctx.load_cert_chain(*client_cert)
    return ctx


def _fingerprint(pem_file: str) -> str:
    """SHA-256 of a PEM certificate's DER form, as urllib3's `assert_fingerprint` takes it."""
    with open(pem_file, encoding="ascii") as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


class Session:
    """HTTP(S) to one origin, or HTTP over a unix socket (`unix_socket=`, origin `http://localhost`).

    `verify`/`ca_file` check the server's certificate; `pin_cert_file` instead accepts exactly that
    certificate (LXD's self-signed server certificate); `client_cert` is (cert file, key file).
    Safe to use from several threads; at most `pool` connections are kept.
    """

    def __init__(
        self,
        origin: str,
        *,
        verify: bool = True,
        ca_file: str | None = None,
        client_cert: tuple[str, str] | None = None,
        pin_cert_file: str | None = None,
        unix_socket: str | None = None,
        pool: int = 8,
        headers: Mapping[str, str] | None = None,
        basic_auth: tuple[str, str] | None = None,
    ) -> None:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) origin: {_no_userinfo(origin)!r}")
        if parts.username is not None or parts.password is not None:
            raise ValueError("credentials must not be part of the URL")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"an origin has no path: {_no_userinfo(origin)!r}")
        self.scheme = parts.scheme
        self.netloc = parts.netloc.lower()
        self.origin = f"{self.scheme}://{self.netloc}"
        self._port = parts.port or (443 if self.scheme == "https" else 80)
        self._host = parts.hostname
        s = requests.Session()
        s.trust_env = False  # no proxies, netrc or CA bundle from the environment
        for prefix in list(s.adapters):
            s.adapters.pop(prefix).close()
        if unix_socket:
            s.mount("http://", _UnixAdapter(unix_socket, pool))
        else:
            ctx = (
                _context(verify, ca_file, client_cert, pin_cert_file is not None)
                if self.scheme == "https"
                else None
            )
            fp = _fingerprint(pin_cert_file) if pin_cert_file else None
            s.mount(f"{self.scheme}://", _Adapter(ctx, fp, pool))
        # identity: a compressed answer could expand far past the size limit before we see it
        s.headers.update({"Accept-Encoding": "identity", **(headers or {})})
        if basic_auth:
            s.auth = basic_auth
        self._s = s

    def url(self, link: object) -> str:
        """The absolute URL of `link`, which must be a plain absolute path (and query) on this origin."""
        if not isinstance(link, str) or not _PATH.fullmatch(link):
            raise BadLink(link)
        url = self.origin + link
        p = urlsplit(url)
        if (p.scheme, p.netloc.lower(), p.hostname, p.port or self._port) != (
            self.scheme,
            self.netloc,
            self._host,
            self._port,
        ):
            raise BadLink(link)
        return url

    def set_header(self, name: str, value: str | None) -> None:
        if value is None:
            self._s.headers.pop(name, None)
        else:
            self._s.headers[name] = value

    def request(
        self,
        method: str,
        path: str,
        deadline: Deadline,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        limit: int = DEFAULT_LIMIT,
        cap: float | None = None,
    ) -> Answer:
        """Send one request and read its whole answer before the deadline (`cap`: at most that long)."""
        url = self.url(path)
        where = f"{method} {path}"
        if cap is not None:
            deadline = deadline.within(cap)
        t = deadline.timeout(doing=where)
        with peerio.scope(deadline) as sc:
            try:
                r = self._s.request(
                    method,
                    url,
                    headers=headers,
                    json=json,
                    timeout=(t, t),
                    stream=True,
                    allow_redirects=False,
                )
                try:
                    body = peerio.read_body(r.raw.read, deadline, limit, where)
                finally:
                    r.close()
            except ScrapeError:
                raise
            except Exception as e:  # noqa: BLE001 - requests and urllib3 raise a wide family
                raise _error(e, where, self.origin, sc.fired or deadline.expired()) from None
        return Answer(r.status_code, r.headers, body)

    def close(self) -> None:
        self._s.close()


def _error(e: BaseException, where: str, origin: str, late: bool) -> ScrapeError:
    if late or isinstance(e, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)):
        return ScrapeError("timeout", f"{where}: no whole answer from {origin} before the deadline")
    text = _chain(e)
    if isinstance(e, (requests.exceptions.SSLError, ssl.SSLError)) or "SSLError" in text:
        return ScrapeError("tls", f"TLS with {origin} failed: {_short(text)}")
    if isinstance(
        e,
        (
            requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.ProtocolError,
            urllib3.exceptions.DecodeError,
            requests.exceptions.ContentDecodingError,
        ),
    ) and ("NewConnectionError" not in text):
        return ScrapeError("malformed", f"{where}: answer cut short or garbled ({_short(text)})")
    return ScrapeError("connect", f"{where}: cannot reach {origin}: {_short(text)}")


def _chain(e: BaseException) -> str:
    parts, seen = [], set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        parts.append(f"{type(cur).__name__}: {cur}")
        cur = cur.__cause__ or cur.__context__
    return " <- ".join(parts)


def _short(text: str) -> str:
    return text if len(text) <= 300 else text[:297] + "..."


def _no_userinfo(url: str) -> str:
    with contextlib.suppress(ValueError):
        p = urlsplit(url)
        if p.username is not None or p.password is not None:
            return url.replace(p.netloc, p.netloc.rpartition("@")[2], 1)
    return url
