"""A lying FRR daemon: a unix socket that speaks the vty framing, with replies and misbehaviour chosen by
the test. It stands in for the real daemons where FRR cannot be made to misbehave on purpose.

    fake = FakeVty(lab, sock_dir, "bgpd", {"show bgp vrf all summary json": b"{}"}, mode="truncate")

Modes: ok, truncate (half a reply, then close), garbage (bytes after the end marker), silent (never
answers), trickle (one byte every 50 ms, forever), endless (1 MiB after 1 MiB as fast as the reader
takes them, never an end marker), close (accept and close at once), status:N (answer with status byte N),
nonjson (answer "this is not json"), split (the status byte sent 50 ms after the rest).
A command not in `replies` is answered like FRR answers one it does not know: `% Unknown command`, status 2.

`VtyProxy` puts a real daemon's socket behind such a socket, passing every command through except the
ones it is told to refuse (answered as unknown): a real FRR that lacks one command.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .proc import Lab


class _VtySocket:
    """`<sock_dir>/<daemon>.vty`: a unix socket whose connections `_client` serves, each on a thread."""

    def __init__(self, lab: Lab | None, sock_dir: str | Path, daemon: str, role: str) -> None:
        self.path = str(Path(sock_dir) / f"{daemon}.vty")
        self.commands: list[str] = []
        self.connections = 0
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(16)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True, name=f"{role} {daemon}")
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
        raise NotImplementedError

    def _commands(self, conn: socket.socket, chunk: int) -> Iterator[tuple[bytes, str]]:
        """Each NUL-terminated command from `conn` (raw, text), recorded in `commands`, until EOF or close."""
        buf = b""
        while not self._stop.is_set():
            data = conn.recv(chunk)
            if not data:
                return
            buf += data
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                cmd = raw.decode()
                self.commands.append(cmd)
                yield raw, cmd


class FakeVty(_VtySocket):
    def __init__(
        self,
        lab: Lab | None,
        sock_dir: str | Path,
        daemon: str,
        replies: dict[str, bytes] | None = None,
        mode: str = "ok",
    ) -> None:
        self.replies = dict(replies or {})
        self.status: dict[str, int] = {}  # status byte per command (default: 0 if known, else 2)
        self.mode = mode
        super().__init__(lab, sock_dir, daemon, "fake")

    def _client(self, conn: socket.socket) -> None:
        with conn:
            if self.mode == "close":
                return
            try:
                for _, cmd in self._commands(conn, 4096):
                    if not self._answer(conn, cmd):
                        return
            except OSError:
                return

    def _answer(self, conn: socket.socket, cmd: str) -> bool:
        if cmd == "enable":
            conn.sendall(b"\0\0\0" + bytes([self.status.get("enable", 0)]))
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
        if mode == "endless":
            chunk = b"[" * (1 << 20)
            while not self._stop.is_set():
                conn.sendall(chunk)
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
        conn.sendall(body)  # (not joined to the end marker: no copy of a 40 MB reply)
        conn.sendall(b"\0\0\0" + bytes([status]) + tail)
        return not tail


UNKNOWN = 2


def unknown_reply(cmd: str) -> bytes:
    return b"% Unknown command: " + cmd.encode() + b"\n\0\0\0" + bytes([UNKNOWN])


class VtyProxy(_VtySocket):
    """`<sock_dir>/<daemon>.vty` in front of a real daemon's socket `upstream`: each command goes to the
    daemon on a connection of its own, in order, except those in `refuse`, answered as unknown."""

    def __init__(
        self, lab: Lab | None, upstream: str | Path, sock_dir: str | Path, daemon: str, refuse: set[str]
    ) -> None:
        self.upstream = str(upstream)
        self.refuse = set(refuse)
        super().__init__(lab, sock_dir, daemon, "proxy")

    def _client(self, conn: socket.socket) -> None:
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            up.connect(self.upstream)
            for raw, cmd in self._commands(conn, 65536):
                if cmd in self.refuse:
                    conn.sendall(unknown_reply(cmd))
                    continue
                up.sendall(raw + b"\0")
                reply = b""
                while not (len(reply) >= 4 and reply[-4:-1] == b"\0\0\0"):
                    part = up.recv(65536)
                    if not part:
                        return
                    reply += part
                conn.sendall(reply)
        except OSError:
            return
        finally:
            up.close()
            conn.close()


def big_bgpd(n: int) -> dict[str, bytes]:
    """bgpd replies for a router with `n` eBGP peers (one address family), each a copy of a real r1 peer
    from the FRR 8.4 capture with its own address and AS; json-c's pretty layout."""
    import copy
    import json

    fix = (
        Path(__file__).resolve().parent.parent
        / "tests"
        / "fixtures"
        / "frr"
        / "shared"
        / "r1"
        / "established"
    )
    summary = json.loads((fix / "show_bgp_vrf_all_summary.json").read_bytes())
    neighbors = json.loads((fix / "show_bgp_vrf_all_neighbors.json").read_bytes())
    s_block = summary["default"]["ipv4Unicast"]
    s_peer, n_peer = s_block["peers"]["192.0.2.0"], neighbors["default"]["192.0.2.0"]
    s_peers: dict[str, object] = {}
    n_vrf: dict[str, object] = {"vrfId": 0, "vrfName": "default"}
    for i in range(n):
        ip = f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}"
        s_peers[ip] = dict(s_peer, remoteAs=65000 + i, pfxRcd=i % 900, msgRcvd=1000 + i)
        p = copy.deepcopy(n_peer)
        p["remoteAs"] = 65000 + i
        n_vrf[ip] = p
    s_block = dict(s_block, peers=s_peers, peerCount=n, totalPeers=n)
    # bgpd's `vrf all` layout: `{`, then `"<vrf>":` and one json-c document per VRF (per family too, for
    # the summary), then `}`.
    return {
        "show bgp vrf all summary json": b'{\n"default":{\n"ipv4Unicast":' + _pretty(s_block) + b"\n}\n}\n",
        "show bgp vrf all neighbors json": b'{\n"default":' + _pretty(n_vrf) + b"\n}\n",
    }


def _pretty(v: object) -> bytes:
    """json-c's JSON_C_TO_STRING_PRETTY: two spaces a level, no space after the colon."""
    import json

    return json.dumps(v, indent=2, separators=(",", ":")).encode()
