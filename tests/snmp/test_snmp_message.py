"""The hand-written SNMP codec against pyasn1/pysnmp (the reference) on every value type and message shape,
the USM keys against RFC 3414's test vectors and pysnmp's key extensions, and bad BER."""

from __future__ import annotations

import hashlib
import importlib

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api, rfc1902, rfc1905
from pysnmp.proto.secmod.rfc3414 import localkey
from pysnmp.proto.secmod.rfc3414.auth import hmacsha

from exporters.snmp import message as M
from exporters.snmp import usm
from exporters.snmp.values import END

P = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
OIDS = [
    (1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 5),
    (1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 500),
    (1, 3, 6, 1, 4, 1, 2**31 - 1, 127, 128, 16384),
    (1, 0, 8802, 1, 1, 2, 1, 4, 1, 1, 9, 0, 49, 1),
    (2, 999, 3),
    (0, 0),
]
VALUES = [
    rfc1902.Integer32(-5),
    rfc1902.Integer32(2**31 - 1),
    rfc1902.OctetString(b"caf\xe9\x00"),
    rfc1902.OctetString(b""),
    rfc1902.OctetString(b"x" * 300),  # a long length form
    rfc1902.ObjectName((1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)),
    rfc1902.IpAddress("192.0.2.1"),
    rfc1902.Counter32(2**32 - 1),
    rfc1902.Gauge32(10**9),
    rfc1902.TimeTicks(123456789),
    rfc1902.Counter64(2**64 - 1),
    rfc1902.Counter64(0),
    rfc1902.Opaque(b"\x9f\x78\x04"),
    rfc1905.noSuchObject,
    rfc1905.noSuchInstance,
    rfc1905.endOfMibView,
    rfc1902.Unsigned32(7),
]


def plain(v):
    if isinstance(v, (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView)):
        return END
    if isinstance(v, rfc1902.ObjectName):
        return tuple(v)
    if isinstance(v, (rfc1902.OctetString, rfc1902.IpAddress, rfc1902.Opaque)):
        return v.asOctets()
    return int(v)


def response(vbs, request_id=77):
    msg = P.Message()
    P.apiMessage.set_defaults(msg)
    P.apiMessage.set_community(msg, "pub")
    pdu = P.ResponsePDU()
    P.apiPDU.set_defaults(pdu)
    P.apiPDU.set_request_id(pdu, request_id)
    P.apiPDU.set_varbinds(pdu, vbs)
    P.apiMessage.set_pdu(msg, pdu)
    return encoder.encode(msg)


def test_responses_decode_like_pyasn1_on_every_type():
    vbs = [(OIDS[i % len(OIDS)], v) for i, v in enumerate(VALUES)]
    version, community, pdu = M.community_response(response(vbs))
    assert (version, community, pdu.kind, pdu.request_id, pdu.error_status) == (1, b"pub", M.RESPONSE, 77, 0)
    got = pdu.varbinds()
    assert [M.oid(o) for o, _ in got] == [o for o, _ in vbs]
    assert [v for _, v in got] == [plain(v) for _, v in vbs]


@pytest.mark.parametrize("kind", [M.GET, M.GETNEXT, M.GETBULK])
def test_requests_encode_like_pyasn1(kind):
    ours = M.community_message(1, b"pub", M.pdu(kind, 2**31 - 1, OIDS, 25))
    msg, rest = decoder.decode(ours, asn1Spec=P.Message())
    assert rest == b"" and encoder.encode(msg) == ours
    req = P.apiMessage.get_pdu(msg)
    assert int(P.apiPDU.get_request_id(req)) == 2**31 - 1
    assert [tuple(o) for o, _ in P.apiPDU.get_varbinds(req)] == OIDS
    if kind == M.GETBULK:
        assert int(P.apiBulkPDU.get_max_repetitions(req)) == 25
    # and an OID given as content octets encodes the same
    assert M.pdu(kind, 1, [M.encode_oid(o) for o in OIDS], 3) == M.pdu(kind, 1, OIDS, 3)


def test_index_suffixes():
    assert M.suffix(bytes((5,))) == (5,)
    assert M.suffix(M.encode_oid((1, 3, 500, 2**31 - 1))[1:]) == (500, 2**31 - 1)
    with pytest.raises(M.BerError):
        M.suffix(b"\x83")


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"\x04\x00",
        b"\x30\x05\x30\x03\x06\x01",
        b"\x30\x84\xff\xff\xff\xff",
        b"\x30\x06\x30\x04\x06\x02\x2b\x86",
        b"\x30\x07\x30\x05\x06\x01\x2b\x99\x00",
        b"\x30\x06\x30\x04\x02\x00\x05\x00",
        b"\x30\x08\x30\x06\x06\x01\x2b\x04\x05\x41",  # value overruns
    ],
)
def test_bad_varbinds_raise(bad):
    with pytest.raises(M.BerError):
        pdu = M.Pdu(M.RESPONSE, 1, 0, 0, bad, 0, len(bad))
        oids = [M.oid(o) for o, _ in pdu.varbinds()]
        assert oids  # a decodable list must have made sense


@pytest.mark.parametrize("cut", [1, 5, 20, 40])
def test_truncated_messages_raise(cut):
    whole = response([(OIDS[0], rfc1902.Counter64(5))])
    with pytest.raises(M.BerError):
        M.community_response(whole[:-cut])[2].varbinds()


# ---- SNMPv3 ---------------------------------------------------------------------------------------

ENGINE = bytes.fromhex("000000000000000000000002")  # RFC 3414 A.3


def test_password_to_key_rfc3414_vectors():
    ku = usm.password_key(b"maplesyrup", "md5")
    assert ku.hex() == "9faf3283884e92834ebc9847d8edd963"
    assert usm.localize(ku, ENGINE, "md5").hex() == "526f5eed9fcce26f8964c2930787d82b"
    ku = usm.password_key(b"maplesyrup", "sha1")
    assert ku.hex() == "9fb5cc0381497b3793528939ff788d5d79145211"
    assert usm.localize(ku, ENGINE, "sha1").hex() == "6695febc9288e36282235fc7151f128497b38f3f"


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("AES", "rfc3826.priv.aes.Aes"),
        ("AES192", "eso.priv.aes192.AesBlumenthal192"),
        ("AES256", "eso.priv.aes256.AesBlumenthal256"),
        ("AES192C", "eso.priv.aes192.Aes192"),
        ("AES256C", "eso.priv.aes256.Aes256"),
    ],
)
def test_priv_keys_and_extensions_match_pysnmp(name, reference):
    # pysnmp's modules import cleanly only after rfc3414 (imported above), so these are looked up here
    module, cls = reference.rsplit(".", 1)
    reference = getattr(importlib.import_module(f"pysnmp.proto.secmod.{module}"), cls)()
    ku = usm.password_key(b"colo-priv-pass1", "sha1")
    ours = usm.priv_key(usm.PRIV[name], "sha1", ku, ENGINE)
    theirs = reference.localize_key(hmacsha.HmacSha.SERVICE_ID, ku, rfc1902.OctetString(ENGINE))
    assert ours == bytes(theirs)[: usm.PRIV[name].key_len]
    assert len(ours) == usm.PRIV[name].key_len


def test_pysnmp_key_reference_agrees_with_rfc():
    # the oracle above is checked too: pysnmp's password-to-key equals RFC 3414's
    assert bytes(localkey.hash_passphrase_sha(b"maplesyrup")) == usm.password_key(b"maplesyrup", "sha1")


@pytest.mark.parametrize("priv", sorted(usm.PRIV))
def test_privacy_round_trip(priv):
    proto = usm.PRIV[priv]
    key = hashlib.sha512(priv.encode()).digest()[: proto.key_len]
    plain_text = b"\x30\x0e" + bytes(range(14)) + b"tail" * 3
    ct, params = usm.encrypt(proto, key, 7, 123456, 99, plain_text)
    assert ct != plain_text and len(params) == 8
    assert usm.decrypt(proto, key, 7, 123456, params, ct)[: len(plain_text)] == plain_text


@pytest.mark.parametrize("auth", sorted(usm.AUTH))
def test_v3_message_signs_and_verifies(auth):
    proto = usm.AUTH[auth]
    signer = usm.Signer(
        proto, usm.localize(usm.password_key(b"colo-auth-pass1", proto.hash), ENGINE, proto.hash)
    )
    scoped = M.scoped_pdu(ENGINE, b"ctx", M.pdu(M.RESPONSE, 42, [OIDS[0]]))
    raw = M.v3_message(42, M.FLAG_AUTH, M.Usm(ENGINE, 3, 1000, b"colov3"), scoped, signer)
    msg = M.v3_response(raw)
    assert (msg.msg_id, msg.engine_id, msg.boots, msg.time, msg.user) == (42, ENGINE, 3, 1000, b"colov3")
    assert len(msg.auth_params) == proto.mac_len and msg.authentic(signer)
    ceid, cname, pdu = msg.scoped()
    assert (ceid, cname, pdu.request_id) == (ENGINE, b"ctx", 42)
    forged = bytearray(raw)
    forged[-1] ^= 1
    assert not M.v3_response(bytes(forged)).authentic(signer)
