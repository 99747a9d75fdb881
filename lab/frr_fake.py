"""A lying FRR daemon: a unix socket that speaks the vty framing, with replies and misbehaviour chosen by
the test. It stands in for the real daemons where FRR cannot be made to misbehave on purpose.

    fake = FakeVty(lab, sock_dir, "bgpd", {"show bgp vrf all summary json": b"{}"}, mode="truncate")

Modes: ok, truncate (half a reply, then close), garbage (bytes after the end marker), silent (never
answers), trickle (one byte every 50 ms, forever), close (accept and close at once), status:N (answer with
status byte N), nonjson (answer "this is not json"), split (the status byte sent 50 ms after the rest).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from pathlib import Path

from .proc import Lab


class FakeVty:
    def __init__(
        self,
        lab: Lab | None,
        sock_dir: str | Path,
        daemon: str,
        replies: dict[str, bytes] | None = None,
        mode: str = "ok",
    ) -> None:
        self.path = str(Path(sock_dir) / f"{daemon}.vty")
        self.replies = dict(replies or {})
        self.status: dict[str, int] = {}  # status byte per command (default: 0 if known, else 2)
        self.mode = mode
        self.commands: list[str] = []
        self.connections = 0
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(16)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True, name=f"fake {daemon}")
        self.thread.start()
        if lab is not None:
            lab.callback(self.close)

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.srv.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        with conn:
            if self.mode == "close":
                return
            buf = b""
            try:
                while not self._stop.is_set():
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    buf += chunk
                    while b"\0" in buf:
                        raw, buf = buf.split(b"\0", 1)
                        cmd = raw.decode()
                        self.commands.append(cmd)
                        if not self._answer(conn, cmd):
                            return
            except OSError:
                return

    def _answer(self, conn: socket.socket, cmd: str) -> bool:
        if cmd == "enable":
            conn.sendall(b"\0\0\0\0")
            return True
        body = self.replies.get(cmd, b"% Unknown command: " + cmd.encode())
        status = self.status.get(cmd, 0 if cmd in self.replies else 2)
        mode = self.mode
        if mode == "silent":
            self._stop.wait(3600)
            return False
        if mode == "trickle":
            while not self._stop.is_set():
                conn.sendall(b" ")
                time.sleep(0.05)
            return False
        if mode == "truncate":
            conn.sendall(body[: max(1, len(body) // 2)])
            return False
        if mode == "nonjson":
            body = b"this is not json"
        if mode.startswith("status:"):
            status = int(mode.split(":", 1)[1])
        if mode == "split":  # the end marker and the status byte in separate writes
            conn.sendall(body + b"\0\0")
            time.sleep(0.05)
            conn.sendall(b"\0" + bytes([status]))
            return True
        tail = b"unexpected trailing bytes" if mode == "garbage" else b""
        conn.sendall(body + b"\0\0\0" + bytes([status]) + tail)
        return not tail
