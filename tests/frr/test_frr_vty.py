"""The vty client against a lying daemon: exact framing, deadlines, the reply cap, and a clear reason for
each failure of the connection (what a status byte means for one command is test_frr_commands.py's)."""

from __future__ import annotations

import os
import socket
import stat
import sys
import time
from pathlib import Path

import pytest

from exporters.core import Deadline, ScrapeError
from exporters.frr.vty import Reply, Vtysh, VtySocket, identity
from lab.frr_fake import FakeVty

CMDS = {"show a json": b'{"a": 1}', "show b json": b"[1, 2]", "show summary json": b'{"default": {}}'}


def run(sock_dir: str, cmds: list[str], timeout: float = 5.0, **kw: object) -> list[Reply]:
    with VtySocket(os.path.join(sock_dir, "bgpd.vty"), Deadline(timeout), **kw) as vty:  # type: ignore[arg-type]
        return vty.run(cmds)


def fail(
    sock_dir: str, mode: str, timeout: float = 5.0, cmds: tuple[str, ...] = ("show a json",), **kw: object
) -> tuple[ScrapeError, float]:
    fake = FakeVty(None, sock_dir, "bgpd", CMDS, mode=mode)
    t0 = time.monotonic()
    try:
        with (
            pytest.raises(ScrapeError) as e,
            VtySocket(os.path.join(sock_dir, "bgpd.vty"), Deadline(timeout)) as v,
        ):
            v.run(list(cmds), **kw)  # type: ignore[arg-type]
        return e.value, time.monotonic() - t0
    finally:
        fake.close()


@pytest.mark.parametrize("pipeline", [True, False])
def test_all_commands_on_one_connection_after_enable(sock_dir: str, pipeline: bool) -> None:
    fake = FakeVty(None, sock_dir, "bgpd", CMDS)
    try:
        with VtySocket(os.path.join(sock_dir, "bgpd.vty"), Deadline(5)) as vty:
            out = vty.run(["show a json", "show b json"], pipeline)
            # A second batch on the same connection (a fallback): no second `enable`.
            again = vty.run(["show summary json"], pipeline)
    finally:
        fake.close()
    assert out == [Reply(b'{"a": 1}', 0), Reply(b"[1, 2]", 0)]
    assert again == [Reply(b'{"default": {}}', 0)]
    assert fake.commands == ["enable", "show a json", "show b json", "show summary json"]
    assert fake.connections == 1


def test_unknown_command_does_not_shift_the_replies(sock_dir: str) -> None:
    fake = FakeVty(None, sock_dir, "bgpd", CMDS)
    try:
        out = run(sock_dir, ["show a json", "show nothing json", "show b json"])
    finally:
        fake.close()
    assert out == [
        Reply(b'{"a": 1}', 0),
        Reply(b"% Unknown command: show nothing json", 2),
        Reply(b"[1, 2]", 0),
    ]


@pytest.mark.parametrize("status", [1, 2, 13])
def test_status_bytes_are_returned_not_raised(sock_dir: str, status: int) -> None:
    fake = FakeVty(None, sock_dir, "bgpd", CMDS)
    fake.status["show a json"] = status
    try:
        assert run(sock_dir, ["show a json"]) == [Reply(b'{"a": 1}', status)]
    finally:
        fake.close()


def test_enable_refused(sock_dir: str) -> None:
    fake = FakeVty(None, sock_dir, "bgpd", CMDS)
    fake.status["enable"] = 2
    try:
        with pytest.raises(ScrapeError) as e:
            run(sock_dir, ["show a json"])
    finally:
        fake.close()
    assert e.value.reason == "command" and "'enable': unknown command" in e.value.message


def test_status_byte_arriving_late_is_waited_for(sock_dir: str) -> None:
    fake = FakeVty(None, sock_dir, "bgpd", CMDS, mode="split")
    try:
        assert run(sock_dir, ["show a json", "show b json"]) == [Reply(b'{"a": 1}', 0), Reply(b"[1, 2]", 0)]
    finally:
        fake.close()


@pytest.mark.parametrize("pipeline", [True, False])
@pytest.mark.parametrize(
    "mode,reason,words",
    [
        ("truncate", "protocol", "truncated"),
        ("close", "protocol", "'enable'"),  # reset or closed, depending on timing
        ("garbage", "protocol", "after the end"),
    ],
)
def test_bad_replies(sock_dir: str, mode: str, reason: str, words: str, pipeline: bool) -> None:
    err, _ = fail(sock_dir, mode, pipeline=pipeline)
    assert err.reason == reason and words in err.message, err.message


@pytest.mark.parametrize("mode", ["silent", "trickle"])
def test_slow_daemon_is_cut_at_the_deadline(sock_dir: str, mode: str) -> None:
    err, took = fail(sock_dir, mode, timeout=0.5)
    assert err.reason == "timeout", err.message
    assert took < 1.5, took


def test_reply_size_is_bounded(sock_dir: str) -> None:
    big = {"show a json": b"[" + b"1," * 50000 + b"1]"}
    fake = FakeVty(None, sock_dir, "bgpd", big)
    try:
        with pytest.raises(ScrapeError) as e:
            run(sock_dir, ["show a json"], max_bytes=4096)
    finally:
        fake.close()
    assert e.value.reason == "protocol" and "larger than 4096" in e.value.message


def test_endless_reply_stops_at_the_cap_and_frees_the_buffer(sock_dir: str) -> None:
    fake = FakeVty(None, sock_dir, "bgpd", CMDS, mode="endless")
    try:
        with VtySocket(os.path.join(sock_dir, "bgpd.vty"), Deadline(10), max_bytes=8 << 20) as vty:
            t0 = time.monotonic()
            with pytest.raises(ScrapeError) as e:
                vty.run(["show a json"])
            took = time.monotonic() - t0
            # Nothing of the 8 MiB stays referenced from the connection (the exception may live on).
            assert len(vty.buf) == 0
    finally:
        fake.close()
    assert e.value.reason == "protocol" and "larger than" in e.value.message
    assert took < 5, took


def test_missing_socket_and_stale_socket(sock_dir: str) -> None:
    with pytest.raises(ScrapeError) as e:
        run(sock_dir, ["show a json"], timeout=1)
    assert e.value.reason == "connect" and "no such socket" in e.value.message
    # A socket file left by a dead daemon: nobody listens.
    s = socket.socket(socket.AF_UNIX)
    s.bind(os.path.join(sock_dir, "bgpd.vty"))
    s.close()
    with pytest.raises(ScrapeError) as e:
        run(sock_dir, ["show a json"], timeout=1)
    assert e.value.reason == "connect" and "refused" in e.value.message


def test_deadline_already_spent(sock_dir: str) -> None:
    fake = FakeVty(None, sock_dir, "bgpd", CMDS)
    try:
        with pytest.raises(ScrapeError) as e:
            VtySocket(os.path.join(sock_dir, "bgpd.vty"), Deadline(0))
    finally:
        fake.close()
    assert e.value.reason == "timeout"


def test_identity_changes_when_the_daemon_creates_its_socket_again(sock_dir: str) -> None:
    path = os.path.join(sock_dir, "bgpd.vty")
    assert identity(path) is None
    fake = FakeVty(None, sock_dir, "bgpd", CMDS)
    first = identity(path)
    assert first is not None and identity(path) == first
    fake.close()
    fake = FakeVty(None, sock_dir, "bgpd", CMDS)
    try:
        assert identity(path) not in (None, first)
    finally:
        fake.close()


def _fake_vtysh(tmp_path: Path, script: str) -> str:
    p = tmp_path / "vtysh"
    p.write_text(f"#!{sys.executable}\nimport sys, time\n{script}\n")
    p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return str(p)


@pytest.mark.parametrize(
    "script,status",
    [
        ("print('{}')", 0),
        ("print('% Unknown command: ' + sys.argv[-1]); sys.exit(1)", 2),
        ("print('% Command incomplete: ' + sys.argv[-1]); sys.exit(1)", 4),
        ('print(\'{"warning": "View/Vrf is unknown"}\'); sys.exit(1)', 1),
        ("print('% BGP instance not found'); sys.exit(1)", 1),
    ],
)
def test_vtysh_answers_map_to_status_bytes(tmp_path: Path, script: str, status: int) -> None:
    v = Vtysh(_fake_vtysh(tmp_path, script), "/nonexistent", "bgpd", Deadline(10), 1 << 20)
    (r,) = v.run(["show x json"])
    assert r.status == status, r


@pytest.mark.parametrize(
    "script,reason",
    [
        ("print('bgpd is not running'); sys.exit(1)", "connect"),
        ("sys.stderr.write('Exiting: failed to connect to any daemons.'); sys.exit(1)", "permission"),
        ("time.sleep(30)", "timeout"),
        ("sys.stdout.write('x' * (4 << 20))", "protocol"),
    ],
)
def test_vtysh_failures(tmp_path: Path, script: str, reason: str) -> None:
    v = Vtysh(_fake_vtysh(tmp_path, script), "/nonexistent", "bgpd", Deadline(3), 1 << 20)
    t0 = time.monotonic()
    with pytest.raises(ScrapeError) as e:
        v.run(["show x json"])
    assert e.value.reason == reason, e.value.message
    assert time.monotonic() - t0 < 5


def test_vtysh_missing_program() -> None:
    with pytest.raises(ScrapeError) as e:
        Vtysh("/nonexistent/vtysh", "/x", "bgpd", Deadline(3), 1 << 20).run(["show x json"])
    assert e.value.reason == "vtysh"
