"""The web config (exporter-toolkit format) re-read on reload and on change; its knobs honoured or refused.

Issue 10 point 9 (a password change or a certificate rotation used to need a restart) and issue 17 (inline
cert/key, client_allowed_sans, rate_limit; cipher_suites and friends were silently ignored).
"""

from __future__ import annotations

import base64
import http.client
import os
import shutil
import signal
import ssl
import time
from pathlib import Path

import pytest
import yaml
from cryptography import x509

from exporters.core.config import ConfigError
from exporters.core.webconfig import load_web_config
from lab.proc import wait_for

from core_testlib import Toy, bcrypt_hash, make_cert, pem, toy_config, write_pem


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("pki")
    ca = make_cert("colo test CA", ca=True)
    out: dict = {"dir": d, "ca": write_pem(d, "ca", *ca)[0]}
    for name, cn, sans in (
        ("server", "127.0.0.1", ["127.0.0.1"]),
        ("server2", "127.0.0.1", ["127.0.0.1"]),
        ("prom", "prometheus", ["prometheus.example"]),
        ("intruder", "prometheus", ["intruder.example"]),
        ("prom_ip", "prometheus", ["2001:db8::7"]),  # Python's ssl writes it 2001:DB8:0:0:0:0:0:7
    ):
        cert, key = make_cert(cn, ca, sans=sans)
        out[name] = write_pem(d, name, cert, key)
        out[name + "_obj"] = (cert, key)
    return out


def _web(lab, cfg: dict) -> Path:
    p = lab.workdir / "web.yml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def _get(
    port: int,
    *,
    ca: Path | None = None,
    client: tuple[Path, Path] | None = None,
    password: str | None = None,
    ciphers: str | None = None,
    curve: str | None = None,
    path: str = "/-/healthy",
) -> tuple[int, bytes, str]:
    """(status, the server certificate (DER), the cipher); TLS when `ca` is given."""
    headers = {}
    if password is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"prometheus:{password}".encode()).decode()
    if ca is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    else:
        ctx = ssl.create_default_context(cafile=str(ca))
        if client:
            ctx.load_cert_chain(*map(str, client))
        if ciphers:  # TLS 1.2: cipher_suites apply to TLS 1.2 and older only
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers(ciphers)
        if curve:  # TLS 1.3, where the key-exchange group does not depend on the certificate's curve
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
            ctx.set_ecdh_curve(curve)
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        r.read()
        der, cipher = b"", ""
        if ca is not None:
            der = conn.sock.getpeercert(binary_form=True)
            cipher = conn.sock.cipher()[0]
        return r.status, der, cipher
    finally:
        conn.close()


def _serial(der: bytes) -> int:
    return x509.load_der_x509_certificate(der).serial_number


def test_basic_auth_is_re_read_on_change_and_on_reload(lab, peer) -> None:
    web = _web(lab, {"basic_auth_users": {"prometheus": bcrypt_hash("pw-one")}})
    toy = Toy(lab, toy_config(sw1=peer), args=[f"--web.config.file={web}"])
    assert _get(toy.port, password="pw-one")[0] == 200
    # A change of the file is picked up without a signal.
    web.write_text(yaml.safe_dump({"basic_auth_users": {"prometheus": bcrypt_hash("pw-two")}}))
    wait_for(lambda: _get(toy.port, password="pw-two")[0] == 200, 5, "the changed web config")
    assert _get(toy.port, password="pw-one")[0] == 401
    # A change the watcher cannot see (same size, inode and mtime) is picked up by SIGHUP.
    st = web.stat()
    web.write_text(yaml.safe_dump({"basic_auth_users": {"prometheus": bcrypt_hash("pw-3rd")}}))
    os.utime(web, ns=(st.st_atime_ns, st.st_mtime_ns))
    time.sleep(1.5)
    assert _get(toy.port, password="pw-3rd")[0] == 401
    toy.proc.popen.send_signal(signal.SIGHUP)
    wait_for(lambda: _get(toy.port, password="pw-3rd")[0] == 200, 5, "the web config re-read on SIGHUP")
    # A broken web config is refused and the old one stays.
    web.write_text("basic_auth_users: [\n")
    auth = {"Authorization": "Basic " + base64.b64encode(b"prometheus:pw-3rd").decode()}
    code, body, _ = toy.request("/-/reload", method="POST", headers=auth)
    assert code == 500 and str(web) in body, body
    assert _get(toy.port, password="pw-3rd")[0] == 200
    assert "web config" in toy.log() and "level=error" in toy.log()


def test_certificate_rotation_is_picked_up_without_a_restart(lab, peer, pki) -> None:
    crt, key = lab.workdir / "tls.crt", lab.workdir / "tls.key"
    shutil.copy(pki["server"][0], crt)
    shutil.copy(pki["server"][1], key)
    web = _web(
        lab, {"tls_server_config": {"cert_file": "tls.crt", "key_file": "tls.key"}}
    )  # relative to web.yml
    toy = Toy(lab, toy_config(sw1=peer), args=[f"--web.config.file={web}"])
    code, der, _ = _get(toy.port, ca=pki["ca"])
    assert code == 200 and _serial(der) == pki["server_obj"][0].serial_number
    shutil.copy(pki["server2"][1], key)
    shutil.copy(pki["server2"][0], crt)
    new = pki["server2_obj"][0].serial_number
    wait_for(lambda: _serial(_get(toy.port, ca=pki["ca"])[1]) == new, 5, "the rotated certificate")


def test_inline_certificate_key_and_client_ca(lab, peer, pki) -> None:
    cert, key = pem(*pki["server_obj"])
    web = _web(
        lab,
        {
            "tls_server_config": {
                "cert": cert,
                "key": key,
                "client_ca": pki["ca"].read_text(),
                "client_auth_type": "RequireAndVerifyClientCert",
            }
        },
    )
    toy = Toy(lab, toy_config(sw1=peer), args=[f"--web.config.file={web}"])
    assert _get(toy.port, ca=pki["ca"], client=pki["prom"])[0] == 200
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        _get(toy.port, ca=pki["ca"])
    assert "PRIVATE KEY" not in toy.log()


def test_client_allowed_sans(lab, peer, pki) -> None:
    web = _web(
        lab,
        {
            "tls_server_config": {
                "cert_file": str(pki["server"][0]),
                "key_file": str(pki["server"][1]),
                "client_ca_file": str(pki["ca"]),
                "client_auth_type": "RequireAndVerifyClientCert",
                "client_allowed_sans": ["prometheus.example", "2001:db8::7"],
            }
        },
    )
    toy = Toy(lab, toy_config(sw1=peer), args=[f"--web.config.file={web}"])
    assert _get(toy.port, ca=pki["ca"], client=pki["prom"])[0] == 200
    assert _get(toy.port, ca=pki["ca"], client=pki["prom_ip"])[0] == 200
    with pytest.raises((ssl.SSLError, ConnectionError, OSError, http.client.HTTPException)):
        _get(toy.port, ca=pki["ca"], client=pki["intruder"])  # signed by the same CA, other SAN
    assert _get(toy.port, ca=pki["ca"], client=pki["prom"])[0] == 200


def test_rate_limit(lab, peer) -> None:
    web = _web(lab, {"rate_limit": {"interval": "1s", "burst": 2}})
    toy = Toy(lab, toy_config(sw1=peer), args=[f"--web.config.file={web}"])  # the bucket starts full
    assert [_get(toy.port)[0] for _ in range(3)] == [200, 200, 429]
    time.sleep(1.1)
    assert _get(toy.port)[0] == 200


def test_cipher_suites_and_curve_preferences_are_honoured(lab, peer, pki) -> None:
    web = _web(
        lab,
        {
            "tls_server_config": {
                "cert_file": str(pki["server"][0]),
                "key_file": str(pki["server"][1]),
                "cipher_suites": ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"],
                "curve_preferences": ["CurveP384"],
            }
        },
    )
    toy = Toy(lab, toy_config(sw1=peer), args=[f"--web.config.file={web}"])
    code, _, cipher = _get(toy.port, ca=pki["ca"], ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")
    assert code == 200 and cipher == "ECDHE-ECDSA-AES128-GCM-SHA256"
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        _get(toy.port, ca=pki["ca"], ciphers="ECDHE-ECDSA-AES256-GCM-SHA384")
    assert _get(toy.port, ca=pki["ca"], curve="secp384r1")[0] == 200
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        _get(toy.port, ca=pki["ca"], curve="prime256v1")


def _refused(tmp_path: Path, cfg: dict) -> str:
    p = tmp_path / "web.yml"
    p.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError) as e:
        load_web_config(str(p))
    return str(e.value)


def test_knobs_that_cannot_be_honoured_are_refused(tmp_path: Path, pki) -> None:
    tls = {"cert_file": str(pki["server"][0]), "key_file": str(pki["server"][1])}
    for cfg, words in (
        ({"http_server_config": {"http2": True}}, ["http_server_config.http2", "HTTP/2"]),
        (
            {"tls_server_config": {**tls, "cipher_suites": ["TLS_RSA_WITH_RC4_128_SHA"]}},
            ["cipher_suites", "RC4"],
        ),
        (
            {"tls_server_config": {**tls, "curve_preferences": ["CurveP256", "X25519"]}},
            ["curve_preferences", "one"],
        ),
        (
            {"tls_server_config": {**tls, "curve_preferences": ["CurveP999"]}},
            ["curve_preferences", "CurveP999"],
        ),
        ({"http_server_config": {"headers": {"X-Foo": "bar"}}}, ["headers", "X-Foo"]),
        ({"http_server_config": {"headers": {"X-Frame-Options": "allow"}}}, ["X-Frame-Options", "deny"]),
        ({"tls_server_config": {**tls, "client_ca_file": str(pki["ca"])}}, ["client_auth_type"]),
        ({"tls_server_config": {**tls, "cert": "x"}}, ["cert", "not both"]),
        (
            {"tls_server_config": {**tls, "client_allowed_sans": ["a"]}},
            ["client_allowed_sans", "client_auth_type"],
        ),
        ({"rate_limit": {"interval": "1s", "burst": 0}}, ["rate_limit.burst"]),
    ):
        msg = _refused(tmp_path, cfg)
        assert all(w in msg for w in words), (cfg, msg)
    # What can be honoured is accepted.
    p = tmp_path / "ok.yml"
    p.write_text(
        yaml.safe_dump(
            {
                "tls_server_config": {
                    **tls,
                    "prefer_server_cipher_suites": False,
                    "cipher_suites": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
                    "curve_preferences": ["X25519"],
                },
                "http_server_config": {"http2": False, "headers": {"X-Frame-Options": "deny"}},
                "rate_limit": {"interval": "0s", "burst": 0},
            }
        )
    )
    load_web_config(str(p))
