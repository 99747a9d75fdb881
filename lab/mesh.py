"""The demo mesh: three "server" namespaces cabled pairwise by bonds of two veth pairs, with traffic on
them, each read by Debian's node_exporter running inside it.

    server1 ==mesh3/mesh2== ...   each pair of servers: one bond per side (`mesh<peer>`), two members
                                   (`mesh<peer>a`, `mesh<peer>b`), a /31 of 198.51.100.0/24 on the bond

Where the kernel has bonding, the bond is a real active-backup bond (miimon 100 ms) and node_exporter's
bonding collector reports it. Where it has not (this project's VMs: CONFIG_BONDING off, no modules), each
side gets the same shape from what the kernel does have: the bond is a veth whose peer end is bridged to
the active member by tc (ingress u32 + mirred redirect), and a small agent in the namespace (the part
teamd plays for a team device) moves the redirect to the other member when the active one loses its
carrier, and takes the bond's carrier away when both have. Either way the aliases name the link for the
recording rules (`mesh server1-server2` on the bond, `mesh server1-server2 member of mesh2` on members),
breaking one member degrades the link on both sides and breaking both takes it down.

`python -m lab.mesh agent CONFIG` is that agent (and the traffic source) inside one namespace.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .node import NodeExporter
from .proc import Lab, require, run, wait_for

ROOT = Path(__file__).resolve().parent.parent
SERVERS = ("server1", "server2", "server3")
NET = "198.51.100."  # TEST-NET-2: only ever inside the lab's namespaces
DISCARD = 9
# Bits per second each side sends to each peer (varied a little over time), per link.
RATES = {("server1", "server2"): 3e6, ("server1", "server3"): 1.2e6, ("server2", "server3"): 600e3}


def link_name(a: str, b: str) -> str:
    return f"{a}-{b}"


def _num(server: str) -> str:
    return server.removeprefix("server")


@dataclass
class Side:
    server: str
    peer: str
    link: str
    bond: str  # the aggregate interface in this namespace
    members: tuple[str, str]
    address: str
    peer_address: str
    rate_bits: float


@dataclass
class Mesh:
    lab: Lab
    servers: tuple[str, ...] = SERVERS
    mode: str | None = None  # "bond" (kernel bonding) or "tc"; None: bond where the kernel can
    prefix: str = field(default_factory=lambda: f"colo{os.getpid() % 100000}{uuid.uuid4().hex[:3]}")
    sides: dict[str, list[Side]] = field(default_factory=dict)
    nodes: dict[str, NodeExporter] = field(default_factory=dict)

    def ns(self, server: str) -> str:
        return f"{self.prefix}-{server}"

    def start(self) -> Mesh:
        require("tc", "iproute2")
        for s in self.servers:
            self.lab.netns(self.ns(s))
        if self.mode is None:
            self.mode = "bond" if _kernel_bonds(self.ns(self.servers[0])) else "tc"
        for i, (a, b) in enumerate(itertools.combinations(self.servers, 2)):
            self._cable(i, a, b)
        for s in self.servers:
            cfg = self.lab.workdir / f"mesh-{s}.json"
            cfg.write_text(json.dumps({"mode": self.mode, "sides": [vars(x) for x in self.sides[s]]}))
            p = self.lab.start(
                f"mesh-agent-{s}",
                [sys.executable, "-m", "lab.mesh", "agent", str(cfg)],
                netns=self.ns(s),
                cwd=ROOT,
                env={"PYTHONPATH": str(ROOT)},
            )
            wait_for(
                lambda p=p, c=cfg: p.check_alive() and Path(str(c) + ".ready").exists(),
                20,
                f"the mesh agent in {s}",
                log=p.log,
            )
            self.nodes[s] = NodeExporter(self.lab, netns=self.ns(s), name=f"node-exporter-{s}")
        return self

    def _cable(self, i: int, a: str, b: str) -> None:
        link = link_name(a, b)
        rate = RATES.get((a, b), 1e6)
        addr = {a: f"{NET}{2 * i}", b: f"{NET}{2 * i + 1}"}
        for x, y in ((a, b), (b, a)):
            bond = f"mesh{_num(y)}"
            self.sides.setdefault(x, []).append(
                Side(x, y, link, bond, (bond + "a", bond + "b"), addr[x], addr[y], rate)
            )
        na, nb = self.ns(a), self.ns(b)
        for m in "ab":
            run(
                [
                    "ip",
                    "link",
                    "add",
                    f"mesh{_num(b)}{m}",
                    "netns",
                    na,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    f"mesh{_num(a)}{m}",
                    "netns",
                    nb,
                ]
            )
        for x, y in ((a, b), (b, a)):
            n, bond = self.ns(x), f"mesh{_num(y)}"
            members = [bond + "a", bond + "b"]
            cmds = []
            if self.mode == "bond":
                cmds.append(f"link add {bond} type bond mode active-backup miimon 100")
                cmds += [f"link set {m} master {bond}" for m in members]
            else:
                cmds.append(f"link add {bond} type veth peer name {bond}-tx")
                cmds.append(f"link set {bond}-tx up")
            cmds.append(f'link set {bond} alias "mesh {link}"')
            cmds += [f'link set {m} alias "mesh {link} member of {bond}"' for m in members]
            cmds += [f"link set {m} up" for m in members]
            cmds += [f"addr add {addr[x]}/31 dev {bond}", f"link set {bond} up"]
            run(["ip", "-n", n, "-batch", "-"], input="\n".join(cmds) + "\n")

    def member_down(self, a: str, b: str, member: str = "a") -> None:
        """Pull one member cable of the a-b bond (both ends lose it)."""
        run(["ip", "-n", self.ns(a), "link", "set", f"mesh{_num(b)}{member}", "down"])

    def member_up(self, a: str, b: str, member: str = "a") -> None:
        run(["ip", "-n", self.ns(a), "link", "set", f"mesh{_num(b)}{member}", "up"])

    def scrape_configs(self, job: str = "node") -> list[dict[str, Any]]:
        """One job; `instance` is the server's name, as docs/dashboards.md recommends."""
        return [
            {
                "job_name": job,
                "static_configs": [
                    {"targets": [f"127.0.0.1:{n.port}"], "labels": {"instance": s}}
                    for s, n in self.nodes.items()
                ],
            }
        ]


def _kernel_bonds(ns: str) -> bool:
    r = run(["ip", "-n", ns, "link", "add", "colobondprobe", "type", "bond"], check=False)
    if r.returncode == 0:
        run(["ip", "-n", ns, "link", "del", "colobondprobe"], check=False)
    return r.returncode == 0


def start_mesh(lab: Lab, mode: str | None = None) -> Mesh:
    """The three-server mesh with node_exporters; what tests use."""
    return Mesh(lab, mode=mode).start()


def demo(lab: Lab) -> list[dict[str, Any]]:
    """Three servers cabled pairwise by bonds, each with node_exporter inside (job `node`)."""
    mesh = start_mesh(lab)
    print(
        f"  mesh: {', '.join(mesh.ns(s) for s in mesh.servers)} ({mesh.mode} bonds); node_exporter on "
        + ", ".join(f"{s} :{n.port}" for s, n in mesh.nodes.items()),
        file=sys.stderr,
    )
    return mesh.scrape_configs()


# --- the agent, inside one server's namespace ------------------------------------------------------------


def _sh(*argv: str) -> None:
    subprocess.run(argv, check=False, capture_output=True, timeout=10)


def _oper_up(dev: str) -> bool:
    try:
        return Path(f"/sys/class/net/{dev}/operstate").read_text().strip() == "up"
    except OSError:
        return False


def _redirect(dev: str, to: str, replace: bool) -> None:
    _sh(
        "tc",
        "filter",
        "replace" if replace else "add",
        "dev",
        dev,
        "parent",
        "ffff:",
        "protocol",
        "all",
        "prio",
        "1",
        *(["handle", "800::800"] if replace else []),
        "u32",
        "match",
        "u32",
        "0",
        "0",
        "action",
        "mirred",
        "egress",
        "redirect",
        "dev",
        to,
    )


class _TcBond:
    """Active-backup over two members: tc moves frames; this picks the member and the bond's carrier."""

    def __init__(self, side: dict[str, Any]) -> None:
        self.bond, self.members = side["bond"], tuple(side["members"])
        self.tx = self.bond + "-tx"
        self.active: str | None = None
        _sh("tc", "qdisc", "add", "dev", self.tx, "ingress")
        for m in self.members:  # whatever arrives on a member is the bond's
            _sh("tc", "qdisc", "add", "dev", m, "ingress")
            _redirect(m, self.tx, replace=False)
        _redirect(self.tx, self.members[0], replace=False)
        self.active = self.members[0]

    def poll(self) -> None:
        up = [m for m in self.members if _oper_up(m)]
        want = self.active if self.active in up else (up[0] if up else None)
        if want and want != self.active:
            _redirect(self.tx, want, replace=True)
            self.active = want
        if not up and _admin_up(self.tx):
            _sh("ip", "link", "set", self.tx, "down")  # the bond loses its carrier
        elif up and not _admin_up(self.tx):
            _sh("ip", "link", "set", self.tx, "up")


def _admin_up(dev: str) -> bool:
    try:
        return bool(int(Path(f"/sys/class/net/{dev}/flags").read_text(), 16) & 1)
    except (OSError, ValueError):
        return False


def _traffic(sides: list[dict[str, Any]], stop: threading.Event) -> None:
    """UDP to each peer's discard port at about its rate (a slow wave on top), and a sink for theirs."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("0.0.0.0", DISCARD))
    sink.settimeout(0.2)
    threading.Thread(target=_drain, args=(sink, stop), daemon=True).start()
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = b"\0" * 1200
    t0 = time.monotonic()
    sent = {s["peer_address"]: 0.0 for s in sides}
    while not stop.is_set():
        now = time.monotonic() - t0
        for s in sides:
            rate = s["rate_bits"] * (1 + 0.3 * math.sin(now / 60 + len(s["link"])))
            due = rate * now / 8 / len(payload)
            while sent[s["peer_address"]] < due:
                sent[s["peer_address"]] += 1
                try:
                    out.sendto(payload, (s["peer_address"], DISCARD))
                except OSError:
                    pass  # link down: the packet is lost, as on a cable
        time.sleep(0.02)


def _drain(sock: socket.socket, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            sock.recv(2048)
        except OSError:
            pass


def agent(config: Path) -> int:
    cfg = json.loads(config.read_text())
    stop = threading.Event()
    bonds = [_TcBond(s) for s in cfg["sides"]] if cfg["mode"] == "tc" else []
    threading.Thread(target=_traffic, args=(cfg["sides"], stop), daemon=True).start()
    Path(str(config) + ".ready").write_text("ok")
    try:
        while True:
            for b in bonds:
                b.poll()
            time.sleep(0.1)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "agent":
        import signal

        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        sys.exit(agent(Path(sys.argv[2])))
    raise SystemExit("usage: python -m lab.mesh agent CONFIG")
