"""The HTTP side of every exporter, through the toy exporter running as a real process."""

from __future__ import annotations

import signal
import socket
import time
import urllib.request

import pytest

from lab.exporter import parse, value
from lab.proc import free_port, port_open, wait_for
from lab.prometheus import check_metrics

from core_testlib import Peer, Toy, toy_config


def test_probe_serves_configured_target(lab, peer) -> None:
    toy = Toy(lab, toy_config(sw1=peer))
    code, body, headers = toy.request("/probe?target=sw1")
    assert code == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    s = parse(body)
    assert value(s, "colo_toy_reading_celsius", sensor="a") == 42
    assert value(s, "colo_toy_up", target="sw1") == 1
    assert value(s, "colo_toy_scrape_duration_seconds", target="sw1") > 0
    assert value(s, "colo_toy_scrape_errors_total", reason="timeout") == 0
    assert value(s, "colo_toy_scrape_errors_total", reason="malformed") == 0  # core's, not in the spec
    assert check_metrics(body) == []


def test_probe_never_contacts_unconfigured_hosts(lab, peer) -> None:
    stranger = Peer()  # a host that is reachable but not in the config
    toy = Toy(lab, toy_config(sw1=peer))
    for target in (stranger.address, "127.0.0.1", "sw2", "", "sw1&target=" + stranger.address):
        code, body, _ = toy.request("/probe?target=" + target)
        assert code == 400, (target, code, body)
        assert body[-1] == "\n" and body.count("\n") == 1  # one line
    code, body, _ = toy.request(f"/probe?target=sw1&target={stranger.address}")
    assert code == 400 and "once" in body
    assert stranger.connections == 0
    assert toy.request("/probe")[0] == 400


def test_landing_page_health_and_unknown_paths(lab, peer) -> None:
    toy = Toy(lab, toy_config(sw1=peer, sw2=Peer()))
    code, body, headers = toy.request("/")
    assert code == 200 and headers["Content-Type"].startswith("text/html")
    assert "sw1" in body and "sw2" in body and "/probe?target=" in body and "/-/healthy" in body
    assert peer.password not in body and "127.0.0.1" not in body  # names only: no credentials, no addresses
    assert toy.request("/-/healthy")[:2] == (200, "Healthy\n")
    assert toy.request("/nope")[0] == 404
    assert toy.request("/-/reload")[0] == 405  # GET
    assert toy.request("/metrics", method="POST")[0] == 405


def test_metrics_endpoint_self_metrics(lab, peer) -> None:
    toy = Toy(lab, toy_config(sw1=peer))
    toy.request("/probe?target=sw1")
    code, body, _ = toy.request("/metrics")
    assert code == 200
    s = parse(body)
    assert value(s, "colo_toy_build_info", version="0.1.0") == 1
    assert value(s, "colo_toy_config_last_reload_successful") == 1
    assert value(s, "process_resident_memory_bytes") > 0
    assert "colo_toy_reading_celsius" not in body  # multi-target: data only on /probe
    assert check_metrics(body) == []


def test_single_target_metrics_carry_data(lab, peer) -> None:
    toy = Toy(lab, toy_config(a=peer, b=Peer()), args=["--single"])
    s = parse(toy.request("/metrics")[1])
    assert value(s, "colo_toy_up", target="a") == 1 and value(s, "colo_toy_up", target="b") == 1
    assert toy.request("/probe?target=a")[0] == 404


def test_failures_are_up_0_with_reason_and_no_secret_in_log(lab, peer) -> None:
    wrong = Peer(password="other")
    garbage = Peer(reply="<html>oops</html>")
    dead_port = free_port()
    cfg = toy_config(ok=peer, wrongpw=wrong, garbage=garbage)
    cfg["targets"]["dead"] = {"address": f"127.0.0.1:{dead_port}", "password": "dead-secret-1"}
    cfg["targets"]["wrongpw"]["password"] = "wrong-secret-2"
    toy = Toy(lab, cfg)
    for target, reason in (("wrongpw", "auth"), ("garbage", "malformed"), ("dead", "connect")):
        code, body, _ = toy.request(f"/probe?target={target}")
        s = parse(body)
        assert code == 200 and value(s, "colo_toy_up", target=target) == 0
        assert value(s, "colo_toy_scrape_errors_total", reason=reason) == 1
        assert "colo_toy_reading_celsius" not in body
    s = parse(toy.request("/metrics")[1])
    assert value(s, "colo_toy_scrape_errors_total", reason="auth") == 1  # summed over targets
    log = toy.log()
    assert "reason=auth" in log and "target=wrongpw" in log and "reason=connect" in log
    for secret in (peer.password, "dead-secret-1", "wrong-secret-2"):
        assert secret not in log
    assert "Traceback" not in log


def test_scrape_timeout_header_bounds_the_scrape(lab, peer) -> None:
    slow = Peer(delay=20)
    toy = Toy(lab, toy_config(fast=peer, slow=slow), args=["--single"])
    t0 = time.monotonic()
    code, body, _ = toy.request("/metrics", headers={"X-Prometheus-Scrape-Timeout-Seconds": "2"})
    took = time.monotonic() - t0
    assert code == 200 and 1.2 < took < 2.0, took  # 2 s minus the 0.5 s offset, and no longer
    s = parse(body)
    assert value(s, "colo_toy_up", target="slow") == 0
    assert value(s, "colo_toy_up", target="fast") == 1  # what finished is kept
    assert value(s, "colo_toy_reading_celsius", sensor="a") == 42
    assert value(s, "colo_toy_scrape_errors_total", reason="timeout") == 1
    assert "scrape timed out" in toy.log()


def test_per_target_timeout_and_targets_do_not_wait_on_each_other(lab, peer) -> None:
    slow = Peer(delay=20)
    cfg = toy_config(fast=peer, slow=slow)
    cfg["targets"]["slow"]["timeout"] = "1s"
    toy = Toy(lab, cfg)
    import threading

    results = {}

    def probe(t: str) -> None:
        t0 = time.monotonic()
        _, body, _ = toy.request(f"/probe?target={t}")
        results[t] = (time.monotonic() - t0, parse(body))

    threads = [threading.Thread(target=probe, args=(t,)) for t in ("slow", "fast")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results["fast"][0] < 0.8, results["fast"][0]  # not delayed by the slow one
    assert 0.9 < results["slow"][0] < 2.5
    assert value(results["slow"][1], "colo_toy_up", target="slow") == 0


def test_reload_keeps_old_config_when_new_one_is_bad(lab, peer) -> None:
    toy = Toy(lab, toy_config(sw1=peer))
    toy.write("targets: {sw1: {address: '127.0.0.1:1', pasword: x}}\n")
    code, body, _ = toy.request("/-/reload", method="POST")
    assert code == 500 and "targets.sw1.pasword: unknown key" in body and str(toy.config_file) in body
    assert value(parse(toy.request("/probe?target=sw1")[1]), "colo_toy_up", target="sw1") == 1
    assert value(parse(toy.request("/metrics")[1]), "colo_toy_config_last_reload_successful") == 0
    # SIGHUP with a bad file: still the old config
    toy.proc.popen.send_signal(signal.SIGHUP)
    wait_for(lambda: toy.log().count("reload failed") >= 2, 10, "second failed reload")
    assert toy.request("/probe?target=sw1")[0] == 200
    # a good file: the new target appears, the old one is gone
    other = Peer()
    toy.write(toy_config(sw9=other))
    toy.proc.popen.send_signal(signal.SIGHUP)
    wait_for(lambda: toy.request("/probe?target=sw9")[0] == 200, 10, "reload by SIGHUP")
    assert toy.request("/probe?target=sw1")[0] == 400
    assert value(parse(toy.request("/metrics")[1]), "colo_toy_config_last_reload_successful") == 1
    assert toy.request("/-/reload", method="POST")[0] == 200


def test_listens_on_several_addresses_including_ipv6(lab, peer) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this host")
    p4, p6 = free_port(), free_port("::1")
    toy = Toy(
        lab,
        toy_config(sw1=peer),
        args=[f"--web.listen-address=[::1]:{p6}", f"--web.listen-address=127.0.0.1:{p4}"],
        wait=False,
    )
    wait_for(
        lambda: toy.proc.check_alive() and port_open("::1", p6) and port_open("127.0.0.1", p4),
        20,
        "both listeners",
    )
    with urllib.request.urlopen(f"http://[::1]:{p6}/-/healthy", timeout=10) as r:
        assert r.status == 200
    with urllib.request.urlopen(f"http://127.0.0.1:{p4}/-/healthy", timeout=10) as r:
        assert r.status == 200


def test_port_in_use_is_a_clear_error(lab, peer) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    toy = Toy(lab, toy_config(sw1=peer), args=[f"--web.listen-address=127.0.0.1:{port}"], wait=False)
    toy.proc.popen.wait(20)
    busy.close()
    assert toy.proc.popen.returncode == 1
    assert "cannot listen on 127.0.0.1:" in toy.log() and "Traceback" not in toy.log()


def test_json_log_format(lab, peer) -> None:
    import json

    toy = Toy(lab, toy_config(sw1=peer), args=["--log.format=json"])
    toy.request("/probe?target=sw1")
    lines = [json.loads(line) for line in toy.log().splitlines() if line.startswith("{")]
    assert any(entry["msg"] == "listening" for entry in lines)
    assert all({"ts", "level", "msg"} <= set(entry) for entry in lines)
