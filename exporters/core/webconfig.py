"""`--web.config.file` in the Prometheus exporter-toolkit format: TLS, client certificates, basic auth.

    tls_server_config: {cert_file, key_file, client_auth_type, client_ca_file, min_version, max_version}
    http_server_config: {headers: {Name: value}}
    basic_auth_users: {user: <bcrypt hash>}

Go-only knobs (cipher_suites, curve_preferences, prefer_server_cipher_suites, http2) are accepted and
ignored with a warning, so a file written for a Go exporter works here too.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import bcrypt

from .config import ConfigError, load_config
from .log import get_logger

log = get_logger("exporters.core.webconfig")

ClientAuth = Literal[
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
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


@dataclass(frozen=True)
class TLSServerConfig:
    cert_file: str
    key_file: str
    client_auth_type: ClientAuth = "NoClientCert"
    client_ca_file: str | None = None
    min_version: TLSVersion = "TLS12"
    max_version: TLSVersion | None = None
    cipher_suites: list[str] | None = None
    curve_preferences: list[str] | None = None
    prefer_server_cipher_suites: bool | None = None
    client_allowed_sans: list[str] | None = None

    def validate(self) -> None:
        if self.client_auth_type in ("RequestClientCert", "RequireAnyClientCert"):
            raise ConfigError(
                "client_auth_type",
                f"{self.client_auth_type} (a certificate that is not "
                "verified) is not supported; use VerifyClientCertIfGiven or "
                "RequireAndVerifyClientCert with client_ca_file",
            )
        if self.client_auth_type != "NoClientCert" and not self.client_ca_file:
            raise ConfigError("client_ca_file", f"required when client_auth_type is {self.client_auth_type}")
        if self.client_allowed_sans:
            raise ConfigError("client_allowed_sans", "not supported")


@dataclass(frozen=True)
class HTTPServerConfig:
    headers: dict[str, str] = field(default_factory=dict)
    http2: bool | None = None


@dataclass(frozen=True)
class WebConfig:
    tls_server_config: TLSServerConfig | None = None
    http_server_config: HTTPServerConfig = field(default_factory=HTTPServerConfig)
    basic_auth_users: dict[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        for user, h in self.basic_auth_users.items():
            if not h.startswith(("$2a$", "$2b$", "$2y$")):
                raise ConfigError(
                    f"basic_auth_users.{user}",
                    "must be a bcrypt hash (e.g. from `htpasswd -nBC 10 '' | tr -d ':'`)",
                )


class WebSecurity:
    """What the web config means at run time: an SSL context (or None) and a basic-auth check."""

    def __init__(self, cfg: WebConfig, path: str | None = None) -> None:
        self.cfg = cfg
        self.ssl_context = _ssl_context(cfg.tls_server_config, path) if cfg.tls_server_config else None
        self.headers = dict(cfg.http_server_config.headers)
        self._users = {u: h.encode() for u, h in cfg.basic_auth_users.items()}
        self._ok: set[bytes] = set()  # digests of credentials already checked (bcrypt is slow on purpose)
        self._lock = threading.Lock()
        tls = cfg.tls_server_config
        if tls:
            for knob in ("cipher_suites", "curve_preferences", "prefer_server_cipher_suites"):
                if getattr(tls, knob) is not None:
                    log.warning(
                        "web config knob is Go-specific and ignored here", key=f"tls_server_config.{knob}"
                    )

    @property
    def auth_required(self) -> bool:
        return bool(self._users)

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
        digest = hashlib.sha256(b"%s\0%s\0%s" % (user.encode(), password.encode(), stored or b"")).digest()
        with self._lock:
            if digest in self._ok:
                return True
        # Unknown users still pay one bcrypt round, so timing does not tell which users exist.
        ok = bcrypt.checkpw(password.encode(), stored or _DUMMY) and stored is not None
        if ok:
            with self._lock:
                self._ok.add(digest)
        return ok


_DUMMY = bcrypt.hashpw(b"colo-exporters-dummy", bcrypt.gensalt(rounds=10))


def _ssl_context(tls: TLSServerConfig, path: str | None) -> ssl.SSLContext:
    base = Path(path).parent if path else Path(".")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = _VERSIONS[tls.min_version]
    if tls.max_version:
        ctx.maximum_version = _VERSIONS[tls.max_version]
    cert, key = base / tls.cert_file, base / tls.key_file
    try:
        ctx.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as e:
        raise ConfigError("tls_server_config.cert_file", f"cannot load certificate/key: {e}", path) from None
    if tls.client_auth_type != "NoClientCert":
        try:
            # Ignored below: validate() requires client_ca_file whenever client_auth_type is not NoClientCert.
            ctx.load_verify_locations(str(base / tls.client_ca_file))  # type: ignore[operator]
        except (OSError, ssl.SSLError) as e:
            raise ConfigError("tls_server_config.client_ca_file", f"cannot load: {e}", path) from None
        ctx.verify_mode = (
            ssl.CERT_REQUIRED if tls.client_auth_type == "RequireAndVerifyClientCert" else ssl.CERT_OPTIONAL
        )
    return ctx


def load_web_config(path: str | None) -> WebSecurity:
    if not path:
        return WebSecurity(WebConfig())
    return WebSecurity(load_config(WebConfig, path), path)
