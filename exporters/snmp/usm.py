"""SNMPv3 user-based security: the protocol names a config may use, key localisation, message digests and
privacy. Pure functions over bytes, written to the RFCs: 3414 (USM, MD5/SHA-1, DES-CBC, password to key),
3826 (AES-128-CFB), 7860 (HMAC-SHA-2), and the two AES-192/256 key extensions in use: Blumenthal
(draft-blumenthal-aes-usm-04, net-snmp's AES-192/AES-256) and Reeder (draft-reeder-snmpv3-usm-3desede-00,
Cisco's, here AES192C/AES256C). This is the one place the protocol names are listed."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

try:  # cryptography >= 47 keeps CFB with the other legacy modes
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:  # pragma: no cover - older cryptography
    CFB = modes.CFB  # type: ignore[misc]  # the same class, where older cryptography keeps it

SECURITY_LEVELS = ("noAuthNoPriv", "authNoPriv", "authPriv")


@dataclass(frozen=True, slots=True)
class AuthProtocol:
    hash: str  # hashlib name
    mac_len: int  # octets of msgAuthenticationParameters (the truncated HMAC)


@dataclass(frozen=True, slots=True)
class PrivProtocol:
    cipher: str  # "des" or "aes"
    key_len: int  # octets of localized key the cipher uses (DES: 8 key + 8 pre-IV)
    extension: str  # how a localized key shorter than key_len is extended: "", "blumenthal", "reeder"


AUTH: dict[str, AuthProtocol] = {
    "MD5": AuthProtocol("md5", 12),
    "SHA": AuthProtocol("sha1", 12),
    "SHA224": AuthProtocol("sha224", 16),
    "SHA256": AuthProtocol("sha256", 24),
    "SHA384": AuthProtocol("sha384", 32),
    "SHA512": AuthProtocol("sha512", 48),
}
PRIV: dict[str, PrivProtocol] = {
    "DES": PrivProtocol("des", 16, ""),
    "AES": PrivProtocol("aes", 16, ""),
    "AES192": PrivProtocol("aes", 24, "blumenthal"),
    "AES256": PrivProtocol("aes", 32, "blumenthal"),
    "AES192C": PrivProtocol("aes", 24, "reeder"),
    "AES256C": PrivProtocol("aes", 32, "reeder"),
}
AUTH_PROTOCOLS = tuple(AUTH)
PRIV_PROTOCOLS = tuple(PRIV)

_MEGABYTE = 1_048_576


def password_key(password: bytes, hash_name: str) -> bytes:
    """RFC 3414 A.2 (and RFC 7860 for SHA-2): the digest of 1 MB of the password repeated."""
    if not password:
        raise ValueError("empty password")
    stream = password * (_MEGABYTE // len(password) + 1)
    return hashlib.new(hash_name, stream[:_MEGABYTE]).digest()


def localize(key: bytes, engine_id: bytes, hash_name: str) -> bytes:
    """RFC 3414 2.6: a user key bound to one authoritative engine."""
    return hashlib.new(hash_name, key + engine_id + key).digest()


def priv_key(proto: PrivProtocol, hash_name: str, ku: bytes, engine_id: bytes) -> bytes:
    """The localized privacy key, extended to what the cipher needs."""
    key = localize(ku, engine_id, hash_name)
    while len(key) < proto.key_len:
        if proto.extension == "blumenthal":
            key += hashlib.new(hash_name, key).digest()
        elif proto.extension == "reeder":
            key += localize(password_key(key, hash_name), engine_id, hash_name)
        else:  # DES and AES-128 never need it: every hash gives at least 16 octets
            raise ValueError("localized key too short")
    return key[: proto.key_len]


class Signer:
    """HMAC with one localized key; the key schedule is computed once."""

    __slots__ = ("_base", "mac_len")

    def __init__(self, proto: AuthProtocol, key: bytes) -> None:
        self._base = hmac.new(key, digestmod=proto.hash)
        self.mac_len = proto.mac_len

    def mac(self, message: bytes | bytearray) -> bytes:
        h = self._base.copy()
        h.update(message)
        return h.digest()[: self.mac_len]


def encrypt(
    proto: PrivProtocol, key: bytes, boots: int, engine_time: int, salt: int, plaintext: bytes
) -> tuple[bytes, bytes]:
    """(ciphertext, msgPrivacyParameters). `salt` is a local counter, unique per message and key."""
    if proto.cipher == "aes":  # RFC 3826 3.1.2.1: IV = boots | time | 64-bit salt
        salt8 = (salt & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
        iv = boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + salt8
        enc = Cipher(algorithms.AES(key), CFB(iv)).encryptor()
        return enc.update(plaintext) + enc.finalize(), salt8
    # RFC 3414 8.1.1.1: salt = boots | 32-bit counter, IV = pre-IV xor salt, zero-padded to 8 octets
    salt8 = boots.to_bytes(4, "big") + (salt & 0xFFFFFFFF).to_bytes(4, "big")
    iv = bytes(a ^ b for a, b in zip(key[8:16], salt8, strict=True))
    pad = -len(plaintext) % 8
    enc = Cipher(TripleDES(key[:8] * 3), modes.CBC(iv)).encryptor()
    return enc.update(plaintext + b"\x00" * pad) + enc.finalize(), salt8


def decrypt(
    proto: PrivProtocol, key: bytes, boots: int, engine_time: int, params: bytes, ciphertext: bytes
) -> bytes:
    """The scoped PDU (DES: possibly followed by padding). ValueError if it cannot be decrypted."""
    if len(params) != 8:
        raise ValueError(f"msgPrivacyParameters of {len(params)} octets, not 8")
    if proto.cipher == "aes":
        iv = boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + params
        dec = Cipher(algorithms.AES(key), CFB(iv)).decryptor()
        return dec.update(ciphertext) + dec.finalize()
    if len(ciphertext) % 8:
        raise ValueError("DES ciphertext is not a multiple of 8 octets")
    iv = bytes(a ^ b for a, b in zip(key[8:16], params, strict=True))
    dec = Cipher(TripleDES(key[:8] * 3), modes.CBC(iv)).decryptor()
    return dec.update(ciphertext) + dec.finalize()
