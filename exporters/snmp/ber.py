"""Fast path for GET/GETBULK responses: pysnmp decodes the message (security, request matching) but leaves
the variable bindings as raw BER, which `decode_varbinds` turns into plain values without pyasn1.

Profiling showed ~80% of a walk's CPU in pyasn1 building one object per varbind field. `install(engine)`
gives an engine's v2c and v3 message processing a copy of the message syntax whose Response-PDU keeps
`variable-bindings` as `Any` (the raw bytes). Reports, v1 and everything else are decoded as before.
"""

from __future__ import annotations

import re
from typing import Any

from pyasn1.type import namedtype, univ
from pysnmp.proto import rfc1901, rfc1902, rfc1905
from pysnmp.proto.mpmod import rfc3412

from .values import END

_PDU_FIELDS = rfc1905.PDU.componentType


class LazyResponsePDU(univ.Sequence):
    """Response-PDU whose variable bindings stay undecoded."""

    tagSet = rfc1905.ResponsePDU.tagSet
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("request-id", rfc1902.Integer32()),
        namedtype.NamedType("error-status", univ.Integer()),
        namedtype.NamedType("error-index", univ.Integer()),
        namedtype.NamedType("variable-bindings", univ.Any()),
    )


def _lazy_request(base: Any) -> type:  # base: a pysnmp PDU class (untyped)
    """A request PDU type whose variable bindings are BER we encoded ourselves (`Any` is written as is)."""
    names = [nt for nt in base.componentType.namedTypes if nt.name != "variable-bindings"]
    return type(
        f"Lazy{base.__name__}",
        (univ.Sequence,),
        {
            "tagSet": base.tagSet,
            "componentType": namedtype.NamedTypes(
                *names, namedtype.NamedType("variable-bindings", univ.Any())
            ),
        },
    )


LazyGetRequestPDU = _lazy_request(rfc1905.GetRequestPDU)
LazyGetNextRequestPDU = _lazy_request(rfc1905.GetNextRequestPDU)
LazyGetBulkRequestPDU = _lazy_request(rfc1905.GetBulkRequestPDU)


def request(kind: str, oids: Any, reps: int = 0) -> Any:
    """A GET / GETNEXT / GETBULK request PDU for `oids`, request-id 0 (pysnmp sets it when sending)."""
    if kind == "bulk":
        pdu = LazyGetBulkRequestPDU()
        pdu.setComponentByPosition(0, 0)
        pdu.setComponentByPosition(1, 0)
        pdu.setComponentByPosition(2, reps)
        pdu.setComponentByPosition(3, univ.Any(encode_varbinds(oids)))
        return pdu
    pdu = LazyGetRequestPDU() if kind == "get" else LazyGetNextRequestPDU()
    for i in range(3):
        pdu.setComponentByPosition(i, 0)
    pdu.setComponentByPosition(3, univ.Any(encode_varbinds(oids)))
    return pdu


def _enc_len(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(b),)) + b


def encode_oid(oid: tuple[int, ...]) -> bytes:
    """The BER content octets of an OBJECT IDENTIFIER."""
    if len(oid) < 2 or oid[0] > 2 or (oid[0] < 2 and oid[1] >= 40):
        raise BerError(f"not an OID: {oid}")
    subs = (oid[0] * 40 + oid[1],) + tuple(oid[2:])
    if max(subs) < 0x80:
        return bytes(subs)
    out = bytearray()
    for v in subs:
        if v < 0x80:
            out.append(v)
            continue
        chunk = [v & 0x7F]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7F))
            v >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def encode_varbinds(oids: Any) -> bytes:
    """`SEQUENCE OF SEQUENCE { OID, NULL }` for a request."""
    parts = []
    for oid in oids:
        o = encode_oid(tuple(oid))
        inner = b"\x06" + _enc_len(len(o)) + o + b"\x05\x00"
        parts.append(b"\x30" + _enc_len(len(inner)) + inner)
    body = b"".join(parts)
    return b"\x30" + _enc_len(len(body)) + body


class _PDUs(univ.Choice):
    componentType = namedtype.NamedTypes(
        *[
            namedtype.NamedType("response", LazyResponsePDU()) if nt.name == "response" else nt
            for nt in rfc1905.PDUs.componentType.namedTypes
        ]
    )


class _Message(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("version", rfc1901.version),
        namedtype.NamedType("community", univ.OctetString()),
        namedtype.NamedType("data", _PDUs()),
    )


class _ScopedPDU(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("contextEngineId", univ.OctetString()),
        namedtype.NamedType("contextName", univ.OctetString()),
        namedtype.NamedType("data", _PDUs()),
    )


class _ScopedPduData(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("plaintext", _ScopedPDU()),
        namedtype.NamedType("encryptedPDU", univ.OctetString()),
    )


class _V3Message(univ.Sequence):
    componentType = namedtype.NamedTypes(
        rfc3412.SNMPv3Message.componentType.namedTypes[0],
        rfc3412.SNMPv3Message.componentType.namedTypes[1],
        rfc3412.SNMPv3Message.componentType.namedTypes[2],
        namedtype.NamedType("msgData", _ScopedPduData()),
    )


def install(engine: Any) -> None:
    """Make `engine` (a pysnmp SnmpEngine) keep response varbinds raw, for v2c and v3."""
    mps = engine.message_processing_subsystems
    mps[1]._snmpMsgSpec = _Message()  # noqa: SLF001 - pysnmp has no public hook for its message codec
    mps[3]._snmpMsgSpec = _V3Message()  # noqa: SLF001


def is_lazy(pdu: Any) -> bool:
    return isinstance(pdu, LazyResponsePDU)


def raw_varbinds(pdu: Any) -> bytes:
    return pdu.getComponentByPosition(3).asOctets()


class BerError(ValueError):
    pass


def _len(b: bytes, i: int) -> tuple[int, int]:
    """(length, offset of the content) for the length octets at b[i]."""
    n = b[i]
    if n < 0x80:
        return n, i + 1
    k = n & 0x7F
    if k == 0 or k > 4:
        raise BerError("unsupported BER length")
    return int.from_bytes(b[i + 1 : i + 1 + k], "big"), i + 1 + k


_HIGH = re.compile(rb"[\x80-\xff]")


def _oid(c: bytes) -> tuple[int, ...]:
    if not c:
        raise BerError("empty OID")
    m = _HIGH.search(c)
    first = c[0]
    if m is None:  # every sub-identifier in one octet: the common case
        return ((first // 40, first % 40) if first < 80 else (2, first - 80)) + tuple(c[1:])
    k = m.start()
    if k == 0:  # a multi-octet first sub-identifier (2.x with x >= 48): rare, take the slow way
        return _oid_slow(c)
    # one-octet sub-identifiers up to k, then the rest (typically a large ifIndex) the slow way
    head = ((first // 40, first % 40) if first < 80 else (2, first - 80)) + tuple(c[1:k])
    out = []
    v = 0
    x = 0
    for x in c[k:]:
        v = (v << 7) | (x & 0x7F)
        if not x & 0x80:
            out.append(v)
            v = 0
    if x & 0x80:
        raise BerError("truncated OID")
    return head + tuple(out)


def _oid_slow(c: bytes) -> tuple[int, ...]:
    out: list[int] = []
    v = 0
    x = 0
    for x in c:
        v = (v << 7) | (x & 0x7F)
        if not x & 0x80:
            out.append(v)
            v = 0
    if x & 0x80:
        raise BerError("truncated OID")
    first = out[0]
    head = [first // 40, first % 40] if first < 80 else [2, first - 80]
    return tuple(head + out[1:])


# Application and context tags -> how to read the value.
_UNSIGNED = {0x41, 0x42, 0x43, 0x46, 0x47}  # Counter32, Gauge32/Unsigned32, TimeTicks, Counter64, UInteger32
_BYTES = {0x04, 0x40, 0x44}  # OCTET STRING, IpAddress, Opaque
_END_TAGS = {0x05, 0x80, 0x81, 0x82}  # NULL, noSuchObject, noSuchInstance, endOfMibView


def decode_varbinds(b: bytes) -> list[tuple[tuple[int, ...], Any]]:
    """`SEQUENCE OF SEQUENCE { OID, value }` -> [(oid tuple, int | bytes | oid tuple | END)]."""
    if not b or b[0] != 0x30:
        raise BerError("variable-bindings is not a SEQUENCE")
    n, i = _len(b, 1)
    end = i + n
    if end > len(b):
        raise BerError("truncated variable-bindings")
    out: list[tuple[tuple[int, ...], Any]] = []
    append = out.append
    from_bytes = int.from_bytes
    while i < end:
        if b[i] != 0x30:
            raise BerError("varbind is not a SEQUENCE")
        n, j = _len(b, i + 1)
        i = j + n
        if b[j] != 0x06:
            raise BerError("varbind name is not an OID")
        n, j = _len(b, j + 1)
        oid = _oid(b[j : j + n])
        j += n
        tag = b[j]
        n, j = _len(b, j + 1)
        c = b[j : j + n]
        if j + n > i:
            raise BerError("varbind value overruns its SEQUENCE")
        if tag in _UNSIGNED:
            append((oid, from_bytes(c, "big")))
        elif tag == 0x02:
            append((oid, from_bytes(c, "big", signed=True)))
        elif tag in _BYTES:
            append((oid, c))
        elif tag in _END_TAGS:
            append((oid, END))
        elif tag == 0x06:
            append((oid, _oid(c)))
        else:
            raise BerError(f"unknown value tag 0x{tag:02x}")
    if i != end:
        raise BerError("variable-bindings length mismatch")
    return out
