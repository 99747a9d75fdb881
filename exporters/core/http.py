"""HTTP to one peer, bounded by the deadline: the client the Redfish and LXD exporters share.

A `Session` talks to ONE origin (scheme, host, port; or a unix socket). Every request names an absolute
path on it; anything else (`//host`, `@host`, a scheme, a backslash, control characters) raises `BadLink`
and is never sent, and the joined URL is checked to have exactly the configured origin. No request
follows a redirect, no proxy or netrc setting is taken from the environment, every socket is guarded by
the deadline (see `peerio`), and the answer is read whole with `read_body` under a size limit.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import json as _json
import re
import select
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import peerio
from .scrape import Deadline, Malformed, ScrapeError

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
            raise Malformed(
                f"{where}: not JSON (HTTP {self.status}, {ctype}, {len(self.body)} bytes)"
            ) from None


class Headers(dict[str, str]):
    """An answer's headers, looked up in any case (the first of a repeated header)."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


class _Connection(http.client.HTTPConnection):
    """One keep-alive connection whose socket is guarded by the current thread's deadline scope: after
    the TCP connect and before the TLS handshake (which a trickling peer could stretch), and again for
    each request on it. TLS checks the certificate by the session's context, or exactly the pinned one."""

    def __init__(
        self,
        host: str,
        port: int,
        timeout: float,
        tls: ssl.SSLContext | None,
        fingerprint: str | None,
        unix_socket: str | None,
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._tls, self._fingerprint, self._unix = tls, fingerprint, unix_socket

    def connect(self) -> None:
        if self._unix is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            peerio.arm(sock)
            try:
                sock.connect(self._unix)
            except OSError:
                sock.close()
                raise
        else:
            sock = socket.create_connection((self.host, self.port), self.timeout)
            peerio.arm(sock)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            try:
                # armed before the handshake: the wrapped socket takes over the descriptor
                sock = self._tls.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False)
                peerio.arm(sock)
                sock.do_handshake()
                if self._fingerprint is not None:
                    der = sock.getpeercert(binary_form=True) or b""
                    if not hmac.compare_digest(hashlib.sha256(der).hexdigest(), self._fingerprint):
                        raise ssl.SSLError("the server's certificate is not the pinned one")
            except BaseException:
                sock.close()
                raise
        self.sock = sock


class _Pool:
    """Idle keep-alive connections to the session's origin, at most `size` kept; none once closed (a
    request still running when its session is closed, on a reload, closes its connection at the end)."""

    def __init__(self, size: int, make: Callable[[float], _Connection]) -> None:
        self._idle: list[_Connection] = []
        self._size, self._make = size, make
        self._lock = threading.Lock()
        self._closed = False

    def get(self, timeout: float) -> _Connection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._make(timeout)
            if conn.sock is not None and not _dropped(conn.sock):
                conn.timeout = timeout
                conn.sock.settimeout(timeout)
                return conn
            conn.close()

    def put(self, conn: _Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._size:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for c in idle:
            c.close()


def _dropped(sock: socket.socket) -> bool:
    """An idle connection the peer closed (or sent something unasked on): not to be used again."""
    p = select.poll()
    p.register(sock, select.POLLIN)
    return bool(p.poll(0))


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
    """SHA-256 of a PEM certificate's DER form (hex), compared with the peer's at each TLS handshake."""
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
        pinned = pin_cert_file is not None
        ctx = _context(verify, ca_file, client_cert, pinned) if self.scheme == "https" else None
        fp = _fingerprint(pin_cert_file) if pin_cert_file else None

        def make(timeout: float) -> _Connection:
            return _Connection(self._host, self._port, timeout, ctx, fp, unix_socket)

        self._pool = _Pool(pool, make)
        # identity: a compressed answer could expand far past the size limit before we see it
        self._headers = {"Accept-Encoding": "identity", **(headers or {})}
        if basic_auth:
            cred = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {cred}"

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
            self._headers.pop(name, None)
        else:
            self._headers[name] = value

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
        self.url(path)  # refuses a path that would leave the origin: then nothing is sent
        where = f"{method} {path}"
        if cap is not None:
            deadline = deadline.within(cap)
        t = deadline.timeout(doing=where)
        hdrs = {**self._headers, **(headers or {})}
        data = None
        if json is not None:
            data = _json.dumps(json).encode()
            hdrs["Content-Type"] = "application/json"
        with peerio.scope(deadline) as sc:
            conn = None
            try:
                conn = self._pool.get(t)
                if conn.sock is not None:
                    peerio.arm(conn.sock)  # a pooled connection, reused under this request's deadline
                conn.request(method, path, body=data, headers=hdrs)  # the path was checked by url()
                r = conn.getresponse()
                body = peerio.read_body(r.read, deadline, limit, where)
                answer = Answer(r.status, Headers((k.lower(), v) for k, v in reversed(r.getheaders())), body)
            except ScrapeError:
                if conn is not None:
                    conn.close()
                raise
            except Exception as e:  # noqa: BLE001 - sockets, TLS and http.client raise a wide family
                if conn is not None:
                    conn.close()
                raise _error(e, where, self.origin, sc.fired or deadline.expired()) from None
        if r.will_close or sc.fired:
            conn.close()
        else:
            self._pool.put(conn)
        return answer

    def close(self) -> None:
        self._pool.close()


def _error(e: BaseException, where: str, origin: str, late: bool) -> ScrapeError:
    if late or isinstance(e, TimeoutError):
        return ScrapeError("timeout", f"{where}: no whole answer from {origin} before the deadline")
    text = _chain(e)
    if isinstance(e, (ssl.SSLError, ssl.CertificateError)):
        return ScrapeError("tls", f"TLS with {origin} failed: {_short(text)}")
    if isinstance(e, (http.client.HTTPException, ValueError)):  # a bad status line, chunk, header; cut short
        return Malformed(f"{where}: answer cut short or garbled ({_short(text)})")
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
