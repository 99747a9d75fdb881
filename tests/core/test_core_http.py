"""The core's peer I/O against real sockets: trickling and silent peers, TLS, unix sockets, links, redirects.

Every peer here is a real server on loopback (plain, TLS, or a relay that passes a real TLS server's bytes
on one at a time); nothing is mocked.
"""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporters.core import Deadline, ScrapeError
from exporters.core.http import BadLink, Session
from exporters.core.peerio import WATCHDOG, guard, read_body
from lab.certs import self_signed

from core_testlib import Listener


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits: list[str]

    def log_message(self, *a: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.trap}/stolen")  # type: ignore[attr-defined]
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = int(self.path.rpartition("/")[2]) if self.path.startswith("/size/") else 2
        body = b"x" * size
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_DELETE = do_GET  # noqa: N815 - the stdlib's handler names
    do_POST = do_GET  # noqa: N815


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, trap: int = 0, ctx: ssl.SSLContext | None = None, unix: str | None = None) -> None:
        self.hits: list[str] = []
        self.trap = trap
        self.ctx = ctx
        if unix:
            self.address_family = socket.AF_UNIX
            super().__init__(unix, _Handler)  # type: ignore[arg-type]
        else:
            super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        if self.ctx:
            sock = self.ctx.wrap_socket(sock, server_side=True)
        return sock, addr or ("unix", 0)

    @property
    def port(self) -> int:
        return self.server_address[1]  # type: ignore[index]


class _Trap(Listener):
    """A listener that must never receive a byte."""

    def __init__(self) -> None:
        self.got = 0
        super().__init__(backlog=8)

    def accepted(self, conn: socket.socket) -> None:
        self.got += 1
        conn.close()


class _Trickle(Listener):
    """Accepts, then sends `data` one byte every `gap` seconds (or relays a real server's bytes so)."""

    def __init__(self, data: bytes = b"", gap: float = 0.1, relay_to: int | None = None) -> None:
        self.data, self.gap, self.relay_to = data, gap, relay_to
        self.open = 0
        super().__init__()

    def accepted(self, conn: socket.socket) -> None:
        threading.Thread(target=self._one, args=(conn,), daemon=True, name="peer").start()

    def _one(self, c: socket.socket) -> None:
        self.open += 1
        try:
            if self.relay_to is None:
                for b in self.data:
                    c.sendall(bytes([b]))
                    time.sleep(self.gap)
                time.sleep(30)
                return
            up = socket.create_connection(("127.0.0.1", self.relay_to))
            threading.Thread(target=_pump, args=(c, up), daemon=True).start()
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    return
                for b in chunk:
                    c.sendall(bytes([b]))
                    time.sleep(self.gap)
        except OSError:
            pass
        finally:
            self.open -= 1
            c.close()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while chunk := src.recv(65536):
            dst.sendall(chunk)
    except OSError:
        pass


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("pki"), "127.0.0.1")


@pytest.fixture
def trap() -> Iterator[_Trap]:
    t = _Trap()
    yield t
    t.close()


def test_plain_request_and_keepalive(trap: _Trap) -> None:
    srv = _Server(trap.port)
    s = Session(f"http://127.0.0.1:{srv.port}")
    for _ in range(3):
        a = s.request("GET", "/size/10", Deadline(2))
        assert (a.status, a.body) == (200, b"x" * 10)
    s.close()
    srv.shutdown()


@pytest.mark.parametrize(
    "link",
    [
        "@127.0.0.1:1/x",
        "//127.0.0.1:1/x",
        "http://127.0.0.1:1/x",
        "https://example.org/",
        "0/redfish/v1",
        "/a\\b",
        "/a b",
        "/a\r\nHost: evil",
        "/a\x00",
        "redfish/v1",
        "",
        "/x#frag",
        "\\\\evil/x",
        None,
        7,
        "/@evil",
        "/redfish/v1@evil:1",
    ],
)
def test_links_that_leave_the_origin_are_refused_and_never_sent(link: object, trap: _Trap) -> None:
    srv = _Server(trap.port)
    s = Session(f"http://127.0.0.1:{srv.port}")
    with pytest.raises(BadLink) as e:
        s.request("GET", link, Deadline(1))  # type: ignore[arg-type]
    assert e.value.reason == "bad_link"
    assert srv.hits == [] and trap.got == 0
    srv.shutdown()


def test_good_links_keep_their_query() -> None:
    s = Session("https://10.0.0.5")
    assert (
        s.url("/redfish/v1/Chassis?$expand=.($levels=1)")
        == "https://10.0.0.5/redfish/v1/Chassis?$expand=.($levels=1)"
    )
    assert s.url("/redfish/v1/Chassis/1%2F2") == "https://10.0.0.5/redfish/v1/Chassis/1%2F2"


def test_origin_refuses_credentials_and_paths() -> None:
    with pytest.raises(ValueError) as e:
        Session("https://admin:hunter2@10.0.0.5")
    assert "hunter2" not in str(e.value)
    with pytest.raises(ValueError):
        Session("https://10.0.0.5/redfish/v1")
    with pytest.raises(ValueError):
        Session("ftp://10.0.0.5")


def test_redirects_are_never_followed(trap: _Trap) -> None:
    srv = _Server(trap.port)
    s = Session(f"http://127.0.0.1:{srv.port}", headers={"X-Auth-Token": "tok"})
    for method in ("GET", "POST", "DELETE"):
        a = s.request(method, "/redirect", Deadline(2))
        assert a.status == 302
    time.sleep(0.2)
    assert trap.got == 0
    srv.shutdown()


def test_trickled_headers_end_at_the_deadline() -> None:
    t = _Trickle(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200, gap=0.05)
    s = Session(f"http://127.0.0.1:{t.port}")
    t0 = time.monotonic()
    with pytest.raises(ScrapeError) as e:
        s.request("GET", "/", Deadline(1.0))
    took = time.monotonic() - t0
    assert e.value.reason == "timeout"
    assert took < 1.5, took


def test_trickled_body_ends_at_the_deadline() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    t = _Trickle(head + b"y" * 1000, gap=0.002)
    s = Session(f"http://127.0.0.1:{t.port}")
    t0 = time.monotonic()
    with pytest.raises(ScrapeError) as e:
        s.request("GET", "/", Deadline(1.0))
    assert e.value.reason == "timeout"
    assert time.monotonic() - t0 < 1.5


def test_trickled_tls_handshake_and_answer_end_at_the_deadline(tls: tuple[Path, Path]) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*map(str, tls))
    real = _Server(ctx=ctx)
    t = _Trickle(relay_to=real.port, gap=0.02)
    s = Session(f"https://127.0.0.1:{t.port}", ca_file=str(tls[0]))
    t0 = time.monotonic()
    with pytest.raises(ScrapeError) as e:
        s.request("GET", "/size/10", Deadline(1.0))
    assert e.value.reason == "timeout"
    assert time.monotonic() - t0 < 1.5
    # The same server answers when it does not trickle.
    direct = Session(f"https://127.0.0.1:{real.port}", ca_file=str(tls[0]))
    assert direct.request("GET", "/size/10", Deadline(2)).body == b"x" * 10
    real.shutdown()


def test_threads_come_back_from_a_trickling_peer() -> None:
    t = _Trickle(b"HTTP/1.1 200 OK\r\n" + b"X" * 10_000, gap=0.05)
    s = Session(f"http://127.0.0.1:{t.port}", pool=4)

    def ours() -> int:
        return sum(1 for th in threading.enumerate() if th.name != "peer")

    before = ours()
    errs: list[str] = []

    def scrape() -> None:
        try:
            s.request("GET", "/", Deadline(0.5))
        except ScrapeError as e:
            errs.append(e.reason)

    for _ in range(5):
        ths = [threading.Thread(target=scrape) for _ in range(4)]
        for th in ths:
            th.start()
        for th in ths:
            th.join(2)
        assert not any(th.is_alive() for th in ths)
    assert errs == ["timeout"] * 20
    assert ours() <= before + 1  # the watchdog thread, at most
    time.sleep(0.2)
    assert WATCHDOG.pending() == 0


def test_tls_errors_name_the_problem(tls: tuple[Path, Path], tmp_path: Path) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*map(str, tls))
    srv = _Server(ctx=ctx)
    with pytest.raises(ScrapeError) as e:
        Session(f"https://127.0.0.1:{srv.port}").request("GET", "/", Deadline(2))  # not in the system store
    assert e.value.reason == "tls"
    a = Session(f"https://127.0.0.1:{srv.port}", verify=False).request("GET", "/", Deadline(2))
    assert a.status == 200
    # Pinning: exactly this certificate, whatever its name says.
    assert (
        Session(f"https://127.0.0.1:{srv.port}", pin_cert_file=str(tls[0]))
        .request("GET", "/", Deadline(2))
        .status
        == 200
    )
    other, _ = self_signed(tmp_path, "127.0.0.1", name="other")
    with pytest.raises(ScrapeError) as e:
        Session(f"https://127.0.0.1:{srv.port}", pin_cert_file=str(other)).request("GET", "/", Deadline(2))
    assert e.value.reason == "tls"
    srv.shutdown()


def test_unix_socket_and_size_limit(tmp_path: Path) -> None:
    path = str(tmp_path / "peer.sock")
    srv = _Server(unix=path)
    s = Session("http://localhost", unix_socket=path)
    assert s.request("GET", "/size/5", Deadline(2)).body == b"xxxxx"
    with pytest.raises(ScrapeError) as e:
        s.request("GET", "/size/5000", Deadline(2), limit=1024)
    assert e.value.reason == "malformed" and "1 KiB" in e.value.message
    assert s.request("GET", "/size/5", Deadline(2)).body == b"xxxxx"  # the session survives
    srv.shutdown()
    with pytest.raises(ScrapeError) as e:
        Session("http://localhost", unix_socket=str(tmp_path / "none.sock")).request("GET", "/", Deadline(1))
    assert e.value.reason == "connect"


def test_dead_and_silent_peers() -> None:
    port = _Trap().port  # accepts and closes at once
    with pytest.raises(ScrapeError) as e:
        Session(f"http://127.0.0.1:{port}").request("GET", "/", Deadline(1))
    assert e.value.reason in ("connect", "malformed")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(ScrapeError) as e:
        Session(f"http://127.0.0.1:{dead_port}").request("GET", "/", Deadline(1))
    assert e.value.reason == "connect"
    silent = _Trickle(b"", gap=1)
    t0 = time.monotonic()
    with pytest.raises(ScrapeError) as e:
        Session(f"http://127.0.0.1:{silent.port}").request("GET", "/", Deadline(0.5))
    assert e.value.reason == "timeout" and time.monotonic() - t0 < 1.0


def test_guard_wakes_a_blocked_recv() -> None:
    a, b = socket.socketpair()
    a.settimeout(30)
    t0 = time.monotonic()
    with guard(a, Deadline(0.3)) as g:
        assert a.recv(10) == b""
    assert g.fired and time.monotonic() - t0 < 1.0
    b.close()
    a.close()


def test_read_body_bounds() -> None:
    chunks = iter([b"ab", b"cd", b""])
    assert read_body(lambda n: next(chunks), Deadline(1), 10, "x") == b"abcd"
    with pytest.raises(ScrapeError) as e:
        read_body(lambda n: b"z" * n, Deadline(1), 1000, "x")
    assert e.value.reason == "malformed"
    d = Deadline(0.05)
    time.sleep(0.06)
    with pytest.raises(ScrapeError) as e:
        read_body(lambda n: b"", d, 10, "x")
    assert e.value.reason == "timeout"


def test_a_request_ending_after_close_keeps_no_connection() -> None:
    """A session closed (a reload) while a request runs: that request's connection is closed when it
    ends, not kept idle in a pool nobody uses any more."""
    srv = _Server()
    s = Session(f"http://127.0.0.1:{srv.port}")
    assert s.request("GET", "/size/1", Deadline(2)).body == b"x"
    s.close()
    assert s.request("GET", "/size/1", Deadline(2)).body == b"x"  # still answers, as before
    assert s._pool._idle == []  # what the pool keeps
    srv.shutdown()
