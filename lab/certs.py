"""Certificates for the labs and tests: self-signed ones, and a small CA that issues server and client certs.

cert, key = self_signed(d, "localhost")                       # a server or client certificate
ca = CA(d, "colo test CA"); cert, key = ca.issue("127.0.0.1")  # signed by a CA (ca.cert is its file)
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEFAULT_SANS = ("127.0.0.1", "localhost")


def _san(names: Sequence[str]) -> x509.SubjectAlternativeName:
    out: list[x509.GeneralName] = []
    for n in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            out.append(x509.DNSName(n))
    return x509.SubjectAlternativeName(out)


Pair = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def build(
    cn: str,
    sans: Sequence[str] = (),
    issuer: Pair | None = None,
    ca: bool = False,
    days: float = 1,
    curve: str = "SECP256R1",
) -> Pair:
    """(certificate, key) in memory: self-signed, or signed by `issuer`; `sans` are IPs or DNS names."""
    key = ec.generate_private_key(getattr(ec, curve)())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        b = b.add_extension(_san(sans), critical=False)
    return b.sign(issuer[1] if issuer else key, hashes.SHA256()), key


def pem(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | None = None) -> tuple[str, str]:
    """The PEM text of a certificate and (if given) its key."""
    c = cert.public_bytes(serialization.Encoding.PEM).decode()
    if key is None:
        return c, ""
    fmt = serialization.PrivateFormat.PKCS8
    return c, key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def write(d: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    """`<name>.crt` and `<name>.key` (mode 0600) in `d`."""
    d.mkdir(parents=True, exist_ok=True)
    c, k = d / f"{name}.crt", d / f"{name}.key"
    ctext, ktext = pem(cert, key)
    c.write_text(ctext)
    k.write_text(ktext)
    k.chmod(0o600)
    return c, k


def self_signed(
    d: Path,
    cn: str = "localhost",
    sans: Sequence[str] = DEFAULT_SANS,
    *,
    name: str | None = None,
    days: float = 2,
) -> tuple[Path, Path]:
    """A self-signed certificate (also usable as its own CA) and its key, written as `<name>.crt/.key`."""
    return write(Path(d), name or cn.replace(" ", "-"), *build(cn, sans, ca=True, days=days))


class CA:
    """A throw-away certificate authority; `cert` is its certificate file."""

    def __init__(self, d: Path, cn: str = "colo test CA", *, name: str = "ca") -> None:
        self.dir = Path(d)
        self._pair = build(cn, ca=True, days=2)
        self.cert, self.key = write(self.dir, name, *self._pair)

    def issue(
        self, cn: str, sans: Sequence[str] = (), *, name: str | None = None, days: float = 1
    ) -> tuple[Path, Path]:
        """A certificate for `cn` (server or client) signed by this CA."""
        return write(self.dir, name or cn.replace(" ", "-"), *build(cn, sans, self._pair, days=days))
