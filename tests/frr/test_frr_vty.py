"""The vty client against a lying daemon: exact framing, deadlines, and a clear reason for each failure."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from exporters.core import Deadline, ScrapeError
from exporters.frr.vty import VtySocket, socket_commands
from lab.frr_fake import FakeVty

SUMMARY = b'{"default": {}}'
CMDS = {"show a json": b'{"a": 1}', "show b json": b"[1, 2]", "show summary json": SUMMARY}


@pytest.fixture
def sock_dir(tmp_path: Path) -> str:
    # Unix socket paths are limited to 108 bytes; pytest's tmp_path can be long.
    d = Path("/tmp") / f"colo-frr-t{os.getpid()}-{tmp_path.name[-20:]}"
    d.mkdir(exist_ok=True)
    yield str(d)
    for p in d.iterdir():
        p.unlink()
    d.rmdir()


def fail(
    sock_dir: str, mode: str, timeout: float = 5.0, cmds: tuple[str, ...] = ("show a json",), **kw: object
) -> tuple[ScrapeError, float]:
    return _fail(sock_dir, mode, timeout, cmds, **kw)


def _fail(
    sock_dir: str, mode: str, timeout: float, cmds: tuple[str, ...], **kw: object
) -> tuple[ScrapeError, float]:
    fake = FakeVty(None, sock_dir, "bgpd", CMDS, mode=mode)
    t0 = time.monotonic()
    try:
        with pytest.raises(ScrapeError) as e:
            socket_commands(sock_dir, "bgpd", list(cmds), Deadline(timeout), **kw)  # type: ignore[arg-type]
        return e.value, time.monotonic() - t0
    finally:
        fake.close()


@pytest.mark.parametrize("pipeline", [True, False])
def test_all_commands_on_one_connection_after_enable(sock_dir: str, pipeline: bool) -> None:
    fake = FakeVty(None, sock_dir, "bgpd", CMDS)
    try:
        out = socket_commands(
            sock_dir, "bgpd", ["show a json", "show b json"], Deadline(5), pipeline=pipeline
        )
    finally:
        fake.close()
    assert out == [b'{"a": 1}', b"[1, 2]"]
    assert fake.commands == ["enable", "show a json", "show b json"]
    assert fake.connections == 1


def test_unknown_command_does_not_shift_the_replies(sock_dir: str) -> None:
    fake = FakeVty(None, sock_dir, "bgpd", CMDS)
    try:
        with VtySocket(os.path.join(sock_dir, "bgpd.vty"), Deadline(5)) as vty:
            out = vty.replies(["show a json", "show nothing json", "show b json"])
    finally:
        fake.close()
    assert out == [(b'{"a": 1}', 0), (b"% Unknown command: show nothing json", 2), (b"[1, 2]", 0)]


def test_status_byte_arriving_late_is_waited_for(sock_dir: str) -> None:
    fake = FakeVty(None, sock_dir, "bgpd", CMDS, mode="split")
    try:
        assert socket_commands(sock_dir, "bgpd", ["show a json", "show b json"], Deadline(5)) == [
            b'{"a": 1}',
            b"[1, 2]",
        ]
    finally:
        fake.close()


@pytest.mark.parametrize("pipeline", [True, False])
@pytest.mark.parametrize(
    "mode,reason,words",
    [
        ("truncate", "protocol", "truncated"),
        ("close", "protocol", "'enable'"),  # reset or closed, depending on timing
        ("garbage", "protocol", "after the end"),
        ("status:2", "command", "unknown command"),
        ("status:1", "command", "warning"),
    ],
)
def test_bad_replies(sock_dir: str, mode: str, reason: str, words: str, pipeline: bool) -> None:
    err, _ = fail(sock_dir, mode, pipeline=pipeline)
    assert err.reason == reason and words in err.message, err.message


def test_unknown_command_of_a_real_shape(sock_dir: str) -> None:
    err, _ = fail(sock_dir, "ok", cmds=("show nothing json",))
    assert err.reason == "command" and "% Unknown command: show nothing json" in err.message


def test_percent_error_line_with_status_zero(sock_dir: str) -> None:
    fake = FakeVty(None, sock_dir, "bgpd", {"show x json": b"% BGP instance not found\n"})
    try:
        with pytest.raises(ScrapeError) as e:
            socket_commands(sock_dir, "bgpd", ["show x json"], Deadline(5))
    finally:
        fake.close()
    assert e.value.reason == "command" and "BGP instance not found" in e.value.message


@pytest.mark.parametrize("mode", ["silent", "trickle"])
def test_slow_daemon_is_cut_at_the_deadline(sock_dir: str, mode: str) -> None:
    err, took = fail(sock_dir, mode, timeout=0.5)
    assert err.reason == "timeout"
    assert took < 2.0, took


def test_reply_size_is_bounded(sock_dir: str) -> None:
    big = {"show a json": b"[" + b"1," * 50000 + b"1]"}
    fake = FakeVty(None, sock_dir, "bgpd", big)
    try:
        with pytest.raises(ScrapeError) as e:
            socket_commands(sock_dir, "bgpd", ["show a json"], Deadline(5), max_bytes=4096)
    finally:
        fake.close()
    assert e.value.reason == "protocol" and "larger than 4096" in e.value.message


def test_missing_socket_and_stale_socket(sock_dir: str) -> None:
    with pytest.raises(ScrapeError) as e:
        socket_commands(sock_dir, "bgpd", ["show a json"], Deadline(1))
    assert e.value.reason == "connect" and "no such socket" in e.value.message
    # A socket file left by a dead daemon: nobody listens.
    s = socket.socket(socket.AF_UNIX)
    s.bind(os.path.join(sock_dir, "bgpd.vty"))
    s.close()
    with pytest.raises(ScrapeError) as e:
        socket_commands(sock_dir, "bgpd", ["show a json"], Deadline(1))
    assert e.value.reason == "connect" and "refused" in e.value.message


def test_deadline_already_spent(sock_dir: str) -> None:
    fake = FakeVty(None, sock_dir, "bgpd", CMDS)
    try:
        with pytest.raises(ScrapeError) as e:
            VtySocket(os.path.join(sock_dir, "bgpd.vty"), Deadline(0))
    finally:
        fake.close()
    assert e.value.reason == "timeout"
