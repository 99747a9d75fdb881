"""Talking to LXD or Incus: the core's HTTP session, on the unix socket or HTTPS, bounded by the deadline.

Every request is `GET /1.0/...` on the one configured daemon; the whole answer is read before the deadline
(a peer that trickles or goes silent is cut off there, whatever it does) and limited in size. Errors
become `ScrapeError`s that say what to do.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
from typing import Any
from urllib.parse import urlencode

from exporters.core import Deadline, Malformed, ScrapeError, get_logger
from exporters.core.http import Answer, Session

from .config import Config

log = get_logger(__name__)

MAX_BODY = 512 * 2**20  # 5,000 instances at recursion=2 are about 25 MB


class LXD:
    """One session to the daemon, made on first use (and again after a failure to build it)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.where = config.url or config.socket_path()
        self._session: Session | None = None
        self._lock = threading.Lock()
        self.calls = 0  # requests sent (tests and the benchmark count them)
        self._calls_lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            s, self._session = self._session, None
        if s is not None:
            s.close()

    def _get_session(self) -> Session:
        with self._lock:
            if self._session is not None:
                return self._session
            cfg = self.config
            if cfg.url is None:
                s = Session("http://localhost", unix_socket=cfg.socket_path())
            else:
                tls = cfg.tls
                assert tls is not None
                try:
                    s = Session(
                        cfg.url,
                        verify=not tls.insecure_skip_verify,
                        client_cert=(tls.cert_file, tls.key_file),
                        pin_cert_file=tls.server_cert_file,
                    )
                except (OSError, ssl.SSLError, ValueError) as e:
                    raise ScrapeError(
                        "tls", f"cannot load the certificates in tls: {type(e).__name__}: {e}"
                    ) from None
            self._session = s
            return s

    def get(
        self,
        path: str,
        deadline: Deadline,
        params: dict[str, str] | None = None,
        *,
        error_ok: bool = False,
        limit: int = MAX_BODY,
    ) -> Any:
        """GET `/1.0/<path>` (path "" is /1.0) and return the decoded JSON envelope.

        An LXD error answer raises ScrapeError("api"), or with `error_ok` is returned for the caller to judge.
        """
        where, answer = self._request(path, deadline, params, limit)
        if answer.status != 200:
            return self._refused(answer, where, error_ok)
        return decode_json(answer.body, where)

    def get_text(
        self, path: str, deadline: Deadline, params: dict[str, str] | None = None, *, limit: int = MAX_BODY
    ) -> str:
        """GET a text answer (`/1.0/metrics`)."""
        where, answer = self._request(path, deadline, params, limit)
        if answer.status != 200:
            self._refused(answer, where, False)
        try:
            return answer.body.decode()
        except UnicodeDecodeError:
            raise Malformed(f"{where}: not UTF-8 text") from None

    def _request(
        self, path: str, deadline: Deadline, params: dict[str, str] | None, limit: int
    ) -> tuple[str, Answer]:
        where = "/1.0/" + path if path else "/1.0"
        link = where + ("?" + urlencode(params) if params else "")
        if self.config.url is None and not os.path.exists(self.where):
            raise ScrapeError(
                "connect", f"LXD socket {self.where} does not exist: is LXD running (and is `socket:` right)?"
            )
        session = self._get_session()
        with self._calls_lock:
            self.calls += 1
        try:
            return where, session.request("GET", link, deadline, limit=limit)
        except ScrapeError as e:
            raise self._explain(e, where) from None

    def _explain(self, e: ScrapeError, where: str) -> ScrapeError:
        at = self.where
        if e.reason == "connect":
            if "Permission denied" in e.message:
                return ScrapeError(
                    "permission",
                    f"permission denied on {at}: run the exporter as root or as a "
                    "member of LXD's group (`lxd --group`, usually `lxd`; `incus-admin` for Incus)",
                )
            if "Connection refused" in e.message or "No such file" in e.message:
                return ScrapeError("connect", f"cannot connect to {at}: is LXD running? ({e.message[:200]})")
            return ScrapeError("connect", f"{where} on {at}: {e.message[:300]}")
        if e.reason == "tls":
            return ScrapeError(
                "tls",
                f"TLS with {at} failed: check tls.server_cert_file and the client certificate "
                f"({e.message[:200]})",
            )
        if e.reason == "timeout":
            return ScrapeError("timeout", f"{where} on {at}: no whole answer before the deadline")
        return e

    def _refused(self, answer: Answer, where: str, error_ok: bool) -> Any:
        """An HTTP error status: LXD's own error envelope says why."""
        try:
            envelope = json.loads(answer.body[: 64 * 1024]) if len(answer.body) <= 64 * 1024 else None
            msg = str(envelope.get("error", ""))[:300] if isinstance(envelope, dict) else ""
        except ValueError:
            envelope, msg = None, answer.body[:200].decode(errors="replace")
        if answer.status == 403:
            raise ScrapeError(
                "auth",
                f"LXD refused {where} (HTTP 403 {msg!r}): the client certificate is not "
                "trusted, or is a 'metrics'-type certificate, which can read /1.0/metrics "
                "only; trust it with `lxc config trust add --type=client`",
            )
        if error_ok and isinstance(envelope, dict) and envelope.get("type") == "error":
            return envelope  # the caller decides (e.g. 500 "Server is not clustered" is not an error)
        raise ScrapeError("api", f"{where}: HTTP {answer.status} {msg!r}")


def decode_json(body: bytes, where: str) -> Any:
    try:
        return json.loads(body)
    except ValueError as e:
        raise Malformed(
            f"{where}: not valid JSON ({e}); first bytes: {body[:60].decode(errors='replace')!r}"
        ) from None
