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
from typing import Any

from ..core import Deadline, ScrapeError, get_logger
from ..core.http import Answer, BadLink, Session
from . import links
from . import redfish_parse as P
from .config import Auth, RedfishTarget
from .model import Psu, Sensor, Snapshot

log = get_logger(__name__)

MAX_BODY = 32 * 1024 * 1024
PARALLEL = 8  # requests in flight per BMC
MAX_PAGES = 100  # pages followed in one collection
LOGOUT_BUDGET = 3.0  # seconds for all logouts at shutdown (the core's shutdown budget is 5 s)
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
        self._requests = 0
        self._req_lock = threading.Lock()

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
    def _send(self, method: str, path: str, deadline: Deadline, json: Any = None) -> Answer:
        """One request to `path` (already a checked path), within the per-request timeout and the deadline."""
        with self._req_lock:
            self._requests += 1
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

    def _login(self, deadline: Deadline, stale: str | None) -> None:
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
            self._login_locked(s, deadline)
        finally:
            s.lock.release()
        LOGINS.replaced(s)

    def _login_locked(self, s: _Login, deadline: Deadline) -> None:
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

    def get(self, link: str, deadline: Deadline, params: str = "") -> dict[str, Any]:
        """GET a resource as JSON; one re-login on 401 with session auth. A refused link raises _Refused."""
        path = self.path(link, deadline)
        full = path + (("&" if "?" in path else "?") + params if params else "")
        s = self._login_state
        if s is not None and s.token is None:
            self._login(deadline, None)
        token = s.token if s is not None else None
        r = self._send("GET", full, deadline)
        if r.status == 401 and s is not None:
            log.debug("redfish session rejected; logging in again", target=self.name)
            self._login(deadline, token)
            r = self._send("GET", full, deadline)
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
    def read(self, deadline: Deadline) -> Snapshot:
        with self._req_lock:
            self._requests = 0
        try:
            if self._root is None:
                r = self._send("GET", ROOT + "/", deadline)
                if r.status >= 300:
                    raise ScrapeError("http", f"GET {ROOT}/: HTTP {r.status}")
                self._root = _json(r, ROOT + "/")
            snap = self._walk(self._root, deadline)
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
        with self._req_lock:
            n = self._requests
        return dataclasses.replace(snap, requests=n)

    def _expand(self) -> str:
        f = (self._root or {}).get("ProtocolFeaturesSupported")
        eq = f.get("ExpandQuery") if isinstance(f, dict) else None
        if isinstance(eq, dict) and eq.get("ExpandAll") is True and eq.get("Levels") is True:
            return "$expand=.($levels=1)"
        return ""

    def collection(self, path: str, deadline: Deadline) -> list[dict[str, Any]]:
        """A collection's members as resources: expanded where the service can, else fetched in parallel
        (a member that came back as a bare link is fetched)."""
        doc = self.get(path, deadline, self._expand())
        found = P.members(doc)
        pages = 0
        while isinstance(doc.get("Members@odata.nextLink"), str) and pages < MAX_PAGES:
            pages += 1  # a paged collection: follow the next links
            try:
                doc = self.get(doc["Members@odata.nextLink"], deadline)
            except _Refused:
                break
            found += P.members(doc)
        out: list[dict[str, Any] | None] = []
        todo: list[tuple[int, str]] = []
        for m in found:
            if set(m) <= {"@odata.id"} and isinstance(m.get("@odata.id"), str):
                todo.append((len(out), P.norm(m["@odata.id"])))
                out.append(None)
            else:
                out.append(m)
        # Members are fetched by at most PARALLEL workers (a collection may hold hundreds).
        groups = [todo[k::PARALLEL] for k in range(min(PARALLEL, len(todo)))]
        for group, results in zip(
            groups, self._parallel([(self._get_all, g) for g in groups], deadline), strict=True
        ):
            for (i, _), res in zip(group, results, strict=True):
                out[i] = res
        return [x for x in out if x is not None]

    def _get_all(self, items: list[tuple[int, str]], deadline: Deadline) -> list[dict[str, Any] | None]:
        return [self._get_or_none(u, deadline) for _, u in items]

    def _get_or_none(self, path: str, deadline: Deadline) -> dict[str, Any] | None:
        try:
            return self.get(path, deadline)
        except _NotFound:
            log.debug("redfish resource missing; skipped", target=self.name, path=path)
            return None

    def _parallel(self, calls: list[tuple[Any, Any]], deadline: Deadline) -> list[Any]:
        """Run `fn(arg, deadline)` for each call at once (a thread each; the HTTP requests themselves are
        limited by a per-BMC semaphore, so nesting cannot deadlock). Re-raises the first error."""
        if len(calls) <= 1:
            return [fn(arg, deadline) for fn, arg in calls]
        results: list[Any] = [None] * len(calls)
        errors: list[BaseException | None] = [None] * len(calls)

        def run(i: int, fn: Any, arg: Any) -> None:
            try:
                results[i] = fn(arg, deadline)
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                errors[i] = e

        threads = [
            threading.Thread(target=run, args=(i, fn, arg), daemon=True, name=f"redfish {self.name}")
            for i, (fn, arg) in enumerate(calls)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(deadline.remaining() + 0.5)
            if t.is_alive():
                raise ScrapeError("timeout", "Redfish requests still running at the deadline")
        for e in errors:
            if e is not None:
                raise e
        return results

    def _walk(self, root: dict[str, Any], deadline: Deadline) -> Snapshot:
        calls: list[tuple[Any, Any]] = []
        systems = P.link(root, "Systems")
        chassis_path = P.link(root, "Chassis")
        if chassis_path is None:
            raise ScrapeError("malformed", "service root has no Chassis link")
        calls.append((self._systems, systems))
        calls.append((self._all_chassis, chassis_path))
        sys_result, (chassis, parts) = self._parallel(calls, deadline)
        sensors: list[Sensor] = []
        psus: list[Psu] = []
        total = None
        health: list[tuple[str, int]] = []
        chassis_on = None
        names = P.unique_names(
            [P._name(c, i) for i, c in enumerate(chassis)],  # noqa: SLF001
            [P.member_id(c, i) for i, c in enumerate(chassis)],
        )
        # A sensor name found in several chassis is qualified by its chassis ("Backplane 1/Temp").
        seen: dict[str, set[int]] = {}
        for i, (s, p, _) in enumerate(parts):
            for x in [*s, *p]:
                seen.setdefault(x.name, set()).add(i)
        for name, c, (s, p, w) in zip(names, chassis, parts, strict=True):
            q = {n for n, where in seen.items() if len(where) > 1}
            sensors += [
                Sensor(f"{name}/{x.name}" if x.name in q else x.name, x.kind, x.value, x.health, x.thresholds)
                for x in s
            ]
            psus += [Psu(f"{name}/{x.name}" if x.name in q else x.name, x.present, x.health) for x in p]
            total = total if total is not None else w
            on, h = P.system(c)
            chassis_on = chassis_on if chassis_on is not None else on
            if h is not None:
                health.append((f"chassis {name}", h))
        power_on, sys_health, sel = sys_result
        health = sys_health + health
        return Snapshot(
            sensors=tuple(sensors),
            psus=tuple(psus),
            power_on=power_on if power_on is not None else chassis_on,
            system_power_watts=total,
            health=tuple(health),
            sel_entries=sel,
        )

    def _all_chassis(self, path: str, deadline: Deadline) -> tuple[list[dict[str, Any]], list[Any]]:
        chassis = self.collection(path, deadline)
        return chassis, self._parallel([(self._chassis, c) for c in chassis], deadline)

    def _systems(
        self, path: str | None, deadline: Deadline
    ) -> tuple[bool | None, list[tuple[str, int]], int | None]:
        """Power state, health rollup and (with `sel: true`) SEL entries of the computer systems."""
        if path is None:
            return None, [], None
        try:
            docs = self.collection(path, deadline)
        except _NotFound:
            return None, [], None
        on = None
        out = []
        names = P.unique_names(
            [P._name(d, i) for i, d in enumerate(docs)],  # noqa: SLF001
            [P.member_id(d, i) for i, d in enumerate(docs)],
        )
        for name, d in zip(names, docs, strict=True):
            o, h = P.system(d)
            on = o if on is None else (on or bool(o))
            if h is not None:
                out.append((f"system {name}", h))
        sel = None
        if self.cfg.sel:
            links = [x for x in (P.link(d, "LogServices") for d in docs) if x]
            counts = [
                c for c in self._parallel([(self._sel_entries, x) for x in links], deadline) if c is not None
            ]
            sel = sum(counts) if counts else None
        return on, out, sel

    def _sel_entries(self, path: str, deadline: Deadline) -> int | None:
        try:
            svc = P.sel_service(self.collection(path, deadline))
            entries = P.link(svc, "Entries") if svc else None
            return P.entries_count(self.get(entries, deadline)) if entries else None
        except _NotFound:
            return None

    def _chassis(self, c: dict[str, Any], deadline: Deadline) -> tuple[list[Sensor], list[Psu], float | None]:
        """One chassis: `Sensors` first; temperatures and fans from Thermal/ThermalSubsystem when Sensors
        has none; PSUs from PowerSubsystem, else legacy Power."""
        sensors_link = P.link(c, "Sensors")
        thermal, thermal_sub = P.link(c, "Thermal"), P.link(c, "ThermalSubsystem")
        power_link, power_sub = P.link(c, "Power"), P.link(c, "PowerSubsystem")
        # Phase 1, in parallel: Sensors, and the PSUs from PowerSubsystem.
        first: list[tuple[Any, Any]] = [(self._sensors, sensors_link)]
        if power_sub:
            first.append((self._power_subsystem, power_sub))
        got = self._parallel(first, deadline)
        sensors, total = got[0]
        psus: list[Psu] | None = got[1] if power_sub else None
        # Phase 2: what Sensors did not have, from the other resources.
        kinds = {s.kind for s in sensors}
        need_temps = "temperature" not in kinds
        need_fans = not kinds & {"fan_rpm", "fan_ratio"}
        calls: list[tuple[Any, Any]] = []
        if (need_temps or need_fans) and (thermal or thermal_sub):
            calls.append((self._thermal, (thermal, thermal_sub, need_temps, need_fans)))
        if power_link and (psus is None or total is None or "voltage" not in kinds):
            calls.append((self._legacy_power, power_link))
        for call, result in zip(calls, self._parallel(calls, deadline), strict=True):
            if call[0] == self._thermal:
                sensors += result
            elif result is not None:
                volts, legacy_psus, watts = result
                if "voltage" not in kinds:
                    sensors += [s for s in volts if s.kind == "voltage"]
                if psus is None:
                    psus = legacy_psus
                total = total if total is not None else watts
        return sensors, psus or [], total

    def _sensors(self, path: str | None, deadline: Deadline) -> tuple[list[Sensor], float | None]:
        if not path:
            return [], None
        try:
            return P.sensors_from_collection(self.collection(path, deadline))
        except _NotFound:
            return [], None

    def _thermal(self, args: tuple[str | None, str | None, bool, bool], deadline: Deadline) -> list[Sensor]:
        thermal, sub, need_temps, need_fans = args
        try:
            if thermal:
                got = P.thermal(self.get(thermal, deadline))
                return [
                    s
                    for s in got
                    if (s.kind == "temperature" and need_temps) or (s.kind != "temperature" and need_fans)
                ]
            out: list[Sensor] = []
            doc = self.get(sub, deadline)  # type: ignore[arg-type]  # no thermal link: sub is set (caller)
            fans_link, metrics_link = P.link(doc, "Fans"), P.link(doc, "ThermalMetrics")
            if need_fans and fans_link:
                out += P.fans(self.collection(fans_link, deadline))
            if need_temps and metrics_link:
                out += P.thermal_metrics(self.get(metrics_link, deadline))
            return out
        except _NotFound as e:
            log.debug("redfish thermal resource missing; skipped", target=self.name, path=str(e))
            return []

    def _power_subsystem(self, path: str, deadline: Deadline) -> list[Psu] | None:
        try:
            doc = self.get(path, deadline)
            supplies = P.link(doc, "PowerSupplies")
            return P.psus(self.collection(supplies, deadline)) if supplies else []
        except _NotFound:
            return None

    def _legacy_power(
        self, path: str, deadline: Deadline
    ) -> tuple[list[Sensor], list[Psu], float | None] | None:
        try:
            return P.power(self.get(path, deadline))
        except _NotFound:
            return None

    def close(self) -> None:
        """Release connections; the session is deleted when no source of a newer config uses it."""
        self._closed = True
        if self._login_state is not None:
            LOGINS.detach(self._login_state)
        with self._http_lock:
            if self._http is not None:
                self._http.close()


def _json(r: Answer, path: str) -> dict[str, Any]:
    doc = r.json(f"GET {path}")
    if not isinstance(doc, dict):
        raise ScrapeError("malformed", f"GET {path}: JSON is not an object")
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
