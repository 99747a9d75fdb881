"""Starting and stopping peer processes, waiting for them, and network namespaces."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class LabError(RuntimeError):
    """A peer could not be started; the message says which and includes its log tail."""


class PeerMissing(LabError):
    """A program the peer needs is not installed (tests skip, or fail under COLO_LAB_STRICT=1)."""


def require(program: str, package: str) -> str:
    path = shutil.which(program) or (
        program if os.path.isabs(program) and os.access(program, os.X_OK) else None
    )
    if not path:
        raise PeerMissing(f"{program} not found (Debian package {package}; `make test` installs it)")
    return path


def require_root() -> None:
    if os.geteuid() != 0:
        raise PeerMissing("needs root (network namespaces, daemons); `make test` runs as root in CI")


def cpu_ms(pid: int) -> float:
    """CPU time of `pid` and its waited-for children (utime + stime + cutime + cstime), in ms."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) * 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms_live_threads(pid: int) -> float:
    """On-CPU time of the live threads of `pid` from their schedstat (nanoseconds, not 10 ms ticks), in ms.

    Leaves out threads that have exited and children: read it beside `cpu_ms`, over a short window."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):  # a thread that exits meanwhile
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e6


def free_port(host: str = "127.0.0.1", kind: int = socket.SOCK_STREAM) -> int:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for(
    check: Callable[[], object], timeout: float, what: str, interval: float = 0.1, log: Path | None = None
) -> object:
    """Poll `check` until it returns something truthy; LabError with `what` (and a log tail) on timeout."""
    end = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - a peer that is still starting raises all sorts
            last = e
        if time.monotonic() >= end:
            why = f" (last error: {type(last).__name__}: {last})" if last else ""
            raise LabError(f"timed out after {timeout:.0f}s waiting for {what}{why}{_tail(log)}")
        time.sleep(interval)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _tail(log: Path | None, lines: int = 15) -> str:
    if not log or not log.exists():
        return ""
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return f"\n--- last lines of {log} ---\n" + "\n".join(text)


class Proc:
    """A child in its own session (so its whole process group can be stopped), logging to a file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log: Path,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
        netns: str | None = None,
    ) -> None:
        self.name = name
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        full = (["ip", "netns", "exec", netns] if netns else []) + list(argv)
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(
                full,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def check_alive(self) -> bool:
        if not self.alive():
            raise LabError(f"{self.name} exited with status {self.popen.returncode}{_tail(self.log)}")
        return True

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 5.0) -> None:
        if self.popen.poll() is not None:
            self.signal(signal.SIGKILL)  # the leader is gone; its group may not be
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(5)
        self.signal(signal.SIGKILL)

    def tail(self) -> str:
        return _tail(self.log)


def run(
    argv: Sequence[str], check: bool = True, timeout: float = 60, netns: str | None = None, **kw: object
) -> subprocess.CompletedProcess:
    full = (["ip", "netns", "exec", netns] if netns else []) + list(argv)
    r = subprocess.run(full, capture_output=True, text=True, timeout=timeout, **kw, check=False)  # type: ignore[call-overload]
    if check and r.returncode != 0:
        raise LabError(f"{' '.join(full)} failed ({r.returncode}): {(r.stderr or r.stdout).strip()[-800:]}")
    return r


class Lab(contextlib.ExitStack):
    """Collects everything started, to undo it in reverse order: `with Lab(workdir) as lab: ...`."""

    def __init__(self, workdir: str | Path) -> None:
        super().__init__()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, argv: Sequence[str], **kw: object) -> Proc:
        p = Proc(name, argv, self.workdir / "logs" / f"{name}.log", **kw)  # type: ignore[arg-type]
        self.callback(p.stop)
        return p

    def netns(self, name: str) -> str:
        """Create a network namespace (removed on exit) with loopback up."""
        require_root()
        if Path(f"/run/netns/{name}").exists():
            run(["ip", "netns", "del", name], check=False)
        run(["ip", "netns", "add", name])
        self.callback(_del_netns, name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        return name


def _del_netns(name: str) -> None:
    # Processes still inside keep the namespace alive; the Proc callbacks ran before this one.
    run(["ip", "netns", "del", name], check=False)
