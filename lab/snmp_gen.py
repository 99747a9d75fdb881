"""snmpsim recordings (`.snmprec`: `OID|tag|value`, sorted by OID) of switches, made up but shaped like
real ones: access and uplink ports, LAGs (IEEE8023-LAG-MIB and ifStackTable), LLDP neighbours, aliases,
down ports, sparse large ifIndex values, an interface with only 32-bit counters, one with no ifXTable row,
hex-encoded and invalid-UTF-8 strings. Running counters use snmpsim's numeric variation module, so they move
between walks (`initial + rate * seconds`). Deterministic: the same arguments give the same text."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SYS = (1, 3, 6, 1, 2, 1, 1)
IF = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
IFSTACK = (1, 3, 6, 1, 2, 1, 31, 1, 2, 1, 3)
LAG_ATTACHED = (1, 2, 840, 10006, 300, 43, 1, 2, 1, 1, 13)
LLDP_REM = (1, 0, 8802, 1, 1, 2, 1, 4, 1, 1)
C32, C64 = 2**32 - 1, 2**64 - 1

# Port rules that fit the 54-port recording (used by the demo and the example config).
EXAMPLE_PORTS = [
    {"ifalias": "^WAN", "role": "wan", "link": "hive", "speed": "1G"},
    {"ifname": "Po1", "role": "uplink", "link": "srv1-bond", "speed": "20G"},
    {"ifname": "Te1/1/1", "role": "uplink", "link": "srv1-a", "speed": "10G"},
    {"ifname": "Te1/1/2", "role": "uplink", "link": "srv1-b", "speed": "10G"},
    {"ifalias": r"^mesh (\S+)", "role": "mesh", "link": r"\1", "speed": "1G"},
    {
        "ifindex": 20001,
        "role": "bmc",
        "link": "oob",
        "speed": "1G",
    },  # mgmt0 runs at 100M: slower than expected
]


@dataclass
class Port:
    index: int
    name: str
    descr: str
    iftype: int = 6
    speed_mbps: int = 1000
    alias: bytes = b""
    admin: int = 1
    oper: int = 1
    hc: bool = True  # has ifHC* counters
    ifx: bool = True  # has an ifXTable row at all
    lag: int | None = None  # ifIndex of the aggregate it belongs to
    lldp: tuple[str, str] | None = None
    rate: float = 0.0  # bytes per second in and out
    extra: dict = field(default_factory=dict)


def _oid(t: tuple[int, ...]) -> str:
    return ".".join(map(str, t))


def _s(v: bytes) -> tuple[str, str]:
    """An OCTET STRING: plain text if it is printable ASCII, else hex (tag 4x)."""
    if all(32 <= b < 127 for b in v) and "|" not in v.decode("ascii", "replace"):
        return "4", v.decode("ascii")
    return "4x", v.hex()


def render(ports: list[Port], sysname: str, rnd: random.Random, moving: bool = True) -> str:
    recs: list[tuple[tuple[int, ...], str, str]] = []

    def add(oid: tuple[int, ...], tag: str, value: object) -> None:
        recs.append((oid, tag, str(value)))

    def counter(oid: tuple[int, ...], tag: str, initial: int, rate: float) -> None:
        if moving and rate > 0:
            add(
                oid,
                tag + ":numeric",
                f"initial={initial},rate={rate:.3f},max={C64 if tag == '70' else C32},wrap=1",
            )
        else:
            add(oid, tag, initial)

    add(SYS + (1, 0), "4", f"Colo Lab Switch Software, Version 1.0 ({sysname})")
    add(SYS + (2, 0), "6", "1.3.6.1.4.1.8072.3.2.10")
    if moving:
        add(SYS + (3, 0), "67:numeric", "initial=123456789,rate=100")
    else:
        add(SYS + (3, 0), "67", 123456789)
    add(SYS + (5, 0), "4", sysname)
    add((1, 3, 6, 1, 2, 1, 2, 1, 0), "2", len(ports))
    for p in ports:
        up = p.oper == 1
        base = rnd.randrange(10**9, 10**12) if up else rnd.randrange(0, 10**6)
        rate = p.rate if up else 0.0
        pkt = rate / 700
        add(IF + (1, p.index), "2", p.index)
        add(IF + (2, p.index), *_s(p.descr.encode()))
        add(IF + (3, p.index), "2", p.iftype)
        add(IF + (4, p.index), "2", 9216 if p.iftype == 161 else 1500)
        add(IF + (5, p.index), "66", min(C32, p.speed_mbps * 10**6))
        add(IF + (6, p.index), "4x", f"02163e{p.index & 0xFFFFFF:06x}")
        add(IF + (7, p.index), "2", p.admin)
        add(IF + (8, p.index), "2", p.oper)
        add(IF + (9, p.index), "67", rnd.randrange(0, 10**6))
        counter(IF + (10, p.index), "65", base % C32, rate)
        counter(IF + (11, p.index), "65", (base // 700) % C32, pkt)
        add(IF + (13, p.index), "65", rnd.randrange(0, 1000))
        add(IF + (14, p.index), "65", rnd.randrange(0, 100) if up else 0)
        add(IF + (15, p.index), "65", 0)
        counter(IF + (16, p.index), "65", (base * 3) % C32, rate * 1.5)
        counter(IF + (17, p.index), "65", (base // 500) % C32, pkt * 1.5)
        add(IF + (19, p.index), "65", rnd.randrange(0, 1000))
        add(IF + (20, p.index), "65", 0)
        if not p.ifx:
            continue
        add(IFX + (1, p.index), *_s(p.name.encode()))
        add(IFX + (2, p.index), "65", rnd.randrange(0, 10**6))
        add(IFX + (3, p.index), "65", rnd.randrange(0, 10**6))
        add(IFX + (4, p.index), "65", rnd.randrange(0, 10**6))
        add(IFX + (5, p.index), "65", rnd.randrange(0, 10**6))
        if p.hc:
            counter(IFX + (6, p.index), "70", base, rate)
            counter(IFX + (7, p.index), "70", base // 700, pkt)
            add(IFX + (8, p.index), "70", base // 70000)
            add(IFX + (9, p.index), "70", base // 90000)
            counter(IFX + (10, p.index), "70", base * 3, rate * 1.5)
            counter(IFX + (11, p.index), "70", base // 500, pkt * 1.5)
            add(IFX + (12, p.index), "70", base // 60000)
            add(IFX + (13, p.index), "70", base // 80000)
            add(IFX + (15, p.index), "66", p.speed_mbps)
        add(IFX + (18, p.index), *_s(p.alias))
    for p in ports:  # ifStackStatus.<higher>.<lower> = active(1)
        if p.lag is not None:
            add(IFSTACK + (p.lag, p.index), "2", 1)
    for p in ports:
        if p.lag is not None:
            add(LAG_ATTACHED + (p.index,), "2", p.lag)
    for p in ports:
        if p.lldp:
            add(LLDP_REM + (7, 0, p.index, 1), "4", p.lldp[1])
            add(LLDP_REM + (9, 0, p.index, 1), "4", p.lldp[0])
    # Something after the tables, so that walks end on a real next OID.
    add((1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 2, 1), "4", "chassis")
    recs.sort(key=lambda r: r[0])
    return "".join(f"{_oid(o)}|{t}|{v}\n" for o, t, v in recs)


def switch_ports(access: int = 48, uplinks: int = 4, seed: int = 54) -> list[Port]:
    rnd = random.Random(seed)
    aliases = [b"", b"desk 4.17", b"AP-lobby", b"printer-2F", b"cam-gate", b"k8s-node-3", b""]
    ports: list[Port] = []
    for i in range(1, access + 1):
        up = rnd.random() < 0.7
        alias = aliases[i % len(aliases)]
        ports.append(
            Port(
                i,
                f"Gi1/0/{i}",
                f"GigabitEthernet1/0/{i}",
                alias=alias,
                oper=1 if up else 2,
                admin=1 if up or i % 3 else 2,
                rate=rnd.uniform(1e3, 5e6),
            )
        )
    # Special access ports: the WAN hand-off, mesh links, odd strings.
    ports[0] = Port(1, "Gi1/0/1", "GigabitEthernet1/0/1", alias=b"WAN-HIVE transit", rate=2.5e6)
    ports[1] = Port(2, "Gi1/0/2", "GigabitEthernet1/0/2", alias=b"mesh srv2", rate=1e6)
    ports[2] = Port(
        3, "Gi1/0/3", "GigabitEthernet1/0/3", alias=b"mesh srv3", oper=7, rate=0
    )  # lowerLayerDown
    ports[3] = Port(
        4, "Gi1/0/4", "GigabitEthernet1/0/4", alias="café".encode("latin-1"), rate=1e4
    )  # not UTF-8
    ports[4] = Port(
        5, "Gi1/0/5", "GigabitEthernet1/0/5", alias="bürø €".encode(), rate=1e4
    )  # UTF-8, hex in file
    ports[5] = Port(6, "Gi1/0/6", "GigabitEthernet1/0/6", oper=6, admin=1)  # notPresent
    lag1, lag2 = 5001, 5002
    if access >= 48:
        ports[46].lag = ports[47].lag = lag2
        ports[46].alias, ports[47].alias = b"srv3 bond", b"srv3 bond"
    for j in range(uplinks):
        idx = access + 1 + j
        ports.append(
            Port(
                idx,
                f"Te1/1/{j + 1}",
                f"TenGigabitEthernet1/1/{j + 1}",
                speed_mbps=10000,
                alias=b"INFRA-UPLINK srv%d" % (j // 2 + 1),
                rate=rnd.uniform(1e6, 5e7),
                lag=lag1 if j < 2 else None,
                lldp=(f"srv{j // 2 + 1}", f"enp{j % 2 + 1}s0"),
            )
        )
    if uplinks >= 2:
        ports[access + 1].oper = 2  # Te1/1/2: a degraded bond
    ports.append(
        Port(lag1, "Po1", "Port-channel1", iftype=161, speed_mbps=20000, alias=b"srv1 bond", rate=3e7)
    )
    ports.append(
        Port(lag2, "Po2", "Port-channel2", iftype=161, speed_mbps=2000, alias=b"srv3 bond", rate=1e6)
    )
    # Management port with only 32-bit counters; a Null interface without any ifXTable row.
    ports.append(
        Port(20001, "mgmt0", "Management Ethernet", speed_mbps=100, alias=b"oob", hc=False, rate=5e3)
    )
    ports.append(Port(30001, "Null0", "Null0", iftype=1, ifx=False, rate=0, speed_mbps=0, oper=1))
    return ports


def switch54(moving: bool = True) -> str:
    """48 access + 4 uplink ports, Po1 (Te1/1/1-2) and Po2 (Gi1/0/47-48), mgmt0 (32-bit), Null0."""
    return render(switch_ports(), "sw54", random.Random(1), moving)


def chassis500(moving: bool = True) -> str:
    """480 access + 16 uplinks + 2 LAGs + mgmt0 + Null0 = 500 interfaces."""
    return render(switch_ports(480, 16, seed=500), "sw500", random.Random(2), moving)


def duplicates() -> str:
    """A small switch whose two ports share one ifName (it happens on stacked switches), a numeric ifName and
    the largest ifIndex there is."""
    ports = [
        Port(1, "port 1", "port 1", alias=b"WAN-HIVE", rate=1e5),
        Port(2, "port 1", "port 1 (member 2)"),
        Port(3, "3", "numeric name"),
        Port(2**31 - 1, "ge-0/0/0.32767", "largest ifIndex", rate=1e5),
    ]
    return render(ports, "dup", random.Random(3), moving=False)


def read_snmprec(text: str) -> dict[tuple[int, ...], object]:
    """An snmprec recording -> {OID: value} as the exporter's client returns values (int, bytes, OID tuple).
    A numeric variation gives its initial value."""
    out: dict[tuple[int, ...], object] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        oid_text, tag, value = line.split("|", 2)
        tag = tag.split(":", 1)[0]
        if ":numeric" in line:
            value = dict(kv.split("=", 1) for kv in value.split(","))["initial"]
        oid = tuple(int(x) for x in oid_text.split("."))
        if tag == "4":
            out[oid] = value.encode()
        elif tag == "4x":
            out[oid] = bytes.fromhex(value)
        elif tag == "6":
            out[oid] = tuple(int(x) for x in value.split("."))
        elif tag == "64":
            out[oid] = bytes(int(x) for x in value.split("."))
        else:
            out[oid] = int(value)
    return out


def column(
    records: dict[tuple[int, ...], object], oid: tuple[int, ...]
) -> list[tuple[tuple[int, ...], object]]:
    """(index suffix, value) of one column, in OID order, as a walk returns it."""
    n = len(oid)
    return [(k[n:], v) for k, v in sorted(records.items()) if k[:n] == oid and len(k) > n]
