"""Walked SNMP columns -> plain data: interfaces, LAG membership, port roles (LLDP: lldp.py). No I/O.

Input is what `Session.walk` returns: per column, (index suffix, value) pairs, values being int, bytes,
OID tuples or `END`. Anything of the wrong type or shape is skipped, never guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .config import PortRule

Oid = tuple[int, ...]
Column = Sequence[tuple[Oid, object]]

SYS = (1, 3, 6, 1, 2, 1, 1)
SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME = SYS + (1, 0), SYS + (2, 0), SYS + (3, 0), SYS + (5, 0)
IF = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
IFSTACK_STATUS = (1, 3, 6, 1, 2, 1, 31, 1, 2, 1, 3)
LAG_ATTACHED_AGG = (1, 2, 840, 10006, 300, 43, 1, 2, 1, 1, 13)  # dot3adAggPortAttachedAggID

# Walked on every scrape: what a port's series need. The 32-bit counters are fetched only for
# interfaces that lack the 64-bit ones (FALLBACK).
COLUMNS: dict[str, Oid] = {
    "descr": IF + (2,),
    "type": IF + (3,),
    "mtu": IF + (4,),
    "speed": IF + (5,),
    "admin": IF + (7,),
    "oper": IF + (8,),
    "last_change": IF + (9,),
    "in_discards": IF + (13,),
    "in_errors": IF + (14,),
    "in_unknown_protos": IF + (15,),
    "out_discards": IF + (19,),
    "out_errors": IF + (20,),
    "name": IFX + (1,),
    "in_octets": IFX + (6,),
    "in_unicast": IFX + (7,),
    "in_multicast": IFX + (8,),
    "in_broadcast": IFX + (9,),
    "out_octets": IFX + (10,),
    "out_unicast": IFX + (11,),
    "out_multicast": IFX + (12,),
    "out_broadcast": IFX + (13,),
    "high_speed": IFX + (15,),
    "alias": IFX + (18,),
}
# 64-bit counter -> its 32-bit twin.
FALLBACK: dict[str, Oid] = {
    "in_octets": IF + (10,),
    "in_unicast": IF + (11,),
    "out_octets": IF + (16,),
    "out_unicast": IF + (17,),
    "in_multicast": IFX + (2,),
    "in_broadcast": IFX + (3,),
    "out_multicast": IFX + (4,),
    "out_broadcast": IFX + (5,),
}
HC_COUNTERS = tuple(FALLBACK)
PLAIN_COUNTERS = ("in_discards", "in_errors", "in_unknown_protos", "out_discards", "out_errors")
LAG_COLUMNS = (LAG_ATTACHED_AGG, IFSTACK_STATUS)

IF_TYPE_LAG = 161  # ieee8023adLag
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab, CR and LF are text (Cisco's sysDescr)


def text(v: object) -> str:
    """An OCTET STRING as text, whole: UTF-8 (without trailing NULs) if it is valid and has no control
    characters but tab, CR and LF; else `0x` and the hex of every octet (like snmp_exporter). Never cut."""
    if not isinstance(v, bytes):
        return ""
    try:
        s = v.rstrip(b"\x00").decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + v.hex().upper()
    if _CONTROL.search(s):
        return "0x" + v.hex().upper()
    return s


def by_index(col: Column) -> dict[int, object]:
    """Rows of an IF-MIB column keyed by ifIndex; rows with another shape of index are dropped."""
    return {idx[0]: v for idx, v in col if len(idx) == 1}


def _int(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


@dataclass(frozen=True, slots=True)
class System:
    name: str
    descr: str
    object_id: str
    uptime_ticks: int | None


def parse_system(got: Mapping[Oid, object]) -> System:
    oid = got.get(SYS_OBJECT_ID)
    return System(
        name=text(got.get(SYS_NAME)),
        descr=text(got.get(SYS_DESCR)),
        object_id=".".join(map(str, oid)) if isinstance(oid, tuple) else "",
        uptime_ticks=_int(got.get(SYS_UPTIME)),
    )


@dataclass(frozen=True, slots=True)
class Interface:
    index: int
    name: str
    descr: str
    alias: str
    type: int | None
    mtu: int | None
    speed_bps: int | None
    admin: int | None
    oper: int | None
    last_change_ticks: int | None
    counters: tuple[tuple[str, int], ...]  # (name, value); only those the agent has
    hc: bool  # True when the octet counters are 64-bit


STRINGS = frozenset(("descr", "name", "alias"))  # the OCTET STRING columns; every other one is a number


def drop_wrong_types(
    tables: Mapping[str, Mapping[int, object]], skip: Callable[[str, str], None] | None = None
) -> dict[str, dict[int, object]]:
    """The tables without values of the wrong type (a string where a counter belongs, ...): each bad column
    is reported once to `skip` as malformed; its other values and every other column stay."""
    out: dict[str, dict[int, object]] = {}
    for name, col in tables.items():
        want: type = bytes if name in STRINGS else int
        good = {i: v for i, v in col.items() if isinstance(v, want) and not isinstance(v, bool)}
        if len(good) != len(col) and skip is not None:
            oid = ".".join(map(str, COLUMNS.get(name, ())))
            kind = "OCTET STRINGs" if want is bytes else "numbers"
            skip(
                "malformed",
                f"{len(col) - len(good)} values of column {oid} ({name}) are not {kind}; left out",
            )
        out[name] = good
    return out


def missing_hc(tables: Mapping[str, Mapping[int, object]]) -> list[tuple[str, int]]:
    """(counter, ifIndex) pairs whose 64-bit counter is absent: ask for the 32-bit one instead."""
    indexes = all_indexes(tables)
    out = []
    for c in HC_COUNTERS:
        col = tables.get(c, {})
        out += [(c, i) for i in indexes if _int(col.get(i)) is None]
    return out


def all_indexes(tables: Mapping[str, Mapping[int, object]]) -> list[int]:
    """Interfaces are the rows that exist in any column (not ifNumber, not ifIndex)."""
    seen: set[int] = set()
    for name in COLUMNS:
        seen.update(tables.get(name, {}))
    return sorted(seen)


def parse_interfaces(
    tables: Mapping[str, Mapping[int, object]], fallback: Mapping[tuple[str, int], object]
) -> list[Interface]:
    """`tables`: column name -> {ifIndex: value}; `fallback`: (counter, ifIndex) -> 32-bit value."""
    out = []
    col = {n: tables.get(n, {}) for n in COLUMNS}
    hc_cols = [(c, col[c]) for c in HC_COUNTERS]
    plain_cols = [(c, col[c]) for c in PLAIN_COUNTERS]
    descr_c, name_c, alias_c, hc_in = col["descr"], col["name"], col["alias"], col["in_octets"]
    high_c, low_c, type_c, mtu_c = col["high_speed"], col["speed"], col["type"], col["mtu"]
    admin_c, oper_c, change_c = col["admin"], col["oper"], col["last_change"]
    for i in all_indexes(tables):
        descr = text(descr_c.get(i))
        name = text(name_c.get(i)) or descr or str(i)
        counters = []
        for c, values in hc_cols:
            v = _int(values.get(i))
            if v is None:
                v = _int(fallback.get((c, i)))
            if v is not None:
                counters.append((c, v))
        for c, values in plain_cols:
            v = _int(values.get(i))
            if v is not None:
                counters.append((c, v))
        high, low = _int(high_c.get(i)), _int(low_c.get(i))
        # ifSpeed saturates at 2^32-1; ifHighSpeed (Mb/s) is right when present and not zero with ifSpeed set.
        speed = high * 1_000_000 if high is not None and (high > 0 or not low) else low
        out.append(
            Interface(
                index=i,
                name=name,
                descr=descr,
                alias=text(alias_c.get(i)),
                type=_int(type_c.get(i)),
                mtu=_int(mtu_c.get(i)),
                speed_bps=speed,
                admin=_int(admin_c.get(i)),
                oper=_int(oper_c.get(i)),
                last_change_ticks=_int(change_c.get(i)),
                counters=tuple(counters),
                hc=_int(hc_in.get(i)) is not None,
            )
        )
    return out


def parse_lag(
    attached: Column,
    stack: Column,
    interfaces: Sequence[Interface],
    lldp_members: Mapping[int, int] | None = None,
) -> dict[int, int]:
    """Member ifIndex -> aggregate ifIndex, from IEEE8023-LAG-MIB, else from ifStackTable (LAG parents),
    else from what LLDP says (`lldp.lag_members`: how lldpd reports Linux bond members)."""
    known = {i.index for i in interfaces}
    out = {}
    for idx, v in attached:
        agg = _int(v)
        if len(idx) == 1 and agg and agg != idx[0] and agg in known:
            out[idx[0]] = agg
    if out:
        return out
    lags = {i.index for i in interfaces if i.type == IF_TYPE_LAG}
    for idx, v in stack:
        if len(idx) == 2 and v == 1 and idx[0] in lags and idx[1] in known:
            out[idx[1]] = idx[0]
    return out or dict(lldp_members or {})


def match_rules(
    interfaces: Sequence[Interface], rules: Sequence[PortRule]
) -> dict[int, tuple[PortRule, str]]:
    """ifIndex -> (the first rule that matches, its link); `link` may use \\1 from an ifalias regex."""
    out: dict[int, tuple[PortRule, str]] = {}
    compiled = [(r, re.compile(r.ifalias) if r.ifalias is not None else None) for r in rules]
    for itf in interfaces:
        for rule, rx in compiled:
            if (rule.ifindex is not None and rule.ifindex == itf.index) or (
                rule.ifname is not None and rule.ifname == itf.name
            ):
                out[itf.index] = (rule, rule.link)
            elif rx is not None and (m := rx.search(itf.alias)):
                try:
                    link = m.expand(rule.link) if rule.link else ""
                except (re.error, IndexError):
                    link = rule.link
                out[itf.index] = (rule, link)
            else:
                continue
            break
    return out


def assign_roles(interfaces: Sequence[Interface], rules: Sequence[PortRule]) -> dict[int, tuple[str, str]]:
    """ifIndex -> (role, link) by the first rule that matches."""
    return {i: (r.role, link) for i, (r, link) in match_rules(interfaces, rules).items()}


def expected_speeds(interfaces: Sequence[Interface], rules: Sequence[PortRule]) -> dict[int, int]:
    """ifIndex -> expected speed in bits/s, for ports whose rule gives one."""
    return {i: r.speed_bps for i, (r, _) in match_rules(interfaces, rules).items() if r.speed_bps}
