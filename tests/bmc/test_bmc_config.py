"""Config checks, the example config and the Grafana dashboard (the alert rules: tests/alerts)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from exporters.bmc.config import Config
from exporters.core import ConfigError, parse_config
from lab.configs import example_with_files

from testlib import config_check

ROOT = Path(__file__).resolve().parent.parent.parent


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return config_check("bmc", path)


def test_example_config_passes_check(tmp_path: Path) -> None:
    r = check(example_with_files(ROOT / "examples" / "bmc.yml", tmp_path))
    assert r.returncode == 0, r.stderr
    assert "change-me" not in r.stdout + r.stderr


@pytest.mark.parametrize(
    "data,key",
    [
        ({"targets": {"s": {}}}, "targets.s"),
        ({"targets": {"s": {"ipmi": {"host": "h", "auth": "nope"}}}}, "targets.s.ipmi.auth"),
        (
            {
                "auths": {"a": {"user": "u", "password": "p"}},
                "targets": {"s": {"ipmi": {"host": "h", "auth": "a", "workarounds": ["bogus"]}}},
            },
            "workarounds[0]",
        ),
        (
            {
                "auths": {"a": {"user": "u", "password": "p"}},
                "targets": {"s": {"ipmi": {"host": "h", "auth": "a", "cipher_suite": 4}}},
            },
            "cipher_suite",
        ),
        (
            {
                "auths": {"a": {"user": "u", "password": "p"}},
                "targets": {"s": {"redfish": {"url": "bmc1", "auth": "a"}}},
            },
            "url",
        ),
        (
            {
                "auths": {"a": {"user": "u", "password": "p"}},
                "targets": {"s": {"redfish": {"url": "https://b", "auth": "a", "login": "digest"}}},
            },
            "login",
        ),
    ],
)
def test_bad_config_names_the_key(data: dict, key: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(Config, data)
    assert key in str(e.value)


def test_bad_config_file_fails_check_without_leaking(tmp_path: Path) -> None:
    p = tmp_path / "bmc.yml"
    p.write_text(
        "auths: {a: {user: u, password: Hunter2-secret}}\ntargets: {s: {ipmi: {host: h, auth: b}}}\n"
    )
    r = check(p)
    assert r.returncode != 0 and "targets.s.ipmi.auth" in r.stderr
    assert "Hunter2-secret" not in r.stdout + r.stderr
