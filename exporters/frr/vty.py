"""Talking to FRR daemons: their vty unix sockets (what vtysh itself speaks), or `vtysh` as a fallback.

The vty protocol: connect to `<dir>/<daemon>.vty`, send `enable\\0`, then each command NUL-terminated.
Each reply is the command's output, three NUL bytes, and one status byte (lib/command.h: 0 success,
1 warning, 2 unknown command, ...). Every read and write is bounded by the job's deadline, every reply by
`max_bytes`; anything else the daemon sends is a protocol error. Errors here concern the connection (the
daemon is `up 0`); what a status byte means for one command is decided by the caller (`commands.py`).
"""

from __future__ import annotations

import os
import re
import selectors
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from exporters.core import Deadline, ScrapeError
from exporters.core.peerio import WATCHDOG

END = b"\0\0\0"
# lib/command.h
STATUS = {
    0: "success",
    1: "warning",
    2: "unknown command",
    3: "ambiguous command",
    4: "incomplete command",
    5: "too many arguments",
    6: "nothing to do",
    13: "configuration failed",
    14: "not my instance",
}
# The daemon's grammar does not take the command (no match, ambiguous, incomplete): a fact about the
# release, the same every time it is asked.
UNKNOWN = frozenset({2, 3, 4})
CHUNK = 1 << 18
DEFAULT_MAX_BYTES = 64 << 20


@dataclass(frozen=True, slots=True)
class Reply:
    text: bytes | bytearray  # the buffer itself when nothing followed it (a 40 MB reply is not copied)
    status: int


def first_line(out: bytes | bytearray, limit: int = 160) -> str:
    text = out[:4096].decode("utf-8", "replace").strip()
    line = text.splitlines()[0] if text else ""
    return line[:limit] + ("..." if len(line) > limit else "")


def identity(path: str) -> tuple[int, int, int] | None:
    """Which socket file this is: a daemon that starts again creates its vty socket anew."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_ctime_ns)


class VtySocket:
    """One connection to one daemon. `run(cmds)` sends the commands (after `enable`, the first time) and
    reads one framed reply per command; it may be called again on the same connection. Pipelined (all
    commands written at once; the daemon answers them in order) unless `pipeline=False`."""

    def __init__(self, path: str, deadline: Deadline, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.path = path
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.buf = bytearray()
        self.enabled = False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # A daemon that trickles bytes restarts every socket timeout: the watchdog ends it at the deadline.
        self.guard = WATCHDOG.arm(self.sock, deadline.at)
        try:
            self.sock.settimeout(deadline.timeout(doing=f"connecting to {path}"))
            self.sock.connect(path)
        except (OSError, ScrapeError) as e:
            self.close()
            raise _connect_error(path, e) from None

    def _send(self, cmds: Sequence[str]) -> None:
        self.sock.settimeout(self.deadline.timeout(doing=f"{self.path}: sending {cmds[0]!r}"))
        self.sock.sendall(b"".join(c.encode() + b"\0" for c in cmds))

    def _too_big(self, cmd: str) -> ScrapeError:
        return ScrapeError("protocol", f"{self.path}: {cmd!r}: reply larger than {self.max_bytes} bytes")

    def _frame(self, cmd: str) -> Reply:
        """Read until one whole reply is buffered; return it, keep what follows."""
        buf = self.buf
        scan = 0
        while True:
            i = buf.find(END, max(0, scan - 2))
            if i > self.max_bytes:
                raise self._too_big(cmd)
            if i >= 0 and len(buf) >= i + 4:
                status = buf[i + 3]
                out: bytes | bytearray
                if len(buf) == i + 4:  # the usual case: nothing follows; hand the buffer over
                    del buf[i:]
                    out, self.buf = buf, bytearray()
                else:
                    out = bytes(buf[:i])
                    del buf[: i + 4]
                return Reply(out, status)
            if len(buf) > self.max_bytes + 4:
                raise self._too_big(cmd)
            scan = i if i >= 0 else len(buf)  # with i >= 0, only the status byte is missing
            self.sock.settimeout(
                self.deadline.timeout(doing=f"{self.path}: the reply to {cmd!r} ({len(buf)} bytes so far)")
            )
            chunk = self.sock.recv(CHUNK)
            if not chunk:
                if self.guard.fired:
                    raise TimeoutError
                raise ScrapeError(
                    "protocol",
                    f"{self.path}: {cmd!r}: connection closed after {len(buf)} "
                    "bytes, before the end of the reply (truncated)",
                )
            buf += chunk

    def run(self, cmds: Sequence[str], pipeline: bool = True) -> list[Reply]:
        """Output and status byte of each command."""
        todo = list(cmds) if self.enabled else ["enable", *cmds]
        out: list[Reply] = []
        cmd = todo[0]
        try:
            if pipeline:
                self._send(todo)
            for cmd in todo:
                if not pipeline:
                    self._send([cmd])
                out.append(self._frame(cmd))
                if not pipeline and self.buf:
                    break
            if self.buf:
                raise ScrapeError(
                    "protocol",
                    f"{self.path}: {cmd!r}: {len(self.buf)} unexpected bytes after the end of the reply",
                )
        except BaseException as e:
            # Whatever keeps this exception (and its frames) alive must not keep the replies: empty them.
            self.buf.clear()
            out.clear()
            if isinstance(e, ScrapeError):
                raise
            if isinstance(e, TimeoutError):
                raise ScrapeError(
                    "timeout", f"{self.path}: {cmd!r}: no complete reply before the deadline"
                ) from None
            if self.guard.fired:
                raise ScrapeError("timeout", f"{self.path}: {cmd!r}: cut at the deadline") from None
            if isinstance(e, (BrokenPipeError, ConnectionResetError)):
                raise ScrapeError(
                    "protocol", f"{self.path}: {cmd!r}: connection lost ({e.strerror})"
                ) from None
            if isinstance(e, OSError):
                raise ScrapeError("connect", f"{self.path}: {cmd!r}: {e.strerror or e}") from None
            raise
        if not self.enabled:
            r = out.pop(0)
            if r.status != 0 or r.text.lstrip()[:1] == b"%":
                what = STATUS.get(r.status, f"status {r.status}")
                raise ScrapeError("command", f"{self.path}: 'enable': {what}: {first_line(r.text)}")
            self.enabled = True
        return out

    def close(self) -> None:
        self.guard.cancel()
        self.buf.clear()
        self.sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect_error(path: str, e: BaseException) -> BaseException:
    if isinstance(e, ScrapeError):
        return e
    if isinstance(e, FileNotFoundError):
        return ScrapeError("connect", f"{path}: no such socket (daemon not running?)")
    if isinstance(e, ConnectionRefusedError):
        return ScrapeError("connect", f"{path}: connection refused (daemon not running)")
    if isinstance(e, PermissionError):
        return ScrapeError(
            "permission", f"{path}: permission denied (the exporter's user needs the frrvty group)"
        )
    if isinstance(e, TimeoutError):
        return ScrapeError("timeout", f"{path}: connect timed out")
    if isinstance(e, OSError):
        return ScrapeError("connect", f"{path}: {e.strerror or e}")
    return e


# vtysh prints these itself when its own grammar (or the daemon's, passed through) does not take a line.
_VTYSH_UNKNOWN = re.compile(rb"^\s*% (?:\[\w+\] )?(Unknown command|Ambiguous command|Command incomplete)")
_VTYSH_STATUS = {b"Unknown command": 2, b"Ambiguous command": 3, b"Command incomplete": 4}


class Vtysh:
    """The same through `vtysh --vty_socket DIR -d DAEMON -c CMD`, one process per command (vtysh stops
    at the first failing command, and text replies cannot be split from JSON ones). Exit codes and
    messages are mapped to the vty status bytes, so callers see one kind of reply."""

    def __init__(self, vtysh: str, sock_dir: str, daemon: str, deadline: Deadline, max_bytes: int) -> None:
        self.vtysh, self.sock_dir, self.daemon = vtysh, sock_dir, daemon
        self.deadline, self.max_bytes = deadline, max_bytes

    def run(self, cmds: Sequence[str], pipeline: bool = True) -> list[Reply]:
        return [self._one(c) for c in cmds]

    def _one(self, cmd: str) -> Reply:
        where = f"vtysh -d {self.daemon} -c {cmd!r}"
        argv = [self.vtysh, "--vty_socket", self.sock_dir, "-d", self.daemon, "-c", cmd]
        rc, out, err = run_bounded(argv, self.deadline, self.max_bytes, where)
        if rc == 0:
            return Reply(out, 0)
        m = _VTYSH_UNKNOWN.match(out)
        if m:
            return Reply(out, _VTYSH_STATUS[m.group(1)])
        if out.lstrip()[:1] in (b"{", b"["):  # a warning that still answered in JSON
            return Reply(out, 1)
        low = (out[:4096] + err[:4096]).lower()
        msg = first_line(out) or first_line(err)
        if b"permission denied" in low or b"failed to connect" in low:
            raise ScrapeError("permission", f"{where}: exit {rc}: {msg}")
        if b"is not running" in low:
            raise ScrapeError("connect", f"{where}: exit {rc}: {msg}")
        return Reply(out or err, 1)

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def run_bounded(argv: list[str], deadline: Deadline, max_bytes: int, where: str) -> tuple[int, bytes, bytes]:
    """Run a program without a shell; its output is read as it comes, at most `max_bytes`, and the
    program is killed at the deadline."""
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        raise ScrapeError("vtysh", f"cannot run {argv[0]}: {e.strerror or e}") from None
    bufs = {p.stdout: bytearray(), p.stderr: bytearray()}
    sel = selectors.DefaultSelector()
    try:
        for f in bufs:
            assert f is not None
            sel.register(f, selectors.EVENT_READ)
        while sel.get_map():
            try:
                left = deadline.timeout(doing=f"{where} answered")
            except ScrapeError:
                raise ScrapeError("timeout", f"{where}: no answer before the deadline") from None
            for key, _ in sel.select(left):
                chunk = os.read(key.fd, CHUNK)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                b = bufs[key.fileobj]  # type: ignore[index]
                b += chunk
                if len(b) > max_bytes:
                    raise ScrapeError("protocol", f"{where}: reply larger than {max_bytes} bytes")
        try:
            rc = p.wait(deadline.timeout(doing=f"{where} exited"))
        except (subprocess.TimeoutExpired, ScrapeError):
            raise ScrapeError("timeout", f"{where}: did not exit before the deadline") from None
        return rc, bytes(bufs[p.stdout]), bytes(bufs[p.stderr])
    finally:
        sel.close()
        if p.poll() is None:
            p.kill()
            p.wait()
        for f, b in bufs.items():
            b.clear()
            if f is not None:
                f.close()
