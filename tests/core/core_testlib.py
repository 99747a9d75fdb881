"""Helpers for the core tests: TCP peers that answer like a device would, and the toy exporter process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from lab import certs
from lab.proc import Lab, free_port, port_open, wait_for

HERE = Path(__file__).resolve().parent


class Listener:
    """A TCP listener on loopback whose accept thread hands each connection to `accepted`.

    Subclasses set their own attributes before calling `super().__init__()`: the thread starts here.
    """

    def __init__(self, backlog: int = 16) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port: int = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted(conn)

    def accepted(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.sock.close()


class Peer(Listener):
    """A TCP peer on loopback: answers each connection with `reply` after `delay` seconds; counts them."""

    def __init__(self, reply: str = "42", delay: float = 0.0, password: str = "s3cret-pw") -> None:
        self.reply, self.delay, self.password = reply, delay, password
        self.connections = 0
        super().__init__()
        self.address = f"127.0.0.1:{self.port}"

    def accepted(self, conn: socket.socket) -> None:
        self.connections += 1
        threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            got = conn.makefile().readline().strip()
            time.sleep(self.delay)
            try:
                conn.sendall(((self.reply if got == self.password else "denied") + "\n").encode())
            except OSError:
                pass


def run_toy(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Runs the toy exporter to its exit (a refused config, `--config.check`, `--version`)."""
    return subprocess.run(
        [sys.executable, str(HERE / "toyexporter.py"), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Toy:
    """The toy exporter as a real process; `prefix` runs it under a wrapper (`prlimit --nofile=1024`)."""

    def __init__(
        self,
        lab: Lab,
        config: dict[str, Any] | str,
        args: Sequence[str] = (),
        name: str = "toy",
        wait: bool = True,
        prefix: Sequence[str] = (),
        env: dict[str, str] | None = None,
        listen: bool = True,
    ) -> None:
        self.config_file = lab.workdir / f"{name}.yml"
        self.write(config)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            *prefix,
            sys.executable,
            str(HERE / "toyexporter.py"),
            f"--config.file={self.config_file}",
            *([f"--web.listen-address=127.0.0.1:{self.port}"] if listen else []),
            *args,
        ]
        self.proc = lab.start(f"{name}-{self.port}", argv, env=env)
        if wait:
            wait_for(
                lambda: self.proc.check_alive() and port_open("127.0.0.1", self.port),
                20,
                "toy exporter to listen",
                log=self.proc.log,
            )

    def write(self, config: dict[str, Any] | str) -> None:
        self.config_file.write_text(config if isinstance(config, str) else yaml.safe_dump(config))

    def request(
        self, path: str, method: str = "GET", headers: dict[str, str] | None = None, timeout: float = 30
    ) -> tuple[int, str, dict[str, str]]:
        req = urllib.request.Request(self.url + path, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), dict(e.headers)

    def log(self) -> str:
        return self.proc.log.read_text(errors="replace")


def toy_config(**targets: Peer) -> dict[str, Any]:
    return {
        "targets": {
            name: {"address": p.address, "password": p.password, "timeout": "3s"}
            for name, p in targets.items()
        }
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def limits(pid: int, name: str = "Max open files") -> tuple[int, int]:
    """(soft, hard) of one line of /proc/<pid>/limits."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith(name):
            soft, hard = line[len(name) :].split()[:2]
            return int(soft), int(hard)
    raise KeyError(name)


def raw_exchange(port: int, data: bytes, timeout: float = 5.0, linger: float = 0.5) -> bytes:
    """Send `data` on one connection and return everything read until the peer closes or `linger`
    seconds pass without a byte."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        s.settimeout(linger)
        out = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            out += chunk
        return out


def bcrypt_hash(password: str, rounds: int = 4) -> str:
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def make_cert(
    name: str,
    issuer: tuple | None = None,
    ca: bool = False,
    sans: Sequence[str] = (),
    curve: str = "SECP256R1",
) -> tuple:
    """(certificate, key): self-signed, or signed by `issuer` = (cert, key); `sans` are IPs or DNS names."""
    return certs.build(name, sans, issuer, ca, curve=curve)


pem = certs.pem
write_pem = certs.write
