"""A real three-member LXD (or Incus) cluster on one machine, for the cluster tests and the benchmark.

Each member is its own daemon, started by hand with its own state dir (LXD_DIR / INCUS_DIR) and its
own loopback address (127.a.b.1, .2, .3 — all on `lo`, nothing leaves the machine), joined with a
token as an operator would (`lxd init --preseed` with `cluster_token`). Members share the kernel, so
containers must have cluster-unique names (LXD enforces that). A `dir` pool on every member; the busybox
image from lab/lxd.py. Set up in about 6 s (LXD 5.0.2) / 5 s (Incus 6.0.4) on the lab machine, plus
the image import and launches.

    cluster = Cluster(lab, LXD).start()      # or INCUS (lab.lxd's flavours)
    cluster.launch("a2", "m2")
    cluster.evacuate("m2"); cluster.restore("m2")
    cluster.kill("m3"); cluster.wait_status("m3", "Offline"); cluster.revive("m3")
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from .lxd import LXD, Flavour, _kill_mentioning, _unmount_under, build_image, unix_get
from .proc import Lab, LabError, Proc, free_port, require, require_root, run, wait_for

# The lowest the daemons accept (seconds without a heartbeat before a member is Offline; default 20).
OFFLINE_THRESHOLD = 11


class Member:
    """One daemon of the cluster."""

    def __init__(self, lab: Lab, flavour: Flavour, base: Path, name: str, address: str) -> None:
        self.lab, self.flavour, self.name, self.address = lab, flavour, name, address
        self.port = free_port(address)
        self.dir = base / name
        self.state = self.dir / "d"  # short: the unix socket path is limited to 108 bytes
        self.conf = self.dir / "conf"
        self.socket = str(self.state / "unix.socket")
        self.env = {**os.environ, **flavour.env(self.state, self.conf)}
        self.proc: Proc | None = None
        self.starts = 0
        self.killed = False  # by kill(), since the last start

    @property
    def url(self) -> str:
        return f"https://{self.address}:{self.port}"

    def start(self) -> None:
        for d in (self.dir, self.state):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o711)  # unprivileged container roots need +x on the path
        self.conf.mkdir(exist_ok=True)
        self.starts += 1
        self.killed = False
        log = self.lab.workdir / "logs" / f"{self.flavour.name}-{self.dir.parent.name}-{self.name}.daemon.log"
        self.proc = self.lab.start(
            f"{self.flavour.name}-{self.dir.parent.name}-{self.name}-{self.starts}",
            [self.flavour.daemon, "--group", "root", "--logfile", str(log)],
            env=self.flavour.env(self.state, self.conf),
        )
        r = self.admin("waitready", "--timeout=60", check=False, timeout=70)
        if r.returncode != 0:
            raise LabError(f"{self.name} did not become ready: {r.stderr.strip()}{self.proc.tail()}")

    def admin(self, *args: str, check: bool = True, timeout: float = 120, stdin: str | None = None) -> Any:
        return run([*self.flavour.admin, *args], check=check, timeout=timeout, env=self.env, input=stdin)

    def client(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        return run([self.flavour.client, *args], check=check, timeout=timeout, env=self.env).stdout

    def alive(self) -> bool:
        return self.proc is not None and self.proc.alive()

    def kill(self) -> None:
        """SIGKILL the daemon alone (a crash): its containers keep running, as on a real host."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.popen.wait(10)
        self.killed = True

    def shutdown(self, timeout: int = 30) -> None:
        if not self.alive():
            return
        r = self.admin("shutdown", f"--timeout={timeout}", check=False, timeout=timeout + 30)
        if r.returncode != 0:
            print(
                f"{self.flavour.name} cluster: shutdown of {self.name} failed: {(r.stderr or r.stdout)[:300]}"
            )
        assert self.proc is not None
        try:
            self.proc.popen.wait(20)
        except subprocess.TimeoutExpired:
            pass

    def api(self, path: str, timeout: float = 30) -> Any:
        """GET on this member's unix socket (JSON, or text for /1.0/metrics)."""
        body = unix_get(self.socket, path, timeout)
        return body.decode() if path.startswith("/1.0/metrics") else json.loads(body)


class Cluster:
    """`size` members m1..mN; m1 bootstraps the cluster, the others join with a token each."""

    def __init__(self, lab: Lab, flavour: Flavour = LXD, size: int = 3) -> None:
        self.lab, self.flavour = lab, flavour
        self.id = uuid.uuid4().hex[:6]
        self.base = Path(tempfile.mkdtemp(prefix=f"colo-{flavour.name[:3]}c-{self.id}-"))
        a, b = random.randint(16, 250), random.randint(1, 250)
        self.members = [
            Member(lab, flavour, self.base, f"m{k}", f"127.{a}.{b}.{k}") for k in range(1, size + 1)
        ]
        self.by_name = {m.name: m for m in self.members}
        self.down = False

    def __getitem__(self, name: str) -> Member:
        return self.by_name[name]

    @property
    def leader(self) -> Member:
        """A member to send cluster-wide commands to (the first one alive)."""
        return next(m for m in self.members if m.alive())

    def start(self) -> Cluster:
        require_root()
        require(self.flavour.daemon, self.flavour.package)
        require(self.flavour.client, self.flavour.package)
        require("busybox", "busybox-static")
        os.chmod(self.base, 0o711)
        self.lab.callback(self._cleanup)
        threads = [threading.Thread(target=m.start) for m in self.members]
        errors: list[BaseException] = []
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        for m in self.members:
            if m.proc is None or not m.alive():
                errors.append(LabError(f"{self.flavour.name} member {m.name} did not start"))
        self.lab.callback(self.shutdown)
        if errors:
            raise errors[0]
        self._bootstrap(self.members[0])
        for m in self.members[1:]:
            self._join(m)
        first = self.members[0]
        first.client("config", "set", "cluster.offline_threshold", str(OFFLINE_THRESHOLD))
        first.client("image", "import", str(build_image()), "--alias", "busybox")
        return self

    def _bootstrap(self, m: Member) -> None:
        preseed = {
            "config": {
                "core.https_address": f"{m.address}:{m.port}",
                "cluster.https_address": f"{m.address}:{m.port}",
            },
            "cluster": {"server_name": m.name, "enabled": True},
            "storage_pools": [{"name": "default", "driver": "dir"}],
            "profiles": [
                {"name": "default", "devices": {"root": {"path": "/", "pool": "default", "type": "disk"}}}
            ],
        }
        m.admin("init", "--preseed", stdin=json.dumps(preseed))

    def _join(self, m: Member) -> None:
        token = self.members[0].client("cluster", "add", m.name, "--quiet").strip()
        preseed = {
            "cluster": {
                "enabled": True,
                "server_name": m.name,
                "server_address": f"{m.address}:{m.port}",
                "cluster_token": token,
                "member_config": [
                    {"entity": "storage-pool", "name": "default", "key": "source", "value": ""}
                ],
            }
        }
        m.admin("init", "--preseed", stdin=json.dumps(preseed))

    # --- what an operator does ---

    def launch(self, name: str, member: str, *opts: str, start: bool = True) -> None:
        self.leader.client("launch" if start else "init", "-q", "busybox", name, "--target", member, *opts)

    def evacuate(self, member: str) -> None:
        self.leader.client("cluster", "evacuate", member, "--force", timeout=180)

    def restore(self, member: str) -> None:
        self.leader.client("cluster", "restore", member, "--force", timeout=180)

    def kill(self, member: str) -> None:
        self[member].kill()

    def revive(self, member: str) -> None:
        """Start a killed member's daemon again on its old state; it rejoins by itself."""
        self[member].start()
        self.wait_status(member, "Online", 60)

    def status(self, member: str) -> str:
        for m in self.leader.api("/1.0/cluster/members?recursion=1")["metadata"]:
            if m["server_name"] == member:
                return str(m["status"])
        raise LabError(f"no member {member}")

    def wait_status(self, member: str, status: str, timeout: float = 40) -> None:
        wait_for(lambda: self.status(member) == status, timeout, f"{member} to be {status}", interval=0.5)

    def locations(self) -> dict[str, tuple[str, str]]:
        """Instance name -> (status, location), as the cluster reports it."""
        env = self.leader.api("/1.0/instances?recursion=1&all-projects=true")
        return {i["name"]: (i["status"], i["location"]) for i in env["metadata"]}

    # --- teardown ---

    def shutdown(self) -> None:
        """Instances first, while the database has its quorum; then every daemon at once with SIGTERM
        (which leaves instances alone: they are stopped). `shutdown` one by one or all at once left the
        last member waiting for a quorum that was gone (30-60 s). A killed member is started again first,
        so that it stops its own containers."""
        if self.down:
            return
        self.down = True
        for m in self.members:
            if m.starts and not m.alive() and not m.killed:
                print(
                    f"{self.flavour.name} cluster: {m.name} died on its own:{m.proc.tail() if m.proc else ''}"
                )
            if m.starts and not m.alive():
                try:
                    m.start()
                except LabError as e:
                    print(f"{self.flavour.name} cluster: could not restart {m.name} to stop it: {e}")
        alive = [m for m in self.members if m.alive()]
        t0 = time.monotonic()
        if alive:  # instances first, while the database has its quorum: then the daemons stop in seconds
            for project in self._projects(alive[0]):
                alive[0].client("stop", "--all", "--force", "--project", project, check=False, timeout=90)
        threads = [threading.Thread(target=m.proc.stop, args=(15,)) for m in alive if m.proc is not None]
        t1 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        took = f"instances {t1 - t0:.1f}s, daemons {time.monotonic() - t1:.1f}s"
        print(f"{self.flavour.name} cluster down: {took}")

    @staticmethod
    def _projects(m: Member) -> list[str]:
        try:
            return [p["name"] for p in m.api("/1.0/projects?recursion=1")["metadata"]]
        except (OSError, ValueError, KeyError, TypeError):
            return ["default"]

    def _cleanup(self) -> None:
        """What daemons that died hard leave: their container monitors and payloads, mounts."""
        d = str(self.base)
        _kill_mentioning(d)
        _unmount_under(d)
        shutil.rmtree(self.base, ignore_errors=True)
