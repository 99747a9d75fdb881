"""--web.config.file (exporter-toolkit format): TLS, client certificates, basic auth, with a real TLS
client."""

from __future__ import annotations

import base64
import http.client
import ssl
from pathlib import Path

import bcrypt
import pytest
import yaml

from lab import certs

from core_testlib import Toy, run_toy, toy_config


def _cert(name: str, issuer: tuple | None = None, ca: bool = False, ip: str | None = None) -> tuple:
    return certs.build(name, [ip] if ip else [], issuer, ca)


_write = certs.write


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pki")
    ca = _cert("colo test CA", ca=True)
    other_ca = _cert("someone else's CA", ca=True)
    out = {"dir": d}
    out["ca"], _ = _write(d, "ca", *ca)
    out["server"], out["server_key"] = _write(d, "server", *_cert("127.0.0.1", ca, ip="127.0.0.1"))
    out["client"], out["client_key"] = _write(d, "client", *_cert("prometheus", ca))
    out["stranger"], out["stranger_key"] = _write(d, "stranger", *_cert("prometheus", other_ca))
    return out


PASSWORD = "correct horse battery staple"


def _web_config(lab, pki, **tls) -> Path:
    cfg = {
        "tls_server_config": {"cert_file": str(pki["server"]), "key_file": str(pki["server_key"]), **tls},
        "basic_auth_users": {
            "prometheus": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
        },
        "http_server_config": {"headers": {"X-Frame-Options": "deny"}},
    }
    path = lab.workdir / "web.yml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _get(
    port: int,
    pki,
    path: str = "/probe?target=sw1",
    user: str | None = None,
    password: str | None = None,
    client: str | None = None,
) -> tuple[int, str, dict]:
    ctx = ssl.create_default_context(cafile=str(pki["ca"]))
    if client:
        ctx.load_cert_chain(str(pki[client]), str(pki[client + "_key"]))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    headers = {}
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read().decode()
    conn.close()
    return r.status, body, dict(r.getheaders())


def test_tls_and_basic_auth(lab, peer, pki) -> None:
    web = _web_config(lab, pki)
    toy = Toy(lab, toy_config(sw1=peer), args=[f"--web.config.file={web}"])
    code, body, headers = _get(toy.port, pki)
    assert code == 401 and headers.get("WWW-Authenticate", "").startswith("Basic")
    assert _get(toy.port, pki, user="prometheus", password="wrong")[0] == 401
    assert _get(toy.port, pki, user="nobody", password=PASSWORD)[0] == 401
    code, body, headers = _get(toy.port, pki, user="prometheus", password=PASSWORD)
    assert code == 200 and "colo_toy_up" in body and headers["X-Frame-Options"] == "deny"
    assert _get(toy.port, pki, path="/-/healthy")[0] == 401  # every endpoint is behind auth
    # plain HTTP on the TLS port gets nowhere
    conn = http.client.HTTPConnection("127.0.0.1", toy.port, timeout=5)
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        conn.request("GET", "/metrics")
        conn.getresponse().read()
    assert PASSWORD not in toy.log()


def test_client_certificates_required(lab, peer, pki) -> None:
    web = _web_config(lab, pki, client_auth_type="RequireAndVerifyClientCert", client_ca_file=str(pki["ca"]))
    toy = Toy(lab, toy_config(sw1=peer), args=[f"--web.config.file={web}"])
    assert _get(toy.port, pki, user="prometheus", password=PASSWORD, client="client")[0] == 200
    for client in (None, "stranger"):
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            _get(toy.port, pki, user="prometheus", password=PASSWORD, client=client)
    # the exporter survives bad handshakes
    assert _get(toy.port, pki, user="prometheus", password=PASSWORD, client="client")[0] == 200


@pytest.mark.parametrize(
    "web, message",
    [
        (
            {"tls_server_config": {"cert_file": "x.crt"}},
            "tls_server_config.key_file: required key is missing",
        ),
        (
            {
                "tls_server_config": {
                    "cert_file": "x",
                    "key_file": "y",
                    "client_auth_type": "RequireAndVerifyClientCert",
                }
            },
            "tls_server_config.client_ca_file: required when client_auth_type is RequireAndVerifyClientCert",
        ),
        (
            {"tls_server_config": {"cert_file": "x", "key_file": "y", "client_auth_type": "Maybe"}},
            "tls_server_config.client_auth_type: expected one of",
        ),
        (
            {"tls_server_config": {"cert_file": "/nonexistent.crt", "key_file": "/nonexistent.key"}},
            "tls_server_config.cert_file: cannot load certificate/key",
        ),
        ({"basic_auth_users": {"alice": "plaintext"}}, "basic_auth_users.alice: must be a bcrypt hash"),
        ({"basic_auth_user": {}}, "basic_auth_user: unknown key"),
    ],
)
def test_bad_web_config_is_refused(tmp_path: Path, web: dict, message: str) -> None:
    cfg, wf = tmp_path / "toy.yml", tmp_path / "web.yml"
    cfg.write_text("targets: {}\n")
    wf.write_text(yaml.safe_dump(web))
    r = run_toy(f"--config.file={cfg}", f"--web.config.file={wf}", "--web.listen-address=127.0.0.1:0")
    assert r.returncode == 1 and message in r.stderr and str(wf) in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
