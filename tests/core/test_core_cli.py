"""The Go exporters' habits on the command line (issue 17): socket activation, telemetry path, --version."""

from __future__ import annotations

import platform

from lab.exporter import parse, value
from lab.proc import free_port, require, wait_for

from core_testlib import Toy, run_toy, toy_config


def test_systemd_socket_activation(lab, peer) -> None:
    sd = require("systemd-socket-activate", "systemd")
    port = free_port()
    toy = Toy(
        lab,
        toy_config(sw1=peer),
        args=["--web.systemd-socket"],
        listen=False,
        wait=False,
        prefix=[sd, "-l", f"127.0.0.1:{port}"],
    )
    toy.port, toy.url = port, f"http://127.0.0.1:{port}"
    code, body = wait_for(
        lambda: toy.request("/probe?target=sw1", timeout=10)[:2], 20, "the activated exporter"
    )
    assert code == 200 and value(parse(body), "colo_toy_up", target="sw1") == 1
    assert "systemd" in toy.log()


def test_systemd_socket_without_sockets_is_a_clear_error(tmp_path) -> None:
    cfg = tmp_path / "toy.yml"
    cfg.write_text("targets: {}\n")
    r = run_toy(f"--config.file={cfg}", "--web.systemd-socket")
    assert r.returncode == 1 and "LISTEN_FDS" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_telemetry_path(lab, peer) -> None:
    toy = Toy(lab, toy_config(sw1=peer), args=["--web.telemetry-path=/internal/metrics"])
    code, body, _ = toy.request("/internal/metrics")
    assert code == 200 and "colo_toy_build_info" in body
    assert toy.request("/metrics")[0] == 404
    assert 'href="internal/metrics"' in toy.request("/")[1]


def test_version_is_complete() -> None:
    r = run_toy("--version")
    out = r.stdout
    assert r.returncode == 0
    assert out.startswith("colo-toy-exporter, version 0.1.0 (branch: ") and "revision: " in out, out
    for key in ("build user:", "build date:", "python version:", "platform:"):
        assert key in out, out
    assert platform.python_version() in out and platform.machine() in out
