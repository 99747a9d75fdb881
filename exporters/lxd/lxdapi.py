"""Talking to LXD: a pylxd client on the unix socket or HTTPS, every request bounded by the deadline.

Only pylxd's raw API is used (`client.api.instances.get(params=...)`): one request returns every
instance of every project with its state. Answers are read incrementally so a slow peer cannot hold a
job past its deadline, and decoded here; errors become `ScrapeError`s that say what to do.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from typing import Any

import pylxd
import pylxd.client
import requests
import urllib3
from pylxd import exceptions as pylxd_exc

from exporters.core import Deadline, ScrapeError, get_logger

from .config import Config

log = get_logger(__name__)

MAX_BODY = 512 * 2**20  # 5,000 instances are about 25 MB
CHUNK = 256 * 1024


class LXD:
    """One long-lived pylxd client, created on first use and again after a connection failure."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.where = config.url or config.socket_path()
        self._client: pylxd.Client | None = None
        self._lock = threading.Lock()
        self.calls = 0  # requests sent (tests and the benchmark count them)
        self._calls_lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.api.session.close()

    def _connect(self, deadline: Deadline) -> pylxd.Client:
        with self._lock:
            if self._client is not None:
                return self._client
            cfg = self.config
            try:
                if cfg.url is None:
                    path = cfg.socket_path()
                    if not os.path.exists(path):
                        raise ScrapeError(
                            "connect",
                            f"LXD socket {path} does not exist: is LXD running (and is `socket:` right)?",
                        )
                    client = pylxd.Client(endpoint=path, timeout=_timeout(deadline))
                else:
                    tls = cfg.tls
                    assert tls is not None
                    verify: bool | str = (
                        tls.server_cert_file if tls.server_cert_file else not tls.insecure_skip_verify
                    )
                    if tls.insecure_skip_verify:  # asked for: one warning at start, not one per request
                        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
                    cert = (tls.cert_file, tls.key_file)
                    session = pylxd.client.get_session_for_url(cfg.url, verify=verify, cert=cert)
                    # REQUESTS_CA_BUNDLE and proxy variables must not override the pinned certificate.
                    session.trust_env = False
                    client = pylxd.Client(
                        endpoint=cfg.url,
                        cert=cert,
                        verify=verify,
                        session=session,
                        timeout=_timeout(deadline),
                    )
                self._count()
            except ScrapeError:
                raise
            except Exception as e:  # noqa: BLE001 - pylxd wraps some errors and passes others through
                raise self._error(e, "/1.0") from None
            self._client = client
            return client

    def get(
        self,
        path: str,
        deadline: Deadline,
        params: dict[str, str] | None = None,
        error_ok: bool = False,
        decode: Callable[[bytes, str], Any] | None = None,
    ) -> Any:
        """GET `/1.0/<path>` (path "" is /1.0) and return the decoded JSON envelope.

        An LXD error answer raises ScrapeError("api"), or with `error_ok` is returned for the caller to judge.
        `decode(body, where)` replaces the plain JSON decoding of a successful answer.
        """
        client = self._connect(deadline)
        node = client.api
        for seg in filter(None, path.split("/")):
            node = node[seg]
        where = "/1.0/" + path if path else "/1.0"
        self._count()
        try:
            resp = node.get(params=params or {}, timeout=_timeout(deadline), stream=True)
            try:
                body = _read(resp, deadline, where)
            finally:
                resp.close()
        except pylxd_exc.LXDAPIException as e:
            return self._refused(e.response, where, deadline, error_ok)
        except ScrapeError:
            raise
        except Exception as e:  # noqa: BLE001
            if isinstance(e, requests.ConnectionError) and not isinstance(e, requests.Timeout):
                self.close()  # the daemon may have restarted: connect afresh next time
            raise self._error(e, where) from None
        return (decode or decode_json)(body, where)

    def _count(self) -> None:
        with self._calls_lock:
            self.calls += 1

    def _refused(self, resp: requests.Response, where: str, deadline: Deadline, error_ok: bool) -> Any:
        """An HTTP error status: LXD's own error envelope says why."""
        try:
            body = _read(resp, deadline, where, limit=64 * 1024)
        except ScrapeError:
            body = b""
        finally:
            resp.close()
        try:
            envelope = json.loads(body)
            msg = str(envelope.get("error", ""))[:300] if isinstance(envelope, dict) else ""
        except ValueError:
            envelope, msg = None, body[:200].decode(errors="replace")
        if resp.status_code == 403:
            raise ScrapeError(
                "auth",
                f"LXD refused {where} (HTTP 403 {msg!r}): the client certificate is not "
                "trusted, or is a 'metrics'-type certificate, which can read /1.0/metrics "
                "only; trust it with `lxc config trust add --type=client`",
            )
        if error_ok and isinstance(envelope, dict) and envelope.get("type") == "error":
            return envelope  # the caller decides (e.g. 500 "Server is not clustered" is not an error)
        raise ScrapeError("api", f"{where}: HTTP {resp.status_code} {msg!r}")

    def _error(self, e: BaseException, where: str) -> ScrapeError:
        text = _chain_text(e)
        at = self.where
        if isinstance(e, requests.Timeout) or "timed out" in text.lower():
            return ScrapeError("timeout", f"{where} on {at}: no answer before the deadline")
        if "Permission denied" in text:
            return ScrapeError(
                "permission",
                f"permission denied on {at}: run the exporter as root or as a "
                "member of LXD's group (`lxd --group`, usually `lxd`)",
            )
        if "Connection refused" in text or "No such file" in text:
            return ScrapeError("connect", f"cannot connect to {at}: is LXD running? ({_short(text)})")
        if isinstance(e, requests.exceptions.SSLError) or "SSL" in text or "certificate" in text.lower():
            return ScrapeError(
                "tls",
                f"TLS with {at} failed: check tls.server_cert_file and the client "
                f"certificate ({_short(text)})",
            )
        if isinstance(e, (requests.ConnectionError, pylxd_exc.ClientConnectionFailed, OSError)):
            return ScrapeError("connect", f"cannot connect to {at}: {_short(text)}")
        if isinstance(e, ValueError):
            return ScrapeError("malformed", f"{where} on {at}: not a valid answer ({_short(text)})")
        return ScrapeError("connect", f"{where} on {at}: {type(e).__name__}: {_short(text)}")


def _timeout(deadline: Deadline) -> float:
    return max(0.05, deadline.remaining())


def _read(resp: requests.Response, deadline: Deadline, where: str, limit: int = MAX_BODY) -> bytes:
    raw = resp.raw
    reader = getattr(raw, "read1", None) or raw.read
    parts: list[bytes] = []
    size = 0
    while True:
        if deadline.expired():
            raise ScrapeError("timeout", f"{where}: answer not complete before the deadline")
        chunk = reader(CHUNK)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise ScrapeError("malformed", f"{where}: answer larger than {limit // 2**20} MiB")
    return b"".join(parts)


def decode_json(body: bytes, where: str) -> Any:
    try:
        return json.loads(body)
    except ValueError as e:
        raise ScrapeError(
            "malformed", f"{where}: not valid JSON ({e}); first bytes: {body[:60].decode(errors='replace')!r}"
        ) from None


def _chain_text(e: BaseException) -> str:
    parts, seen = [], set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        parts.append(f"{type(cur).__name__}: {cur}")
        cur = cur.__cause__ or cur.__context__
    return " <- ".join(parts)


def _short(text: str) -> str:
    return text if len(text) <= 240 else text[:237] + "..."
