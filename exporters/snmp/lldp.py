"""LLDP neighbours on the right port, and LAG membership as LLDP reports it. Pure: walked columns in, plain
data out.

LLDP-MIB (IEEE 802.1AB-2005) indexes its remote table by lldpRemLocalPortNum, which "has no mandatory
relationship to an InterfaceIndex" (Dell OS10 numbers ports 4, 516, 520, ...; Arista 1, 451, ...).
lldpLocPortTable says which port a number is: lldpLocPortId by its subtype (interface name, alias, MAC),
then lldpLocPortDesc (the MIB asks for ifDescr). The number itself is taken as an ifIndex only when that
table says nothing that matches. LLDP-V2-MIB (IEEE 802.1AB-2009) indexes by ifIndex and destination address,
and is read only where LLDP-MIB has no neighbours.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .parse import Column, Interface, text

LLDP = (1, 0, 8802, 1, 1, 2, 1)
V2 = (1, 3, 111, 2, 802, 1, 1, 13, 1)
# Walked when a target has `lldp: true` (name -> column).
COLUMNS: dict[str, tuple[int, ...]] = {
    "loc_id_subtype": LLDP + (3, 7, 1, 2),  # lldpLocPortIdSubtype
    "loc_id": LLDP + (3, 7, 1, 3),  # lldpLocPortId
    "loc_desc": LLDP + (3, 7, 1, 4),  # lldpLocPortDesc
    "rem_id_subtype": LLDP + (4, 1, 1, 6),  # lldpRemPortIdSubtype
    "rem_id": LLDP + (4, 1, 1, 7),  # lldpRemPortId
    "rem_desc": LLDP + (4, 1, 1, 8),  # lldpRemPortDesc
    "rem_sys_name": LLDP + (4, 1, 1, 9),  # lldpRemSysName
    "agg_port_id": LLDP + (5, 4623, 1, 2, 3, 1, 2),  # lldpXdot3LocLinkAggPortId (LLDP-EXT-DOT3-MIB)
    "v2_rem_id_subtype": V2 + (4, 1, 1, 7),  # lldpV2RemPortIdSubtype
    "v2_rem_id": V2 + (4, 1, 1, 8),  # lldpV2RemPortId
    "v2_rem_desc": V2 + (4, 1, 1, 9),  # lldpV2RemPortDesc
    "v2_rem_sys_name": V2 + (4, 1, 1, 10),  # lldpV2RemSysName
}
IF_PHYS_ADDRESS = (1, 3, 6, 1, 2, 1, 2, 2, 1, 6)  # walked only for agents that name their ports by MAC

# LldpPortIdSubtype (IEEE 802.1AB-2005 / -2009)
ALIAS, COMPONENT, MAC, NETWORK, NAME, CIRCUIT, LOCAL = 1, 2, 3, 4, 5, 6, 7

Skip = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class Neighbor:
    ifindex: int  # the local interface the neighbour was seen on
    system_name: str
    port_id: str
    port_descr: str


def _unique(pairs: Sequence[tuple[object, int]]) -> dict[object, int]:
    """key -> ifIndex for keys that name exactly one interface."""
    out: dict[object, int] = {}
    dup: set[object] = set()
    for k, i in pairs:
        if k in ("", b"", None):
            continue
        if k in out and out[k] != i:
            dup.add(k)
        out[k] = i
    for k in dup:
        del out[k]
    return out


def local_ports(
    cols: Mapping[str, Column], interfaces: Sequence[Interface], phys: Mapping[int, object] | None = None
) -> dict[int, int]:
    """lldpLocPortNum -> ifIndex, for every port number the agent uses (in lldpLocPortTable or in its
    neighbours' index)."""
    by_name = _unique([(i.name, i.index) for i in interfaces])
    by_descr = _unique([(i.descr, i.index) for i in interfaces])
    by_alias = _unique([(i.alias, i.index) for i in interfaces])
    by_mac = _unique([(v, i) for i, v in (phys or {}).items() if isinstance(v, bytes) and any(v)])
    known = {i.index for i in interfaces}
    subtype = {idx[0]: v for idx, v in cols.get("loc_id_subtype", ()) if len(idx) == 1 and isinstance(v, int)}
    port_id = {idx[0]: v for idx, v in cols.get("loc_id", ()) if len(idx) == 1}
    desc = {idx[0]: v for idx, v in cols.get("loc_desc", ()) if len(idx) == 1}
    used = set(subtype) | set(port_id) | set(desc)
    used |= {idx[1] for idx, _ in cols.get("rem_sys_name", ()) if len(idx) == 3}
    used |= {idx[1] for idx, _ in cols.get("rem_id", ()) if len(idx) == 3}
    out: dict[int, int] = {}
    for n in sorted(used):
        st, pid, d = subtype.get(n), port_id.get(n), desc.get(n)
        tries: list[tuple[dict[object, int], object]] = []
        if st == MAC:
            tries.append((by_mac, pid))
        elif st != NETWORK and pid is not None:
            name = text(pid)
            if st == ALIAS:
                tries.append((by_alias, name))
            tries += [(by_name, name), (by_descr, name)]
        if d is not None:
            tries += [(by_descr, text(d)), (by_name, text(d))]
        for table, key in tries:
            hit = table.get(key)
            if hit is not None:
                out[n] = hit
                break
        else:
            if n in known:
                out[n] = n
    return out


def port_id(subtype: object, value: object) -> str:
    """A port ID as people write it: a MAC as aa:bb:cc:dd:ee:ff, a network address as an IP, else text."""
    if isinstance(value, bytes):
        if subtype == MAC and len(value) == 6:
            return ":".join(f"{b:02x}" for b in value)
        # networkAddress: an IANA address family octet, then the address (1 IPv4, 2 IPv6)
        if subtype == NETWORK and (value[:1], len(value)) in ((b"\x01", 5), (b"\x02", 17)):
            return str(ipaddress.ip_address(value[1:]))
    return text(value)


def _rows(cols: Mapping[str, Column], prefix: str, width: int) -> dict[tuple[int, ...], dict[str, object]]:
    rows: dict[tuple[int, ...], dict[str, object]] = {}
    for key in ("rem_id_subtype", "rem_id", "rem_desc", "rem_sys_name"):
        for idx, v in cols.get(prefix + key, ()):
            if len(idx) == width:
                rows.setdefault(idx, {})[key] = v
    return rows


def neighbors(
    cols: Mapping[str, Column],
    interfaces: Sequence[Interface],
    phys: Mapping[int, object] | None = None,
    skip: Skip | None = None,
) -> list[Neighbor]:
    """The neighbours of LLDP-MIB's lldpRemTable (timeMark.localPortNum.remIndex), else of LLDP-V2-MIB's
    lldpV2RemTable (timeMark.ifIndex.destAddressIndex.remIndex), each once per local interface."""
    known = {i.index for i in interfaces}
    found: list[tuple[int, dict[str, object]]] = []
    classic = _rows(cols, "", 3)
    if classic:
        ports = local_ports(cols, interfaces, phys)
        lost = 0
        for idx, r in sorted(classic.items()):
            ifindex = ports.get(idx[1])
            if ifindex is None:
                lost += 1
                continue
            found.append((ifindex, r))
        if lost and skip is not None:
            skip(
                "malformed",
                f"{lost} LLDP neighbours on port numbers that neither lldpLocPortTable nor ifIndex "
                "name an interface; left out",
            )
    else:
        for idx, r in sorted(_rows(cols, "v2_", 4).items()):
            if idx[1] in known:
                found.append((idx[1], r))
    out: list[Neighbor] = []
    seen: set[tuple[int, str, str]] = set()
    for ifindex, r in found:
        n = Neighbor(
            ifindex=ifindex,
            system_name=text(r.get("rem_sys_name")),
            port_id=port_id(r.get("rem_id_subtype"), r.get("rem_id")),
            port_descr=text(r.get("rem_desc")),
        )
        key = (n.ifindex, n.system_name, n.port_id)
        if key not in seen:  # the same neighbour under two time marks or destination addresses
            seen.add(key)
            out.append(n)
    return out


def lag_members(
    cols: Mapping[str, Column], interfaces: Sequence[Interface], phys: Mapping[int, object] | None = None
) -> dict[int, int]:
    """Member ifIndex -> aggregate ifIndex from lldpXdot3LocLinkAggPortId (0 = not aggregated), as lldpd
    reports Linux bond members."""
    rows = [(idx[0], v) for idx, v in cols.get("agg_port_id", ()) if len(idx) == 1]
    if not any(isinstance(v, int) and v > 0 for _, v in rows):
        return {}
    ports = local_ports(cols, interfaces, phys)
    known = {i.index for i in interfaces}
    out = {}
    for n, agg in rows:
        member = ports.get(n)
        if member is not None and isinstance(agg, int) and agg in known and agg != member:
            out[member] = agg
    return out


def names_by_mac(cols: Mapping[str, Column]) -> bool:
    """True when some local port is identified by MAC (then ifPhysAddress is worth walking)."""
    return any(v == MAC for _, v in cols.get("loc_id_subtype", ()))
