"""SNMP messages as bytes: requests encoded and responses decoded by hand, v1/v2c (RFC 1157, 1901, 3416)
and v3 (RFC 3412 message, RFC 3414 USM parameters). Pure: no sockets, no clocks.

Responses become plain values (int, bytes, OID tuple, or END for NULL/noSuchObject/noSuchInstance/
endOfMibView). A walk needs to know only which column an OID is in and its index, so `varbinds` keeps each
OID as its raw content octets; `oid()` decodes one when wanted. Anything that is not well-formed BER of the
expected shape raises `BerError`: one bad datagram costs only itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from . import usm
from .values import END

Oid = tuple[int, ...]

GET, GETNEXT, GETBULK, RESPONSE, REPORT = 0xA0, 0xA1, 0xA5, 0xA2, 0xA8
FLAG_AUTH, FLAG_PRIV, FLAG_REPORTABLE = 0x01, 0x02, 0x04
MAX_SIZE = 65507  # msgMaxSize we offer: the largest UDP payload


class BerError(ValueError):
    pass


# ---- encoding --------------------------------------------------------------------------------------


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(b),)) + b


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + _len(len(content)) + content


def _int(v: int) -> bytes:
    return _tlv(0x02, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True))


def _octets(v: bytes) -> bytes:
    return _tlv(0x04, v)


def encode_oid(oid: Sequence[int]) -> bytes:
    """The content octets of an OBJECT IDENTIFIER."""
    if len(oid) < 2 or oid[0] > 2 or (oid[0] < 2 and oid[1] >= 40) or min(oid) < 0:
        raise BerError(f"not an OID: {tuple(oid)}")
    out = bytearray()
    for v in (oid[0] * 40 + oid[1], *oid[2:]):
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


def pdu(kind: int, request_id: int, oids: Sequence[Sequence[int] | bytes], reps: int = 0) -> bytes:
    """A GET / GETNEXT / GETBULK PDU; every value NULL. An OID may be given as tuple or as its content
    octets. For GETBULK non-repeaters is 0."""
    parts = []
    for o in oids:
        raw = o if isinstance(o, bytes) else encode_oid(o)
        n = len(raw)
        if n < 0x7C:  # the SEQUENCE and the OID both fit a one-octet length
            parts.append(b"\x30" + bytes((n + 4,)) + b"\x06" + bytes((n,)) + raw + b"\x05\x00")
        else:
            parts.append(_tlv(0x30, _tlv(0x06, raw) + b"\x05\x00"))
    return _tlv(
        kind, _int(request_id) + _int(0) + _int(reps if kind == GETBULK else 0) + _tlv(0x30, b"".join(parts))
    )


def community_message(version: int, community: bytes, pdu_bytes: bytes) -> bytes:
    """v1 (version 0) or v2c (version 1)."""
    return _tlv(0x30, _int(version) + _octets(community) + pdu_bytes)


@dataclass(frozen=True, slots=True)
class Usm:
    """The USM header fields of an outgoing message."""

    engine_id: bytes
    boots: int
    time: int
    user: bytes


def v3_message(
    msg_id: int,
    flags: int,
    sec: Usm,
    scoped: bytes,
    signer: usm.Signer | None = None,
    priv_params: bytes = b"",
) -> bytes:
    """A v3 message. `scoped` is the ScopedPDU, or (with FLAG_PRIV) its encryption; with FLAG_AUTH,
    `signer` fills msgAuthenticationParameters."""
    mac_len = signer.mac_len if flags & FLAG_AUTH and signer else 0
    head = _octets(sec.engine_id) + _int(sec.boots) + _int(sec.time) + _octets(sec.user)
    auth_hdr = bytes((0x04,)) + _len(mac_len)
    usm_content = head + auth_hdr + b"\x00" * mac_len + _octets(priv_params)
    usm_seq = _tlv(0x30, usm_content)
    usm_field = _octets(usm_seq)
    glob = _tlv(0x30, _int(msg_id) + _int(MAX_SIZE) + _octets(bytes((flags,))) + _int(3))
    data = _octets(scoped) if flags & FLAG_PRIV else scoped
    body = _int(3) + glob + usm_field + data
    msg = _tlv(0x30, body)
    if not mac_len or signer is None:
        return msg
    at = (
        (len(msg) - len(body))
        + len(_int(3))
        + len(glob)
        + (len(usm_field) - len(usm_seq))
        + (len(usm_seq) - len(usm_content))
        + len(head)
        + len(auth_hdr)
    )
    return msg[:at] + signer.mac(msg) + msg[at + mac_len :]


def scoped_pdu(context_engine_id: bytes, context_name: bytes, pdu_bytes: bytes) -> bytes:
    return _tlv(0x30, _octets(context_engine_id) + _octets(context_name) + pdu_bytes)


# ---- decoding --------------------------------------------------------------------------------------


def _hdr(b: bytes, i: int, tag: int, end: int) -> tuple[int, int]:
    """(content start, content end) of the TLV at b[i], which must have `tag` and fit before `end`."""
    if i + 2 > end or b[i] != tag:
        raise BerError(
            f"expected tag 0x{tag:02x} at {i}, got {'end of data' if i >= end else f'0x{b[i]:02x}'}"
        )
    n = b[i + 1]
    j = i + 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4 or j + k > end:
            raise BerError("unsupported BER length")
        n = int.from_bytes(b[j : j + k], "big")
        j += k
    if j + n > end:
        raise BerError("truncated TLV")
    return j, j + n


def _get_int(b: bytes, i: int, end: int) -> tuple[int, int]:
    s, e = _hdr(b, i, 0x02, end)
    if s == e:
        raise BerError("empty INTEGER")
    return int.from_bytes(b[s:e], "big", signed=True), e


def _get_octets(b: bytes, i: int, end: int) -> tuple[bytes, int]:
    s, e = _hdr(b, i, 0x04, end)
    return b[s:e], e


def _arcs(raw: bytes) -> list[int]:
    """The base-128 numbers of OID content octets."""
    if raw and raw[-1] & 0x80:
        raise BerError("truncated OID")
    if max(raw, default=0) < 0x80:
        return list(raw)
    out: list[int] = []
    v = 0
    for x in raw:
        v = (v << 7) | (x & 0x7F)
        if not x & 0x80:
            out.append(v)
            v = 0
    return out


def oid(raw: bytes) -> Oid:
    """OID content octets -> tuple."""
    if not raw:
        raise BerError("empty OID")
    first, *rest = _arcs(raw)
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return (*head, *rest)


def suffix(raw: bytes) -> Oid:
    """Sub-identifiers of raw OID octets that do not start with the first two arcs (an index)."""
    return tuple(_arcs(raw))


_UNSIGNED = frozenset((0x41, 0x42, 0x43, 0x46, 0x47))  # Counter32, Gauge32, TimeTicks, Counter64, UInteger32
_BYTES = frozenset((0x04, 0x40, 0x44))  # OCTET STRING, IpAddress, Opaque
_END = frozenset((0x05, 0x80, 0x81, 0x82))  # NULL, noSuchObject, noSuchInstance, endOfMibView


def varbinds(b: bytes, start: int, end: int) -> list[tuple[bytes, object]]:
    """The VarBindList at b[start:end] -> [(raw OID octets, value)]."""
    try:
        return _varbinds(b, start, end)
    except IndexError:
        raise BerError("truncated variable bindings") from None


def _varbinds(b: bytes, start: int, end: int) -> list[tuple[bytes, object]]:
    s, e = _hdr(b, start, 0x30, end)
    out: list[tuple[bytes, object]] = []
    append = out.append
    from_bytes = int.from_bytes
    i = s
    while i < e:
        # SEQUENCE { OID, value }: the common short forms inline, anything else through _hdr
        if b[i] != 0x30:
            raise BerError("varbind is not a SEQUENCE")
        n = b[i + 1]
        if n < 0x80:
            j = i + 2
            i = j + n
        else:
            j, i = _hdr(b, i, 0x30, e)
        if i > e:
            raise BerError("varbind overruns the list")
        if b[j] != 0x06:
            raise BerError("varbind name is not an OID")
        n = b[j + 1]
        if n < 0x80:
            name = b[j + 2 : j + 2 + n]
            j += 2 + n
        else:
            os, oe = _hdr(b, j, 0x06, i)
            name = b[os:oe]
            j = oe
        if j >= i:
            raise BerError("varbind without a value")
        tag = b[j]
        n = b[j + 1]
        if n < 0x80:
            vs = j + 2
            ve = vs + n
        else:
            vs, ve = _hdr(b, j, tag, i)
        if ve != i:
            raise BerError("varbind value does not end its SEQUENCE")
        if tag in _UNSIGNED:
            append((name, from_bytes(b[vs:ve], "big")))
        elif tag in _BYTES:
            append((name, b[vs:ve]))
        elif tag == 0x02:
            append((name, from_bytes(b[vs:ve], "big", signed=True)))
        elif tag in _END:
            append((name, END))
        elif tag == 0x06:
            append((name, oid(b[vs:ve])))
        else:
            raise BerError(f"unknown value tag 0x{tag:02x}")
    return out


@dataclass(frozen=True, slots=True)
class Pdu:
    """A decoded response or report PDU; its varbinds still to be read from `data[vb_start:vb_end]`."""

    kind: int
    request_id: int
    error_status: int
    error_index: int
    data: bytes
    vb_start: int
    vb_end: int

    def varbinds(self) -> list[tuple[bytes, object]]:
        return varbinds(self.data, self.vb_start, self.vb_end)


def _pdu(b: bytes, i: int, end: int) -> Pdu:
    kind = b[i] if i < end else -1
    if kind not in (RESPONSE, REPORT):
        raise BerError(f"not a response PDU (tag 0x{kind & 0xFF:02x})")
    s, e = _hdr(b, i, kind, end)
    rid, j = _get_int(b, s, e)
    es, j = _get_int(b, j, e)
    ei, j = _get_int(b, j, e)
    _hdr(b, j, 0x30, e)
    return Pdu(kind, rid, es, ei, b, j, e)


def community_response(b: bytes) -> tuple[int, bytes, Pdu]:
    """(version, community, PDU) of a v1/v2c message."""
    s, e = _hdr(b, 0, 0x30, len(b))
    version, j = _get_int(b, s, e)
    community, j = _get_octets(b, j, e)
    return version, community, _pdu(b, j, e)


@dataclass(frozen=True, slots=True)
class V3:
    """A v3 message, decoded up to its (possibly encrypted) scoped PDU."""

    msg_id: int
    flags: int
    engine_id: bytes
    boots: int
    time: int
    user: bytes
    auth_at: int  # offset of msgAuthenticationParameters' value in the datagram
    auth_params: bytes
    priv_params: bytes
    data: bytes  # the datagram
    scoped_at: int  # where msgData starts

    def authentic(self, signer: usm.Signer) -> bool:
        """Recompute the HMAC with msgAuthenticationParameters zeroed (RFC 3414 6.3.2)."""
        n = len(self.auth_params)
        if n != signer.mac_len:
            return False
        buf = bytearray(self.data)
        buf[self.auth_at : self.auth_at + n] = bytes(n)
        return hmac.compare_digest(signer.mac(buf), self.auth_params)

    def encrypted(self) -> bytes:
        v, _ = _get_octets(self.data, self.scoped_at, len(self.data))
        return v

    def scoped(self, plain: bytes | None = None) -> tuple[bytes, bytes, Pdu]:
        """(contextEngineID, contextName, PDU) from the plaintext scoped PDU (given, or in the message)."""
        b = self.data if plain is None else plain
        at = self.scoped_at if plain is None else 0
        s, e = _hdr(b, at, 0x30, len(b))
        ceid, j = _get_octets(b, s, e)
        cname, j = _get_octets(b, j, e)
        return ceid, cname, _pdu(b, j, e)


def v3_response(b: bytes) -> V3:
    s, e = _hdr(b, 0, 0x30, len(b))
    version, j = _get_int(b, s, e)
    if version != 3:
        raise BerError(f"message version {version}, not 3")
    gs, ge = _hdr(b, j, 0x30, e)
    msg_id, k = _get_int(b, gs, ge)
    _, k = _get_int(b, k, ge)  # msgMaxSize
    flags, k = _get_octets(b, k, ge)
    model, k = _get_int(b, k, ge)
    if len(flags) != 1 or model != 3:
        raise BerError("not a USM message")
    us, ue = _hdr(b, ge, 0x04, e)
    ss, se = _hdr(b, us, 0x30, ue)
    engine_id, k = _get_octets(b, ss, se)
    boots, k = _get_int(b, k, se)
    etime, k = _get_int(b, k, se)
    user, k = _get_octets(b, k, se)
    auth_s, auth_e = _hdr(b, k, 0x04, se)
    priv, k = _get_octets(b, auth_e, se)
    return V3(msg_id, flags[0], engine_id, boots, etime, user, auth_s, b[auth_s:auth_e], priv, b, ue)
