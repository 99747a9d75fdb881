"""The state of one simulated Redfish BMC, built from the lab's sensor table (lab/bmc_sensors.py): both
resource generations (legacy Thermal/Power; Sensors, ThermalSubsystem, PowerSubsystem), the quirk options of
`DEFAULTS`, sessions, SEL entries. `Bmc.resource(path)` answers through a route table. No I/O: the HTTP side
is lab/bmc_redfish_server.py.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from typing import Any

from .bmc_sensors import PASSWORD, SENSORS, USER

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
            # Parts whose health the exporter reads in the background (POST /_lab/part {id, health?, state?}).
            self.parts = {
                pid: {"id": pid, "name": name, "kind": kind, "health": "OK", "state": "Enabled"}
                for pid, name, kind in (
                    ("Disk0", "Drive 0", "drive"),
                    ("Disk1", "Drive 1", "drive"),
                    ("RAID", "RAID Controller", "controller"),
                    ("DIMM0", "DIMM A0", "memory"),
                    ("DIMM1", "DIMM B0", "memory"),
                    ("CPU1", "CPU 1", "processor"),
                    ("CPU2", "CPU 2", "processor"),
                )
            }

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
                **self._psu_watts(s, legacy=True),
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
            "PowerCapacityWatts": 800,
            "Metrics": self._link(f"{C}/PowerSubsystem/PowerSupplies/{pid}/Metrics"),
        }

    def _psu_watts(self, s: dict[str, Any], legacy: bool) -> dict[str, Any]:
        """What one PSU draws and delivers: its share of the system's power; nothing when absent,
        0 when it has failed."""
        if s["state"] == "Absent":
            return {}
        working = [x for x in self._of("psu") if x["state"] != "Absent" and self._health(x) == "OK"]
        out = 0.0
        if self._health(s) == "OK" and working:
            out = round(float(self.sensors["TotalPower"]["reading"]) / len(working), 1)
        inp = round(out / 0.92, 1)
        if legacy:
            return {"PowerInputWatts": inp, "LastPowerOutputWatts": out, "PowerCapacityWatts": 800}
        return {"InputPowerWatts": {"Reading": inp}, "OutputPowerWatts": {"Reading": out}}

    def _psu_metrics(self, p: str, expand: bool, pid: str) -> dict[str, Any] | None:
        want = urllib.parse.unquote(pid)
        s = next((x for x in self._of("psu") if self._psu_id(x) == want), None)
        if s is None or s["state"] == "Absent":
            return None
        kind = "#PowerSupplyMetrics.v1_0_1.PowerSupplyMetrics"
        return {"@odata.id": p, "@odata.type": kind, "Id": "Metrics", **self._psu_watts(s, legacy=False)}

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
        mem = [d if expand else self._link(d["@odata.id"]) for d in docs]  # docs are built per request
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

    # -- the route table: (path pattern, which generations serve it, the method that builds it) ---------
    ROUTES: tuple[tuple[str, str, str], ...] = (
        (r"/redfish(/v1)?", "any", "_root_doc"),
        (r"/redfish/v1/Systems", "any", "_systems_coll"),
        (r"/redfish/v1/Systems/1", "any", "_system_doc"),
        (r"/redfish/v1/Systems/1/LogServices", "any", "_logs_coll"),
        (r"/redfish/v1/Systems/1/LogServices/SEL", "any", "_sel_doc"),
        (r"/redfish/v1/Systems/1/LogServices/SEL/Entries", "any", "_sel_coll"),
        (r"/redfish/v1/Systems/1/Storage", "any", "_storage_coll"),
        (r"/redfish/v1/Systems/1/Storage/1", "any", "_storage_doc"),
        (r"/redfish/v1/Systems/1/Storage/1/Drives/(?P<pid>[^/]+)", "any", "_drive_doc"),
        (r"/redfish/v1/Systems/1/Memory", "any", "_memory_coll"),
        (r"/redfish/v1/Systems/1/(?P<group>Memory|Processors)/(?P<pid>[^/]+)", "any", "_part_doc"),
        (r"/redfish/v1/Systems/1/Processors", "any", "_cpus_coll"),
        (r"/redfish/v1/Chassis", "any", "_chassis_coll"),
        (r"/redfish/v1/Chassis/(?P<cid>[^/]+)", "any", "_chassis_doc"),
        (r"/redfish/v1/Chassis/(?P<cid>BP\d+)/Sensors", "any", "_empty_sensors"),
        (r"/redfish/v1/Chassis/1U/Sensors", "sensors", "_sensors_coll"),
        (r"/redfish/v1/Chassis/1U/Sensors/(?P<sid>[^/]+)", "sensors", "_sensor_one"),
        (r"/redfish/v1/Chassis/1U/Thermal", "legacy", "_thermal_doc"),
        (r"/redfish/v1/Chassis/1U/Power", "legacy", "_power_doc"),
        (r"/redfish/v1/Chassis/1U/ThermalSubsystem", "new", "_thermal_sub"),
        (r"/redfish/v1/Chassis/1U/ThermalSubsystem/Fans", "new", "_fans_coll"),
        (r"/redfish/v1/Chassis/1U/ThermalSubsystem/Fans/(?P<sid>[^/]+)", "new", "_fan_one"),
        (r"/redfish/v1/Chassis/1U/ThermalSubsystem/ThermalMetrics", "new", "_thermal_metrics"),
        (r"/redfish/v1/Chassis/1U/PowerSubsystem", "new", "_power_sub"),
        (r"/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies", "new", "_psus_coll"),
        (r"/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies/(?P<pid>[^/]+)", "new", "_psu_one"),
        (
            r"/redfish/v1/Chassis/1U/PowerSubsystem/PowerSupplies/(?P<pid>[^/]+)/Metrics",
            "new",
            "_psu_metrics",
        ),
    )
    _COMPILED = tuple((re.compile(p), g, m) for p, g, m in ROUTES)

    def resource(self, path: str, expand: bool) -> dict[str, Any] | None:
        """The resource at `path` (collections expanded when asked and enabled), or None (404)."""
        expand = expand and self.opts["expand"]
        p = path.rstrip("/") or "/"
        gen = self.opts["generation"]
        served = {"any": True, "legacy": gen in ("legacy", "both"), "new": gen in ("new", "both"),
                  "sensors": gen != "legacy"}  # fmt: skip
        for pattern, generations, method in self._COMPILED:
            m = pattern.fullmatch(p)
            if m and served[generations]:
                doc: dict[str, Any] | None = getattr(self, method)(p, expand, **m.groupdict())
                if doc is not None:
                    return doc
        return None

    def _root_doc(self, p: str, expand: bool) -> dict[str, Any]:
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

    def _systems_coll(self, p: str, expand: bool) -> dict[str, Any]:
        return self._coll(p, "Systems", [self._system_doc(f"{R}/Systems/1", False)], expand)

    def _system_doc(self, p: str, expand: bool) -> dict[str, Any]:
        return {
            "@odata.id": p,
            "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
            "Id": "1",
            "Name": "System",
            "PowerState": "On",
            "Status": {"State": "Enabled", "Health": "OK", "HealthRollup": self._rollup()},
            "LogServices": self._link(f"{p}/LogServices"),
            "Storage": self._link(f"{p}/Storage"),
            "Memory": self._link(f"{p}/Memory"),
            "Processors": self._link(f"{p}/Processors"),
        }

    def _logs_coll(self, p: str, expand: bool) -> dict[str, Any]:
        return self._coll(p, "Log Services", [self._sel_doc(f"{p}/SEL", False)], expand)

    def _sel_doc(self, p: str, expand: bool) -> dict[str, Any]:
        return {
            "@odata.id": p,
            "@odata.type": "#LogService.v1_3_0.LogService",
            "Id": "SEL",
            "Name": "System Event Log",
            "LogEntryType": "SEL",
            "MaxNumberOfRecords": 1000,
            "Entries": self._link(f"{p}/Entries"),
        }

    def _sel_coll(self, p: str, expand: bool) -> dict[str, Any]:
        return self._coll(p, "Log Entries", self.sel, expand)

    def _part(self, pid: str, path: str) -> dict[str, Any]:
        x = self.parts[pid]
        status = (
            {"State": "Absent"} if x["state"] == "Absent" else {"State": x["state"], "Health": x["health"]}
        )
        return {"@odata.id": path, "Id": pid, "Name": x["name"], "Status": status}

    def _of_parts(self, kind: str) -> list[str]:
        return [pid for pid, x in self.parts.items() if x["kind"] == kind]

    def _storage_coll(self, p: str, expand: bool) -> dict[str, Any]:
        return self._coll(p, "Storage", [self._storage_doc(f"{p}/1", False)], expand)

    def _storage_doc(self, p: str, expand: bool) -> dict[str, Any]:
        ctl = {**self._part("RAID", f"{p}#/StorageControllers/0"), "MemberId": "0"}
        return {
            "@odata.id": p,
            "Id": "1",
            "Name": "Storage",
            "Status": {"State": "Enabled", "Health": "OK"},
            "StorageControllers": [ctl],
            "Drives": [self._link(f"{p}/Drives/{d}") for d in self._of_parts("drive")],
        }

    def _drive_doc(self, p: str, expand: bool, pid: str) -> dict[str, Any] | None:
        return self._part(pid, p) if pid in self._of_parts("drive") else None

    def _memory_coll(self, p: str, expand: bool) -> dict[str, Any]:
        return self._coll(p, "Memory", [self._part(d, f"{p}/{d}") for d in self._of_parts("memory")], expand)

    def _cpus_coll(self, p: str, expand: bool) -> dict[str, Any]:
        return self._coll(
            p, "Processors", [self._part(d, f"{p}/{d}") for d in self._of_parts("processor")], expand
        )

    def _part_doc(self, p: str, expand: bool, group: str, pid: str) -> dict[str, Any] | None:
        kind = "memory" if group == "Memory" else "processor"
        return self._part(pid, p) if pid in self._of_parts(kind) else None

    def _chassis_coll(self, p: str, expand: bool) -> dict[str, Any]:
        return self._coll(p, "Chassis", [self._chassis(c) for c in self._chassis_ids()], expand)

    def _chassis_doc(self, p: str, expand: bool, cid: str) -> dict[str, Any] | None:
        return self._chassis(cid) if cid in self._chassis_ids() else None

    def _empty_sensors(self, p: str, expand: bool, cid: str) -> dict[str, Any] | None:
        return self._coll(p, "Sensors", [], expand) if cid in self._chassis_ids() else None

    def _sensors_coll(self, p: str, expand: bool) -> dict[str, Any]:
        docs = [self._sensor_doc(s) for s in self.sensors.values() if s["kind"] != "psu"]
        return self._coll(p, "Sensors", docs, expand)

    def _sensor_one(self, p: str, expand: bool, sid: str) -> dict[str, Any] | None:
        s = self.sensors.get(sid)
        return self._sensor_doc(s) if s and s["kind"] != "psu" else None

    def _thermal_doc(self, p: str, expand: bool) -> dict[str, Any] | None:
        return None if self.opts["sensors_only"] else self._thermal()

    def _power_doc(self, p: str, expand: bool) -> dict[str, Any]:
        return self._power()

    def _thermal_sub(self, p: str, expand: bool) -> dict[str, Any]:
        return {
            "@odata.id": p,
            "Id": "ThermalSubsystem",
            "Name": "Thermal Subsystem",
            "Fans": self._link(f"{p}/Fans"),
            "ThermalMetrics": self._link(f"{p}/ThermalMetrics"),
        }

    def _fans_coll(self, p: str, expand: bool) -> dict[str, Any]:
        fans = [] if self.opts["sensors_only"] else [self._fan_doc(s) for s in self._of("fan")]
        return self._coll(p, "Fans", fans, expand)

    def _fan_one(self, p: str, expand: bool, sid: str) -> dict[str, Any] | None:
        s = self.sensors.get(sid)
        return self._fan_doc(s) if s and s["kind"] == "fan" and not self.opts["sensors_only"] else None

    def _thermal_metrics(self, p: str, expand: bool) -> dict[str, Any]:
        return {
            "@odata.id": p,
            "Id": "ThermalMetrics",
            "Name": "Thermal Metrics",
            "TemperatureReadingsCelsius": [
                {"DataSourceUri": f"{C}/Sensors/{s['id']}", "DeviceName": s["name"], "Reading": s["reading"]}
                for s in self._of("temperature")
                if s["state"] != "Absent"
            ],
        }

    def _power_sub(self, p: str, expand: bool) -> dict[str, Any]:
        return {
            "@odata.id": p,
            "Id": "PowerSubsystem",
            "Name": "Power Subsystem",
            "PowerSupplies": self._link(f"{p}/PowerSupplies"),
        }

    def _psus_coll(self, p: str, expand: bool) -> dict[str, Any]:
        return self._coll(p, "Power Supplies", [self._psu_doc(s) for s in self._of("psu")], expand)

    def _psu_one(self, p: str, expand: bool, pid: str) -> dict[str, Any] | None:
        want = urllib.parse.unquote(pid)
        return next((self._psu_doc(s) for s in self._of("psu") if self._psu_id(s) == want), None)
