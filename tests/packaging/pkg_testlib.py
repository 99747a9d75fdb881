"""The Debian packages, built from this checkout, and a fresh Debian 12 machine to install them on.

The machine is a systemd-nspawn container booted with systemd as its PID 1 (this host's PID 1 is not
systemd, but nspawn needs none: `--register=no --keep-unit`), from a minbase root that mmdebstrap made
from Debian's mirror. It runs in a network namespace the test creates, so the exporters' default ports
and the lab's peers are on that namespace's loopback only. The root is cached as a tarball under
build/cache/packaging/ (ignored by git; rebuilt after a week); every test module extracts a fresh copy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from lab.proc import Lab, LabError, require, require_root, run, wait_for

import testlib

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "build" / "cache" / "packaging"
SUITE = "bookworm"
# What an operator's Debian 12 server has before our packages: systemd, and what they depend on.
BASE_INCLUDE = ("systemd", "systemd-sysv", "python3.11", "adduser")
BASE_MAX_AGE = 7 * 86400
# Each exporter's port, pinned: an operator's firewall and Prometheus config name it.
PORTS = {"lxd": 9471, "snmp": 9472, "bmc": 9473, "frr": 9474}
EXPORTERS = testlib.EXPORTERS
TIMES: dict[str, float] = {}  # what each phase took, printed at the end of the session
SCORES: dict[str, float] = {}  # systemd-analyze security per unit, printed too


class Timer:
    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> Timer:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        TIMES[self.what] = time.monotonic() - self.start


def base_tarball() -> Path:
    """A Debian 12 minbase root with BASE_INCLUDE, from the mirror (or the cache under build/)."""
    require_root()
    mmdebstrap = require("mmdebstrap", "mmdebstrap")
    key = hashlib.sha256(" ".join((SUITE, *BASE_INCLUDE)).encode()).hexdigest()[:12]
    tar = CACHE / f"{SUITE}-minbase-{key}.tar"
    if tar.exists() and time.time() - tar.stat().st_mtime < BASE_MAX_AGE:
        return tar
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = tar.with_suffix(f".{os.getpid()}.partial")
    mirror = [os.environ["COLO_DEBIAN_MIRROR"]] if os.environ.get("COLO_DEBIAN_MIRROR") else []
    with Timer("mmdebstrap"):
        r = subprocess.run(
            [
                mmdebstrap,
                "--quiet",
                "--variant=minbase",
                "--mode=root",
                "--format=tar",
                f"--include={','.join(BASE_INCLUDE)}",
                SUITE,
                str(partial),
                *mirror,
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    if r.returncode != 0:
        partial.unlink(missing_ok=True)
        raise LabError(f"mmdebstrap failed ({r.returncode}): {r.stderr[-2000:]}")
    partial.rename(tar)
    return tar


class Container:
    """A booted Debian 12 container; `run` executes a command inside it (as root, in all its namespaces)."""

    def __init__(self, lab: Lab, tarball: Path, netns: str, binds: Sequence[tuple[Path, str]]) -> None:
        nspawn = require("systemd-nspawn", "systemd-container")
        self.name = f"colo-pkg-{uuid.uuid4().hex[:8]}"
        self.root = lab.workdir / self.name
        self.netns = netns
        self.root.mkdir()
        lab.callback(shutil.rmtree, self.root, ignore_errors=True)  # after the container stopped
        with Timer("extract"):
            run(["tar", "-C", str(self.root), "--numeric-owner", "-xpf", str(tarball)], timeout=300)
        self.prepare()
        self.proc = lab.start(
            self.name,
            [
                nspawn,
                "--quiet",
                f"--directory={self.root}",
                f"--machine={self.name}",
                "--register=no",
                "--keep-unit",
                f"--network-namespace-path=/run/netns/{netns}",
                "--console=passive",
                *(f"--bind-ro={src}:{dst}" for src, dst in binds),
                "--boot",
            ],
        )
        with Timer("boot"):
            self.leader = int(wait_for(self._leader, 30, "the container's systemd", log=self.proc.log))  # type: ignore[arg-type]
            state = wait_for(self._booted, 90, "the container to boot", interval=0.5, log=self.proc.log)
        if state != "running":
            failed = self.run(["systemctl", "--failed", "--no-legend"], check=False).stdout
            raise LabError(f"container boot: {state}: {failed}")

    def prepare(self) -> None:
        """Changes to the fresh root before it boots (none by default)."""

    def _leader(self) -> int | None:
        self.proc.check_alive()
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return int(children[0]) if children else None

    def _booted(self) -> str | None:
        r = self.run(["systemctl", "is-system-running"], check=False, timeout=10)
        state = r.stdout.strip()
        return state if state in ("running", "degraded") else None

    def run(
        self,
        argv: Sequence[str],
        check: bool = True,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess:
        full = ["nsenter", f"--target={self.leader}", "--all", "--", *argv]
        r = subprocess.run(
            full,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
            check=False,
        )
        if check and r.returncode != 0:
            raise AssertionError(f"in the container: {' '.join(argv)}: {r.returncode}\n{r.stdout}{r.stderr}")
        return r

    def sh(self, script: str, check: bool = True, timeout: float = 120) -> str:
        return self.run(["sh", "-ec", script], check=check, timeout=timeout).stdout

    def write(self, path: str, text: str, mode: int = 0o644) -> None:
        """A file in the container's root (written from the host: no interpreter runs inside)."""
        p = self.root / path.lstrip("/")
        p.write_text(text)
        p.chmod(mode)

    def get(self, url: str, timeout: float = 30) -> tuple[int, str]:
        """HTTP GET from the container's network namespace (with this host's Python, not the container's)."""
        code = (
            "import sys, urllib.request, urllib.error\n"
            "try:\n"
            f"    r = urllib.request.urlopen(sys.argv[1], timeout={timeout})\n"
            "    status, body = r.status, r.read()\n"
            "except urllib.error.HTTPError as e:\n"
            "    status, body = e.code, e.read()\n"
            "sys.stdout.write(str(status) + '\\n' + body.decode('utf-8', 'replace'))\n"
        )
        r = run(["ip", "netns", "exec", self.netns, sys.executable, "-c", code, url], timeout=timeout + 10)
        status, _, body = r.stdout.partition("\n")
        return int(status), body


def snapshot(root: Path) -> dict[str, str]:
    """Every path of a container root and what it is, without the parts the system itself keeps changing
    (logs, caches, dpkg's and systemd's state, account-file backups); the account files by content."""
    skip_dirs = {"proc", "sys", "dev", "run", "tmp", "var/tmp", "var/log", "var/cache", "var/lib/dpkg"}
    skip_dirs |= {"var/lib/apt", "var/lib/systemd"}
    accounts = {"etc/passwd", "etc/group", "etc/shadow", "etc/gshadow"}
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        dirnames[:] = [d for d in dirnames if os.path.join(rel_dir, d) not in skip_dirs]
        for n in dirnames + filenames:
            rel = os.path.join(rel_dir, n)
            if rel in {f"{a}-" for a in accounts}:
                continue
            p = Path(dirpath, n)
            st = p.lstat()
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif rel in accounts:
                out[rel] = p.read_text()
            else:
                out[rel] = oct(st.st_mode)
    return out
