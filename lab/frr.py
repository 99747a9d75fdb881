"""A small FRR rack in network namespaces: a provider router and our two routers, real Debian FRR 8.4.

    prov  AS64500  provider core       to-r1 192.0.2.0/31 2001:db8:0:1::1   to-r2 192.0.2.2/31 2001:db8:0:2::1
    r1    AS64501  our router 1        to-prov 192.0.2.1/31 2001:db8:0:1::2   lan0 10.0.0.2 2001:db8:a::2
    r2    AS64501  our router 2        to-prov 192.0.2.3/31 2001:db8:0:2::2   lan0 10.0.0.3 2001:db8:a::3
    lan   bridge joining r1 and r2 (iBGP, VRRP vrid 10: 10.0.0.1 and 2001:db8:a::1; r1 priority 200)

eBGP v4+v6 to prov, iBGP v4+v6 between r1 and r2; BFD on r1-prov v4, r2-prov v6 and r1-r2 v4; r2 has an
admin-shutdown peer (192.0.2.99); r1 a BGP instance in VRF CUST (no kernel VRF here: it stays inactive).

Every run gets its own names (`cf<pid><n>`) for namespaces and FRR pathspaces, so several labs can run on
one machine. Daemons run in the foreground under the `Lab`, which stops them and removes the namespaces,
`/var/run/frr/<pathspace>` and `/etc/frr/<pathspace>` on exit.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .proc import Lab, LabError, Proc, require, require_root, run, wait_for

FRR_BIN = Path("/usr/lib/frr")
RUN_BASE = Path("/var/run/frr")
ETC_BASE = Path("/etc/frr")
VTYSH = "/usr/bin/vtysh"
ROUTERS = ("prov", "r1", "r2")
DAEMONS = {
    "prov": ("zebra", "bfdd", "bgpd"),
    "r1": ("zebra", "bfdd", "bgpd", "vrrpd"),
    "r2": ("zebra", "bfdd", "bgpd", "vrrpd"),
}
# BGP sessions that reach Established (the CUST and admin-down peers never do).
ESTABLISHED = {"prov": 4, "r1": 4, "r2": 4}
ANYCAST_V4 = "203.0.113.0/24"
ANYCAST_V6 = "2001:db8:100::/48"
# The provider's addresses that r1 and r2 announce the anycast prefixes to (v4, v6).
ANNOUNCED_TO = {"r1": ("192.0.2.0", "2001:db8:0:1::1"), "r2": ("192.0.2.2", "2001:db8:0:2::1")}

_seq = itertools.count(1)


def _bgpd_prov() -> str:
    peers = [
        ("192.0.2.1", "r1", "v4", True),
        ("192.0.2.3", "r2", "v4", False),
        ("2001:db8:0:1::2", "r1", "v6", False),
        ("2001:db8:0:2::2", "r2", "v6", True),
    ]
    lines = [
        "frr defaults traditional",
        "hostname prov",
        "route-map ALLOW-ALL permit 10",
        "exit",
        "router bgp 64500",
        " bgp router-id 10.255.0.100",
        " bgp log-neighbor-changes",
        " no bgp default ipv4-unicast",
    ]
    for addr, name, fam, bfd in peers:
        lines += [
            f" neighbor {addr} remote-as 64501",
            f" neighbor {addr} description CUST {name} ({fam})",
            f" neighbor {addr} timers connect 2",
        ]
        if bfd:
            lines += [f" neighbor {addr} bfd", f" neighbor {addr} bfd profile fast"]
    for af, net, fam in (("ipv4", "198.51.100.0/24", "v4"), ("ipv6", "2001:db8:ffff::/48", "v6")):
        lines += [f" address-family {af} unicast", f"  network {net}"]
        for addr, _, f, _ in peers:
            if f == fam:
                lines += [
                    f"  neighbor {addr} activate",
                    f"  neighbor {addr} default-originate",
                    f"  neighbor {addr} route-map ALLOW-ALL in",
                    f"  neighbor {addr} route-map ALLOW-ALL out",
                ]
        lines.append(" exit-address-family")
    return "\n".join(lines + ["exit", ""])


def _bgpd_ours(me: str) -> str:
    n = 1 if me == "r1" else 2
    other = "r2" if me == "r1" else "r1"
    prov4, prov6 = f"192.0.2.{2 * (n - 1)}", f"2001:db8:0:{n}::1"
    ibgp4, ibgp6 = f"10.0.0.{4 - n}", f"2001:db8:a::{4 - n}"
    more_specific = "203.0.113.0/25" if me == "r1" else "203.0.113.128/25"
    lines = [
        "frr defaults traditional",
        f"hostname {me}",
        "route-map ALLOW-ALL permit 10",
        "exit",
        "router bgp 64501",
        f" bgp router-id 10.255.0.{n}",
        " bgp log-neighbor-changes",
        " no bgp default ipv4-unicast",
    ]
    for addr, asn, desc in (
        (prov4, 64500, "PROV core1 transit (v4)"),
        (prov6, 64500, "PROV core1 transit (v6)"),
        (ibgp4, 64501, f"iBGP {other} (v4)"),
        (ibgp6, 64501, f"iBGP {other} (v6)"),
    ):
        lines += [
            f" neighbor {addr} remote-as {asn}",
            f" neighbor {addr} description {desc}",
            f" neighbor {addr} timers connect 2",
        ]
    lines += [f" neighbor {ibgp4} bfd"]
    if me == "r1":
        lines += [f" neighbor {prov4} bfd", f" neighbor {prov4} bfd profile fast"]
    else:
        lines += [
            f" neighbor {prov6} bfd",
            " neighbor 192.0.2.99 remote-as 64599",
            " neighbor 192.0.2.99 description decommissioned peer (admin down)",
            " neighbor 192.0.2.99 shutdown",
        ]
    lines += [
        " address-family ipv4 unicast",
        f"  network {ANYCAST_V4}",
        f"  network {more_specific}",
        f"  neighbor {prov4} activate",
        f"  neighbor {prov4} route-map ALLOW-ALL in",
        f"  neighbor {prov4} route-map ALLOW-ALL out",
        f"  neighbor {ibgp4} activate",
        f"  neighbor {ibgp4} next-hop-self",
    ]
    if me == "r2":
        lines.append("  neighbor 192.0.2.99 activate")
    lines += [
        " exit-address-family",
        " address-family ipv6 unicast",
        f"  network {ANYCAST_V6}",
        f"  neighbor {prov6} activate",
        f"  neighbor {prov6} route-map ALLOW-ALL in",
        f"  neighbor {prov6} route-map ALLOW-ALL out",
        f"  neighbor {ibgp6} activate",
        f"  neighbor {ibgp6} next-hop-self",
        " exit-address-family",
        "exit",
    ]
    if me == "r1":
        lines += [
            "router bgp 64501 vrf CUST",
            " bgp router-id 10.255.1.1",
            " neighbor 10.1.1.1 remote-as 64600",
            " neighbor 10.1.1.1 description CUST-A in vrf CUST",
            "exit",
        ]
    return "\n".join(lines + [""])


def _bfdd(me: str) -> str:
    return (
        f"hostname {me}\nbfd\n profile fast\n  transmit-interval 300\n  receive-interval 300\n"
        "  detect-multiplier 3\n exit\nexit\n"
    )


def _vrrpd(me: str) -> str:
    prio = 200 if me == "r1" else 100
    return (
        f"hostname {me}\ninterface lan0\n vrrp 10 version 3\n vrrp 10 priority {prio}\n"
        " vrrp 10 advertisement-interval 1000\n vrrp 10 ip 10.0.0.1\n vrrp 10 ipv6 2001:db8:a::1\nexit\n"
    )


def _zebra(me: str) -> str:
    return f"hostname {me}\n"


CONFIGS = {
    "bgpd": lambda r: _bgpd_prov() if r == "prov" else _bgpd_ours(r),
    "bfdd": _bfdd,
    "vrrpd": _vrrpd,
    "zebra": _zebra,
}


class FrrRack:
    """The three routers, started by `start()`; everything is undone by the `Lab`."""

    def __init__(self, lab: Lab, prefix: str | None = None) -> None:
        require_root()
        for d in ("zebra", "bgpd", "bfdd", "vrrpd"):
            require(str(FRR_BIN / d), "frr")
        require(VTYSH, "frr")
        self.lab = lab
        self.prefix = prefix or f"cf{os.getpid()}{next(_seq)}"
        # FRR drops to the frr user: its configs and logs must not sit under a root-only directory
        # (pytest's tmp dirs are 0700), so they get their own directory, removed on exit.
        self.dir = Path(tempfile.mkdtemp(prefix=f"colo-frr-{self.prefix}-"))
        self.dir.chmod(0o755)
        lab.callback(shutil.rmtree, self.dir, True)
        lab.callback(_keep_logs, self.dir / "log", lab.workdir / f"frr-{self.prefix}-logs")
        self.missing = ""
        self.procs: dict[tuple[str, str], Proc] = {}

    # names ---------------------------------------------------------------------------------------
    def inst(self, router: str) -> str:
        """The FRR pathspace (`-N`) of a router."""
        return f"{self.prefix}{router}"

    def exporter_config(self, routers: tuple[str, ...] = ("r1", "r2")) -> dict[str, Any]:
        """colo-frr-exporter's config for `routers`: their daemons, and the anycast announcements of r1/r2."""
        inst: dict[str, Any] = {}
        for r in routers:
            inst[r] = {"pathspace": self.inst(r), "daemons": list(DAEMONS[r])}
            if r in ANNOUNCED_TO:
                v4, v6 = ANNOUNCED_TO[r]
                inst[r]["expected_advertisements"] = [
                    {"prefix": ANYCAST_V4, "peers": [v4]},
                    {"prefix": ANYCAST_V6, "peers": [v6]},
                ]
        return {"instances": inst}

    def ns(self, router: str) -> str:
        return f"{self.prefix}{router}"

    def run_dir(self, router: str) -> Path:
        return RUN_BASE / self.inst(router)

    # building ------------------------------------------------------------------------------------
    def start(self, wait: bool = True, timeout: float = 60) -> FrrRack:
        for r in (*ROUTERS, "lan"):
            if Path(f"/run/netns/{self.ns(r)}").exists():
                raise LabError(f"netns {self.ns(r)} exists already; not ours, not touching it")
        for r in ROUTERS:
            for p in (self.run_dir(r), ETC_BASE / self.inst(r)):
                if p.exists():
                    raise LabError(f"{p} exists already; not ours, not touching it")
        self._network()
        self._files()
        for r in ROUTERS:
            self.start_daemon(r, "zebra")
        for r in ROUTERS:
            wait_for(
                lambda r=r: (self.run_dir(r) / "zebra.vty").exists(),
                15,
                f"zebra of {r}",
                log=self.procs[(r, "zebra")].log,
            )
        for r in ROUTERS:
            for d in DAEMONS[r][1:]:
                self.start_daemon(r, d)
        if wait:
            self.wait_settled(timeout)
        return self

    def _network(self) -> None:
        for r in (*ROUTERS, "lan"):
            n = self.lab.netns(self.ns(r))
            # No DAD: v6 addresses usable at once, and both VRRP routers hold the virtual v6 address.
            # arp_ignore/arp_announce: else the VRRP macvlan (virtual MAC) answers ARP for the router's
            # own lan0 address, and the iBGP/BFD peer's traffic goes to the virtual MAC for a while.
            run(
                [
                    "sysctl",
                    "-q",
                    "-w",
                    "net.ipv6.conf.all.accept_dad=0",
                    "net.ipv6.conf.default.accept_dad=0",
                    "net.ipv4.ip_forward=1",
                    "net.ipv6.conf.all.forwarding=1",
                    "net.ipv4.conf.all.arp_ignore=1",
                    "net.ipv4.conf.default.arp_ignore=1",
                    "net.ipv4.conf.all.arp_announce=2",
                    "net.ipv4.conf.default.arp_announce=2",
                ],
                netns=n,
            )
        p, r1, r2, lan = (self.ns(x) for x in ("prov", "r1", "r2", "lan"))
        run(
            ["ip", "link", "add", "to-r1", "netns", p, "type", "veth", "peer", "name", "to-prov", "netns", r1]
        )
        run(
            ["ip", "link", "add", "to-r2", "netns", p, "type", "veth", "peer", "name", "to-prov", "netns", r2]
        )
        run(["ip", "-n", lan, "link", "add", "br0", "type", "bridge"])
        for port, r in (("r1-port", r1), ("r2-port", r2)):
            run(["ip", "link", "add", port, "netns", lan, "type", "veth", "peer", "name", "lan0", "netns", r])
            run(["ip", "-n", lan, "link", "set", port, "master", "br0", "up"])
        run(["ip", "-n", lan, "link", "set", "br0", "up"])
        for n, dev, v4, v6 in (
            (p, "to-r1", "192.0.2.0/31", "2001:db8:0:1::1/64"),
            (p, "to-r2", "192.0.2.2/31", "2001:db8:0:2::1/64"),
            (r1, "to-prov", "192.0.2.1/31", "2001:db8:0:1::2/64"),
            (r2, "to-prov", "192.0.2.3/31", "2001:db8:0:2::2/64"),
            (r1, "lan0", "10.0.0.2/24", "2001:db8:a::2/64"),
            (r2, "lan0", "10.0.0.3/24", "2001:db8:a::3/64"),
        ):
            run(["ip", "-n", n, "addr", "add", v4, "dev", dev])
            run(["ip", "-n", n, "-6", "addr", "add", v6, "dev", dev, "nodad"])
            run(["ip", "-n", n, "link", "set", dev, "up"])
        run(["ip", "-n", p, "addr", "add", "198.51.100.1/24", "dev", "lo"])
        run(["ip", "-n", p, "-6", "addr", "add", "2001:db8:ffff::1/48", "dev", "lo", "nodad"])
        # Our aggregates are kernel blackhole routes, so `network` statements find them in the RIB.
        for n, more in ((r1, "203.0.113.0/25"), (r2, "203.0.113.128/25")):
            run(["ip", "-n", n, "route", "add", "blackhole", ANYCAST_V4])
            run(["ip", "-n", n, "route", "add", "blackhole", more])
            run(["ip", "-n", n, "-6", "route", "add", "blackhole", ANYCAST_V6])
        # VRRP needs one macvlan per family with the virtual MAC; addrgenmode must be set after creation.
        for n in (r1, r2):
            for fam, mac, addr in (
                ("4", "00:00:5e:00:01:0a", "10.0.0.1/24"),
                ("6", "00:00:5e:00:02:0a", "2001:db8:a::1/64"),
            ):
                dev = f"vrrp{fam}-10"
                run(["ip", "-n", n, "link", "add", dev, "link", "lan0", "type", "macvlan", "mode", "bridge"])
                run(["ip", "-n", n, "link", "set", "dev", dev, "addrgenmode", "random"])
                run(["ip", "-n", n, "link", "set", "dev", dev, "address", mac])
                extra = ["nodad"] if fam == "6" else []
                run(["ip", "-n", n, f"-{fam}", "addr", "add", addr, "dev", dev, *extra])
                run(["ip", "-n", n, "link", "set", "dev", dev, "up"])

    def _files(self) -> None:
        for r in ROUTERS:
            etc = self.dir / "etc" / r
            (self.dir / "log" / r).mkdir(parents=True, exist_ok=True)
            etc.mkdir(parents=True, exist_ok=True)
            for d in DAEMONS[r]:
                (etc / f"{d}.conf").write_text(CONFIGS[d](r))
            for rundir in (self.run_dir(r), ETC_BASE / self.inst(r)):
                self.lab.callback(shutil.rmtree, rundir, True)
                rundir.mkdir(mode=0o755)
                shutil.chown(rundir, "frr", "frr")
            # vtysh -N reads it; without it every call warns on stderr.
            vc = ETC_BASE / self.inst(r) / "vtysh.conf"
            vc.write_text("service integrated-vtysh-config\n")
            shutil.chown(vc, "frr", "frr")
        run(["chown", "-R", "frr:frr", str(self.dir / "etc"), str(self.dir / "log")])

    # daemons -------------------------------------------------------------------------------------
    def start_daemon(self, router: str, daemon: str) -> Proc:
        inst = self.inst(router)
        argv = [
            str(FRR_BIN / daemon),
            "-N",
            inst,
            "-P",
            "0",
            "-f",
            str(self.dir / "etc" / router / f"{daemon}.conf"),
            "-i",
            str(self.run_dir(router) / f"{daemon}.pid"),
            "--log",
            f"file:{self.dir / 'log' / router / f'{daemon}.log'}",
            "--log-level",
            "informational",
        ]
        if daemon == "bfdd":
            argv += ["--bfdctl", str(self.run_dir(router) / "bfdd.sock")]
        p = self.lab.start(f"frr-{inst}-{daemon}-{time.monotonic_ns()}", argv, netns=self.ns(router))
        self.procs[(router, daemon)] = p
        wait_for(
            lambda: p.check_alive() and (self.run_dir(router) / f"{daemon}.vty").exists(),
            15,
            f"{daemon} of {router} to open its vty",
            log=p.log,
        )
        return p

    def kill_daemon(self, router: str, daemon: str, sig: int = signal.SIGKILL) -> None:
        p = self.procs[(router, daemon)]
        p.signal(sig)
        try:
            p.popen.wait(10)
        except subprocess.TimeoutExpired:
            p.signal(signal.SIGKILL)
            p.popen.wait(5)

    # poking ------------------------------------------------------------------------------------------
    def vtysh(self, router: str, *cmds: str, check: bool = True) -> str:
        argv = [VTYSH, "-N", self.inst(router)]
        for c in cmds:
            argv += ["-c", c]
        return run(argv, check=check, timeout=30).stdout

    def json(self, router: str, cmd: str) -> Any:
        out = self.vtysh(router, cmd, check=False)
        try:
            return json.loads(out)
        except ValueError:
            return None

    def configure(self, router: str, *lines: str) -> None:
        self.vtysh(router, "configure terminal", *lines)

    def neighbor_shutdown(
        self, router: str, asn: int, peer: str, down: bool = True, message: str = ""
    ) -> None:
        cmd = f"neighbor {peer} shutdown" + (f" message {message}" if message and down else "")
        self.configure(router, f"router bgp {asn}", cmd if down else f"no neighbor {peer} shutdown")

    def blackhole(self, router: str, ifname: str, on: bool = True) -> None:
        """Drop everything on one of `router`'s links with nft, inside its own namespace."""
        table = (
            "table inet colofrr {\n"
            f' chain i {{ type filter hook input priority 0; iifname "{ifname}" drop; }}\n'
            f' chain o {{ type filter hook output priority 0; oifname "{ifname}" drop; }}\n'
            "}\n"
        )
        if on:
            run(["nft", "-f", "-"], netns=self.ns(router), input=table)
        else:
            run(["nft", "delete", "table", "inet", "colofrr"], netns=self.ns(router), check=False)

    def established(self, router: str) -> int:
        d = self.json(router, "show bgp vrf all neighbors json") or {}
        return sum(
            1
            for v in d.values()
            if isinstance(v, dict)
            for n in v.values()
            if isinstance(n, dict) and n.get("bgpState") == "Established"
        )

    def vrrp_states(self, router: str) -> list[str]:
        d = self.json(router, "show vrrp json") or []
        return [vr[f]["status"] for vr in d for f in ("v4", "v6") if f in vr]

    def _settled(self) -> bool:
        self.missing = self._what_is_missing()
        return not self.missing

    def _what_is_missing(self) -> str:
        for r in ROUTERS:
            if self.established(r) < ESTABLISHED[r]:
                return f"{r}: {self.established(r)} of {ESTABLISHED[r]} sessions Established"
            nbrs = self.json(r, "show bgp vrf all neighbors json") or {}
            for v in nbrs.values():
                for p, n in v.items() if isinstance(v, dict) else ():
                    if isinstance(n, dict) and n.get("bgpState") == "Established":
                        for af, a in n.get("addressFamilyInfo", {}).items():
                            if not a.get("acceptedPrefixCounter"):
                                return f"{r}: no prefixes from {p} in {af}"
            bfd = self.json(r, "show bfd peers json")
            if not isinstance(bfd, list) or any(b.get("status") != "up" for b in bfd):
                return f"{r}: BFD not up: {bfd}"
        v1, v2 = self.vrrp_states("r1"), self.vrrp_states("r2")
        if v1 != ["Master", "Master"] or v2 != ["Backup", "Backup"]:
            return f"VRRP r1={v1} r2={v2}"
        # The backup has heard the master in both families (else its v6 side may still flip to Master
        # for a moment when its first timer runs out).
        heard = [
            vr[f]["stats"]["adverRx"] for vr in self.json("r2", "show vrrp json") or [] for f in ("v4", "v6")
        ]
        if len(heard) != 2 or min(heard) < 2:
            return f"VRRP: r2 heard {heard} advertisements"
        return ""

    def wait_settled(self, timeout: float = 60) -> None:
        try:
            wait_for(self._settled, timeout, "the FRR lab to settle", interval=0.5)
        except LabError as e:
            raise LabError(f"{e}: {self.missing}; logs in {self.dir / 'log'}") from None

    def wait_established(self, router: str, n: int | None = None, timeout: float = 60) -> None:
        want = ESTABLISHED[router] if n is None else n
        wait_for(
            lambda: self.established(router) >= want,
            timeout,
            f"{want} sessions Established on {router}",
            interval=0.3,
        )


def _keep_logs(src: Path, dst: Path) -> None:
    """The daemons' logs outlive the rack, beside the lab's other logs."""
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)


def demo(lab: Lab) -> list[dict[str, Any]]:
    """The rack plus one exporter on :9474 watching r1 and r2 (prov is the provider's)."""
    from .exporter import ExporterProc

    rack = FrrRack(lab).start()
    cfg = rack.exporter_config()
    ExporterProc(lab, "frr", cfg, port=9474, log_level="info")
    return [{"job_name": "colo-frr", "static_configs": [{"targets": ["127.0.0.1:9474"]}]}]
