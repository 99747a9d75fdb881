"""The Redfish test server as a separate process on free loopback ports (one simulated BMC per port):
`RedfishServer(lab, ...)` starts `python -m lab.bmc_redfish_server`, waits for it, and drives its control
plane. The state is lab/bmc_redfish_model.py, the HTTP side lab/bmc_redfish_server.py.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

from .certs import self_signed


class RedfishServer:
    """The test server as a separate process, on free loopback ports (one simulated BMC per port)."""

    def __init__(
        self,
        lab: Any,
        name: str = "bmc-redfish",
        count: int = 1,
        delay: float = 0.0,
        mockup: Path | None = None,
        tls: bool = False,
        tree: Path | None = None,
    ) -> None:
        from .proc import free_port, port_open, wait_for

        self.ports = [free_port() for _ in range(count)]
        argv = [sys.executable, "-m", "lab.bmc_redfish_server", "--delay", str(delay)]
        for p in self.ports:
            argv += ["--port", str(p)]
        if mockup is not None:
            argv += ["--mockup", str(mockup)]
        if tree is not None:
            argv += ["--tree", str(tree)]
        self.ca_file: Path | None = None
        if tls:
            d = lab.workdir / f"{name}-tls"
            d.mkdir(parents=True, exist_ok=True)
            cert, key = self_signed(d, "colo-bmc-lab", ("127.0.0.1",))
            self.ca_file = cert
            argv += ["--tls-cert", str(cert), "--tls-key", str(key)]
        root = Path(__file__).resolve().parent.parent
        self.proc = lab.start(f"{name}-{self.ports[0]}", argv, cwd=root)
        wait_for(
            lambda: self.proc.check_alive() and all(port_open("127.0.0.1", p) for p in self.ports),
            30,
            "the Redfish test server",
            log=self.proc.log,
        )
        self.urls = [f"{'https' if tls else 'http'}://127.0.0.1:{p}" for p in self.ports]
        self.url = self.urls[0]

    def _ctx(self) -> Any:
        import ssl

        return ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file else None

    def control(self, what: str, body: dict[str, Any] | None = None, index: int = 0) -> Any:
        data = json.dumps(body or {}).encode()
        req = urllib.request.Request(
            f"{self.urls[index]}/_lab/{what}",
            data=data,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10, context=self._ctx()) as r:
            return json.load(r)

    def stats(self, index: int = 0) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.urls[index]}/_lab/stats", timeout=10, context=self._ctx()) as r:
            return json.load(r)

    def set_sensor(self, sid: str, **kw: Any) -> None:
        self.control("sensor", {"id": sid, **kw})

    def config(self, **opts: Any) -> None:
        self.control("config", opts)

    def fault(self, **f: Any) -> None:
        self.control("fault", f)

    def reset(self) -> None:
        self.control("reset")
