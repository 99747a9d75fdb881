"""Redfish over HTTPS with requests: session login (X-Auth-Token kept across scrapes, one re-login on
401, logout on close) or basic auth; TLS verified by default; every request bounded by the deadline;
no retries behind our back. Independent requests of one scrape run in parallel (slow BMCs)."""

from __future__ import annotations

import dataclasses
import json
import threading
import urllib.parse
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from ..core import Deadline, ScrapeError, get_logger
from . import redfish_parse as P
from .config import Auth, RedfishTarget
from .model import Psu, Sensor, Snapshot

log = get_logger(__name__)

MAX_BODY = 32 * 1024 * 1024
PARALLEL = 8  # requests in flight per BMC
MAX_PAGES = 100  # pages followed in one collection
LOGOUT_SECONDS = 2.0
ROOT = "/redfish/v1"


class _NotFound(Exception):
    pass


class RedfishSource:
    """One BMC over Redfish. `read(deadline)` may run in several scrape threads at once."""

    def __init__(self, name: str, cfg: RedfishTarget, auth: Auth) -> None:
        self.name, self.cfg, self._auth = name, cfg, auth
        self.base = cfg.url.rstrip("/")
        if self.base.endswith(ROOT):
            self.base = self.base[: -len(ROOT)]
        self.http = requests.Session()
        adapter = HTTPAdapter(max_retries=0, pool_connections=1, pool_maxsize=PARALLEL * 2)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self.http.trust_env = False  # no proxies or netrc credentials from the environment
        self.http.verify = cfg.ca_file if (cfg.verify and cfg.ca_file) else cfg.verify
        self.http.headers.update({"Accept": "application/json", "OData-Version": "4.0"})
        if cfg.login == "basic":
            self.http.auth = (auth.user, auth.password.reveal())
        self._token: str | None = None
        self._session_url: str | None = None
        self._login_lock = threading.Lock()
        self._root: dict[str, Any] | None = None
        self._slots = threading.BoundedSemaphore(PARALLEL)
        self._requests = 0
        self._req_lock = threading.Lock()
        self.logins = 0

    # -- HTTP ------------------------------------------------------------------------------------------
    def _timeout(self, deadline: Deadline) -> float:
        t = min(float(self.cfg.timeout), deadline.remaining())
        if t <= 0.001:
            raise ScrapeError("timeout", "deadline reached before the next Redfish request")
        return t

    def _send(self, method: str, path: str, deadline: Deadline, **kw: Any) -> requests.Response:
        if path.startswith(("http://", "https://")):
            # Links are followed on the configured BMC only: credentials never go to another host.
            parts = urllib.parse.urlsplit(path)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        url = self.base + path
        with self._req_lock:
            self._requests += 1
        if not self._slots.acquire(timeout=deadline.remaining()):
            raise ScrapeError("timeout", "deadline reached waiting to send a Redfish request")
        try:
            return self._send_now(method, path, url, deadline, **kw)
        finally:
            self._slots.release()

    def _send_now(self, method: str, path: str, url: str, deadline: Deadline, **kw: Any) -> requests.Response:
        t = self._timeout(deadline)
        try:
            r = self.http.request(method, url, timeout=(t, t), stream=True, allow_redirects=False, **kw)
            body = bytearray()
            for chunk in r.iter_content(65536):
                body.extend(chunk)
                if len(body) > MAX_BODY:
                    r.close()
                    raise ScrapeError("malformed", f"{path}: answer larger than {MAX_BODY} bytes")
                if deadline.expired():
                    r.close()
                    raise ScrapeError("timeout", f"{path}: answer still arriving at the deadline")
            r._content = bytes(body)  # noqa: SLF001 - the body, read under our deadline
            return r
        except requests.exceptions.SSLError as e:
            raise ScrapeError(
                "tls", f"TLS to {self.base} failed: {_short(e)} (set ca_file, or verify: false)"
            ) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as e:
            raise ScrapeError(
                "malformed", f"{method} {path}: answer cut short or garbled ({_short(e)})"
            ) from None
        except (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout):
            raise ScrapeError("timeout", f"{method} {path}: no answer within {t:.1f}s") from None
        except requests.exceptions.ConnectionError as e:
            if deadline.expired():
                raise ScrapeError("timeout", f"{method} {path}: deadline reached") from None
            raise ScrapeError("connect", f"{method} {path}: {_short(e)}") from None
        except requests.exceptions.RequestException as e:
            raise ScrapeError("connect", f"{method} {path}: {_short(e)}") from None

    def _login(self, deadline: Deadline, stale: str | None) -> None:
        if not self._login_lock.acquire(timeout=deadline.remaining()):
            raise ScrapeError("timeout", "deadline reached waiting for another scrape's login")
        try:
            self._login_locked(deadline, stale)
        finally:
            self._login_lock.release()

    def _login_locked(self, deadline: Deadline, stale: str | None) -> None:
        if self._token is not None and self._token != stale:
            return  # another thread logged in already
        self._token = None
        self.http.headers.pop("X-Auth-Token", None)
        url = (
            P.link(P.link_holder(self._root or {}, "Links"), "Sessions") or f"{ROOT}/SessionService/Sessions"
        )
        r = self._send(
            "POST",
            url,
            deadline,
            json={"UserName": self._auth.user, "Password": self._auth.password.reveal()},
        )
        if r.status_code in (200, 201, 204) and r.headers.get("X-Auth-Token"):
            self._token = r.headers["X-Auth-Token"]
            self._session_url = r.headers.get("Location") or _odata_id(r)
            self.http.headers["X-Auth-Token"] = self._token
            self.logins += 1
            log.debug("redfish session opened", target=self.name)
            return
        raise _login_error(r)

    def get(self, path: str, deadline: Deadline, params: str = "") -> dict[str, Any]:
        """GET a resource as JSON; one re-login on 401 with session auth."""
        full = path + (("&" if "?" in path else "?") + params if params else "")
        if self.cfg.login == "session" and self._token is None:
            self._login(deadline, None)
        token = self._token
        r = self._send("GET", full, deadline)
        if r.status_code == 401 and self.cfg.login == "session":
            log.debug("redfish session rejected; logging in again", target=self.name)
            self._login(deadline, token)
            r = self._send("GET", full, deadline)
        if r.status_code == 404:
            raise _NotFound(path)
        if r.status_code in (401, 403):
            raise ScrapeError("auth", f"GET {path}: HTTP {r.status_code}{_message_id(r)}")
        if r.status_code >= 300:
            raise ScrapeError("http", f"GET {path}: HTTP {r.status_code}{_message_id(r)}")
        return _json(r, path)

    # -- one scrape ------------------------------------------------------------------------------------
    def read(self, deadline: Deadline) -> Snapshot:
        with self._req_lock:
            self._requests = 0
        try:
            if self._root is None:
                r = self._send("GET", ROOT + "/", deadline)
                if r.status_code >= 300:
                    raise ScrapeError("http", f"GET {ROOT}/: HTTP {r.status_code}")
                self._root = _json(r, ROOT + "/")
            snap = self._walk(self._root, deadline)
        except ScrapeError:
            self._root = None  # read it again next time (the BMC may have been replaced or reset)
            raise
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
            doc = self.get(doc["Members@odata.nextLink"], deadline)
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
        """Log out (BMCs cap sessions) and release connections."""
        token, url = self._token, self._session_url
        self._token = None
        if token and url:
            try:
                if url.startswith(("http://", "https://")):
                    url = urllib.parse.urlsplit(url).path  # on the configured BMC only
                self.http.delete(self.base + url, timeout=(LOGOUT_SECONDS, LOGOUT_SECONDS))
                log.debug("redfish session closed", target=self.name)
            except requests.exceptions.RequestException as e:
                log.debug("redfish logout failed", target=self.name, err=_short(e))
        self.http.close()


def _json(r: requests.Response, path: str) -> dict[str, Any]:
    try:
        doc = json.loads(r.content)
    except (ValueError, UnicodeDecodeError):
        ctype = r.headers.get("Content-Type", "?").split(";")[0]
        raise ScrapeError(
            "malformed", f"GET {path}: not JSON (HTTP {r.status_code}, {ctype}, {len(r.content)} bytes)"
        ) from None
    if not isinstance(doc, dict):
        raise ScrapeError("malformed", f"GET {path}: JSON is not an object")
    return doc


def _message_id(r: requests.Response) -> str:
    """The Redfish error's MessageId (never the request, which may hold credentials)."""
    try:
        err = json.loads(r.content).get("error", {})
        found = [m.get("MessageId") for m in err.get("@Message.ExtendedInfo", []) if isinstance(m, dict)]
        ids = [str(i) for i in found if i] or ([str(err["code"])] if err.get("code") else [])
        return f" ({', '.join(ids)[:200]})" if ids else ""
    except (ValueError, AttributeError, TypeError):
        return ""


def _login_error(r: requests.Response) -> ScrapeError:
    mid = _message_id(r)
    if "SessionLimit" in mid or r.status_code == 429 or (r.status_code == 503 and "Session" in mid):
        return ScrapeError(
            "session_limit",
            f"login refused: the BMC's session limit is reached "
            f"(HTTP {r.status_code}{mid}); close other sessions or use `login: basic`",
        )
    if r.status_code in (401, 403):
        locked = " (account locked)" if "Lock" in mid else ""
        return ScrapeError(
            "auth", f"login refused{locked} (HTTP {r.status_code}{mid}); check the user and password"
        )
    if r.status_code == 404:
        return ScrapeError("auth", "the BMC has no session service; use `login: basic`")
    return ScrapeError("http", f"login failed (HTTP {r.status_code}{mid})")


def _odata_id(r: requests.Response) -> str | None:
    try:
        v = json.loads(r.content).get("@odata.id")
        return v if isinstance(v, str) else None
    except (ValueError, AttributeError):
        return None


def _short(e: BaseException) -> str:
    s = str(e)
    return s if len(s) < 300 else s[:300] + "…"
