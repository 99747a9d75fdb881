"""The config file: the example passes --config.check, mistakes are named by key."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from exporters.core import ConfigError, parse_config
from exporters.lxd.config import Config

from testlib import config_check

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The certificate files the configs below name, so that only the mistake under test is wrong."""
    monkeypatch.chdir(tmp_path)
    for name in ("a", "b", "c", "c.crt", "c.key"):
        (tmp_path / name).write_text("placeholder\n")


def test_a_missing_certificate_file_is_named() -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(Config, {"url": "https://x:8443", "tls": {"cert_file": "missing.crt", "key_file": "b"}})
    assert e.value.key == "tls.cert_file" and "missing.crt" in str(e.value)


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return config_check("lxd", path)


def test_example_config_passes_check() -> None:
    r = check(ROOT / "examples" / "lxd.yml")
    assert r.returncode == 0, r.stderr
    assert "config OK" in r.stdout


def test_example_https_variant_is_valid() -> None:
    data = yaml.safe_load((ROOT / "examples" / "lxd.yml").read_text())
    del data["socket"]
    data.update(url="https://lxd1.example.net:8443", tls={"cert_file": "c.crt", "key_file": "c.key"})
    cfg = parse_config(Config, data)
    assert cfg.url and cfg.tls and cfg.tls.key_file.endswith("/c.key") and cfg.scope == "member"


@pytest.mark.parametrize(
    "data,key",
    [
        ({"socket": "/s", "url": "https://x:8443", "tls": {"cert_file": "a", "key_file": "b"}}, "url"),
        ({"url": "http://x:8443", "tls": {"cert_file": "a", "key_file": "b"}}, "url"),
        ({"url": "https://x:8443"}, "tls"),
        ({"tls": {"cert_file": "a", "key_file": "b"}}, "tls"),
        ({"scope": "everything"}, "scope"),
        ({"user_labels": ["monitor"]}, "user_labels[0]"),
        ({"user_labels": ["user.a-b", "user.a_b"]}, "user_labels"),
        ({"timeout": "soon"}, "timeout"),
        ({"disk_interval": "100ms"}, "disk_interval"),
        ({"server_interval": "500ms"}, "server_interval"),
        ({"instances_max_age": "later"}, "instances_max_age"),
        (
            {
                "url": "https://x:8443",
                "tls": {
                    "cert_file": "a",
                    "key_file": "b",
                    "server_cert_file": "c",
                    "insecure_skip_verify": True,
                },
            },
            "tls.insecure_skip_verify",
        ),
        ({"sockett": "/s"}, "sockett"),
    ],
)
def test_bad_config_names_the_key(data: dict, key: str) -> None:
    """(the referenced files a, b, c and c.crt/c.key exist: see `files`)"""
    with pytest.raises(ConfigError) as e:
        parse_config(Config, data)
    assert e.value.key == key


def test_bad_config_file_fails_check(tmp_path: Path) -> None:
    p = tmp_path / "lxd.yml"
    p.write_text("scope: galaxy\n")
    r = check(p)
    assert r.returncode == 1 and "scope" in r.stderr


def test_default_socket_lxd_or_incus(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from exporters.lxd import config

    monkeypatch.delenv("LXD_DIR", raising=False)
    monkeypatch.setenv("INCUS_DIR", str(tmp_path))
    assert config.default_socket() == str(tmp_path / "unix.socket")
    monkeypatch.setenv("LXD_DIR", "/lxd")
    assert config.default_socket() == "/lxd/unix.socket"
    monkeypatch.delenv("LXD_DIR")
    monkeypatch.delenv("INCUS_DIR")
    monkeypatch.setattr(config, "SNAP_SOCKET", str(tmp_path / "none1"))
    monkeypatch.setattr(config, "DEB_SOCKET", str(tmp_path / "none2"))
    incus = tmp_path / "incus.socket"
    incus.touch()
    monkeypatch.setattr(config, "INCUS_SOCKET", str(incus))
    assert config.default_socket() == str(incus)  # only Incus is installed
    incus.unlink()
    assert config.default_socket() == str(tmp_path / "none2")  # nothing: Debian's LXD, named in the error
    cfg = parse_config(Config, {})
    assert cfg.disk_interval == cfg.server_interval == cfg.instances_max_age == 60
    assert parse_config(Config, {"instances_max_age": "0s"}).instances_max_age == 0  # every scrape
