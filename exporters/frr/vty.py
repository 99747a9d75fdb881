"""Talking to FRR daemons: their vty unix sockets (what vtysh itself speaks), or `vtysh` as a fallback.

The vty protocol: connect to `<dir>/<daemon>.vty`, send `enable\\0`, then each command NUL-terminated.
Each reply is the command's output, three NUL bytes, and one status byte (0 = success). Every read and
write is bounded by the job's deadline; anything else the daemon sends is a protocol error.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Collection, Sequence

from exporters.core import Deadline, ScrapeError

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
CHUNK = 1 << 18


def _first_line(out: bytes, limit: int = 160) -> str:
    text = out.decode("utf-8", "replace").strip()
    line = text.splitlines()[0] if text else ""
    return line[:limit] + ("..." if len(line) > limit else "")


def check_output(cmd: str, out: bytes, status: int) -> bytes:
    """The output of a command that succeeded; ScrapeError('command') for a status or a `%` error line."""
    if status != 0:
        what = STATUS.get(status, f"status {status}")
        detail = _first_line(out)
        raise ScrapeError("command", f"{cmd!r}: {what}" + (f": {detail}" if detail else ""))
    head = out.lstrip()[:1]
    if head == b"%":
        raise ScrapeError("command", f"{cmd!r}: {_first_line(out)}")
    return out


class VtySocket:
    """One connection to one daemon: `replies(cmds)` sends `enable` and the commands, then reads one
    framed reply per command. Pipelined (all commands written at once; the daemon answers them in order)
    unless `pipeline=False`; the framing is the same either way."""

    def __init__(self, path: str, deadline: Deadline, max_bytes: int = 256 << 20) -> None:
        self.path = path
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.buf = bytearray()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._timeout("connect")
            self.sock.connect(path)
        except BaseException as e:  # noqa: BLE001 - the socket is closed on any failure; re-raised as one error
            self.sock.close()
            raise _connect_error(path, e) from None

    def _timeout(self, doing: str) -> None:
        left = self.deadline.remaining()
        if left <= 0:
            raise ScrapeError("timeout", f"{self.path}: deadline reached before {doing}")
        self.sock.settimeout(left)

    def _send(self, cmds: Sequence[str]) -> None:
        self._timeout(f"sending {cmds[0]!r}")
        self.sock.sendall(b"".join(c.encode() + b"\0" for c in cmds))

    def _frame(self, cmd: str) -> tuple[bytes, int]:
        """Read until one whole reply is buffered; return it and its status, keep what follows."""
        buf = self.buf
        scan = 0
        while True:
            i = buf.find(END, max(0, scan - 2))
            if i > self.max_bytes:
                raise ScrapeError(
                    "protocol", f"{self.path}: {cmd!r}: reply larger than {self.max_bytes} bytes"
                )
            if i >= 0 and len(buf) >= i + 4:
                out, status = bytes(buf[:i]), buf[i + 3]
                del buf[: i + 4]
                return out, status
            if len(buf) > self.max_bytes + 4:
                raise ScrapeError(
                    "protocol", f"{self.path}: {cmd!r}: reply larger than {self.max_bytes} bytes"
                )
            scan = i if i >= 0 else len(buf)  # with i >= 0, only the status byte is missing
            self._timeout(f"the reply to {cmd!r} ({len(buf)} bytes so far)")
            chunk = self.sock.recv(CHUNK)
            if not chunk:
                raise ScrapeError(
                    "protocol",
                    f"{self.path}: {cmd!r}: connection closed after {len(buf)} "
                    "bytes, before the end of the reply (truncated)",
                )
            buf += chunk

    def replies(self, cmds: Sequence[str], pipeline: bool = True) -> list[tuple[bytes, int]]:
        """Output and status byte of each command (after `enable`, which must succeed)."""
        todo = ["enable", *cmds]
        out: list[tuple[bytes, int]] = []
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
        except TimeoutError:
            raise ScrapeError(
                "timeout", f"{self.path}: {cmd!r}: no complete reply before the deadline"
            ) from None
        except (BrokenPipeError, ConnectionResetError) as e:
            raise ScrapeError("protocol", f"{self.path}: {cmd!r}: connection lost ({e.strerror})") from None
        except OSError as e:
            raise ScrapeError("connect", f"{self.path}: {cmd!r}: {e.strerror or e}") from None
        if self.buf:
            raise ScrapeError(
                "protocol",
                f"{self.path}: {cmd!r}: {len(self.buf)} unexpected bytes after the end of the reply",
            )
        check_output("enable", *out[0])
        return out[1:]

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> VtySocket:
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


def socket_commands(
    sock_dir: str,
    daemon: str,
    cmds: Sequence[str],
    deadline: Deadline,
    max_bytes: int = 256 << 20,
    lenient: Collection[str] = (),
    pipeline: bool = True,
) -> list[bytes]:
    """All of one daemon's commands on one connection. Commands in `lenient` may answer with a warning
    (status 1; e.g. a JSON `{"warning": "View/Vrf is unknown"}`)."""
    with VtySocket(os.path.join(sock_dir, f"{daemon}.vty"), deadline, max_bytes) as vty:
        replies = vty.replies(cmds, pipeline)
    return [
        text if status == 1 and c in lenient else check_output(c, text, status)
        for c, (text, status) in zip(cmds, replies, strict=True)
    ]


def vtysh_commands(
    vtysh: str,
    sock_dir: str,
    daemon: str,
    cmds: Sequence[str],
    deadline: Deadline,
    max_bytes: int = 256 << 20,
    lenient: Collection[str] = (),
) -> list[bytes]:
    """The same through `vtysh --vty_socket DIR -d DAEMON -c CMD`, one process per command (vtysh stops
    at the first failing command, and text replies cannot be split from JSON ones)."""
    out = []
    for cmd in cmds:
        argv = [vtysh, "--vty_socket", sock_dir, "-d", daemon, "-c", cmd]
        left = deadline.remaining()
        if left <= 0:
            raise ScrapeError("timeout", f"vtysh -d {daemon}: deadline reached before {cmd!r}")
        try:
            r = subprocess.run(argv, capture_output=True, timeout=left, stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired:
            raise ScrapeError(
                "timeout", f"vtysh -d {daemon} -c {cmd!r}: no answer before the deadline"
            ) from None
        except OSError as e:
            raise ScrapeError("vtysh", f"cannot run {vtysh}: {e.strerror or e}") from None
        if len(r.stdout) > max_bytes:
            raise ScrapeError(
                "protocol", f"vtysh -d {daemon} -c {cmd!r}: reply larger than {max_bytes} bytes"
            )
        if r.returncode == 1 and cmd in lenient and r.stdout.lstrip()[:1] == b"{":
            out.append(r.stdout)
            continue
        if r.returncode != 0:
            msg = _first_line(r.stdout) or _first_line(r.stderr)
            low = (r.stdout + r.stderr).lower()
            reason = (
                "permission"
                if b"permission denied" in low or b"failed to connect" in low
                else "connect"
                if b"is not running" in low
                else "command"
            )
            raise ScrapeError(reason, f"vtysh -d {daemon} -c {cmd!r}: exit {r.returncode}: {msg}")
        out.append(check_output(cmd, r.stdout, 0))
    return out
