"""`make demo` end to end: every part starts its real peers and exporter, Prometheus sees every target
up, Alertmanager runs, the alerts at rest are only those the demo explains, and stopping leaves nothing
behind (no processes, no network namespaces, no runtime directories)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lab.proc import free_port, require

from testlib import EXPORTERS

ROOT = Path(__file__).resolve().parent.parent


def _netns() -> set[str]:
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    return {line.split()[0] for line in r.stdout.splitlines() if line.strip()}


def _procs_under(path: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if path in cmd:
            found.append(f"{pid}: {cmd[:120]}")
    return found


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_demo_comes_up_and_cleans_up(tmp_path: Path) -> None:
    require("/usr/bin/prometheus", "prometheus")
    if os.geteuid() != 0:
        pytest.skip("the demo needs root (network namespaces, daemons)")
    workdir = tmp_path / "demo"
    before = _netns()
    port, am_port = free_port(), free_port()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "lab.demo",
            "--check",
            f"--workdir={workdir}",
            f"--prometheus-port={port}",
            f"--alertmanager-port={am_port}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "every target is up" in r.stdout
    jobs = {line.split()[0] for line in r.stdout.splitlines() if line.startswith("  ") and "http" in line}
    for job in (*(f"colo-{n}" for n in EXPORTERS), "prometheus"):
        assert any(j.startswith(job) for j in jobs), (job, jobs)
    assert f"Alertmanager: http://127.0.0.1:{am_port}" in r.stdout
    assert "Alerts at rest" in r.stdout and "UNEXPECTED" not in r.stdout, r.stdout[-3000:]
    assert "LxdCriticalInstanceNotRunning" in r.stdout  # c4, on purpose: the check sees real alerts
    assert _netns() <= before, f"namespaces left behind: {_netns() - before}"
    assert not _procs_under(str(workdir)), _procs_under(str(workdir))


def test_demo_refuses_a_busy_port(tmp_path: Path) -> None:
    """Another demo (or test rack) on a port the demo needs: the demo says so and starts nothing, rather
    than scrape the other one's exporters (theirs answer on the fixed ports while ours fail to listen)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "lab.demo",
                "--check",
                f"--workdir={tmp_path}",
                f"--prometheus-port={busy}",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert r.returncode == 1 and f"127.0.0.1:{busy}" in r.stderr and "starting" not in r.stdout, r.stderr
    assert not (tmp_path / "logs").exists()


def test_each_demo_starts_with_empty_prometheus_and_alertmanager(tmp_path: Path) -> None:
    """The last run's samples would make every switch look restarted (sysUpTime went back) and bring its
    held alerts back."""
    from lab.demo import fresh_state

    for d in ("prometheus/data/wal", "alertmanager/data"):
        (tmp_path / d).mkdir(parents=True)
        (tmp_path / d / "old").write_text("x")
    (tmp_path / "prometheus" / "prometheus.yml").write_text("kept")
    fresh_state(tmp_path)
    assert (
        not (tmp_path / "prometheus" / "data").exists() and not (tmp_path / "alertmanager" / "data").exists()
    )
    assert (tmp_path / "prometheus" / "prometheus.yml").exists()
