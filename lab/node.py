"""Debian's prometheus-node-exporter, run inside a network namespace and served on this host's loopback.

The listening socket is made here, on 127.0.0.1 of the root namespace, and handed to node_exporter as a
systemd socket (`--web.systemd-socket`, LISTEN_FDS/LISTEN_PID): the exporter reads the namespace it runs
in (interfaces, bonds) while Prometheus reaches it on loopback, with no address added anywhere.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .proc import Lab, free_port, port_open, require, wait_for

NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
ROOT = Path(__file__).resolve().parent.parent

# Binds the socket, makes it fd 3, names itself as the listener's pid, then becomes node_exporter
# (`ip netns exec` execs in place, so the pid stays the same).
_LAUNCH = """
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
os.execvp(sys.argv[2], sys.argv[2:])
"""


class NodeExporter:
    """node_exporter in `netns` (or this namespace) on http://127.0.0.1:<port>/metrics."""

    def __init__(
        self,
        lab: Lab,
        netns: str | None = None,
        name: str = "node-exporter",
        port: int | None = None,
        args: list[str] | None = None,
    ) -> None:
        exe = require(NODE_EXPORTER, "prometheus-node-exporter")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-c", _LAUNCH, str(self.port)]
        argv += ["ip", "netns", "exec", netns] if netns else []
        # No textfile collector: Debian's default directory holds whatever this host's cron jobs wrote.
        argv += [exe, "--web.systemd-socket", "--no-collector.textfile", "--log.level=warn", *(args or [])]
        self.proc = lab.start(f"{name}-{self.port}", argv)
        wait_for(
            lambda: self.proc.check_alive() and port_open("127.0.0.1", self.port),
            30,
            f"{name} to listen",
            log=self.proc.log,
        )

    def metrics(self) -> str:
        import urllib.request

        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as r:
            return r.read().decode()
