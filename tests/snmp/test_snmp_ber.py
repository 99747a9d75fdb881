"""The fast varbind codec against pyasn1's (the reference) on every SNMP value type, and on bad BER."""

from __future__ import annotations

import pytest
from pyasn1.codec.ber import encoder
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.proto.api import v2c

from exporters.snmp import ber
from exporters.snmp.client import plain
from exporters.snmp.values import END

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


def reference_bytes(vbs):
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_varbinds(pdu, vbs)
    return encoder.encode(pdu.getComponentByPosition(3))


def test_decode_matches_pyasn1_on_every_type():
    vbs = [(OIDS[i % len(OIDS)], v) for i, v in enumerate(VALUES)]
    got = ber.decode_varbinds(reference_bytes(vbs))
    assert [o for o, _ in got] == [o for o, _ in vbs]
    for (_, mine), (_, ref) in zip(got, vbs, strict=True):
        assert mine == plain(ref) or (mine is END and plain(ref) is END), (mine, ref)


def test_request_encoding_matches_pyasn1():
    ours = ber.encode_varbinds(OIDS)
    assert ours == reference_bytes([(o, rfc1902.Null("")) for o in OIDS])
    assert [o for o, _ in ber.decode_varbinds(ours)] == OIDS


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
    ],
)
def test_bad_ber_raises(bad):
    with pytest.raises((ber.BerError, IndexError)):
        ber.decode_varbinds(bad)
