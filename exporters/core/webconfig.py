"""`--web.config.file` in exporter-toolkit's format: TLS, client certificates, basic auth, rate limit.

    tls_server_config: {cert_file | cert, key_file | key, client_auth_type, client_ca_file | client_ca,
                        client_allowed_sans, min_version, max_version, cipher_suites, curve_preferences,
                        prefer_server_cipher_suites}
    http_server_config: {headers: {Name: value}, http2: false}
    basic_auth_users: {user: <bcrypt hash>}
    rate_limit: {interval: 1s, burst: 10}

What Python's ssl can do is done as exporter-toolkit does it; the rest is refused with a ConfigError that
says so (never silently ignored): `http2: true`, more than one curve in `curve_preferences`, and the
client_auth_types that accept a certificate without verifying it. Like exporter-toolkit, the file (and the
certificates it names) are read again when they change, and on reload; a broken new version is refused
and the one in force stays.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import ipaddress
import os
import secrets
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import bcrypt

from .config import ConfigError, Duration, Secret, load_config
from .log import get_logger

log = get_logger("exporters.core.webconfig")

ClientAuth = Literal[
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "RequireClientCert",  # exporter-toolkit's old name for RequireAnyClientCert
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
]
TLSVersion = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
# The names exporter-toolkit accepts: Go's tls.CipherSuites() (its "secure" list; RC4, 3DES and the
# CBC-SHA256 suites are in InsecureCipherSuites() and refused), with their IANA numbers. The TLS 1.3 suites
# are accepted and, as in Go, not configurable (they only apply to TLS 1.2 and older).
GO_CIPHER_SUITES = {
    "TLS_RSA_WITH_AES_128_CBC_SHA": 0x002F,
    "TLS_RSA_WITH_AES_256_CBC_SHA": 0x0035,
    "TLS_RSA_WITH_AES_128_GCM_SHA256": 0x009C,
    "TLS_RSA_WITH_AES_256_GCM_SHA384": 0x009D,
    "TLS_AES_128_GCM_SHA256": 0x1301,
    "TLS_AES_256_GCM_SHA384": 0x1302,
    "TLS_CHACHA20_POLY1305_SHA256": 0x1303,
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": 0xC009,
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": 0xC00A,
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": 0xC013,
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": 0xC014,
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": 0xC02B,
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": 0xC02C,
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": 0xC02F,
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": 0xC030,
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": 0xCCA8,
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": 0xCCA9,
}
# exporter-toolkit's curve names -> OpenSSL's.
CURVES = {"CurveP256": "prime256v1", "CurveP384": "secp384r1", "CurveP521": "secp521r1", "X25519": "X25519"}
# The headers exporter-toolkit lets a web config set, and the values it allows (None: any).
HEADERS: dict[str, tuple[str, ...] | None] = {
    "Strict-Transport-Security": None,
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": None,
    "Content-Security-Policy": None,
}


@dataclass(frozen=True)
class TLSServerConfig:
    cert_file: str | None = None  # paths are relative to the web config file
    key_file: str | None = None
    cert: str | None = None  # inline PEM, instead of cert_file
    key: Secret | None = None  # inline PEM, instead of key_file
    client_auth_type: ClientAuth = "NoClientCert"
    client_ca_file: str | None = None
    client_ca: str | None = None  # inline PEM, instead of client_ca_file
    client_allowed_sans: list[str] | None = None
    min_version: TLSVersion = "TLS12"
    max_version: TLSVersion = "TLS13"
    cipher_suites: list[str] | None = None
    curve_preferences: list[str] | None = None
    prefer_server_cipher_suites: bool = True

    @property
    def enabled(self) -> bool:
        """As exporter-toolkit: TLS is on when a certificate, key, CA or client_auth_type is given."""
        return any(
            (self.cert_file, self.cert, self.key_file, self.key, self.client_ca_file, self.client_ca)
        ) or (self.client_auth_type != "NoClientCert")

    def validate(self) -> None:
        if not self.enabled:
            return
        for inline, path in (("cert", "cert_file"), ("key", "key_file"), ("client_ca", "client_ca_file")):
            if getattr(self, inline) and getattr(self, path):
                raise ConfigError(inline, f"give {inline} or {path}, not both")
        if not (self.cert or self.cert_file):
            raise ConfigError(
                "cert_file", "required key is missing (or give the certificate inline as `cert`)"
            )
        if not (self.key or self.key_file):
            raise ConfigError("key_file", "required key is missing (or give the key inline as `key`)")
        if self.client_auth_type in ("RequestClientCert", "RequireAnyClientCert", "RequireClientCert"):
            raise ConfigError(
                "client_auth_type",
                f"{self.client_auth_type} (a certificate that is not verified) is not supported; use "
                "VerifyClientCertIfGiven or RequireAndVerifyClientCert with client_ca_file",
            )
        has_ca = bool(self.client_ca_file or self.client_ca)
        if self.client_auth_type != "NoClientCert" and not has_ca:
            raise ConfigError("client_ca_file", f"required when client_auth_type is {self.client_auth_type}")
        if has_ca and self.client_auth_type == "NoClientCert":
            raise ConfigError(
                "client_auth_type",
                "a client CA is given but client_auth_type is NoClientCert: set RequireAndVerifyClientCert "
                "(exporter-toolkit refuses this too)",
            )
        if self.client_allowed_sans is not None and self.client_auth_type == "NoClientCert":
            raise ConfigError(
                "client_allowed_sans",
                "needs client_auth_type RequireAndVerifyClientCert (or VerifyClientCertIfGiven)",
            )
        if _VERSIONS[self.min_version] > _VERSIONS[self.max_version]:
            raise ConfigError("min_version", f"{self.min_version} is above max_version {self.max_version}")
        for i, name in enumerate(self.cipher_suites or ()):
            if name not in GO_CIPHER_SUITES:
                why = " (an insecure suite, which exporter-toolkit refuses too)" if _insecure(name) else ""
                raise ConfigError(f"cipher_suites[{i}]", f"unknown cipher suite {name[:80]!r}{why}")
        curves = self.curve_preferences or []
        for i, name in enumerate(curves):
            if name not in CURVES:
                raise ConfigError(
                    f"curve_preferences[{i}]", f"unknown curve {name[:40]!r} (known: {', '.join(CURVES)})"
                )
        if len(curves) > 1:
            raise ConfigError(
                "curve_preferences",
                "only one curve can be set here (Python's ssl has no preference list); give the one to use",
            )


def _insecure(name: str) -> bool:
    return any(w in name for w in ("RC4", "3DES", "CBC_SHA256"))


@dataclass(frozen=True)
class HTTPServerConfig:
    headers: dict[str, str] = field(default_factory=dict)
    http2: bool | None = None

    def validate(self) -> None:
        if self.http2:
            raise ConfigError(
                "http2", "HTTP/2 is not implemented here (HTTP/1.1 only): remove it or set it false"
            )
        for name, value in self.headers.items():
            if name not in HEADERS:
                raise ConfigError(
                    f"headers.{name[:64]}",
                    f"HTTP header {name[:64]!r} can not be configured (exporter-toolkit)",
                )
            allowed = HEADERS[name]
            if allowed is not None and value not in allowed:
                raise ConfigError(f"headers.{name}", f"expected one of: {', '.join(allowed)}")


@dataclass(frozen=True)
class RateLimitConfig:
    interval: Duration = Duration(0)  # time between two requests; 0 turns the limiter off
    burst: int = 0

    def validate(self) -> None:
        if self.interval > 0 and self.burst < 1:
            raise ConfigError(
                "burst", "must be at least 1 when interval is set (0 would refuse every request)"
            )


@dataclass(frozen=True)
class WebConfig:
    tls_server_config: TLSServerConfig | None = None
    http_server_config: HTTPServerConfig = field(default_factory=HTTPServerConfig)
    basic_auth_users: dict[str, str] = field(default_factory=dict)
    rate_limit: RateLimitConfig = field(default_factory=RateLimitConfig)

    def validate(self) -> None:
        for user, h in self.basic_auth_users.items():
            if not h.startswith(("$2a$", "$2b$", "$2y$")):
                raise ConfigError(
                    f"basic_auth_users.{user}",
                    "must be a bcrypt hash (e.g. from `htpasswd -nBC 10 '' | tr -d ':'`)",
                )


# Basic auth: results are cached per (user, stored hash, password), keyed by an HMAC with a per-process
# key, for AUTH_CACHE_SECONDS, at most AUTH_CACHE_SIZE failures and as many successes (kept apart, so a
# flood of wrong passwords cannot push Prometheus' own out); one bcrypt runs at a time (as exporter-toolkit).
AUTH_CACHE_SECONDS = 300.0
AUTH_CACHE_SIZE = 100
_BCRYPT = threading.Lock()
_CACHE_KEY = secrets.token_bytes(32)
# A bcrypt hash (cost 10) of no password anyone has, for unknown users: they pay a bcrypt too, so timing
# does not tell which users exist.
_DUMMY = b"$2b$10$hPb/GNqZ.Eof/PNyUo7iy.BV8ZE0xCzCanGHCnPrymkyiq.Dpp7Gu"


class _AuthCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ok: OrderedDict[bytes, float] = OrderedDict()
        self._bad: OrderedDict[bytes, float] = OrderedDict()

    def get(self, key: bytes) -> bool | None:
        now = time.monotonic()
        with self._lock:
            for table, result in ((self._ok, True), (self._bad, False)):
                at = table.get(key)
                if at is not None:
                    if now - at < AUTH_CACHE_SECONDS:
                        return result
                    del table[key]
        return None

    def put(self, key: bytes, ok: bool) -> None:
        with self._lock:
            table = self._ok if ok else self._bad
            table[key] = time.monotonic()
            table.move_to_end(key)
            while len(table) > AUTH_CACHE_SIZE:
                table.popitem(last=False)


class _RateLimiter:
    """A token bucket as Go's rate.Limiter: `burst` tokens, one more every `interval`; starts full."""

    def __init__(self, interval: float, burst: int) -> None:
        self.interval, self.burst = interval, burst
        self.tokens = float(burst)
        self.at = time.monotonic()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self.tokens = min(float(self.burst), self.tokens + (now - self.at) / self.interval)
            self.at = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


class WebSecurity:
    """What one version of the web config means at run time: an SSL context (or None), basic auth,
    allowed client SANs, the rate limit, extra headers, and the files it was built from."""

    def __init__(self, cfg: WebConfig, path: str | None = None) -> None:
        self.cfg = cfg
        self.path = path
        tls = cfg.tls_server_config if cfg.tls_server_config and cfg.tls_server_config.enabled else None
        base = Path(path).parent if path else Path(".")
        self.files = [str(p) for p in ([path] if path else [])]
        if tls:
            self.files += [str(base / f) for f in (tls.cert_file, tls.key_file, tls.client_ca_file) if f]
        self.ssl_context = _ssl_context(tls, base, path) if tls else None
        self.allowed_sans = (
            frozenset(tls.client_allowed_sans) if tls and tls.client_allowed_sans is not None else None
        )
        self.headers = dict(cfg.http_server_config.headers)
        self._users = {u: h.encode() for u, h in cfg.basic_auth_users.items()}
        self._cache = _AuthCache()
        rl = cfg.rate_limit
        self._limiter = _RateLimiter(float(rl.interval), rl.burst) if rl.interval > 0 else None

    @property
    def auth_required(self) -> bool:
        return bool(self._users)

    def rate_allowed(self) -> bool:
        return self._limiter is None or self._limiter.allow()

    def check_basic_auth(self, header: str | None) -> bool:
        if not self._users:
            return True
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        stored = self._users.get(user)
        hashed = stored or _DUMMY
        key = hmac.new(
            _CACHE_KEY, b"\0".join((user.encode(), hashed, password.encode())), hashlib.sha256
        ).digest()
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        with _BCRYPT:  # at most one bcrypt at a time: it is slow on purpose, and an attacker chooses how many
            hit = self._cache.get(key)  # another request may just have checked the same credentials
            if hit is not None:
                return hit
            try:
                ok = bcrypt.checkpw(password.encode(), hashed) and stored is not None
            except ValueError:
                ok = False
            self._cache.put(key, ok)
        return ok

    def client_allowed(self, cert: Mapping[str, Any] | None) -> bool:
        """client_allowed_sans: a SAN (DNS, e-mail, IP or URI) of the client's certificate must be listed.
        `cert` is the verified certificate as `ssl` decodes it (`getpeercert()`): no other library needed,
        so every exporter's package can use the option. IP addresses compare in their usual short form."""
        if self.allowed_sans is None:
            return True
        values = []
        for kind, value in (cert or {}).get("subjectAltName", ()):
            if kind in ("DNS", "email", "URI"):
                values.append(value)
            elif kind == "IP Address":
                with contextlib.suppress(ValueError):
                    values.append(str(ipaddress.ip_address(value.strip())))
        return any(v in self.allowed_sans for v in values)


@contextlib.contextmanager
def _pem_path(text: str | None, path: Path | None) -> Iterator[str | None]:
    """A path to PEM text given inline: an anonymous in-memory file (nothing is written to disk)."""
    if text is None:
        yield str(path) if path else None
        return
    fd = os.memfd_create("colo-web-config", os.MFD_CLOEXEC)
    try:
        os.write(fd, text.encode())
        yield f"/proc/self/fd/{fd}"
    finally:
        os.close(fd)


def _ssl_context(tls: TLSServerConfig, base: Path, path: str | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = _VERSIONS[tls.min_version]
    ctx.maximum_version = _VERSIONS[tls.max_version]
    cert_path = base / tls.cert_file if tls.cert_file else None
    key_path = base / tls.key_file if tls.key_file else None
    key_text = tls.key.reveal() if tls.key else None
    try:
        with _pem_path(tls.cert, cert_path) as cert, _pem_path(key_text, key_path) as key:
            ctx.load_cert_chain(str(cert), key)
    except (OSError, ssl.SSLError) as e:
        where = "tls_server_config.cert" if tls.cert else "tls_server_config.cert_file"
        raise ConfigError(where, f"cannot load certificate/key: {_ssl_reason(e)}", path) from None
    if tls.client_auth_type != "NoClientCert":
        try:
            if tls.client_ca:
                ctx.load_verify_locations(cadata=tls.client_ca)
            else:
                ctx.load_verify_locations(str(base / (tls.client_ca_file or "")))
        except (OSError, ssl.SSLError) as e:
            where = "tls_server_config.client_ca" if tls.client_ca else "tls_server_config.client_ca_file"
            raise ConfigError(where, f"cannot load: {_ssl_reason(e)}", path) from None
        ctx.verify_mode = (
            ssl.CERT_REQUIRED if tls.client_auth_type == "RequireAndVerifyClientCert" else ssl.CERT_OPTIONAL
        )
    if tls.cipher_suites:
        names = _openssl_ciphers(tls.cipher_suites, path)
        if names:
            ctx.set_ciphers(":".join(names))
    if tls.prefer_server_cipher_suites:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    if tls.curve_preferences:
        ctx.set_ecdh_curve(CURVES[tls.curve_preferences[0]])
    return ctx


def _ssl_reason(e: OSError | ssl.SSLError) -> str:
    return str(getattr(e, "reason", None) or getattr(e, "strerror", None) or e)[:200]


def _openssl_ciphers(go_names: list[str], path: str | None) -> list[str]:
    """Go's (IANA) names -> the OpenSSL names of the same suites; TLS 1.3 suites are left to OpenSSL."""
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    probe.set_ciphers("ALL:@SECLEVEL=0")
    by_id = {c["id"] & 0xFFFF: c["name"] for c in probe.get_ciphers()}
    out = []
    for i, name in enumerate(go_names):
        iana = GO_CIPHER_SUITES[name]
        if iana >> 8 == 0x13:
            continue
        if iana not in by_id:
            raise ConfigError(
                f"tls_server_config.cipher_suites[{i}]", f"{name} is not available in this OpenSSL", path
            )
        out.append(by_id[iana])
    return out


def load_web_config(path: str | None) -> WebSecurity:
    if not path:
        return WebSecurity(WebConfig())
    return WebSecurity(load_config(WebConfig, path), path)


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class WebConfigHolder:
    """The web config in force. Re-read by `reload()` (SIGHUP, POST /-/reload) and by `refresh()` when the
    file or a certificate, key or CA file it names has changed; a version that fails keeps the old one."""

    CHECK_SECONDS = 1.0

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.current = load_web_config(path)
        self._stamps = self._stamp_all(self.current)
        self._failed: tuple[object, ...] | None = None
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    @staticmethod
    def _stamp_all(sec: WebSecurity) -> tuple[object, ...]:
        return tuple(_stamp(f) for f in sec.files)

    def reload(self) -> str | None:
        """Read the web config again; the error (the old one stays), or None."""
        if not self.path:
            return None
        with self._lock:
            try:
                new = load_web_config(self.path)
            except ConfigError as e:
                log.error("web config reload failed; keeping the previous one", err=str(e))
                return str(e)
            self.current, self._stamps, self._failed = new, self._stamp_all(new), None
        log.info("web config reloaded", file=self.path, tls=new.ssl_context is not None)
        return None

    def refresh(self) -> None:
        """At most once per CHECK_SECONDS: re-read the web config if one of its files changed."""
        if not self.path or time.monotonic() - self._checked < self.CHECK_SECONDS:
            return
        self._checked = time.monotonic()
        stamps = self._stamp_all(self.current)
        if stamps == self._stamps or stamps == self._failed:
            return
        with self._lock:
            try:
                new = load_web_config(self.path)
            except ConfigError as e:
                self._failed = stamps  # logged once per change, retried at the next one
                log.error("changed web config is invalid; keeping the previous one", err=str(e))
                return
            self.current, self._stamps, self._failed = new, self._stamp_all(new), None
        log.info("web config changed; reloaded", file=self.path, tls=new.ssl_context is not None)
