"""A Redfish test server (standard library only) serving BOTH resource generations from one sensor table:
legacy Chassis/{id}/Thermal and Power, and Sensors, ThermalSubsystem (Fans, ThermalMetrics) and
PowerSubsystem (PowerSupplies), with sessions, basic auth and `$expand`.

Control plane (no auth) under /_lab/: POST sensor {id, reading?, state?, health?}, psu {id, health?, state?},
fault {status?, message_id?, delay?, trickle? (seconds per byte), body? ("html"|"malformed"|"half"), path?,
count?}, config {option: value}, expire (drops every session), reset; GET stats. The quirk options in
`DEFAULTS` turn on real-world differences one by one. Instead of the sensor table, `--mockup DIR` serves a
static mockup tree (DIR/<path>/index.json, no login) and `--tree FILE` a fixture tree.json (with login).

Run: `python -m lab.bmc_redfish --port 8000 [--port 8001 ...] [--delay 1.0]`.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import secrets
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lab.bmc import PASSWORD, SENSORS, USER

R = "/redfish/v1"
C = f"{R}/Chassis/1U"
DEFAULTS: dict[str, Any] = {
    "generation": "both",  # legacy | new | both
    "expand": True,  # $expand=.($levels=1) honoured and advertised
    "fan_percent": False,  # fans report percent of 10000 RPM
    "old_names": False,  # CurrentReading, FanName, Units instead of the current names
    "no_units": False,  # readings without ReadingUnits
    "sensors_only": False,  # no Thermal; ThermalSubsystem with an empty Fans collection
    "trailing_slash": False,  # every link ends in '/'
    "encoded_ids": False,  # PSU ids need URL encoding ("PSU 1" -> PSU%201)
    "same_psu_names": False,  # every PSU is called "Power Supply"
    "null_thresholds": False,  # thresholds present but null
    "extra_chassis": 0,  # more chassis members (drive backplanes etc., each with a Sensors collection)
    "max_sessions": 4,
    "delay": 0.0,  # seconds added to every request
    "page_size": 0,  # collections longer than this are paged (Members@odata.nextLink)
}
_KIND = {
    "temperature": ("Temperature", "Cel"),
    "fan": ("Rotational", "RPM"),
    "power": ("Power", "W"),
    "current": ("Current", "A"),
    "voltage": ("Voltage", "V"),
}
_TH = {
    "lnr": "LowerFatal",
    "lcr": "LowerCritical",
    "lnc": "LowerCaution",
    "unc": "UpperCaution",
    "ucr": "UpperCritical",
    "unr": "UpperFatal",
}
_LEGACY_TH = {
    "lnr": "LowerThresholdFatal",
    "lcr": "LowerThresholdCritical",
    "lnc": "LowerThresholdNonCritical",
    "unc": "UpperThresholdNonCritical",
    "ucr": "UpperThresholdCritical",
    "unr": "UpperThresholdFatal",
}


def _table() -> dict[str, dict[str, Any]]:
    out = {}
    for s in SENSORS:
        out[s.rf_id] = {
            "id": s.rf_id,
            "name": s.name,
            "kind": s.kind,
            "reading": s.value,
            "state": "Enabled",
            "health": None,
            "th": dict(s.thresholds),
        }
    return out


class Bmc:
    """The state of one simulated BMC."""

    def __init__(self, delay: float = 0.0, user: str = USER, password: str = PASSWORD) -> None:
        self.user, self.password = user, password
        self.lock = threading.Lock()
        self.base_delay = delay
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.sensors = _table()
            self.opts = dict(DEFAULTS, delay=self.base_delay)
            self.faults: list[dict[str, Any]] = []
            self.sessions: dict[str, str] = {}
            self.stats = {"requests": 0, "logins": 0, "logouts": 0}
            self.sel: list[dict[str, Any]] = []
            self.skip = 0

    # -- the sensor table as Redfish ---------------------------------------------------------------------
    def _link(self, path: str) -> dict[str, str]:
        return {"@odata.id": path + ("/" if self.opts["trailing_slash"] else "")}

    def _health(self, s: dict[str, Any]) -> str:
        if s["health"]:
            return s["health"]
        v, th = s["reading"], s["th"]
        if v is None:
            return "OK"
        if any(
            k in th and ((k[0] == "u" and v >= th[k]) or (k[0] == "l" and v <= th[k]))
            for k in ("ucr", "unr", "lcr", "lnr")
        ):
            return "Critical"
        if any(
            k in th and ((k[0] == "u" and v >= th[k]) or (k[0] == "l" and v <= th[k])) for k in ("unc", "lnc")
        ):
            return "Warning"
        return "OK"

    def _status(self, s: dict[str, Any]) -> dict[str, Any]:
        if s["state"] == "Absent":
            return {"State": "Absent"}
        return {"State": s["state"], "Health": self._health(s)}

    def _fan_value(self, v: float | None) -> float | None:
        return None if v is None else (round(v / 100.0, 1) if self.opts["fan_percent"] else v)

    def _reading(self, s: dict[str, Any]) -> float | None:
        if s["state"] == "Absent":
            return 0
        return self._fan_value(s["reading"]) if s["kind"] == "fan" else s["reading"]

    def _psu_id(self, s: dict[str, Any]) -> str:
        return s["id"].replace("PSU", "PSU ") if self.opts["encoded_ids"] else s["id"]

    def _sensor_doc(self, s: dict[str, Any], chassis: str = C) -> dict[str, Any]:
        rtype, units = _KIND[s["kind"]]
        if s["kind"] == "fan" and self.opts["fan_percent"]:
            rtype, units = "Percent", "%"
        d: dict[str, Any] = {
            "@odata.id": f"{chassis}/Sensors/{s['id']}",
            "@odata.type": "#Sensor.v1_6_0.Sensor",
            "Id": s["id"],
            "Name": s["name"],
            "ReadingType": rtype,
            "Reading": self._reading(s),
            "Status": self._status(s),
        }
        if s["kind"] == "fan":
            d["PhysicalContext"] = "Fan"
        if s["id"] == "TotalPower":
            d["PhysicalContext"] = "Chassis"
        if not self.opts["no_units"]:
            d["ReadingUnits"] = units
        th = {
            _TH[k]: {
                "Reading": None
                if self.opts["null_thresholds"]
                else (self._fan_value(v) if s["kind"] == "fan" else v)
            }
            for k, v in s["th"].items()
        }
        if th:
            d["Thresholds"] = th
        return d

    def _of(self, *kinds: str) -> list[dict[str, Any]]:
        return [s for s in self.sensors.values() if s["kind"] in kinds]

    def _legacy_th(self, s: dict[str, Any]) -> dict[str, Any]:
        return {
            _LEGACY_TH[k]: None
            if self.opts["null_thresholds"]
            else (self._fan_value(v) if s["kind"] == "fan" else v)
            for k, v in s["th"].items()
        }

    def _thermal(self) -> dict[str, Any]:
        temps, fans = [], []
        for i, s in enumerate(self._of("temperature")):
            key = "CurrentReading" if self.opts["old_names"] else "ReadingCelsius"
            temps.append(
                {
                    "@odata.id": f"{C}/Thermal#/Temperatures/{i}",
                    "MemberId": str(i),
                    "Name": s["name"],
                    key: self._reading(s),
                    "Status": self._status(s),
                    **self._legacy_th(s),
                }
            )
        for i, s in enumerate(self._of("fan")):
            f = {
                "@odata.id": f"{C}/Thermal#/Fans/{i}",
                "MemberId": str(i),
                "FanName" if self.opts["old_names"] else "Name": s["name"],
                "CurrentReading" if self.opts["old_names"] else "Reading": self._reading(s),
                "Status": self._status(s),
                **self._legacy_th(s),
            }
            if not self.opts["no_units"]:
                f["Units" if self.opts["old_names"] else "ReadingUnits"] = (
                    "Percent" if self.opts["fan_percent"] else "RPM"
                )
            fans.append(f)
        return {
            "@odata.id": f"{C}/Thermal",
            "@odata.type": "#Thermal.v1_7_0.Thermal",
            "Id": "Thermal",
            "Name": "Thermal",
            "Temperatures": temps,
            "Fans": fans,
        }

    def _psu_name(self, s: dict[str, Any]) -> str:
        return "Power Supply" if self.opts["same_psu_names"] else s["name"].replace(" Status", "")

    def _power(self) -> dict[str, Any]:
        total = self.sensors["TotalPower"]
        volts = [
            {
                "@odata.id": f"{C}/Power#/Voltages/{i}",
                "MemberId": str(i),
                "Name": s["name"],
                "ReadingVolts": s["reading"],
                "Status": self._status(s),
                **self._legacy_th(s),
            }
            for i, s in enumerate(self._of("voltage"))
        ]
        psus = [
            {
                "@odata.id": f"{C}/Power#/PowerSupplies/{i}",
                "MemberId": self._psu_id(s),
                "Name": self._psu_name(s),
                "Status": self._status(s),
            }
            for i, s in enumerate(self._of("psu"))
        ]
        return {
            "@odata.id": f"{C}/Power",
            "@odata.type": "#Power.v1_7_0.Power",
            "Id": "Power",
            "Name": "Power",
            "PowerControl": [
                {
                    "@odata.id": f"{C}/Power#/PowerControl/0",
                    "MemberId": "0",
                    "Name": "System Power Control",
                    "PowerConsumedWatts": total["reading"],
                    "PowerCapacityWatts": 1000,
                }
            ],
            "Voltages": volts,
            "PowerSupplies": psus,
        }

    def _psu_doc(self, s: dict[str, Any]) -> dict[str, Any]:
        pid = urllib.parse.quote(self._psu_id(s))
        return {
            "@odata.id": f"{C}/PowerSubsystem/PowerSupplies/{pid}",
            "@odata.type": "#PowerSupply.v1_5_0.PowerSupply",
            "Id": self._psu_id(s),
            "Name": self._psu_name(s),
            "Status": self._status(s),
        }

    def _fan_doc(self, s: dict[str, Any]) -> dict[str, Any]:
        v = None if s["state"] == "Absent" else s["reading"]
        return {
            "@odata.id": f"{C}/ThermalSubsystem/Fans/{s['id']}",
            "@odata.type": "#Fan.v1_3_0.Fan",
            "Id": s["id"],
            "Name": s["name"],
            "Status": self._status(s),
            "SpeedPercent": {
                "Reading": 0 if v is None else round(v / 100.0, 1),
                "SpeedRPM": v or 0,
                "DataSourceUri": f"{C}/Sensors/{s['id']}",
            },
        }

    def _coll(self, path: str, name: str, docs: list[dict[str, Any]], expand: bool) -> dict[str, Any]:
        mem = [copy.deepcopy(d) if expand else self._link(d["@odata.id"]) for d in docs]
        out = {"@odata.id": path, "Name": name, "Members@odata.count": len(mem), "Members": mem}
        size = int(self.opts["page_size"])
        if size and len(mem) > size:
            skip = self.skip
            out["Members"] = mem[skip : skip + size]
            if skip + size < len(mem):
                out["Members@odata.nextLink"] = f"{path}?$skip={skip + size}"
        return out

    def _chassis(self, cid: str) -> dict[str, Any]:
        path = f"{R}/Chassis/{cid}"
        d: dict[str, Any] = {
            "@odata.id": path,
            "@odata.type": "#Chassis.v1_22_0.Chassis",
            "Id": cid,
            "Name": "Computer System Chassis" if cid == "1U" else f"Backplane {cid}",
            "PowerState": "On",
            "Status": {
                "State": "Enabled",
                "Health": "OK",
                "HealthRollup": self._rollup() if cid == "1U" else "OK",
            },
            "Sensors": self._link(f"{path}/Sensors"),
        }
        if cid != "1U":
            return d
        gen = self.opts["generation"]
        if gen in ("legacy", "both") and not self.opts["sensors_only"]:
            d["Thermal"] = self._link(f"{C}/Thermal")
        if gen in ("legacy", "both"):
            d["Power"] = self._link(f"{C}/Power")
        if gen in ("new", "both"):
            d["ThermalSubsystem"] = self._link(f"{C}/ThermalSubsystem")
            d["PowerSubsystem"] = self._link(f"{C}/PowerSubsystem")
        if gen == "legacy":
            del d["Sensors"]
        return d

    def _rollup(self) -> str:
        hs = [self._health(s) for s in self.sensors.values() if s["state"] != "Absent"]
        return "Critical" if "Critical" in hs else "Warning" if "Warning" in hs else "OK"

    def _chassis_ids(self) -> list[str]:
        return ["1U"] + [f"BP{i}" for i in range(1, int(self.opts["extra_chassis"]) + 1)]

    def resource(self, path: str, expand: bool) -> dict[str, Any] | None:
        expand = expand and self.opts["expand"]
        p = path.rstrip("/") or "/"
        if p in (R, "/redfish"):
            return {
                "@odata.id": f"{R}/",
                "@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot",
                "Id": "RootService",
                "Name": "Root Service",
                "RedfishVersion": "1.15.0",
                "ProtocolFeaturesSupported": {
                    "ExpandQuery": {
                        "ExpandAll": self.opts["expand"],
                        "Levels": self.opts["expand"],
                        "MaxLevels": 1,
                    }
                },
                "Systems": self._link(f"{R}/Systems"),
                "Chassis": self._link(f"{R}/Chassis"),
                "SessionService": self._link(f"{R}/SessionService"),
                "Links": {"Sessions": self._link(f"{R}/SessionService/Sessions")},
            }
        if p == f"{R}/Systems":
            return self._coll(p, "Systems", [self.resource(f"{R}/Systems/1", False)], expand)  # type: ignore[list-item]
        if p == f"{R}/Systems/1":
            return {
                "@odata.id": p,
                "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
                "Id": "1",
                "Name": "System",
                "PowerState": "On",
                "Status": {"State": "Enabled", "Health": "OK", "HealthRollup": self._rollup()},
                "LogServices": self._link(f"{p}/LogServices"),
            }
        if p == f"{R}/Systems/1/LogServices":
            return self._coll(p, "Log Services", [self.resource(f"{p}/SEL", False)], expand)  # type: ignore[list-item]
        if p == f"{R}/Systems/1/LogServices/SEL":
            return {
                "@odata.id": p,
                "@odata.type": "#LogService.v1_3_0.LogService",
                "Id": "SEL",
                "Name": "System Event Log",
                "LogEntryType": "SEL",
                "MaxNumberOfRecords": 1000,
                "Entries": self._link(f"{p}/Entries"),
            }
        if p == f"{R}/Systems/1/LogServices/SEL/Entries":
            return self._coll(p, "Log Entries", self.sel, expand)
        if p == f"{R}/Chassis":
            return self._coll(p, "Chassis", [self._chassis(c) for c in self._chassis_ids()], expand)
        for cid in self._chassis_ids():
            cp = f"{R}/Chassis/{cid}"
            if p == cp:
                return self._chassis(cid)
            if cid != "1U" and p == f"{cp}/Sensors":
                return self._coll(p, "Sensors", [], expand)
        gen = self.opts["generation"]
        legacy, new = gen in ("legacy", "both"), gen in ("new", "both")
        if p == f"{C}/Sensors" and gen != "legacy":
            return self._coll(
                p,
                "Sensors",
                [self._sensor_doc(s) for s in self.sensors.values() if s["kind"] != "psu"],
                expand,
            )
        if p.startswith(f"{C}/Sensors/") and gen != "legacy":
            s = self.sensors.get(p.rsplit("/", 1)[1])
            return self._sensor_doc(s) if s and s["kind"] != "psu" else None
        if p == f"{C}/Thermal" and legacy and not self.opts["sensors_only"]:
            return self._thermal()
        if p == f"{C}/Power" and legacy:
            return self._power()
        if p == f"{C}/ThermalSubsystem" and new:
            return {
                "@odata.id": p,
                "Id": "ThermalSubsystem",
                "Name": "Thermal Subsystem",
                "Fans": self._link(f"{p}/Fans"),
                "ThermalMetrics": self._link(f"{p}/ThermalMetrics"),
            }
        if p == f"{C}/ThermalSubsystem/Fans" and new:
            fans = [] if self.opts["sensors_only"] else [self._fan_doc(s) for s in self._of("fan")]
            return self._coll(p, "Fans", fans, expand)
        if p.startswith(f"{C}/ThermalSubsystem/Fans/") and new and not self.opts["sensors_only"]:
            s = self.sensors.get(p.rsplit("/", 1)[1])
            return self._fan_doc(s) if s and s["kind"] == "fan" else None
        if p == f"{C}/ThermalSubsystem/ThermalMetrics" and new:
            return {
                "@odata.id": p,
                "Id": "ThermalMetrics",
                "Name": "Thermal Metrics",
                "TemperatureReadingsCelsius": [
                    {
                        "DataSourceUri": f"{C}/Sensors/{s['id']}",
                        "DeviceName": s["name"],
                        "Reading": s["reading"],
                    }
                    for s in self._of("temperature")
                    if s["state"] != "Absent"
                ],
            }
        if p == f"{C}/PowerSubsystem" and new:
            return {
                "@odata.id": p,
                "Id": "PowerSubsystem",
                "Name": "Power Subsystem",
                "PowerSupplies": self._link(f"{p}/PowerSupplies"),
            }
        if p == f"{C}/PowerSubsystem/PowerSupplies" and new:
            return self._coll(p, "Power Supplies", [self._psu_doc(s) for s in self._of("psu")], expand)
        if p.startswith(f"{C}/PowerSubsystem/PowerSupplies/") and new:
            want = urllib.parse.unquote(p.rsplit("/", 1)[1])
            for s in self._of("psu"):
                if self._psu_id(s) == want:
                    return self._psu_doc(s)
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(
        self,
        code: int,
        body: bytes,
        ctype: str = "application/json",
        headers: dict[str, str] | None = None,
        full_length: int | None = None,
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(full_length if full_length is not None else len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if full_length is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, doc: Any, headers: dict[str, str] | None = None) -> None:
        self._send(code, json.dumps(doc).encode(), headers=headers)

    def _error(self, code: int, message_id: str) -> None:
        self._json(
            code,
            {
                "error": {
                    "code": f"Base.1.8.{message_id}",
                    "message": message_id,
                    "@Message.ExtendedInfo": [{"MessageId": f"Base.1.8.{message_id}"}],
                }
            },
        )

    def _body(self) -> Any:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw else {}

    def _authorized(self, bmc: Bmc) -> bool:
        token = self.headers.get("X-Auth-Token")
        if token:
            return token in bmc.sessions
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return False
            return user == bmc.user and pw == bmc.password
        return False

    def _fault(self, bmc: Bmc, path: str) -> bool:
        with bmc.lock:
            f = next((f for f in bmc.faults if f.get("path", "") in path), None)
            if f is not None and f.get("count") is not None:
                f["count"] -= 1
                if f["count"] <= 0:
                    bmc.faults.remove(f)
        if f is None:
            return False
        if f.get("delay"):
            time.sleep(float(f["delay"]))
        if f.get("trickle"):
            self._trickle(float(f["trickle"]))
            return True
        body = f.get("body")
        if body == "html":
            self._send(
                int(f.get("status", 200)),
                b"<html><body><h1>Service Unavailable</h1></body></html>",
                "text/html",
            )
        elif body == "malformed":
            self._send(int(f.get("status", 200)), b'{"@odata.id": "/redfish/v1/", "Name": ')
        elif body == "half":
            self._send(int(f.get("status", 200)), b'{"@odata.id": "/redfish/v1/", "Na', full_length=400)
        elif f.get("status"):
            self._error(int(f["status"]), f.get("message_id", "InternalError"))
        else:
            return False  # a pure delay: answer normally
        return True

    def _trickle(self, every: float) -> None:
        """A BMC that hangs mid-answer: headers at once, then one byte of the body every `every` seconds."""
        body = b'{"@odata.id": "/redfish/v1/", "Name": "' + b"x" * 4000 + b'"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.close_connection = True
        try:
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(every)
        except OSError:
            pass  # the client gave up

    def do_GET(self) -> None:
        bmc = self.server.bmc
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_lab/stats":
            return self._json(200, {**bmc.stats, "sessions": len(bmc.sessions)})
        if not url.path.startswith(R):
            return self._error(404, "ResourceMissingAtURI")
        with bmc.lock:
            bmc.stats["requests"] += 1
            delay = float(bmc.opts["delay"])
        if delay:
            time.sleep(delay)
        if self._fault(bmc, url.path):
            return None
        if self.server.mockup is not None:
            return self._mockup(url.path)
        if url.path.rstrip("/") not in (R, "/redfish") and not self._authorized(bmc):
            return self._error(401, "NoValidSession")
        query = urllib.parse.unquote(url.query)
        expand = "$expand" in query
        if self.server.tree is not None:
            return self._tree(url.path, expand)
        skip = urllib.parse.parse_qs(url.query).get("$skip", ["0"])[0]
        with bmc.lock:
            bmc.skip = int(skip) if skip.isdigit() else 0
            doc = bmc.resource(url.path, expand)
        if doc is None:
            return self._error(404, "ResourceMissingAtURI")
        return self._json(200, doc)

    def _tree(self, path: str, expand: bool) -> None:
        """A fixture tree (path -> resource); collections expanded when asked and the root advertises it."""
        tree = self.server.tree
        assert tree is not None
        doc = tree.get(urllib.parse.unquote(path).rstrip("/") or "/")
        if doc is None:
            return self._error(404, "ResourceMissingAtURI")
        feats = tree.get(R, {}).get("ProtocolFeaturesSupported", {}).get("ExpandQuery", {})
        if expand and feats.get("ExpandAll") and isinstance(doc.get("Members"), list):
            members = [tree.get(m.get("@odata.id", "").rstrip("/"), m) for m in doc["Members"]]
            doc = {**doc, "Members": members}
        return self._json(200, doc)

    def _mockup(self, path: str) -> None:
        f = self.server.mockup / path.strip("/") / "index.json"  # type: ignore[operator]
        if ".." in path or not f.is_file():
            return self._error(404, "ResourceMissingAtURI")
        return self._send(200, f.read_bytes())

    def do_POST(self) -> None:
        bmc = self.server.bmc
        path = urllib.parse.urlsplit(self.path).path
        try:
            body = self._body()
        except ValueError:
            return self._error(400, "MalformedJSON")
        if path.startswith("/_lab/"):
            return self._control(bmc, path[6:], body)
        with bmc.lock:
            bmc.stats["requests"] += 1
            delay = float(bmc.opts["delay"])
        if delay:
            time.sleep(delay)
        if self._fault(bmc, path):
            return None
        if path.rstrip("/") == f"{R}/SessionService/Sessions":
            if body.get("UserName") != bmc.user or body.get("Password") != bmc.password:
                return self._error(401, "ResourceAtUriUnauthorized")
            with bmc.lock:
                if len(bmc.sessions) >= int(bmc.opts["max_sessions"]):
                    return self._error(503, "SessionLimitExceeded")
                token, sid = secrets.token_hex(16), secrets.token_hex(4)
                bmc.sessions[token] = sid
                bmc.stats["logins"] += 1
            loc = f"{R}/SessionService/Sessions/{sid}"
            return self._json(
                201,
                {"@odata.id": loc, "Id": sid, "UserName": bmc.user},
                headers={"X-Auth-Token": token, "Location": loc},
            )
        return self._error(405, "ActionNotSupported")

    def do_DELETE(self) -> None:
        bmc = self.server.bmc
        path = urllib.parse.urlsplit(self.path).path
        with bmc.lock:
            bmc.stats["requests"] += 1
            for token, sid in list(bmc.sessions.items()):
                if (
                    path.rstrip("/") == f"{R}/SessionService/Sessions/{sid}"
                    and self.headers.get("X-Auth-Token") in bmc.sessions
                ):
                    del bmc.sessions[token]
                    bmc.stats["logouts"] += 1
                    self._send(204, b"")
                    return
        self._error(404, "ResourceMissingAtURI")

    def _control(self, bmc: Bmc, what: str, body: dict[str, Any]) -> None:
        with bmc.lock:
            if what in ("sensor", "psu"):
                s = bmc.sensors.get(body.get("id", ""))
                if s is None:
                    return self._error(404, "ResourceMissingAtURI")
                for k in ("reading", "state", "health"):
                    if k in body:
                        s[k] = body[k]
                n = len(bmc.sel) + 1  # every change is logged, as a BMC would
                bmc.sel.append(
                    {
                        "@odata.id": f"{R}/Systems/1/LogServices/SEL/Entries/{n}",
                        "Id": str(n),
                        "Name": "Log Entry",
                        "EntryType": "SEL",
                        "Message": f"{s['name']} changed",
                    }
                )
            elif what == "fault":
                bmc.faults.append(body)
            elif what == "config":
                unknown = set(body) - set(DEFAULTS)
                if unknown:
                    return self._error(400, "PropertyUnknown")
                bmc.opts.update(body)
            elif what == "expire":
                bmc.sessions.clear()
            elif what != "reset":
                return self._error(404, "ResourceMissingAtURI")
        if what == "reset":
            bmc.reset()
        return self._json(200, {"ok": True})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        port: int,
        bmc: Bmc,
        mockup: Path | None = None,
        host: str = "127.0.0.1",
        tls: tuple[str, str] | None = None,
        tree: dict[str, Any] | None = None,
    ) -> None:
        self.bmc, self.mockup, self.tree = bmc, mockup, tree
        super().__init__((host, port), Handler)
        if tls:
            import ssl

            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            # the handshake happens in the request's thread, not in the accept loop
            self.socket = ctx.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)


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
        argv = [sys.executable, "-m", "lab.bmc_redfish", "--delay", str(delay)]
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
            _self_signed(d / "cert.pem", d / "key.pem")
            self.ca_file = d / "cert.pem"
            argv += ["--tls-cert", str(d / "cert.pem"), "--tls-key", str(d / "key.pem")]
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


def _self_signed(cert: Path, key: Path) -> None:
    """A throw-away certificate for 127.0.0.1 (with cryptography, a project dependency)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "colo-bmc-lab")])
    now = datetime.datetime.now(datetime.UTC)
    c = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(k.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(k, hashes.SHA256())
    )
    cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        k.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, action="append", required=True)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--mockup", type=Path)
    ap.add_argument("--tree", type=Path, help="a fixture tree.json (path -> resource) to serve, with login")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()
    tls = (a.tls_cert, a.tls_key) if a.tls_cert else None
    tree = json.loads(a.tree.read_text()) if a.tree else None
    servers = [Server(p, Bmc(a.delay), a.mockup, tls=tls, tree=tree) for p in a.port]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
