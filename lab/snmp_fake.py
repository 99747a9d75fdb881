"""A small lying SNMP v2c agent on loopback, for the bad-input tests: it serves a table from a dict and can
loop (answer OIDs that do not increase), answer garbage, stay silent, or change sysUpTime and counters
between scrapes; one column can loop or hold values of the wrong type while the others are fine; answers can
come after a random delay, with a sysUpTime that follows the clock. Real agents do all of these now and
then; snmpd and snmpsim will not on demand."""

from __future__ import annotations

import bisect
import random
import socket
import threading
import time
from typing import Any

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api, rfc1902, rfc1905

P = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
IF = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
UPTIME = (1, 3, 6, 1, 2, 1, 1, 3, 0)
# A Cisco-style sysDescr: CR/LF inside, 230 characters, and a UTF-8 tail
LONG_DESCR = (
    b"Cisco IOS Software, C3750E Software (C3750E-UNIVERSALK9-M), Version 15.2(4)E10, RELEASE SOFTWARE "
    b"(fc2)\r\nTechnical Support: http://www.cisco.com/techsupport\r\nCopyright (c) 1986-2020 by Cisco "
    b"Systems, Inc.\r\nCompiled Tue 31-Mar-20 01:39 by prod_rel_team \xc2\xa9 \xe2\x82\xac"
)


def small_switch(
    uptime: int = 500_000, octets: int = 10**12, dup_names: bool = False, descr: bytes = b"fake agent"
) -> dict[tuple, Any]:
    """Three ports; port 3 has only 32-bit counters and no ifXTable row; ifName of 2 repeats 1 if asked."""
    d: dict[tuple, Any] = {
        (1, 3, 6, 1, 2, 1, 1, 1, 0): rfc1902.OctetString(descr),
        (1, 3, 6, 1, 2, 1, 1, 3, 0): rfc1902.TimeTicks(uptime),
        (1, 3, 6, 1, 2, 1, 1, 5, 0): rfc1902.OctetString(b"fake"),
    }
    for i in (1, 2, 3):
        d[IF + (2, i)] = rfc1902.OctetString(f"port {i}".encode())
        d[IF + (3, i)] = rfc1902.Integer32(6)
        d[IF + (7, i)] = rfc1902.Integer32(1)
        d[IF + (8, i)] = rfc1902.Integer32(1)
        d[IF + (10, i)] = rfc1902.Counter32((octets + i) % 2**32)
        d[IF + (16, i)] = rfc1902.Counter32((octets * 2 + i) % 2**32)
    for i in (1, 2):
        d[IFX + (1, i)] = rfc1902.OctetString(b"eth1" if dup_names else f"eth{i}".encode())
        d[IFX + (6, i)] = rfc1902.Counter64(octets + i)
        d[IFX + (10, i)] = rfc1902.Counter64(octets * 2 + i)
    return d


class FakeAgent:
    """`mode`: "ok", "loop" (GETBULK answers repeat the asked OID), "garbage", "silent"."""

    def __init__(
        self,
        data: dict[tuple, Any],
        community: str = "fake",
        mode: str = "ok",
        loop_columns: frozenset[tuple] = frozenset(),
        wrong_type_columns: frozenset[tuple] = frozenset(),
        jitter: float = 0.0,
        clock_uptime: bool = False,
    ) -> None:
        """`loop_columns`: columns whose second row repeats the first; `wrong_type_columns`: columns whose
        values come as OCTET STRINGs; `jitter`: each answer waits up to that many seconds; `clock_uptime`:
        sysUpTime counts hundredths of a second from the agent's start."""
        self.data = data
        self.community = community
        self.mode = mode
        self.loop_columns = loop_columns
        self.wrong_type_columns = wrong_type_columns
        self.jitter = jitter
        self.started = time.monotonic()
        self.clock_uptime = clock_uptime
        self.requests = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)  # close() cannot wake a blocked recvfrom: poll for it instead
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True, name="snmp-fake")
        self._thread.start()

    def close(self) -> None:
        self._stop = True
        self.sock.close()
        self._thread.join(2)

    def _serve(self) -> None:
        while not self._stop:
            try:
                raw, peer = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.requests += 1
            try:
                out = self._answer(raw)
            except Exception:  # noqa: BLE001 - a broken request gets no answer, like a real agent
                out = None
            if out and self.jitter:  # each answer on its own delay: replies overtake one another
                threading.Timer(random.uniform(0, self.jitter), self._reply, (out, peer)).start()
            elif out:
                self._reply(out, peer)

    def _reply(self, out: bytes, peer: Any) -> None:
        try:
            self.sock.sendto(out, peer)
        except OSError:
            pass

    def _answer(self, raw: bytes) -> bytes | None:
        if self.mode == "silent":
            return None
        if self.mode == "garbage":
            return b"\x30\x0b\x02\x01\x01\x04\x04fake\xa2\xff\xff"
        msg, _ = decoder.decode(raw, asn1Spec=P.Message())
        if bytes(P.apiMessage.get_community(msg)) != self.community.encode():
            return None  # like snmpd: wrong community, no answer
        req = P.apiMessage.get_pdu(msg)
        rsp = P.apiPDU.get_response(req)
        asked = [tuple(o) for o, _ in P.apiPDU.get_varbinds(req)]
        data = self.data
        if self.clock_uptime:
            data = {**data, UPTIME: rfc1902.TimeTicks(int((time.monotonic() - self.started) * 100))}
        keys = sorted(data)
        out: list[tuple[Any, Any]] = []
        if req.isSameTypeWith(P.GetRequestPDU()):
            for o in asked:
                out.append((o, data.get(o, rfc1905.noSuchObject)))
        elif req.isSameTypeWith(P.GetBulkRequestPDU()):
            reps = int(P.apiBulkPDU.get_max_repetitions(req))
            cur = list(asked)
            for _ in range(min(reps, 50)):
                for k, o in enumerate(cur):
                    if self.mode == "loop":  # one step into the column, then the same OID again
                        out.append((o if o[-1] == 7 else o + (7,), rfc1902.Integer32(1)))
                        continue
                    j = bisect.bisect_right(keys, o)
                    if j >= len(keys):
                        out.append((o, rfc1905.endOfMibView))
                        continue
                    nxt, v = keys[j], data[keys[j]]
                    col = nxt[:-1]
                    if col in self.loop_columns and o[:-1] == col:  # the second row repeats the first
                        nxt, v = o, data[o]
                    if col in self.wrong_type_columns:
                        v = rfc1902.OctetString(b"not a number")
                    cur[k] = nxt
                    out.append((nxt, v))
        else:
            return None
        P.apiPDU.set_varbinds(rsp, [(rfc1902.ObjectName(o), v) for o, v in out])
        P.apiMessage.set_pdu(msg, rsp)
        return encoder.encode(msg)
