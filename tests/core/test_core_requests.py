"""HTTP details (issue 10 point 7): request bodies, odd timeout headers, handler errors, keep-alive speed."""

from __future__ import annotations

import http.client
import statistics
import time

import pytest

from lab.exporter import parse, value
from lab.proc import Lab

from core_testlib import Peer, Toy, raw_exchange, toy_config


@pytest.fixture(scope="module")
def toy(module_lab: Lab) -> Toy:
    return Toy(
        module_lab, toy_config(sw1=Peer(), slow=Peer(delay=10)), args=["--scrape.default-timeout=0.8s"]
    )


def test_a_post_body_is_read_never_run_as_the_next_request(toy: Toy) -> None:
    smuggled = b"GET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n"
    out = raw_exchange(
        toy.port,
        b"POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
        b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % (len(smuggled), smuggled),
    )
    assert out.count(b"HTTP/1.1 ") == 2, out
    assert b"config reloaded" in out and b"Healthy" in out and b"Ready" not in out, out
    out = raw_exchange(
        toy.port,
        b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
        b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % (len(smuggled), smuggled),
    )
    assert out.startswith(b"HTTP/1.1 405") and b"Healthy" in out and b"Ready" not in out, out


def test_a_body_too_large_or_chunked_closes_the_connection(toy: Toy) -> None:
    t0 = time.monotonic()
    out = raw_exchange(
        toy.port,
        b"POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"
        + b"GET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n",
        linger=3,
    )
    assert out.startswith(b"HTTP/1.1 413") and b"Ready" not in out, out
    assert b"Connection: close" in out and time.monotonic() - t0 < 2.5  # closed, not left to time out
    out = raw_exchange(
        toy.port,
        b"POST /-/reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"22\r\nGET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n",
        linger=3,
    )
    assert out.count(b"HTTP/1.1 ") == 1 and b"Ready" not in out and b"Connection: close" in out, out


@pytest.mark.parametrize("header", ["inf", "1e400", "nan", "-5", "0", "soon"])
def test_a_bad_scrape_timeout_header_gives_the_default_deadline(toy: Toy, header: str) -> None:
    t0 = time.monotonic()
    code, body, _ = toy.request(
        "/probe?target=slow", headers={"X-Prometheus-Scrape-Timeout-Seconds": header}, timeout=10
    )
    took = time.monotonic() - t0
    assert code == 200 and value(parse(body), "colo_toy_up", target="slow") == 0
    assert took < 1.5, took  # --scrape.default-timeout=0.8s minus the 0.5 s offset
    assert any(
        "level=warn" in ln and "X-Prometheus-Scrape-Timeout-Seconds" in ln and f"value={header}" in ln
        for ln in toy.log().splitlines()
    ), toy.log()[-1500:]


def test_handler_errors_are_logged_at_error_with_the_path(lab, peer) -> None:
    toy = Toy(lab, {**toy_config(sw1=peer), "explode": True})
    code, body, _ = toy.request("/probe?target=sw1", headers={"X-Api-Key": "hunter2-in-a-header"})
    assert code == 500 and "the toy exploded" not in body
    line = next((ln for ln in toy.log().splitlines() if "level=error" in ln and "path=" in ln), "")
    assert 'path="/probe?target=sw1"' in line and "RuntimeError" in line, toy.log()[-2000:]
    assert "hunter2-in-a-header" not in toy.log()
    assert toy.request("/-/healthy")[0] == 200


def test_keep_alive_requests_answer_without_delayed_ack_stalls(toy: Toy) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", toy.port, timeout=5)
    times = []
    for i in range(40):
        t0 = time.perf_counter()
        conn.request("GET", "/-/healthy" if i % 2 else "/probe?target=sw1")
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        times.append(time.perf_counter() - t0)
    conn.close()
    median = statistics.median(times)
    assert median < 0.010, f"median {median * 1000:.1f} ms per keep-alive request"
