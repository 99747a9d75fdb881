"""Config files read exactly as written, bounded, never echoing values (issue 10 points 5, 6, 11; issue 17).

The YAML text is composed into a node tree by the core itself, so a value keeps the text the operator
typed (`community: 0123` is "0123", not YAML 1.1's octal 83) and every error names file, line and key.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from exporters.core.config import ConfigError, Duration, Expandable, ReadableFile, Secret, load_config
from lab.exporter import parse, value

from core_testlib import HERE, Peer, Toy, run_toy, toy_config

SECRET = "hunter2-S3cret"


@dataclass(frozen=True)
class Auth:
    community: Secret
    username: str = ""
    version: Literal["1", "2c", "3"] = "2c"
    port: int = 161


@dataclass(frozen=True)
class Target:
    address: str
    auth: Auth
    timeout: Duration = Duration(5)
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Root:
    targets: dict[str, Target] = field(default_factory=dict)


@dataclass(frozen=True)
class V3:
    password: Secret
    username: Expandable = ""
    note: str = ""


@dataclass(frozen=True)
class Tls:
    ca_file: ReadableFile | None = None


def write(tmp_path: Path, text: str, name: str = "sw.yml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def error(path: Path, cls: type = Root, **kw: object) -> str:
    with pytest.raises(ConfigError) as e:
        load_config(cls, path, **kw)
    return str(e.value)


# --- point 6: values as written, duplicates ---------------------------------------------------------


AS_WRITTEN = """\
targets:
  sw1:
    address: 0123
    auth: {community: 0123, username: 0777, version: 3}
    tags: [1_000, 0x1F, 1e3, 010, .inf, 12:30, 1.50]
"""


def test_strings_keep_the_text_as_written(tmp_path: Path) -> None:
    t = load_config(Root, write(tmp_path, AS_WRITTEN)).targets["sw1"]
    assert t.auth.community.reveal() == "0123"
    assert t.auth.username == "0777"
    assert t.address == "0123"
    assert t.auth.version == "3"
    assert t.tags == ["1_000", "0x1F", "1e3", "010", ".inf", "12:30", "1.50"]


def test_non_strings_in_string_fields_are_refused_with_a_hint_to_quote(tmp_path: Path) -> None:
    for text in ("yes", "off", "true"):
        msg = error(
            write(tmp_path, f"targets: {{sw1: {{address: a, auth: {{community: x, username: {text}}}}}}}\n")
        )
        assert "targets.sw1.auth.username" in msg and "quote" in msg, msg
    msg = error(write(tmp_path, "targets: {sw1: {address: a, auth: {community: [x]}}}\n"))
    assert "targets.sw1.auth.community" in msg and "expected a string" in msg


def test_ambiguous_integers_are_refused(tmp_path: Path) -> None:
    ok = load_config(
        Root, write(tmp_path, "targets: {sw1: {address: a, auth: {community: x, port: 1161}}}\n")
    )
    assert ok.targets["sw1"].auth.port == 1161
    for text in ("0161", "1:30"):  # YAML 1.1 reads these as octal 113 and sexagesimal 90
        msg = error(
            write(tmp_path, f"targets: {{sw1: {{address: a, auth: {{community: x, port: {text}}}}}}}\n")
        )
        assert "targets.sw1.auth.port" in msg, msg


TOR1_TWICE = """\
targets:
  tor1:
    address: 10.0.0.1
    auth: {community: x}
  tor2:
    address: 10.0.0.2
    auth: {community: x}
  tor1:
    address: 10.0.0.3
    auth: {community: y}
"""


def test_duplicate_keys_are_an_error_naming_both_lines(tmp_path: Path) -> None:
    msg = error(write(tmp_path, TOR1_TWICE))
    assert "targets.tor1" in msg and "duplicate key" in msg and "line 2" in msg and ":8:" in msg, msg
    msg = error(write(tmp_path, "targets: {sw1: {address: a, auth: {community: x, community: y}}}\n"))
    assert "targets.sw1.auth.community" in msg and "duplicate key" in msg, msg


def test_errors_name_the_line(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """\
        targets:
          sw1:
            address: a
            auth: {community: x}
            timeout: soon
        """,
    )
    msg = error(p)
    assert msg.startswith(f"{p}:5: targets.sw1.timeout: ") and "not a duration" in msg, msg


# --- point 5: bounded ---------------------------------------------------------------------------------


def test_config_file_size_is_capped(tmp_path: Path) -> None:
    p = tmp_path / "big.yml"
    line = "  t{:07d}: {{address: a, auth: {{community: x}}}}\n"
    with p.open("w") as f:
        f.write("targets:\n")
        for i in range(5 * 1024 * 1024 // len(line.format(0)) + 1):
            f.write(line.format(i))
    assert p.stat().st_size > 5 * 1024 * 1024
    t0 = time.monotonic()
    msg = error(p)
    assert time.monotonic() - t0 < 1.0
    assert "larger than" in msg and "MiB" in msg, msg


BOMB = """\
targets:
  sw1:
    address: a
    auth:
      community: x
      version: [&a [x, x, x, x, x, x, x, x, x], &b [*a, *a, *a, *a, *a, *a, *a, *a, *a],
                &c [*b, *b, *b, *b, *b, *b, *b, *b, *b], &d [*c, *c, *c, *c, *c, *c, *c, *c, *c],
                &e [*d, *d, *d, *d, *d, *d, *d, *d, *d], &f [*e, *e, *e, *e, *e, *e, *e, *e, *e],
                &g [*f, *f, *f, *f, *f, *f, *f, *f, *f], &h [*g, *g, *g, *g, *g, *g, *g, *g, *g],
                *h]
"""


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path, BOMB)
    # In a child with 1 GiB of address space, so a regression cannot take the test machine down.
    code = (
        "import resource, sys, time; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "sys.path[:0] = [sys.argv[2]]\n"
        "from dataclasses import dataclass, field\n"
        "from typing import Literal\n"
        "from exporters.core.config import ConfigError, Secret, load_config\n"
        "@dataclass(frozen=True)\n"
        "class Auth:\n community: Secret\n version: Literal['1', '2c', '3'] = '2c'\n"
        "@dataclass(frozen=True)\n"
        "class Target:\n address: str\n auth: Auth\n"
        "@dataclass(frozen=True)\n"
        "class Root:\n targets: dict[str, Target] = field(default_factory=dict)\n"
        "t0 = time.monotonic()\n"
        "try:\n load_config(Root, sys.argv[1]); print('accepted')\n"
        "except ConfigError as e:\n print('refused', round(time.monotonic() - t0, 2), str(e)[:300])\n"
        # VmHWM, not ru_maxrss: that one keeps the forking parent's peak across exec (pytest's own,
        # hundreds of MB after the 10,000-peer tests)
        "hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM:')][0].split()[1]\n"
        "print('maxrss_kib', hwm)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(p), str(HERE.parents[1])],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.stdout.startswith("refused"), (r.stdout + r.stderr)[-1500:]
    assert "alias" in r.stdout, r.stdout
    assert float(r.stdout.split()[1]) < 1.0
    rss_kib = int(r.stdout.rsplit("maxrss_kib", 1)[1])
    assert rss_kib < 200 * 1024, rss_kib


def test_errors_never_render_a_whole_value(tmp_path: Path) -> None:
    big = "z" * 100_000
    for field_text in (f"version: {big}", f"port: {big}", f"version: [{', '.join(['q'] * 20_000)}]"):
        msg = error(
            write(tmp_path, f"targets: {{sw1: {{address: a, auth: {{community: x, {field_text}}}}}}}\n")
        )
        assert len(msg) < 400, msg[:500]
    msg = error(
        write(tmp_path, f"targets: {{sw1: {{address: a, auth: {{community: x}}, timeout: {big}}}}}\n")
    )
    assert len(msg) < 400, msg[:500]


# --- point 11: secrets typed in the wrong place ----------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    [
        f"auth: {{community: x, version: {SECRET}}}",  # an enum field
        f"auth: {{community: x, port: {SECRET}}}",  # an int field
        f"auth: {{community: x}}, timeout: {SECRET}",  # a duration
        f"auth: {{community: x, {SECRET}: 1}}",  # a key
        f"auth: {{community: x, {SECRET}}}",  # a key without value
        f"auth: {{community: x}}, tags: {{{SECRET}: 1}}",  # a mapping where a list belongs
    ],
)
def test_secret_in_the_wrong_place_is_not_echoed(tmp_path: Path, where: str) -> None:
    msg = error(write(tmp_path, f"targets: {{sw1: {{address: a, {where}}}}}\n"))
    assert SECRET not in msg and "targets.sw1" in msg, msg


def test_typo_of_a_key_is_still_named(tmp_path: Path) -> None:
    msg = error(write(tmp_path, "targets: {sw1: {address: a, auth: {comunity: x}}}\n"))
    assert "targets.sw1.auth.comunity: unknown key (known keys here: community, community_file," in msg, msg


def test_reload_error_page_does_not_echo_a_secret(lab, peer) -> None:
    toy = Toy(lab, toy_config(sw1=peer))
    for bad in (
        f"targets: {{sw1: {{address: '{peer.address}', password: x, timeout: {SECRET}}}}}\n",
        f"targets: {{sw1: {{address: '{peer.address}', password: x, {SECRET}: 1}}}}\n",
    ):
        toy.write(bad)
        code, body, _ = toy.request("/-/reload", method="POST")
        assert code == 500 and "targets.sw1" in body and SECRET not in body, body
    assert SECRET not in toy.log()


# --- issue 17: secrets from files and the environment, referenced files ------------------------------------


def test_secret_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "community").write_text("pub-from-file\n")
    (tmp_path / "community").chmod(0o600)
    p = write(tmp_path, "targets: {sw1: {address: a, auth: {community_file: community}}}\n")
    assert load_config(Root, p).targets["sw1"].auth.community.reveal() == "pub-from-file"
    (tmp_path / "community").chmod(0o640)
    msg = error(p)
    assert "targets.sw1.auth.community_file" in msg and "group or others" in msg and "chmod 600" in msg, msg
    (tmp_path / "community").chmod(0o600)
    both = write(tmp_path, "targets: {sw1: {address: a, auth: {community: x, community_file: community}}}\n")
    assert "not both" in error(both)
    missing = write(tmp_path, "targets: {sw1: {address: a, auth: {community_file: nope}}}\n")
    msg = error(missing)
    assert "community_file" in msg and str(tmp_path / "nope") in msg and "No such file" in msg, msg


def test_environment_variables_expand_in_secrets_as_in_snmp_exporter(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COLO_T_PW", "pw-from-env")
    monkeypatch.setenv("COLO_T_USER", "monitor")
    p = write(
        tmp_path, "password: 'a${COLO_T_PW}b$COLO_T_PW-$'\nusername: ${COLO_T_USER}\nnote: ${COLO_T_PW}\n"
    )
    v = load_config(V3, p, expand_env=True)
    assert v.password.reveal() == "apw-from-envbpw-from-env-$"
    assert v.username == "monitor" and v.note == "${COLO_T_PW}"  # plain strings are never expanded
    assert load_config(V3, p).password.reveal() == "a${COLO_T_PW}b$COLO_T_PW-$"  # only with the flag
    msg = error(write(tmp_path, "password: ${COLO_T_MISSING}\n"), V3, expand_env=True)
    assert "password" in msg and "COLO_T_MISSING" in msg and "not set" in msg, msg
    assert load_config(V3, write(tmp_path, "password: ''\n"), expand_env=True).password.reveal() == ""


def test_exporter_reads_secret_files_at_reload_and_expands_the_environment(lab) -> None:
    peer = Peer(password="s3cret-pw")
    secret = lab.workdir / "pw"
    secret.write_text("not-the-password\n")
    secret.chmod(0o600)
    cfg = {
        "targets": {
            "file": {"address": peer.address, "password_file": str(secret)},
            "env": {"address": peer.address, "password": "${TOY_PW}"},
        }
    }
    toy = Toy(lab, cfg, args=["--config.expand-environment-variables"], env={"TOY_PW": "s3cret-pw"})
    assert value(parse(toy.request("/probe?target=env")[1]), "colo_toy_up", target="env") == 1
    s = parse(toy.request("/probe?target=file")[1])
    assert value(s, "colo_toy_up", target="file") == 0
    assert value(s, "colo_toy_scrape_errors_total", reason="auth") == 1
    secret.write_text("s3cret-pw\n")
    assert toy.request("/-/reload", method="POST")[0] == 200  # the file is read again
    assert value(parse(toy.request("/probe?target=file")[1]), "colo_toy_up", target="file") == 1
    assert "s3cret-pw" not in toy.log()


def test_readable_file_is_checked_and_resolved_against_the_config_dir(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    cfg = load_config(Tls, write(tmp_path, "ca_file: ca.pem\n"))
    assert cfg.ca_file == str(tmp_path / "ca.pem") and isinstance(cfg.ca_file, str)
    p = write(tmp_path, "ca_file: missing.pem\n")
    msg = error(p, Tls)
    assert msg.startswith(f"{p}:1: ca_file: ") and str(tmp_path / "missing.pem") in msg, msg
    assert "is a directory" in error(write(tmp_path, f"ca_file: {tmp_path}\n"), Tls)


def _check(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    f = tmp_path / "toy.yml"
    f.write_text(text)
    return run_toy(f"--config.file={f}", "--config.check")


def test_config_check_refuses_duplicate_keys_and_missing_files(tmp_path: Path) -> None:
    r = _check(
        tmp_path,
        "targets:\n  a: {address: '127.0.0.1:1', password: x}\n  a: {address: '127.0.0.1:2', password: y}\n",
    )
    assert r.returncode == 1 and "targets.a" in r.stderr and "duplicate key" in r.stderr, r.stderr
    r = _check(tmp_path, "extra_file: /nonexistent/ca.pem\n")
    assert r.returncode == 1 and "extra_file" in r.stderr and "/nonexistent/ca.pem" in r.stderr, r.stderr
    assert str(tmp_path / "toy.yml") in r.stderr
    assert os.path.exists(tmp_path / "toy.yml")
