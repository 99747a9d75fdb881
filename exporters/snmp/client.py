"""Talking to SNMP agents: one pysnmp engine on its own asyncio loop, GET and multi-column GETBULK walks.

The engine lives in a background thread that owns an event loop; scrape threads submit coroutines with
`run_coroutine_threadsafe` and wait no longer than their deadline. pysnmp's own retries are off: we
retry here, so every PDU sent and every retry is counted, and every wait is bounded by the deadline.
Requests carry variable bindings we BER-encode ourselves and replies keep theirs raw (`ber.py`): pysnmp does
transport, USM and request matching, and the varbinds become plain Python values (int, bytes, OID tuple,
or END for noSuchObject/noSuchInstance/endOfMibView) without pyasn1, which cost ~80% of the CPU before.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyasn1.type import univ
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.entity.rfc3413 import config as target_config
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
)
from pysnmp.hlapi.v3arch.asyncio import auth as hlauth
from pysnmp.hlapi.v3arch.asyncio.lcd import CommandGeneratorLcdConfigurator
from pysnmp.proto import errind, rfc1902, rfc1905
from pysnmp.proto.api import v2c

from exporters.core import Deadline, ScrapeError

from . import ber
from .config import Auth, Target
from .values import END

Oid = tuple[int, ...]
Value = Any  # int, bytes, OID tuple, or END

_AUTH = {
    "MD5": hlauth.usmHMACMD5AuthProtocol,
    "SHA": hlauth.usmHMACSHAAuthProtocol,
    "SHA224": hlauth.usmHMAC128SHA224AuthProtocol,
    "SHA256": hlauth.usmHMAC192SHA256AuthProtocol,
    "SHA384": hlauth.usmHMAC256SHA384AuthProtocol,
    "SHA512": hlauth.usmHMAC384SHA512AuthProtocol,
}
# net-snmp and snmp_exporter names: AES192/AES256 use Blumenthal key extension, the C variants Reeder (Cisco).
_PRIV = {
    "DES": hlauth.usmDESPrivProtocol,
    "AES": hlauth.usmAesCfb128Protocol,
    "AES192": hlauth.usmAesBlumenthalCfb192Protocol,
    "AES256": hlauth.usmAesBlumenthalCfb256Protocol,
    "AES192C": hlauth.usmAesCfb192Protocol,
    "AES256C": hlauth.usmAesCfb256Protocol,
}
# Reports an agent sends back (usmStats*) and local USM failures: all mean "fix the credentials".
_AUTH_ERRORS = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.DecryptionError,
    errind.UnsupportedSecurityLevel,
    errind.UnknownSecurityName,
    errind.AuthenticationError,
    errind.AuthenticationFailure,
)
_NULL = univ.Null("")
_INT_TYPES = (univ.Integer,)
_EXC_TYPES = (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView, univ.Null)


def plain(v: Any) -> Value:
    """pyasn1 value -> int, bytes, OID tuple or END."""
    if isinstance(v, _INT_TYPES):  # Integer32, Counter32/64, Gauge32, TimeTicks, Unsigned32
        return int(v)
    if isinstance(v, _EXC_TYPES):  # before OctetString: pyasn1's Null is an OctetString
        return END
    if isinstance(v, univ.OctetString):  # also IpAddress and Opaque
        return v.asOctets()
    if isinstance(v, univ.ObjectIdentifier):
        return v.asTuple()
    return END


@dataclass
class Stats:
    """What one scrape cost: PDUs sent (retries included), retries, varbinds received."""

    pdus: int = 0
    retries: int = 0
    varbinds: int = 0


class Engine:
    """One pysnmp SnmpEngine on an event loop in a daemon thread; shared by all targets of a runtime."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="snmp-engine", daemon=True)
        self._thread.start()
        self.snmp: SnmpEngine = self.call(self._create(), 30)

    @staticmethod
    async def _create() -> SnmpEngine:
        engine = SnmpEngine()
        ber.install(engine)
        return engine

    def call(self, coro: Any, timeout: float) -> Any:
        """Run `coro` on the engine loop; wait at most `timeout` seconds (then cancel it)."""
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(max(0.0, timeout))
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise ScrapeError("timeout", f"no answer within the deadline ({timeout:.2f}s)") from None

    def close(self) -> None:
        async def stop() -> None:
            try:
                self.snmp.close_dispatcher()
            except Exception:  # noqa: BLE001 - closing a dispatcher that never opened
                pass

        try:
            self.call(stop(), 5)
        except ScrapeError:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


class Session:
    """One target's way to the agent. All methods are coroutines for the engine loop."""

    def __init__(self, engine: Engine, name: str, target: Target, auth: Auth) -> None:
        self.engine = engine
        self.name = name
        self.target = target
        self.auth = auth
        self.v1 = auth.version == "1"
        self.context = auth.context_name.encode() if auth.version == "3" else b""
        self._addr: str | None = None
        self._gen = cmdgen.CommandGenerator()
        self._lazy_ok = auth.version == "2c"

    async def _configure(self) -> str:
        if self._addr is None:
            a, t = self.auth, self.target
            if a.version == "3":
                level = a.security_level
                data = UsmUserData(
                    a.username,
                    authKey=a.auth_password.reveal() if level != "noAuthNoPriv" else None,
                    privKey=a.priv_password.reveal() if level == "authPriv" else None,
                    authProtocol=_AUTH[a.auth_protocol]
                    if level != "noAuthNoPriv"
                    else hlauth.usmNoAuthProtocol,
                    privProtocol=_PRIV[a.priv_protocol] if level == "authPriv" else hlauth.usmNoPrivProtocol,
                )
            else:
                # pysnmp maps a reply's community back to the first entry holding it, so targets sharing a
                # community must share the entry: name it after (a hash of) the community.
                key = hashlib.sha256(a.community.reveal().encode()).hexdigest()[:16]
                data = CommunityData(f"c{key}", a.community.reveal(), mpModel=0 if self.v1 else 1)
            # pysnmp's own timeout is a backstop only (we wait less); its retries are ours to count.
            transport = await UdpTransportTarget.create(
                (t.address, t.port), timeout=float(t.timeout) + 1, retries=0
            )
            self._addr, _ = CommandGeneratorLcdConfigurator().configure(
                self.engine.snmp, data, transport, self.context
            )
        return self._addr

    async def request(
        self, kind: str, oids: Sequence[Oid], reps: int, deadline: Deadline, stats: Stats
    ) -> list[tuple[Oid, Value]]:
        """One GET / GETNEXT / GETBULK with retries; plain varbinds, or ScrapeError."""
        addr = await self._configure()
        loop = asyncio.get_running_loop()
        # Our pre-encoded request PDU, except for v1 (pysnmp converts v1 PDUs field by field) and before a
        # v3 agent has been discovered (pysnmp's discovery probe is made from a copy of the request).
        pdu = ber.request(kind, oids, reps) if self._lazy_ok else self._pyasn1_request(kind, oids, reps)
        t = self.target
        attempt = 0
        garbled0 = self._garbled()
        while True:
            remaining = deadline.remaining()
            if remaining <= 0.01:
                raise ScrapeError("timeout", f"deadline reached after {stats.pdus} PDUs")
            fut: asyncio.Future = loop.create_future()

            def done(_eng: Any, _h: Any, ei: Any, rsp: Any, f: asyncio.Future) -> None:
                if not f.done():
                    f.set_result((ei, rsp))

            stats.pdus += 1
            # send_pdu gives a fresh request-id per send; the callback gets the whole response PDU.
            try:
                self._gen.send_pdu(self.engine.snmp, addr, None, self.context, pdu, done, fut)
            except AttributeError:  # a rediscovery pysnmp started on its own: give it a plain PDU
                self._lazy_ok = False
                pdu = self._pyasn1_request(kind, oids, reps)
                self._gen.send_pdu(self.engine.snmp, addr, None, self.context, pdu, done, fut)
            wait = min(float(t.timeout), remaining)
            try:
                ei, rsp = await asyncio.wait_for(fut, wait)
            except TimeoutError:
                ei, rsp = errind.requestTimedOut, None
            if ei is None or not ei:
                break
            if isinstance(ei, errind.RequestTimedOut) or ei is errind.requestTimedOut:
                if attempt < t.retries and deadline.remaining() > 0.01:
                    attempt += 1
                    stats.retries += 1
                    continue
                garbled = self._garbled() - garbled0
                if garbled:  # pysnmp drops what it cannot parse; its counters tell
                    raise ScrapeError(
                        "malformed",
                        f"{garbled} unparseable replies and no valid one from {t.address}:{t.port}",
                    )
                if self.auth.version == "3":
                    self._forget_engine_id(addr)
                hint = "wrong privacy key" if self.auth.version == "3" else "wrong community"
                raise ScrapeError(
                    "timeout",
                    f"no reply from {t.address}:{t.port} after {attempt + 1} "
                    f"tries of {wait:.2f}s (agent down, ACL, or {hint})",
                )
            if isinstance(ei, _AUTH_ERRORS):
                raise ScrapeError("auth", f"SNMPv3 authentication failed: {ei}")
            raise ScrapeError("malformed", f"bad reply: {ei}")
        self._lazy_ok = not self.v1
        es = int(rsp.getComponentByPosition(1))
        if es:
            return self._error_status(es, int(rsp.getComponentByPosition(2)), oids)
        if ber.is_lazy(rsp):
            try:
                out = ber.decode_varbinds(ber.raw_varbinds(rsp))
            except (ber.BerError, IndexError) as e:
                raise ScrapeError("malformed", f"undecodable variable bindings: {e}") from None
        else:  # v1 replies, converted to v2 by pysnmp
            out = [(o.asTuple(), plain(v)) for o, v in v2c.apiPDU.get_varbinds(rsp)]
        stats.varbinds += len(out)
        return out

    def _forget_engine_id(self, addr: str) -> None:
        """Drop pysnmp's cached engine ID of this agent, so that the next request discovers it again.

        An agent whose engine ID changed (re-install, some reboots) answers the old one with an
        unauthenticated usmStatsUnknownUserNames report, which pysnmp drops: without this the target
        stayed down until the cache entry expired."""
        try:
            domain, address = target_config.get_target_info(self.engine.snmp, addr)[:2]
            mp = self.engine.snmp.message_processing_subsystems[3]
            cache = mp._SnmpV3MessageProcessingModel__engineIdCache  # noqa: SLF001 - no public API
            for k in [k for k in cache if k[0] == domain and tuple(k[1])[:2] == tuple(address)[:2]]:
                del cache[k]
        except Exception:  # noqa: BLE001 - best effort; the cache also expires on its own
            pass

    def _garbled(self) -> int:
        """Messages the engine could not parse (snmpInASNParseErrs + snmpInBadVersions), all targets."""
        try:
            mib = self.engine.snmp.get_mib_builder()
            a, b = mib.import_symbols("__SNMPv2-MIB", "snmpInASNParseErrs", "snmpInBadVersions")
            return int(a.syntax) + int(b.syntax)
        except Exception:  # noqa: BLE001 - a diagnostic only
            return 0

    @staticmethod
    def _pyasn1_request(kind: str, oids: Sequence[Oid], reps: int) -> Any:
        pdu = (
            v2c.GetBulkRequestPDU()
            if kind == "bulk"
            else v2c.GetNextRequestPDU()
            if kind == "next"
            else v2c.GetRequestPDU()
        )
        if kind == "bulk":
            v2c.apiBulkPDU.set_defaults(pdu)
            v2c.apiBulkPDU.set_non_repeaters(pdu, 0)
            v2c.apiBulkPDU.set_max_repetitions(pdu, reps)
        else:
            v2c.apiPDU.set_defaults(pdu)
        v2c.apiPDU.set_varbinds(pdu, [(rfc1902.ObjectName(o), _NULL) for o in oids])
        return pdu

    def _error_status(self, es: int, eidx: int, oids: Sequence[Oid]) -> list[tuple[Oid, Value]]:
        if es == 2 and self.v1 and 1 <= eidx <= len(oids):  # v1 noSuchName: that varbind ended
            raise NoSuchName(eidx - 1)
        if es == 1:
            raise TooBig()
        names = {5: "genErr", 6: "noAccess", 16: "authorizationError"}
        reason = "auth" if es in (6, 16) else "agent"
        raise ScrapeError(reason, f"agent answered error-status {names.get(es, es)} (index {eidx})")

    async def get(
        self, oids: Sequence[Oid], deadline: Deadline, stats: Stats, per_pdu: int = 32
    ) -> dict[Oid, Value]:
        """GET in batches; objects the agent lacks map to END."""
        out: dict[Oid, Value] = {}
        todo = list(oids)
        for i in range(0, len(todo), per_pdu):
            batch = todo[i : i + per_pdu]
            while batch:
                try:
                    res = await self.request("get", batch, 0, deadline, stats)
                except NoSuchName as e:  # v1 GET: drop the missing one and ask again
                    out[batch[e.index]] = END
                    batch = batch[: e.index] + batch[e.index + 1 :]
                    continue
                except TooBig:
                    if len(batch) == 1:
                        raise ScrapeError("agent", "agent says tooBig for a single GET") from None
                    half = len(batch) // 2
                    out.update(await self.get(batch[:half], deadline, stats, half))
                    batch = batch[half:]
                    continue
                if len(res) != len(batch):
                    raise ScrapeError("malformed", f"GET of {len(batch)} objects answered {len(res)}")
                for want, (_, v) in zip(batch, res, strict=True):
                    out[want] = v
                break
        return out

    async def walk(
        self, columns: Sequence[Oid], deadline: Deadline, stats: Stats
    ) -> list[list[tuple[Oid, Value]]]:
        """Walk several table columns at once: one GETBULK (GETNEXT for v1) carries every open column.

        Returns, per column, (index suffix, value) in agent order. A column ends at the first OID
        outside it or an END; an OID that does not increase within a column is a malformed reply."""
        cur = list(columns)
        rows: list[list[tuple[Oid, Value]]] = [[] for _ in columns]
        active = list(range(len(columns)))
        reps = self.target.max_repetitions
        while active:
            ask = [cur[i] for i in active]
            try:
                if self.v1:
                    vbs = await self.request("next", ask, 0, deadline, stats)
                else:
                    vbs = await self.request("bulk", ask, max(1, reps), deadline, stats)
            except NoSuchName as e:
                active.pop(e.index)
                continue
            except TooBig:
                if reps <= 1:
                    raise ScrapeError("agent", "agent says tooBig even for one repetition") from None
                reps //= 2
                continue
            if not vbs:
                raise ScrapeError("malformed", "agent returned an empty GETBULK response")
            n = len(active)
            ended: set[int] = set()
            moved = False
            for k, (oid, val) in enumerate(vbs):
                i = active[k % n]
                if i in ended:
                    continue
                col = columns[i]
                lc = len(col)
                if val is END or oid[:lc] != col or len(oid) == lc:
                    ended.add(i)
                    continue
                if oid <= cur[i]:
                    raise ScrapeError(
                        "malformed",
                        f"agent returned non-increasing OID "
                        f"{'.'.join(map(str, oid))} after {'.'.join(map(str, cur[i]))}",
                    )
                rows[i].append((oid[lc:], val))
                cur[i] = oid
                moved = True
            if not moved and not ended:
                raise ScrapeError("malformed", "GETBULK response made no progress")
            if ended:
                active = [i for i in active if i not in ended]
        return rows


class NoSuchName(Exception):
    def __init__(self, index: int) -> None:
        self.index = index


class TooBig(Exception):
    pass
