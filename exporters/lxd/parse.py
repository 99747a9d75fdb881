"""LXD API answers -> plain data. Pure functions, no I/O; tested on captured real output.

A value LXD does not report (a VM without its agent, disk usage on the `dir` driver, a stopped
instance's counters) is `None` here and an absent series later, never a zero.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class Malformed(ValueError):
    """The answer is not shaped like LXD's API says it is."""


@dataclass(slots=True)
class NetDev:
    device: str
    rx_bytes: float | None
    tx_bytes: float | None
    rx_packets: float | None
    tx_packets: float | None
    rx_errs: float | None
    tx_errs: float | None
    rx_drop: float | None
    tx_drop: float | None


@dataclass(slots=True)
class Disk:
    device: str
    usage_bytes: float | None
    quota_bytes: float | None


@dataclass(slots=True)
class Instance:
    project: str
    name: str
    location: str
    type: str  # container | virtual-machine
    status: str  # running | stopped | frozen | error | other
    architecture: str
    created: float | None  # unix seconds
    last_used: float | None
    cpu_seconds: float | None
    memory_usage_bytes: float | None
    memory_peak_bytes: float | None
    swap_usage_bytes: float | None
    processes: float | None
    memory_limit_bytes: float | None
    memory_limit_ratio: float | None  # limits.memory given as a percentage of the host's memory
    cpu_limit: float | None  # limits.cpu: CPUs, from a count or a set/range
    cpu_allowance_ratio: float | None  # limits.cpu.allowance: 50% or 25ms/100ms
    network: tuple[NetDev, ...]
    disks: tuple[Disk, ...]
    user: tuple[str, ...]  # values of the allow-listed user.* keys, "" when unset


@dataclass(frozen=True, slots=True)
class Server:
    server_name: str
    version: str
    clustered: bool
    trusted: bool
    daemon: str = "lxd"  # lxd | incus (`environment.server`), else what it says
    extensions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    url: str
    status: str  # Online | Evacuated | Offline | Blocked | ...
    message: str
    roles: tuple[str, ...]
    failure_domain: str
    architecture: str
    database: bool


@dataclass(frozen=True, slots=True)
class Pool:
    name: str
    driver: str
    status: str


@dataclass(frozen=True, slots=True)
class PoolUsage:
    space_used: float | None
    space_total: float | None
    inodes_used: float | None
    inodes_total: float | None


@dataclass(frozen=True, slots=True)
class Project:
    name: str
    description: str


STATUSES = ("running", "stopped", "frozen", "error", "other")
MEMBER_STATUSES = ("Online", "Evacuated", "Offline", "Blocked", "other")


# Answers are decoded JSON: objects are dicts (isinstance with the Mapping ABC is 4 times slower).


def metadata(envelope: Any, what: str) -> Any:
    """The `metadata` of a sync answer; Malformed for anything else."""
    if not isinstance(envelope, dict):
        raise Malformed(f"{what}: expected a JSON object, got {type(envelope).__name__}")
    if envelope.get("type") != "sync":
        raise Malformed(f"{what}: expected a sync answer, got type {envelope.get('type')!r}")
    if "metadata" not in envelope:
        raise Malformed(f"{what}: no metadata")
    return envelope["metadata"]


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def _str(v: Any) -> str:
    return v if isinstance(v, str) else ""


def _dict(v: Any) -> Mapping[str, Any]:
    return v if isinstance(v, dict) else {}


def _list(v: Any, what: str) -> list[Any]:
    if not isinstance(v, list):
        raise Malformed(f"{what}: expected a list, got {type(v).__name__}")
    return v


def parse_time(text: Any) -> float | None:
    """RFC 3339 with nanoseconds -> unix seconds; None for LXD's zero time (`0001-01-01T00:00:00Z`) and
    for a time without its zone. `datetime.fromisoformat` reads the rest eight times faster than a regex
    and `calendar.timegm`; the fraction is added on its own (it would keep microseconds only)."""
    if not isinstance(text, str) or len(text) < 20 or text[10:11] != "T":
        return None
    frac = 0.0
    if text[19] == ".":
        end = 20
        while end < len(text) and "0" <= text[end] <= "9":
            end += 1
        if end == 20:
            return None  # a point without digits
        frac = float(text[19:end])
        text = text[:19] + text[end:]
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    if t.tzinfo is None or t.year <= 1970:
        return None
    return t.timestamp() + frac


_UNITS = {
    "": 1,
    "B": 1,
    "kB": 1e3,
    "KB": 1e3,
    "MB": 1e6,
    "GB": 1e9,
    "TB": 1e12,
    "PB": 1e15,
    "EB": 1e18,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
    "PiB": 2**50,
    "EiB": 2**60,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_size(text: Any) -> float | None:
    """LXD byte sizes (`64MiB`, `1GB`, `1073741824`) -> bytes; None if not one."""
    if not isinstance(text, str):
        return None
    m = _SIZE.match(text)
    if not m or m.group(2) not in _UNITS:
        return None
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_percent(text: Any) -> float | None:
    """`50%` -> 0.5."""
    if isinstance(text, str) and text.strip().endswith("%"):
        try:
            return float(text.strip()[:-1]) / 100.0
        except ValueError:
            return None
    return None


def parse_cpu_limit(text: Any) -> float | None:
    """`limits.cpu`: a count (`2`) or a CPU set (`0-3`, `0,2`, `0-1,4`) -> number of CPUs."""
    if not isinstance(text, str) or not text.strip():
        return None
    s = text.strip()
    if s.isdigit() and "-" not in s and "," not in s:
        return float(int(s))
    cpus: set[int] = set()
    for part in s.split(","):
        a, sep, b = part.strip().partition("-")
        if not a.isdigit() or (sep and not b.isdigit()):
            return None
        lo, hi = int(a), int(b) if sep else int(a)
        if hi < lo or hi - lo > 65536:
            return None
        cpus.update(range(lo, hi + 1))
    return float(len(cpus))


_ALLOWANCE = re.compile(r"^\s*(\d+(?:\.\d+)?)ms\s*/\s*(\d+(?:\.\d+)?)ms\s*$")


def parse_cpu_allowance(text: Any) -> float | None:
    """`limits.cpu.allowance`: `50%` -> 0.5, `25ms/100ms` -> 0.25 (of one CPU)."""
    pct = parse_percent(text)
    if pct is not None:
        return pct
    if isinstance(text, str):
        m = _ALLOWANCE.match(text)
        if m and float(m.group(2)) > 0:
            return float(m.group(1)) / float(m.group(2))
    return None


def _status(text: Any) -> str:
    s = _str(text).lower()
    return s if s in STATUSES else "other"


def _netdevs(network: Any) -> tuple[NetDev, ...]:
    out = []
    for dev, info in _dict(network).items():
        info = _dict(info)
        c = _dict(info.get("counters"))
        if not c or info.get("type") == "loopback":  # traffic inside the instance: not what is watched
            continue
        out.append(
            NetDev(
                str(dev),
                _num(c.get("bytes_received")),
                _num(c.get("bytes_sent")),
                _num(c.get("packets_received")),
                _num(c.get("packets_sent")),
                _num(c.get("errors_received")),
                _num(c.get("errors_sent")),
                _num(c.get("packets_dropped_inbound")),
                _num(c.get("packets_dropped_outbound")),
            )
        )
    return tuple(out)


def _disks(state_disk: Any, devices: Mapping[str, Any]) -> tuple[Disk, ...]:
    usage = _dict(state_disk)
    out = []
    names = [n for n, d in devices.items() if _dict(d).get("type") == "disk"]
    names += [n for n in usage if n not in devices]
    for name in names:
        u = _dict(usage.get(name))
        total = _num(u.get("total"))
        quota = total if total else parse_size(_dict(devices.get(name)).get("size"))
        used = _num(u.get("usage"))
        if used is None and quota is None:
            continue
        out.append(Disk(str(name), used, quota))
    return tuple(out)


def instance(raw: Any, user_keys: Sequence[str] = ()) -> Instance:
    """One element of `/1.0/instances?recursion=1` or `recursion=2` (only the latter has `state`)."""
    if not isinstance(raw, dict):
        raise Malformed(f"instance: expected an object, got {type(raw).__name__}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise Malformed("instance without a name")
    cfg = _dict(raw.get("expanded_config"))
    devices = _dict(raw.get("expanded_devices"))
    kind = _str(raw.get("type")) or "container"
    status = _status(raw.get("status"))
    state = raw.get("state")
    live = isinstance(state, dict) and status in ("running", "frozen")
    st = _dict(state) if live else {}
    procs = _num(st.get("processes"))
    # A VM whose agent does not answer reports processes -1 and zero CPU and memory: not real values.
    agent = not (kind == "virtual-machine" and (procs is None or procs < 0))
    cpu = mem_use = mem_peak = swap = None
    if live and agent:
        cpu_ns = _num(_dict(st.get("cpu")).get("usage"))
        cpu = cpu_ns / 1e9 if cpu_ns is not None else None
        mem = _dict(st.get("memory"))
        mem_use, mem_peak, swap = (
            _num(mem.get("usage")),
            _num(mem.get("usage_peak")),
            _num(mem.get("swap_usage")),
        )
        if kind == "virtual-machine" and not cpu and not mem_use:
            cpu = mem_use = mem_peak = swap = None
    mem_limit = cfg.get("limits.memory")
    return Instance(
        project=_str(raw.get("project")) or "default",
        name=name,
        location=_str(raw.get("location")),
        type=kind,
        status=status,
        architecture=_str(raw.get("architecture")),
        created=parse_time(raw.get("created_at")),
        last_used=parse_time(raw.get("last_used_at")),
        cpu_seconds=cpu,
        memory_usage_bytes=mem_use,
        memory_peak_bytes=mem_peak,
        swap_usage_bytes=swap,
        processes=procs if (live and agent and procs is not None and procs >= 0) else None,
        memory_limit_bytes=parse_size(mem_limit),
        memory_limit_ratio=parse_percent(mem_limit),
        cpu_limit=parse_cpu_limit(cfg.get("limits.cpu")),
        cpu_allowance_ratio=parse_cpu_allowance(cfg.get("limits.cpu.allowance")),
        network=_netdevs(st.get("network")) if live else (),
        disks=_disks(st.get("disk") if live else None, devices),
        user=tuple(_str(cfg.get(k)) for k in user_keys),
    )


def instances(envelope: Any, user_keys: Sequence[str] = ()) -> list[Instance]:
    """`GET /1.0/instances?recursion=1&all-projects=true` (config and status: the counters are None) or
    `recursion=2` (with state)."""
    return [instance(r, user_keys) for r in _list(metadata(envelope, "instances"), "instances")]


def server(envelope: Any) -> Server:
    """`GET /1.0`."""
    md = metadata(envelope, "server")
    if not isinstance(md, dict):
        raise Malformed("server: metadata is not an object")
    env = _dict(md.get("environment"))
    ext = md.get("api_extensions")
    return Server(
        server_name=_str(env.get("server_name")),
        version=_str(env.get("server_version")),
        clustered=bool(env.get("server_clustered")),
        trusted=md.get("auth") == "trusted",
        daemon=_str(env.get("server")) or "lxd",
        extensions=frozenset(x for x in ext if isinstance(x, str)) if isinstance(ext, list) else frozenset(),
    )


def members(envelope: Any) -> list[Member]:
    """`GET /1.0/cluster/members?recursion=1`."""
    out = []
    for r in _list(metadata(envelope, "cluster members"), "cluster members"):
        if not isinstance(r, dict) or not isinstance(r.get("server_name"), str):
            raise Malformed("cluster member without a server_name")
        roles = r.get("roles")
        out.append(
            Member(
                name=r["server_name"],
                url=_str(r.get("url")),
                status=_str(r.get("status")),
                message=_str(r.get("message")),
                roles=tuple(x for x in roles if isinstance(x, str)) if isinstance(roles, list) else (),
                failure_domain=_str(r.get("failure_domain")),
                architecture=_str(r.get("architecture")),
                database=bool(r.get("database")),
            )
        )
    return out


def pools(envelope: Any) -> list[Pool]:
    """`GET /1.0/storage-pools?recursion=1`."""
    out = []
    for r in _list(metadata(envelope, "storage pools"), "storage pools"):
        if not isinstance(r, dict) or not isinstance(r.get("name"), str):
            raise Malformed("storage pool without a name")
        out.append(Pool(r["name"], _str(r.get("driver")), _str(r.get("status"))))
    return out


def pool_usage(envelope: Any) -> PoolUsage:
    """`GET /1.0/storage-pools/<pool>/resources`."""
    md = metadata(envelope, "storage pool resources")
    if not isinstance(md, dict):
        raise Malformed("storage pool resources: metadata is not an object")
    space, inodes = _dict(md.get("space")), _dict(md.get("inodes"))
    total = _num(space.get("total"))
    itotal = _num(inodes.get("total"))
    return PoolUsage(
        _num(space.get("used")),
        total if total else None,
        _num(inodes.get("used")) if itotal else None,
        itotal if itotal else None,
    )


def projects(envelope: Any) -> list[Project]:
    """`GET /1.0/projects?recursion=1`."""
    out = []
    for r in _list(metadata(envelope, "projects"), "projects"):
        if not isinstance(r, dict) or not isinstance(r.get("name"), str):
            raise Malformed("project without a name")
        out.append(Project(r["name"], _str(r.get("description"))))
    return out
