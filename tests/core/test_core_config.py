"""Config files: validated at start, errors name the file and the key path, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from exporters.core.config import ConfigError, Duration, Secret, load_config, parse_config

from core_testlib import run_toy


@dataclass(frozen=True)
class Auth:
    community: Secret
    version: Literal["1", "2c", "3"] = "2c"


@dataclass(frozen=True)
class Target:
    address: str
    auth: Auth
    timeout: Duration = Duration(5)
    retries: int = 2
    ports: list[int] = field(default_factory=list)
    note: str | None = None


@dataclass(frozen=True)
class Root:
    targets: dict[str, Target] = field(default_factory=dict)

    def validate(self) -> None:
        for name, t in self.targets.items():
            if t.retries > 5:
                raise ConfigError(f"targets.{name}.retries", "at most 5")


def err(data: object) -> str:
    with pytest.raises(ConfigError) as e:
        parse_config(Root, data, "sw.yml")
    return str(e.value)


def test_valid_config_builds_dataclasses() -> None:
    cfg = parse_config(
        Root,
        {
            "targets": {
                "sw1": {
                    "address": "10.0.0.1",
                    "auth": {"community": "pub", "version": "2c"},
                    "timeout": "1m30s",
                    "ports": [1, 2],
                }
            }
        },
    )
    t = cfg.targets["sw1"]
    assert t.timeout == 90.0 and t.retries == 2 and t.ports == [1, 2] and t.note is None
    assert t.auth.community.reveal() == "pub"


def test_unknown_key_names_file_and_path() -> None:
    assert err({"targets": {"sw1": {"address": "a", "auth": {"comunity": "x"}}}}) == (
        "sw.yml: targets.sw1.auth.comunity: unknown key (known keys here: community, community_file, version)"
    )


def test_wrong_type_names_path() -> None:
    assert err({"targets": {"sw1": {"address": "a", "auth": {"community": "x"}, "retries": "three"}}}) == (
        "sw.yml: targets.sw1.retries: expected an integer, got string"
    )
    assert err({"targets": {"sw1": {"address": "a", "auth": {"community": "x"}, "ports": [1, "b"]}}}) == (
        "sw.yml: targets.sw1.ports[1]: expected an integer, got string"
    )
    assert err({"targets": []}) == "sw.yml: targets: expected a mapping, got list"
    assert err({"targets": {"s": {"address": True, "auth": {"community": "x"}}}}) == (
        "sw.yml: targets.s.address: expected a string, got boolean"
    )


def test_missing_credential() -> None:
    assert err({"targets": {"sw1": {"address": "a", "auth": {}}}}) == (
        "sw.yml: targets.sw1.auth.community: required key is missing"
    )


def test_literal_and_duration() -> None:
    assert "targets.s.auth.version: expected one of '1', '2c', '3', got an integer" in err(
        {"targets": {"s": {"address": "a", "auth": {"community": "x", "version": 4}}}}
    )
    cfg = parse_config(Root, {"targets": {"s": {"address": "a", "auth": {"community": "x", "version": 3}}}})
    assert cfg.targets["s"].auth.version == "3"  # YAML's int 3 is the string "3"
    assert "not a duration" in err(
        {"targets": {"s": {"address": "a", "auth": {"community": "x"}, "timeout": "5 parsecs"}}}
    )
    assert Duration.parse("500ms") == 0.5


def test_validate_hook_path() -> None:
    assert err({"targets": {"s": {"address": "a", "auth": {"community": "x"}, "retries": 9}}}) == (
        "sw.yml: targets.s.retries: at most 5"
    )


def test_secret_never_prints() -> None:
    s = Secret("hunter2")
    assert "hunter2" not in repr(s) and "hunter2" not in str(s) and "hunter2" not in f"{s}"
    cfg = parse_config(Root, {"targets": {"s": {"address": "a", "auth": {"community": "hunter2"}}}})
    assert "hunter2" not in repr(cfg)


def test_yaml_syntax_error_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("targets:\n  sw1: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yml: not valid YAML at line \d+"):
        load_config(Root, bad)
    with pytest.raises(ConfigError, match=r"nope\.yml: cannot read: No such file"):
        load_config(Root, tmp_path / "nope.yml")


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "targets: {a: {address: '127.0.0.1:1', passwrd: x}}",
            "targets.a.passwrd: unknown key (known keys here: address, password, password_file, timeout)",
        ),
        (
            "targets: {a: {address: '127.0.0.1:1', password: x, timeout: 5 parsecs}}",
            "targets.a.timeout: not a duration",
        ),
        ("targets: {a: {address: '127.0.0.1:1'}}", "targets.a.password: required key is missing"),
        ("targets: {a: {address: nocolon, password: x}}", "targets.a.address: expected host:port"),
        (
            "targets: {a: {address: '127.0.0.1:1', password: [x]}}",
            "targets.a.password: expected a string, got list",
        ),
    ],
)
def test_exporter_refuses_bad_config_without_traceback(tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "toy.yml"
    f.write_text(content)
    r = run_toy(f"--config.file={f}", "--web.listen-address=127.0.0.1:0")
    assert r.returncode == 1
    assert message in r.stderr and str(f) in r.stderr
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert "level=error" in r.stderr


def test_config_check_flag(tmp_path: Path) -> None:
    f = tmp_path / "toy.yml"
    f.write_text("targets: {a: {address: '127.0.0.1:1', password: x}}\n")
    r = run_toy(f"--config.file={f}", "--config.check")
    assert r.returncode == 0 and "config OK" in r.stdout
    r = run_toy("--version")
    assert r.returncode == 0 and "colo-toy-exporter, version 0.1.0" in r.stdout


def test_required_config_file_missing(tmp_path: Path) -> None:
    r = run_toy(f"--config.file={tmp_path}/none.yml")
    assert r.returncode == 1 and "cannot read" in r.stderr and "Traceback" not in r.stderr
