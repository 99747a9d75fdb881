"""A real LXD daemon (Debian `lxd` 5.0.2), or Incus (`incus-base` 6.0.4), for tests, benchmark and demo.

`LXDLab(lab).start()` runs `lxd --group root` by hand with its own LXD_DIR under a unique temp dir
(`LXDLab(lab, flavour=INCUS)`: `incusd` with its own INCUS_DIR; everything below is the same),
initialises a `dir` pool and a host bridge on a random 10.x.y.0/24 (no DHCP: LXD's managed bridges need
dnsmasq, which is not installed; the working container sets a static address), and
imports a busybox image built offline from busybox-static. `populate()` creates the standard set:
two projects, a container with limits, a stopped one, and one doing CPU and network work.
Everything is undone by the Lab: `lxd shutdown`, leftovers killed, mounts, loop devices and bridge removed.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .proc import Lab, LabError, free_port, require, require_root, run, wait_for


@dataclass(frozen=True)
class Flavour:
    """What differs between running LXD and Incus by hand."""

    name: str  # lxd | incus
    daemon: str  # the daemon binary
    client: str  # the command-line client
    admin: tuple[str, ...]  # init / waitready / shutdown live here
    dir_env: str
    conf_env: str
    package: str  # the Debian package with the daemon

    def env(self, state: Path, conf: Path) -> dict[str, str]:
        return {self.dir_env: str(state), self.conf_env: str(conf)}


LXD = Flavour("lxd", "lxd", "lxc", ("lxd",), "LXD_DIR", "LXD_CONF", "lxd")
INCUS = Flavour(
    "incus", "/usr/libexec/incus/incusd", "incus", ("incus", "admin"), "INCUS_DIR", "INCUS_CONF", "incus-base"
)
FLAVOURS = {f.name: f for f in (LXD, INCUS)}

IMAGE_CACHE = Path(tempfile.gettempdir()) / "colo-lxd-image-cache"

# The container that works: CPU loop and pings to the bridge address, forever.
BUSY_SCRIPT = (
    "while :; do i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; "
    "ping -c 2 -W 1 {gw} >/dev/null 2>&1; sleep 0.3; done"
)


class LXDLab:
    def __init__(self, lab: Lab, *, bridge: bool = True, flavour: Flavour = LXD) -> None:
        self.lab = lab
        self.flavour = flavour
        self.want_bridge = bridge
        self.id = uuid.uuid4().hex[:6]
        # short: the socket path is limited
        self.dir = Path(tempfile.mkdtemp(prefix=f"colo-{flavour.name[:3]}-{self.id}-"))
        self.socket = str(self.dir / "unix.socket")
        self.conf = self.dir / "lxc-conf"
        self.env = {**os.environ, **flavour.env(self.dir, self.conf)}
        self.bridge: str | None = None
        self.subnet = ""
        self.gateway = ""
        self.https_port: int | None = None
        self.btrfs_pool = ""
        self.member = ""
        self.proc = None

    # --- life ---

    def start(self) -> LXDLab:
        require_root()
        fl = self.flavour
        require(fl.daemon, fl.package)
        require(fl.client, fl.package)
        require("busybox", "busybox-static")
        os.chmod(self.dir, 0o711)  # unprivileged container roots need +x on the path
        self.conf.mkdir()
        self.lab.callback(self._cleanup)
        self.proc = self.lab.start(
            f"{fl.name}-{self.id}",
            [
                fl.daemon,
                "--group",
                "root",
                "--logfile",
                str(self.lab.workdir / "logs" / f"{fl.name}-{self.id}.daemon.log"),
            ],
            env=fl.env(self.dir, self.conf),
        )
        self.lab.callback(self.shutdown)
        r = run([*fl.admin, "waitready", "--timeout=60"], check=False, timeout=70, env=self.env)
        if r.returncode != 0:
            raise LabError(f"{fl.name} did not become ready: {r.stderr.strip()}{self.proc.tail()}")
        self.lxc("version")  # the first lxc call prints a banner
        self._init()
        self._import_image()
        return self

    def _init(self) -> None:
        pool = {"name": "default", "driver": "dir"}
        devices: dict[str, Any] = {"root": {"path": "/", "pool": "default", "type": "disk"}}
        if self.want_bridge:
            # A plain host bridge (LXD's managed bridges need dnsmasq); containers get static addresses.
            name, subnet = f"clxd{self.id}", _free_subnet()
            r = run(["ip", "link", "add", name, "type", "bridge"], check=False)
            if r.returncode == 0:
                self.bridge, self.subnet, self.gateway = name, subnet, subnet.split("/")[0]
                run(["ip", "addr", "add", subnet, "dev", name])
                run(["ip", "link", "set", name, "up"])
                devices["eth0"] = {"name": "eth0", "nictype": "bridged", "parent": name, "type": "nic"}
            else:
                print(f"lxd lab: no bridge, instances get no NIC: {r.stderr.strip()[:200]}")
        preseed = {"storage_pools": [pool], "profiles": [{"name": "default", "devices": devices}]}
        run([*self.flavour.admin, "init", "--preseed"], input=json.dumps(preseed), env=self.env)

    def shutdown(self) -> None:
        """`lxd shutdown`: stops every instance, then the daemon (also run on teardown)."""
        if self.proc is None or not self.proc.alive():
            return
        r = run([*self.flavour.admin, "shutdown", "--timeout=60"], check=False, timeout=90, env=self.env)
        if r.returncode != 0:
            print(f"lxd lab: {self.flavour.name} shutdown failed: {(r.stderr or r.stdout).strip()[:300]}")
        try:
            self.proc.popen.wait(20)
        except subprocess.TimeoutExpired:
            pass

    def _cleanup(self) -> None:
        """What a daemon that died hard leaves: its helpers, mounts, loop devices, veths, bridge."""
        d = str(self.dir)
        _kill_mentioning(d)
        for veth in self._veths():
            run(["ip", "link", "del", veth], check=False)
        if self.bridge and Path(f"/sys/class/net/{self.bridge}").exists():
            run(["ip", "link", "del", self.bridge], check=False)
        _unmount_under(d)
        r = run(["losetup", "-J"], check=False)
        if r.returncode == 0 and r.stdout.strip():
            for dev in json.loads(r.stdout).get("loopdevices", []):
                if str(dev.get("back-file", "")).startswith(d):
                    run(["losetup", "-d", dev["name"]], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _veths(self) -> list[str]:
        names = set()
        for f in self.dir.glob("containers/*/backup.yaml"):
            for line in f.read_text(errors="replace").splitlines():
                if ".host_name:" in line:
                    names.add(line.split(":", 1)[1].strip())
        return [n for n in names if n and Path(f"/sys/class/net/{n}").exists()]

    # --- helpers ---

    def lxc(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        """The daemon's command-line client (`lxc`, or `incus`)."""
        return run([self.flavour.client, *args], check=check, timeout=timeout, env=self.env).stdout

    @property
    def pid(self) -> int:
        """The daemon's pid (for its CPU time in /proc)."""
        assert self.proc is not None
        return self.proc.pid

    def api(self, path: str) -> Any:
        """GET on the unix socket with curl-free stdlib HTTP (for tests to cross-check)."""
        body = unix_get(self.socket, path)
        return body if path.startswith("/1.0/metrics") else json.loads(body)

    def _import_image(self) -> None:
        tarball = build_image()
        self.lxc("image", "import", str(tarball), "--alias", "busybox")

    def launch(self, name: str, *opts: str, project: str = "default", start: bool = True) -> None:
        self.lxc("launch" if start else "init", "-q", "busybox", name, "--project", project, *opts)

    def populate(self, btrfs: bool = True) -> None:
        """The standard set: default/c1 (busy), default/c2 (limits), default/c4 (stopped), proj2/c3, and
        (if mkfs.btrfs is there) default/d1 on a btrfs pool with a 300MiB root quota and 20 MB written."""
        self.lxc("project", "create", "proj2", "-c", "features.images=false", "-c", "features.profiles=false")
        self.launch("c1")
        # limits.read/write on the root disk: blkio throttling, which is what makes a cgroup v1 kernel count
        # the container's block I/O (and LXD report it in /1.0/metrics)
        self.launch(
            "c2",
            "-c",
            "limits.memory=64MiB",
            "-c",
            "limits.cpu=1",
            "-c",
            "user.monitor=critical",
            "-d",
            "root,limits.read=100GB",
            "-d",
            "root,limits.write=100GB",
        )
        self.launch("c3", project="proj2")
        self.launch("c4", "-c", "user.monitor=critical", start=False)
        self.start_work("c1")
        if btrfs and shutil.which("mkfs.btrfs"):
            self.add_btrfs_pool()

    def add_btrfs_pool(self, pool: str = "bpool") -> None:
        """A btrfs pool on a loop file under LXD_DIR (disk usage is real there), and d1 on it."""
        self.lxc("storage", "create", pool, "btrfs", "size=1GiB")
        self.launch("d1", "-s", pool, "-d", "root,size=300MiB")
        self.lxc("exec", "d1", "--", "sh", "-c", "dd if=/dev/zero of=/fill bs=1M count=20 2>/dev/null; sync")
        self.btrfs_pool = pool

    def disk_io(self, name: str, mib: int = 3) -> None:
        """Direct (uncached) writes and reads of `mib` MiB in `name`: block I/O the kernel counts at once."""
        self.lxc(
            "exec",
            name,
            "--",
            "sh",
            "-c",
            f"dd if=/dev/zero of=/io bs=1M count={mib} oflag=direct 2>/dev/null; "
            f"dd if=/io of=/dev/null bs=1M iflag=direct 2>/dev/null; rm -f /io",
        )

    def start_work(self, name: str, project: str = "default") -> None:
        """CPU and (with a bridge) network work in `name`, in the background, forever."""
        if self.gateway:
            prefix = self.subnet.rsplit(".", 1)[0]
            addr = f"{prefix}.{random.randint(100, 250)}/24"
            setup = f"ip addr add {addr} dev eth0 2>/dev/null; ip link set eth0 up; "
        else:
            setup = ""
        script = setup + BUSY_SCRIPT.format(gw=self.gateway or "127.0.0.1")
        self.lxc(
            "exec",
            name,
            "--project",
            project,
            "--",
            "sh",
            "-c",
            f"setsid sh -c '{script}' </dev/null >/dev/null 2>&1 &",
        )

    def enable_https(self) -> str:
        if self.https_port is None:
            self.https_port = free_port()
            self.lxc("config", "set", "core.https_address", f"127.0.0.1:{self.https_port}")
        return f"https://127.0.0.1:{self.https_port}"

    def enable_cluster(self, member: str = "member1") -> None:
        """A one-member cluster (one-way: LXD cannot leave it)."""
        if self.member:
            return
        self.enable_https()
        self.lxc("cluster", "enable", member, timeout=60)
        self.member = member
        wait_for(
            lambda: self.api("/1.0")["metadata"]["environment"].get("server_clustered"),
            30,
            "lxd to report clustered",
        )

    def server_cert(self) -> str:
        """The certificate the HTTPS listener presents (the cluster's once clustered)."""
        c = self.dir / "cluster.crt"
        return str(c if c.exists() else self.dir / "server.crt")

    def trust(self, cert: Path, kind: str = "client") -> None:
        """Trust a client certificate (through the API: `lxc config trust add` and Incus' differ)."""
        pem = cert.read_text()
        body = "".join(pem.split("-----")[2].split())  # base64 of the DER, as the API takes it
        req = {"type": kind, "name": f"{kind}-{cert.stem}", "certificate": body}
        self.lxc("query", "-X", "POST", "-d", json.dumps(req), "/1.0/certificates")

    def container_pid(self, name: str, project: str = "default") -> int:
        return int(self.api(f"/1.0/instances/{name}/state?project={project}")["metadata"]["pid"])


def make_cert(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed client certificate and key (EC P-384), as LXD clients use."""
    from . import certs

    pair = certs.build(f"colo-lxd-{name}", days=2, curve="SECP384R1")
    return certs.write(directory, name, *pair)


def _free_subnet() -> str:
    """A 10.x.y.1/24 no route on this machine overlaps."""
    import ipaddress

    used = []
    for line in run(["ip", "-4", "route", "show", "table", "all"], check=False).stdout.splitlines():
        word = line.split()[0] if line.split() else ""
        try:
            used.append(ipaddress.ip_network(word if word != "default" else "0.0.0.0/32", strict=False))
        except ValueError:
            continue
    for _ in range(200):
        net = ipaddress.ip_network(f"10.{random.randint(16, 250)}.{random.randint(0, 255)}.0/24")
        if not any(net.overlaps(u) for u in used if u.prefixlen > 0):
            return f"{net.network_address + 1}/24"
    raise LabError("no free 10.x.y.0/24 subnet")


def unix_get(sock_path: str, path: str, timeout: float = 30) -> bytes:
    """The body of a GET of `path` on the unix socket `sock_path` (stdlib HTTP, no curl)."""
    import http.client
    import socket

    class Conn(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(sock_path)

    c = Conn("lxd")
    try:
        c.request("GET", path)
        return c.getresponse().read()
    finally:
        c.close()


def _kill_mentioning(text: str) -> None:
    """SIGKILL every other process whose command line contains `text`."""
    pids: list[int] = []
    me = os.getpid()
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == me:
            continue
        try:
            if text.encode() in (p / "cmdline").read_bytes():
                pids.append(int(p.name))
        except OSError:
            continue
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _unmount_under(d: str) -> None:
    """Lazily unmount `d` and everything mounted below it, children before their parents."""
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mnt = line.split()[4].replace("\\040", " ")
        if mnt == d or mnt.startswith(d + "/"):
            mounts.append(mnt)
    for mnt in sorted(mounts, reverse=True):
        run(["umount", "-l", mnt], check=False)


# --- the busybox image, built offline from busybox-static (a unified tarball) ---

_INITTAB = "::sysinit:/etc/init.d/rcS\n::respawn:/bin/sh -c 'exec sleep 2147483647'\n"
_RCS = """#!/bin/sh
ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
  ip link set eth0 up
  udhcpc -b -S -i eth0 -s /usr/share/udhcpc/default.script >/dev/null 2>&1 &
fi
exit 0
"""
_DHCP = """#!/bin/sh
case "$1" in
  deconfig) ip link set "$interface" up ;;
  bound|renew) ip addr add "$ip/${mask:-24}" dev "$interface" 2>/dev/null ;;
esac
exit 0
"""


def build_image() -> Path:
    """The image tarball, cached across runs (built atomically, about 1 MB)."""
    busybox = Path(require("busybox", "busybox-static")).resolve()
    IMAGE_CACHE.mkdir(exist_ok=True)
    out = IMAGE_CACHE / f"busybox-{int(busybox.stat().st_mtime)}-{busybox.stat().st_size}.tar.gz"
    if out.exists():
        return out
    applets = subprocess.run(
        [str(busybox), "--list-full"], capture_output=True, text=True, check=True
    ).stdout.split()
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    with tarfile.open(tmp, "w:gz") as tar:

        def add(
            name: str,
            data: bytes | None = None,
            mode: int = 0o644,
            link: str | None = None,
            kind: bytes = tarfile.REGTYPE,
        ) -> None:
            ti = tarfile.TarInfo(name)
            ti.mode, ti.mtime, ti.uid, ti.gid = mode, int(time.time()), 0, 0
            if link is not None:
                ti.type, ti.linkname = tarfile.SYMTYPE, link
                tar.addfile(ti)
            elif kind == tarfile.DIRTYPE:
                ti.type = tarfile.DIRTYPE
                tar.addfile(ti)
            else:
                ti.size = len(data or b"")
                tar.addfile(ti, io.BytesIO(data or b""))

        meta = (
            f"architecture: {os.uname().machine}\ncreation_date: {int(time.time())}\n"
            "properties:\n  description: busybox-static (colo-exporters lab, built offline)\n  os: busybox\n"
            "templates:\n  /etc/hostname:\n    when: [create, copy]\n    template: hostname.tpl\n"
        )
        add("metadata.yaml", meta.encode())
        add("templates", kind=tarfile.DIRTYPE, mode=0o755)
        add("templates/hostname.tpl", b"{{ container.name }}\n")
        dirs = {
            "rootfs",
            "rootfs/bin",
            "rootfs/sbin",
            "rootfs/usr",
            "rootfs/usr/bin",
            "rootfs/usr/sbin",
            "rootfs/etc",
            "rootfs/etc/init.d",
            "rootfs/dev",
            "rootfs/proc",
            "rootfs/sys",
            "rootfs/run",
            "rootfs/root",
            "rootfs/var",
            "rootfs/var/log",
            "rootfs/usr/share",
            "rootfs/usr/share/udhcpc",
        }
        dirs |= {f"rootfs/{os.path.dirname(a)}" for a in applets}
        for d in sorted(dirs):
            add(d, kind=tarfile.DIRTYPE, mode=0o755)
        add("rootfs/tmp", kind=tarfile.DIRTYPE, mode=0o1777)
        add("rootfs/bin/busybox", busybox.read_bytes(), mode=0o755)
        for a in applets:
            if a != "bin/busybox":
                add(f"rootfs/{a}", link="/bin/busybox")
        add("rootfs/etc/inittab", _INITTAB.encode())
        add("rootfs/etc/init.d/rcS", _RCS.encode(), mode=0o755)
        add("rootfs/usr/share/udhcpc/default.script", _DHCP.encode(), mode=0o755)
        add("rootfs/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        add("rootfs/etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        add("rootfs/etc/hostname", b"busybox\n")
    os.replace(tmp, out)
    return out


def demo(lab: Lab) -> list[dict[str, Any]]:
    """LXD with the standard containers, and colo-lxd-exporter on its default port."""
    from .exporter import ExporterProc

    lxd = LXDLab(lab).start()
    lxd.populate()
    exp = ExporterProc(
        lab, "lxd", {"socket": lxd.socket, "user_labels": ["user.monitor"]}, port=9471, log_level="info"
    )
    return [{"job_name": "colo-lxd", "static_configs": [{"targets": [f"127.0.0.1:{exp.port}"]}]}]
