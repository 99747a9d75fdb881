"""Talking to one SNMP agent: a UDP socket connected to it, GET and multi-column walks with several requests
in flight, retries, and SNMPv3 discovery, time synchronisation and reports. Messages are built and read by
`message.py`, keys and ciphers by `usm.py`; nothing else (no pysnmp, no pyasn1) is on this path.

A Session belongs to one target and serves one scrape at a time (the caller holds the target's lock). Every
wait is bounded by the scrape's deadline; every request sent and every retry is counted.
"""

from __future__ import annotations

import math
import random
import select
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from exporters.core import Deadline, Malformed, ScrapeError

from . import message as M
from . import usm
from .config import Auth, Target
from .values import END

Oid = tuple[int, ...]
Value = Any  # int, bytes, OID tuple, or END
Skip = Callable[[str, str], None]
_PROBE = "discovery"

# usmStats* (RFC 3414 5): the reports an agent answers with, by the last arc of 1.3.6.1.6.3.15.1.1.N.0
_USM_STATS = (1, 3, 6, 1, 6, 3, 15, 1, 1)
_REPORTS = {
    1: "unsupported security level",
    2: "not in time window",
    3: "unknown user name",
    4: "unknown engine ID",
    5: "wrong digest (auth key or protocol)",
    6: "decryption error (privacy key or protocol)",
}
_ERROR_STATUS = {5: "genErr", 6: "noAccess", 16: "authorizationError"}


@dataclass
class Stats:
    """What one scrape cost: PDUs sent (retries included), retries, varbinds received."""

    pdus: int = 0
    retries: int = 0
    varbinds: int = 0


class NoSuchName(Exception):
    """v1 error-status noSuchName for the varbind at `index`."""

    def __init__(self, index: int) -> None:
        self.index = index


class TooBig(Exception):
    pass


@lru_cache(maxsize=64)
def _user_key(password: str, hash_name: str) -> bytes:
    return usm.password_key(password.encode(), hash_name)


@dataclass
class _Engine:
    """What we know of the agent's SNMP engine (v3): its ID, boots and time as of `at` (monotonic)."""

    engine_id: bytes = b""
    boots: int = 0
    time: int = 0
    at: float = 0.0
    signer: usm.Signer | None = None
    priv_key: bytes = b""

    def now(self) -> tuple[int, int]:
        return self.boots, min(2**31 - 1, self.time + int(time.monotonic() - self.at))


@dataclass
class _Request:
    kind: int
    oids: list[Any]  # OID tuples, or OID content octets
    reps: int
    tag: object = None  # the caller's key for this request
    ids: list[int] = field(default_factory=list)  # every request-id / msgID it went out under
    sent: float = 0.0
    tries: int = 0
    resynced: bool = False


class Session:
    def __init__(self, target: Target, auth: Auth) -> None:
        self.target = target
        self.auth = auth
        self.version = {"1": 0, "2c": 1, "3": 3}[auth.snmp_version]
        self._sock: socket.socket | None = None
        self._next_id = random.randrange(1, 2**30)
        self._salt = random.getrandbits(64)
        self._engine = _Engine()
        self.bulk_cap = 0  # most varbinds this agent put in one GETBULK response it had to cut short
        self._garbled = 0
        if self.version == 3:
            a = auth
            self._auth = usm.AUTH[a.auth_name] if a.level != "noAuthNoPriv" else None
            self._priv = usm.PRIV[a.priv_name] if a.level == "authPriv" else None
            self._flags = (
                M.FLAG_REPORTABLE | (M.FLAG_AUTH if self._auth else 0) | (M.FLAG_PRIV if self._priv else 0)
            )
            self._user = a.username.encode()
            self._context = a.context_name.encode()
        else:
            self._community = auth.community.reveal().encode()

    # ---- transport ----------------------------------------------------------------------------------

    def _socket(self) -> socket.socket:
        if self._sock is None:
            t = self.target
            try:
                infos = socket.getaddrinfo(t.address, t.port, type=socket.SOCK_DGRAM)
            except OSError as e:
                raise ScrapeError("timeout", f"cannot resolve {t.address}: {e}") from None
            family, _, _, _, addr = infos[0]
            s = socket.socket(family, socket.SOCK_DGRAM)
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            except OSError:
                pass
            s.connect(addr)  # the kernel drops datagrams from anywhere else
            s.setblocking(False)
            self._sock = s
        return self._sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _new_id(self) -> int:
        self._next_id = self._next_id % (2**31 - 1) + 1
        return self._next_id

    def _encode(self, req: _Request, rid: int) -> bytes:
        pdu = M.pdu(req.kind, rid, req.oids, req.reps)
        if self.version != 3:
            return M.community_message(self.version, self._community, pdu)
        e = self._engine
        if not e.engine_id:  # discovery (RFC 3414 4): unauthenticated, no user, no varbinds
            probe = M.pdu(M.GET, rid, [])
            return M.v3_message(rid, M.FLAG_REPORTABLE, M.Usm(b"", 0, 0, b""), M.scoped_pdu(b"", b"", probe))
        boots, etime = e.now() if self._auth else (0, 0)
        scoped = M.scoped_pdu(e.engine_id, self._context, pdu)
        priv = b""
        if self._priv:
            self._salt = (self._salt + 1) & 0xFFFFFFFFFFFFFFFF
            scoped, priv = usm.encrypt(self._priv, e.priv_key, boots, etime, self._salt, scoped)
        return M.v3_message(
            rid, self._flags, M.Usm(e.engine_id, boots, etime, self._user), scoped, e.signer, priv
        )

    def _send(self, req: _Request, stats: Stats) -> None:
        rid = self._new_id()
        req.ids.append(rid)
        data = self._encode(req, rid)
        try:
            self._socket().send(data)
        except OSError:  # ICMP unreachable from an earlier send, a full buffer: the retry timer covers it
            pass
        req.sent = time.monotonic()
        req.tries += 1
        stats.pdus += 1

    # ---- requests -----------------------------------------------------------------------------------

    def exchange(
        self,
        requests: Sequence[_Request],
        deadline: Deadline,
        stats: Stats,
        on_reply: Callable[[_Request, M.Pdu], Sequence[_Request]],
    ) -> None:
        """Send `requests` and hand each reply to `on_reply`, which returns the requests to send next; retry
        each after `timeout`, `retries` times; return when none is pending. Raises ScrapeError."""
        t = self.target
        timeout = float(t.timeout)
        pending: dict[int, _Request] = {}
        queue = list(requests)
        sock = self._socket()
        self._garbled = 0
        while queue or pending:
            for req in queue:
                self._send(req, stats)
                pending[req.ids[-1]] = req
            queue = []
            left = deadline.timeout(doing=f"the next SNMP reply ({stats.pdus} PDUs sent)")
            due = min(r.sent for r in pending.values()) + timeout
            wait = min(due - time.monotonic(), left)
            try:
                ready = select.select([sock], [], [], wait)[0] if wait > 0 else []
            except (OSError, ValueError):  # closed under us: the config was reloaded mid-scrape
                raise ScrapeError("timeout", "the target's session was closed by a reload") from None
            if not ready:
                now = time.monotonic()
                late = {id(r): r for r in pending.values() if now - r.sent >= timeout - 0.0005}
                for req in late.values():
                    if req.tries > t.retries:
                        raise self._no_reply(req)
                    stats.retries += 1
                    queue.append(req)
                continue
            while True:
                try:
                    data = sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:  # ICMP port unreachable from an earlier send: the retry timer decides
                    break
                got = self._decode(data, pending)
                if got is None:
                    continue
                req, pdu = got
                for i in req.ids:
                    pending.pop(i, None)
                if pdu.kind == M.REPORT:
                    if self._report(req, pdu):
                        queue.append(req)
                    continue
                queue.extend(on_reply(req, pdu))

    def _no_reply(self, req: _Request) -> ScrapeError:
        t = self.target
        if self._garbled:
            n, self._garbled = self._garbled, 0
            return Malformed(f"{n} unparseable replies and no valid one from {t.address}:{t.port}")
        if self.version == 3:
            self._engine = _Engine()  # the agent may have a new engine ID: discover it again next time
        hint = "wrong privacy key" if self.version == 3 else "wrong community"
        return ScrapeError(
            "timeout",
            f"no reply from {t.address}:{t.port} after {req.tries} tries of "
            f"{float(t.timeout):.2f}s (agent down, ACL, or {hint})",
        )

    def _decode(self, data: bytes, pending: dict[int, _Request]) -> tuple[_Request, M.Pdu] | None:
        """(our request, PDU) of a datagram that answers one of ours, or None (counted when garbled)."""
        try:
            if self.version != 3:
                version, community, pdu = M.community_response(data)
                if version != self.version or community != self._community:
                    self._garbled += 1
                    return None
                req = pending.get(pdu.request_id)
                return (req, pdu) if req is not None else None
            return self._decode_v3(data, pending)
        except (M.BerError, ValueError):
            self._garbled += 1
            return None

    def _decode_v3(self, data: bytes, pending: dict[int, _Request]) -> tuple[_Request, M.Pdu] | None:
        msg = M.v3_response(data)
        req = pending.get(msg.msg_id)
        if req is None:
            return None
        e = self._engine
        if msg.flags & M.FLAG_AUTH:
            if (
                not e.engine_id
                or msg.engine_id != e.engine_id
                or e.signer is None
                or not msg.authentic(e.signer)
            ):
                self._garbled += 1
                return None
            e.boots, e.time, e.at = msg.boots, msg.time, time.monotonic()  # RFC 3414 3.2 step 7b
        if msg.flags & M.FLAG_PRIV:
            if not self._priv or not e.priv_key:
                raise M.BerError("an encrypted reply to an unencrypted request")
            plain = usm.decrypt(self._priv, e.priv_key, msg.boots, msg.time, msg.priv_params, msg.encrypted())
            _, _, pdu = msg.scoped(plain)
        else:
            _, _, pdu = msg.scoped()
        if pdu.kind == M.REPORT:
            self._learn(msg)
        elif req.tag != _PROBE and (self._flags & ~M.FLAG_REPORTABLE) & ~msg.flags:
            raise M.BerError("a response with less security than its request")  # RFC 3412 7.2 step 11
        return req, pdu

    def _learn(self, msg: M.V3) -> None:
        """An agent's report carries its engine ID, boots and time: adopt them (keys follow the engine ID)."""
        e = self._engine
        if msg.engine_id and msg.engine_id != e.engine_id:
            self._engine = e = _Engine(engine_id=msg.engine_id)
            a = self.auth
            if self._auth:
                hash_name = self._auth.hash
                ku = _user_key(a.auth_key, hash_name)
                e.signer = usm.Signer(self._auth, usm.localize(ku, msg.engine_id, hash_name))
                if self._priv:
                    kp = _user_key(a.priv_key, hash_name)
                    e.priv_key = usm.priv_key(self._priv, hash_name, kp, msg.engine_id)
        if msg.boots or msg.time:
            e.boots, e.time, e.at = msg.boots, msg.time, time.monotonic()

    def _report(self, req: _Request, pdu: M.Pdu) -> bool:
        """A report PDU: True to send the request again (new engine ID, time window), False when it answered
        our discovery probe, else raise."""
        try:
            vbs = pdu.varbinds()
            name = M.oid(vbs[0][0]) if vbs else ()
        except M.BerError:
            name = ()
        n = len(_USM_STATS)
        arc = name[n] if name[:n] == _USM_STATS and len(name) > n else 0
        if req.tag == _PROBE and arc == 4:
            return False
        if arc in (2, 4) and not req.resynced:
            req.resynced = True  # once per request: an agent that keeps saying so is not in sync
            return True
        what = _REPORTS.get(arc, ".".join(map(str, name)) or "an empty report")
        raise ScrapeError("auth", f"SNMPv3 authentication failed: agent reports {what}")

    def _error_status(self, pdu: M.Pdu, req: _Request) -> None:
        es, ei = pdu.error_status, pdu.error_index
        if es == 2 and self.version == 0 and 1 <= ei <= len(req.oids):
            raise NoSuchName(ei - 1)
        if es == 1:
            raise TooBig()
        reason = "auth" if es in (6, 16) else "agent"
        raise ScrapeError(reason, f"agent answered error-status {_ERROR_STATUS.get(es, es)} (index {ei})")

    def check(self, req: _Request, pdu: M.Pdu) -> None:
        """Raise for a reply's error-status (NoSuchName and TooBig for the caller to handle)."""
        if pdu.error_status:
            self._error_status(pdu, req)

    def _ready(self, deadline: Deadline, stats: Stats) -> None:
        """v3: learn the agent's engine ID (and, for authenticated users, its boots and time) first."""
        if self.version != 3 or self._engine.engine_id:
            return
        probe = _Request(M.GET, [], 0, _PROBE)
        self.exchange([probe], deadline, stats, lambda r, p: ())
        if not self._engine.engine_id:
            raise Malformed("the agent answered discovery without its engine ID")

    # ---- GET and walk -------------------------------------------------------------------------------

    def get(
        self, oids: Sequence[Oid], deadline: Deadline, stats: Stats, per_pdu: int = 32
    ) -> dict[Oid, Value]:
        """GET in batches, all in flight at once; objects the agent lacks map to END."""
        self._ready(deadline, stats)
        out: dict[Oid, Value] = {}

        def reply(req: _Request, pdu: M.Pdu) -> Sequence[_Request]:
            try:
                self.check(req, pdu)
            except NoSuchName as e:  # v1: that one is missing; ask for the others again
                out[req.oids[e.index]] = END
                rest = req.oids[: e.index] + req.oids[e.index + 1 :]
                return [_Request(M.GET, rest, 0)] if rest else []
            except TooBig:
                if len(req.oids) == 1:
                    raise ScrapeError("agent", "agent says tooBig for a single GET") from None
                half = len(req.oids) // 2
                return [_Request(M.GET, req.oids[:half], 0), _Request(M.GET, req.oids[half:], 0)]
            vbs = pdu.varbinds()
            stats.varbinds += len(vbs)
            if len(vbs) != len(req.oids):
                raise Malformed(f"GET of {len(req.oids)} objects answered {len(vbs)}")
            for want, (_, v) in zip(req.oids, vbs, strict=True):
                out[want] = v
            return ()

        batches = [_Request(M.GET, list(oids[i : i + per_pdu]), 0) for i in range(0, len(oids), per_pdu)]
        if batches:
            self.exchange(batches, deadline, stats, reply)
        return out

    def walk(
        self,
        columns: Sequence[Oid],
        deadline: Deadline,
        stats: Stats,
        skip: Skip | None = None,
        in_flight: int = 2,
    ) -> list[list[tuple[Oid, Value]]]:
        """Walk table columns: each GETBULK (GETNEXT for v1) carries several columns, and up to `in_flight`
        requests, each for its own group of columns, are out at once.

        Returns, per column, (index suffix, value) in agent order. A column ends at the first OID outside it
        or an END. An OID that does not increase within a column ends that column only, reported to `skip`
        as malformed; the other columns go on."""
        self._ready(deadline, stats)
        raw = [M.encode_oid(c) for c in columns]
        rows: list[list[tuple[Oid, Value]]] = [[] for _ in columns]
        last: list[Oid] = [()] * len(columns)
        at: list[bytes] = list(raw)  # where each column goes on from, as OID content octets
        looped: set[int] = set()
        index_of: dict[bytes, Oid] = {}  # index octets -> index, for this walk
        k = max(1, min(in_flight, len(columns)))
        groups = [list(range(g, len(columns), k)) for g in range(k)]
        reps = [self.target.max_repetitions] * k

        def request(g: int) -> _Request:
            active = groups[g]
            ask = [at[i] for i in active]
            if self.version == 0:
                return _Request(M.GETNEXT, ask, 0, g)
            r = reps[g]
            if self.bulk_cap:  # ask for what fills one response, not much more
                r = min(r, max(1, math.ceil(self.bulk_cap / len(active))))
            return _Request(M.GETBULK, ask, r, g)

        def reply(req: _Request, pdu: M.Pdu) -> Sequence[_Request]:
            g = req.tag
            assert isinstance(g, int)
            active = groups[g]
            try:
                self.check(req, pdu)
            except NoSuchName as e:  # v1: that column ran off the end of the MIB
                del active[e.index]
                return [request(g)] if active else []
            except TooBig:
                if reps[g] <= 1:
                    raise ScrapeError("agent", "agent says tooBig even for one repetition") from None
                reps[g] //= 2
                self.bulk_cap = 0
                return [request(g)]
            vbs = pdu.varbinds()
            stats.varbinds += len(vbs)
            if not vbs:
                raise Malformed("agent returned an empty GETBULK response")
            n = len(active)
            ended: set[int] = set()
            for j, (name, val) in enumerate(vbs):
                i = active[j % n]
                if i in ended:
                    continue
                prefix = raw[i]
                lp = len(prefix)
                if val is END or len(name) <= lp or name[:lp] != prefix:
                    ended.add(i)
                    continue
                tail = name[lp:]
                index = index_of.get(tail)
                if index is None:
                    index = index_of[tail] = M.suffix(tail)
                if index <= last[i]:
                    ended.add(i)
                    looped.add(i)
                    if skip is not None:
                        skip(
                            "malformed",
                            f"agent returned a non-increasing OID in column "
                            f"{'.'.join(map(str, columns[i]))} (index {'.'.join(map(str, index))} after "
                            f"{'.'.join(map(str, last[i]))}); that column stops there",
                        )
                    continue
                rows[i].append((index, val))
                last[i] = index
                at[i] = name
            if req.kind == M.GETBULK and not ended and len(vbs) < n * req.reps:
                self.bulk_cap = max(self.bulk_cap, len(vbs))
            if ended:
                groups[g] = active = [i for i in active if i not in ended]
            return [request(g)] if active else []

        self.exchange([request(g) for g in range(len(groups)) if groups[g]], deadline, stats, reply)
        if looped and not any(rows[i] for i in range(len(columns)) if i not in looped):
            raise Malformed(f"agent returned non-increasing OIDs in every column it answered ({len(looped)})")
        return rows
