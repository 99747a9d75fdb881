"""Redfish to one BMC over the core's HTTP session: every link checked by `links.request_path` (absolute
paths on the configured origin only; anything else is skipped and counted `bad_link`, never requested), no
redirect followed on any method, every socket ended at the scrape deadline.

Login: `session` (a token kept across scrapes and across reloads while the target's URL and credentials
stay the same; one re-login on 401; the session is deleted at once when a reload replaces it with a
working one, and every session is deleted at shutdown, in parallel within `LOGOUT_BUDGET`) or `basic`.
Independent requests of one scrape run in parallel (slow BMCs), at most `PARALLEL` at a time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from ..core import Deadline, Malformed, ScrapeError, get_logger
from ..core.http import Answer, BadLink, Session
from ..core.workers import WORKERS
from . import links
from . import redfish_parse as P
from .config import Auth, RedfishTarget
from .model import Component, Snapshot

log = get_logger(__name__)

MAX_BODY = 32 * 1024 * 1024
PARALLEL = 8  # requests in flight per BMC
MAX_PAGES = 100  # pages followed in one collection
LOGOUT_BUDGET = 3.0  # seconds for all logouts at shutdown (the core's shutdown budget is 5 s)
COMPONENTS_SECONDS = 60.0  # one background round of component health
ROOT = "/redfish/v1"
SESSIONS = f"{ROOT}/SessionService/Sessions"


class _NotFound(Exception):
    pass


class _Refused(_NotFound):
    """A link refused by `links.request_path` (already counted as skipped)."""


class _Login:
    """One Redfish session (token and where to delete it), shared by every source with the same target
    name, URL, TLS settings and credentials: a reload that changes none of them keeps the session."""

    def __init__(self, key: tuple[str, ...], target: str, http_args: dict[str, Any]) -> None:
        self.key, self.target, self.http_args = key, target, http_args
        self.token: str | None = None
        self.location: str | None = None
        self.lock = threading.Lock()
        self.users = 0  # live sources holding it
        self.retired = False  # logged out for good: never log in again
        self.logins = 0


class _Logins:
    """Every live session of the process: reused across reloads, retired when replaced, closed at exit."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_key: dict[tuple[str, ...], _Login] = {}

    def attach(self, key: tuple[str, ...], target: str, http_args: dict[str, Any]) -> _Login:
        with self.lock:
            s = self.by_key.get(key)
            if s is None or s.retired:
                s = self.by_key[key] = _Login(key, target, http_args)
            s.users += 1
            return s

    def detach(self, s: _Login) -> None:
        """A source is closed: the session goes when its last user goes."""
        with self.lock:
            s.users -= 1
            last = s.users <= 0 and self.by_key.get(s.key) is s
            if last:
                del self.by_key[s.key]
        if last:
            _logout_all([s], LOGOUT_BUDGET)

    def replaced(self, s: _Login) -> None:
        """`s` has just logged in: older sessions of the same target (another URL or password) go now."""
        with self.lock:
            old = [o for k, o in self.by_key.items() if o is not s and o.target == s.target]
            for o in old:
                o.retired = True
                del self.by_key[o.key]
        if old:
            threading.Thread(target=_logout_all, args=(old, LOGOUT_BUDGET), daemon=True).start()

    def keep_only(self, targets: set[str]) -> None:
        """A new config without some targets: their sessions go now (in the background)."""
        with self.lock:
            gone = [o for o in self.by_key.values() if o.target not in targets]
            for o in gone:
                o.retired = True
                del self.by_key[o.key]
        if gone:
            threading.Thread(target=_logout_all, args=(gone, LOGOUT_BUDGET), daemon=True).start()

    def close_all(self) -> None:
        with self.lock:
            every = list(self.by_key.values())
            for s in every:
                s.retired = True
            self.by_key.clear()
        _logout_all(every, LOGOUT_BUDGET)


LOGINS = _Logins()


def _logout_all(sessions: list[_Login], budget: float) -> None:
    """DELETE each session (in parallel, all within `budget` seconds); a BMC that does not answer, answers
    badly or redirects costs only its own session, which then expires on the BMC."""
    deadline = Deadline(budget)
    threads = [threading.Thread(target=_logout, args=(s, deadline), daemon=True) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(deadline.remaining() + 0.1)


def _logout(s: _Login, deadline: Deadline) -> None:
    with s.lock:
        token, where, s.token, s.location = s.token, s.location, None, None
    if not token or not where:
        return
    try:
        http = Session(**s.http_args)
    except (OSError, ValueError) as e:
        log.warning("redfish logout impossible; the session expires on the BMC", target=s.target, err=str(e))
        return
    try:
        a = http.request("DELETE", where, deadline, headers={"X-Auth-Token": token}, limit=65536)
        if a.status < 300 or a.status == 404:
            log.debug("redfish session closed", target=s.target)
        else:
            log.warning(
                "redfish logout refused; the session expires on the BMC", target=s.target, status=a.status
            )
    except ScrapeError as e:
        log.warning("redfish logout failed; the session expires on the BMC", target=s.target, err=e.message)
    finally:
        http.close()


class RedfishSource:
    """One BMC over Redfish. `read(deadline)` may run in several scrape threads at once."""

    def __init__(self, name: str, cfg: RedfishTarget, auth: Auth) -> None:
        self.name, self.cfg, self._auth = name, cfg, auth
        self.origin = cfg.origin
        http_args: dict[str, Any] = {
            "origin": self.origin,
            "verify": cfg.verify,
            "ca_file": cfg.ca_file if cfg.verify else None,
            "pool": PARALLEL * 2,
            "headers": {"Accept": "application/json", "OData-Version": "4.0"},
        }
        self._http_args = (
            {**http_args, "basic_auth": (auth.user, auth.password.reveal())}
            if cfg.login == "basic"
            else http_args
        )
        self._http: Session | None = None
        self._http_lock = threading.Lock()
        self._login_state: _Login | None = None
        if cfg.login == "session":
            digest = hashlib.sha256(f"{auth.user}\0{auth.password.reveal()}".encode()).hexdigest()
            key = (name, self.origin, str(cfg.verify), str(cfg.ca_file), digest)
            self._login_state = LOGINS.attach(key, name, http_args)
        self._closed = False
        self._root: dict[str, Any] | None = None
        self._slots = threading.BoundedSemaphore(PARALLEL)
        self._components: tuple[Component, ...] = ()
        self._components_at: float | None = None
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def http(self) -> Session:
        """The HTTP session, made on first use (a CA file is read then, not when the config is checked)."""
        with self._http_lock:
            if self._http is None:
                try:
                    self._http = Session(**self._http_args)
                except (OSError, ValueError) as e:
                    raise ScrapeError("tls", f"cannot use ca_file: {e}") from None
            return self._http

    @property
    def logins(self) -> int:
        return self._login_state.logins if self._login_state else 0

    # -- HTTP ------------------------------------------------------------------------------------------
    def _send(
        self, method: str, path: str, deadline: Deadline, json: Any = None, n: Counter | None = None
    ) -> Answer:
        """One request to `path` (already a checked path), within the per-request timeout and the deadline."""
        if n is not None:
            n.add()
        if not self._slots.acquire(timeout=deadline.remaining()):
            raise ScrapeError("timeout", "deadline reached waiting to send a Redfish request")
        try:
            s = self._login_state
            headers = {"X-Auth-Token": s.token} if s is not None and s.token else None
            return self.http.request(
                method,
                path,
                deadline,
                headers=headers,
                json=json,
                limit=MAX_BODY,
                cap=float(self.cfg.timeout),
            )
        except ScrapeError as e:
            if e.reason == "tls":
                raise ScrapeError("tls", f"{e.message} (set ca_file, or verify: false)") from None
            raise
        finally:
            self._slots.release()

    def path(self, link: object, deadline: Deadline, what: str = "link") -> str:
        """A link from the BMC as a path to request; a bad one is counted (`bad_link`) and raises _Refused."""
        try:
            return links.request_path(link)
        except BadLink as e:
            deadline.skip("bad_link", f"{self.name}: {what}: {e.message}")
            raise _Refused(str(link)[:120]) from None

    def _login(self, deadline: Deadline, stale: str | None, n: Counter | None = None) -> None:
        s = self._login_state
        assert s is not None
        if not s.lock.acquire(timeout=deadline.remaining()):
            raise ScrapeError("timeout", "deadline reached waiting for another scrape's login")
        try:
            if s.retired or self._closed:
                raise ScrapeError("auth", "the Redfish session was closed (reload or shutdown)")
            if s.token is not None and s.token != stale:
                return  # another thread logged in already
            s.token = s.location = None
            self._login_locked(s, deadline, n)
        finally:
            s.lock.release()
        LOGINS.replaced(s)

    def _login_locked(self, s: _Login, deadline: Deadline, n: Counter | None) -> None:
        where = SESSIONS
        link = P.link(P.link_holder(self._root or {}, "Links"), "Sessions")
        if link is not None:
            try:
                where = self.path(link, deadline, "Links.Sessions")
            except _Refused:
                pass  # the standard path instead
        r = self._send(
            "POST",
            where,
            deadline,
            json={"UserName": self._auth.user, "Password": self._auth.password.reveal()},
            n=n,
        )
        token = r.headers.get("X-Auth-Token")
        if r.status in (200, 201, 204) and token:
            s.token, s.location = token, self._session_location(r, deadline)
            s.logins += 1
            log.debug("redfish session opened", target=self.name)
            return
        raise _login_error(r)

    def _session_location(self, r: Answer, deadline: Deadline) -> str | None:
        """Where to DELETE the new session: its Location (same origin only), else the body's @odata.id."""
        loc = r.headers.get("Location")
        if loc:
            try:
                return links.location_path(loc, self.origin)
            except BadLink as e:
                deadline.skip("bad_link", f"{self.name}: session Location: {e.message}")
        try:
            body = r.json("session")
            return self.path(
                body.get("@odata.id") if isinstance(body, dict) else None, deadline, "session @odata.id"
            )
        except (ScrapeError, _Refused):
            log.warning("redfish session has no usable location; it cannot be deleted", target=self.name)
            return None

    def get(
        self, link: str, deadline: Deadline, params: str = "", n: Counter | None = None
    ) -> dict[str, Any]:
        """GET a resource as JSON; one re-login on 401 with session auth. A refused link raises _Refused."""
        path = self.path(link, deadline)
        full = path + (("&" if "?" in path else "?") + params if params else "")
        s = self._login_state
        if s is not None and s.token is None:
            self._login(deadline, None, n)
        token = s.token if s is not None else None
        r = self._send("GET", full, deadline, n=n)
        if r.status == 401 and s is not None:
            log.debug("redfish session rejected; logging in again", target=self.name)
            self._login(deadline, token, n)
            r = self._send("GET", full, deadline, n=n)
        if r.status == 404:
            raise _NotFound(path)
        if r.status in (401, 403):
            raise ScrapeError("auth", f"GET {path}: HTTP {r.status}{_message_id(r)}")
        if 300 <= r.status < 400:
            raise ScrapeError("http", f"GET {path}: HTTP {r.status} (redirects are not followed)")
        if r.status >= 400:
            raise ScrapeError("http", f"GET {path}: HTTP {r.status}{_message_id(r)}")
        return _json(r, path)

    # -- one scrape ------------------------------------------------------------------------------------
    def _service_root(self, deadline: Deadline, n: Counter) -> dict[str, Any]:
        root = self._root
        if root is None:
            r = self._send("GET", ROOT + "/", deadline, n=n)
            if r.status >= 300:
                raise ScrapeError("http", f"GET {ROOT}/: HTTP {r.status}")
            root = self._root = _json(r, ROOT + "/")
        return root

    def read(self, deadline: Deadline) -> Snapshot:
        n = Counter()
        try:
            root = self._service_root(deadline, n)
            snap = P.walk(root, _Scrape(self, deadline, n), sel=self.cfg.sel)
            if self.cfg.components:
                self._start_poller()
        except ScrapeError:
            self._root = None  # read it again next time (the BMC may have been replaced or reset)
            raise
        except _Refused as e:
            self._root = None
            raise ScrapeError("bad_link", f"a required link was refused: {e}") from None
        except _NotFound as e:
            self._root = None
            raise ScrapeError("http", f"GET {e}: HTTP 404") from None
        except Exception:
            self._root = None
            raise
        return dataclasses.replace(
            snap, requests=n.value, components=self._components, components_refreshed=self._components_at
        )

    # -- component health, in the background -----------------------------------------------------------
    def _start_poller(self) -> None:
        if self._poller is None and not self._closed:
            self._poller = threading.Thread(
                target=self._poll, daemon=True, name=f"redfish components {self.name}"
            )
            self._poller.start()

    def _poll(self) -> None:
        """Read the component health now and then every `components_interval`, each round bounded by
        COMPONENTS_SECONDS; a failed round keeps the previous result (its timestamp says how old it is)."""
        interval = float(self.cfg.components_interval)
        while not self._stop.is_set():
            deadline = Deadline(min(COMPONENTS_SECONDS, interval))
            try:
                root = self._service_root(deadline, Counter())
                got = P.components(root, _Scrape(self, deadline, Counter()))
                self._components, self._components_at = got, time.time()
                log.debug("redfish components read", target=self.name, components=len(got))
            except (ScrapeError, _NotFound) as e:
                log.warning("redfish component health not read", target=self.name, err=str(e))
            except Exception as e:  # noqa: BLE001 - a background thread must not die silently
                log.error("redfish component health failed", target=self.name, err=f"{type(e).__name__}: {e}")
            self._stop.wait(interval)

    def _expand(self) -> str:
        f = (self._root or {}).get("ProtocolFeaturesSupported")
        eq = f.get("ExpandQuery") if isinstance(f, dict) else None
        if isinstance(eq, dict) and eq.get("ExpandAll") is True and eq.get("Levels") is True:
            return "$expand=.($levels=1)"
        return ""

    def collection(
        self, link: str, deadline: Deadline, n: Counter | None = None
    ) -> list[tuple[str | None, dict[str, Any]]]:
        """A collection's members, each with the link it was fetched from (None when the service expanded
        it): expanded where the service can, else fetched in parallel; a refused or missing member costs
        only itself, a refused next link ends the paging."""
        doc = self.get(link, deadline, self._expand(), n)
        found = P.members(doc)
        pages = 0
        while isinstance(doc.get("Members@odata.nextLink"), str) and pages < MAX_PAGES:
            pages += 1  # a paged collection: follow the next links
            try:
                doc = self.get(doc["Members@odata.nextLink"], deadline, n=n)
            except _Refused:
                break
            found += P.members(doc)
        out: list[tuple[str | None, dict[str, Any]] | None] = []
        todo: list[tuple[int, str]] = []
        for m in found:
            if set(m) <= {"@odata.id"} and isinstance(m.get("@odata.id"), str):
                todo.append((len(out), m["@odata.id"]))
                out.append(None)
            else:
                out.append((None, m))
        # Members are fetched by at most PARALLEL workers (a collection may hold hundreds).
        groups = [todo[k::PARALLEL] for k in range(min(PARALLEL, len(todo)))]
        calls = [partial(self._get_all, g, deadline, n) for g in groups]
        for group, results in zip(groups, self._parallel(calls, deadline), strict=True):
            for (i, u), res in zip(group, results, strict=True):
                out[i] = (u, res) if res is not None else None
        return [x for x in out if x is not None]

    def _get_all(
        self, items: list[tuple[int, str]], deadline: Deadline, n: Counter | None
    ) -> list[dict[str, Any] | None]:
        return [self._get_or_none(u, deadline, n) for _, u in items]

    def _get_or_none(self, link: str, deadline: Deadline, n: Counter | None) -> dict[str, Any] | None:
        try:
            return self.get(link, deadline, n=n)
        except _Refused:
            return None
        except _NotFound:
            log.debug("redfish resource missing; skipped", target=self.name, path=link)
            return None

    def _parallel(self, calls: Sequence[Callable[[], Any]], deadline: Deadline) -> list[Any]:
        """Run the calls at once (a worker each; the HTTP requests themselves are limited by a per-BMC
        semaphore, so nesting cannot deadlock). Re-raises the first error."""
        if len(calls) <= 1:
            return [c() for c in calls]
        results: list[Any] = [None] * len(calls)
        errors: list[BaseException | None] = [None] * len(calls)

        def run(i: int, call: Callable[[], Any]) -> None:
            try:
                results[i] = call()
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                errors[i] = e

        tasks = [WORKERS.run(partial(run, i, c), f"redfish {self.name}") for i, c in enumerate(calls)]
        for t in tasks:
            if not t.wait(deadline.remaining() + 0.5):
                raise ScrapeError("timeout", "Redfish requests still running at the deadline")
        for e in errors:
            if e is not None:
                raise e
        return results

    def close(self) -> None:
        """Release connections; the session is deleted when no source of a newer config uses it."""
        self._closed = True
        self._stop.set()
        if self._login_state is not None:
            LOGINS.detach(self._login_state)
        with self._http_lock:
            if self._http is not None:
                self._http.close()


class Counter:
    """Requests sent by one scrape (or one background round)."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.value += 1


class _Scrape:
    """One scrape's view of the BMC for `redfish_parse.walk`: every call bounded by the scrape deadline."""

    def __init__(self, src: RedfishSource, deadline: Deadline, n: Counter) -> None:
        self.src, self.deadline, self.n = src, deadline, n

    def get(self, link: str, required: bool = False) -> dict[str, Any] | None:
        try:
            return self.src.get(link, self.deadline, n=self.n)
        except _NotFound as e:
            self._missing(e, link, required)
            return None

    def collection(self, link: str, required: bool = False) -> list[tuple[str | None, dict[str, Any]]] | None:
        try:
            return self.src.collection(link, self.deadline, self.n)
        except _NotFound as e:
            self._missing(e, link, required)
            return None

    def parallel(self, calls: Sequence[Callable[[], Any]]) -> list[Any]:
        return self.src._parallel(calls, self.deadline)  # noqa: SLF001 - the transport's own helper

    def _missing(self, e: _NotFound, link: str, required: bool) -> None:
        if required:
            raise e
        if not isinstance(e, _Refused):
            log.debug("redfish resource missing; skipped", target=self.src.name, path=link)
        return None


def _json(r: Answer, path: str) -> dict[str, Any]:
    doc = r.json(f"GET {path}")
    if not isinstance(doc, dict):
        raise Malformed(f"GET {path}: JSON is not an object")
    return doc


def _message_id(r: Answer) -> str:
    """The Redfish error's MessageId (never the request, which may hold credentials)."""
    try:
        err = r.json("error").get("error", {})
        found = [m.get("MessageId") for m in err.get("@Message.ExtendedInfo", []) if isinstance(m, dict)]
        ids = [str(i) for i in found if i] or ([str(err["code"])] if err.get("code") else [])
        return f" ({', '.join(ids)[:200]})" if ids else ""
    except (ScrapeError, AttributeError, TypeError):
        return ""


def _login_error(r: Answer) -> ScrapeError:
    mid = _message_id(r)
    if "SessionLimit" in mid or r.status == 429 or (r.status == 503 and "Session" in mid):
        return ScrapeError(
            "session_limit",
            f"login refused: the BMC's session limit is reached (HTTP {r.status}{mid}); close other "
            "sessions or use `login: basic`",
        )
    if r.status in (401, 403):
        locked = " (account locked)" if "Lock" in mid else ""
        return ScrapeError(
            "auth", f"login refused{locked} (HTTP {r.status}{mid}); check the user and password"
        )
    if r.status == 404:
        return ScrapeError("auth", "the BMC has no session service; use `login: basic`")
    if 300 <= r.status < 400:
        return ScrapeError("http", f"login answered with a redirect (HTTP {r.status}), not followed")
    return ScrapeError("http", f"login failed (HTTP {r.status}{mid})")
