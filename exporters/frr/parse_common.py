"""Helpers the parsers share: loading JSON replies and reading typed fields with a clear error.

A reply that is not what FRR sends as a whole (not JSON, wrong top-level type) raises `ParseError`; one
entry in it that is wrong is handed to `skip(message)` and left out, and the rest is kept. A key that is
missing is `None`, never 0: a number FRR did not write is not a number.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

try:  # 2-3x faster than json on the large bgpd replies (10,000 peers: 40 MB)
    import orjson

    raw_loads: Callable[[bytes | bytearray | str], Any] = orjson.loads
except ImportError:  # pragma: no cover - orjson is a dependency; json gives the same result
    raw_loads = json.loads

Skip = Callable[[str], None]
# Called every few hundred entries of a large reply; raises to stop (the scrape's deadline has passed).
Check = Callable[[], object]
EVERY = 256


def nothing() -> None:
    """The default `check`: never stops."""


class ParseError(ValueError):
    """A reply that is not what FRR sends: not JSON, or a field of the wrong type."""


def strict(message: str) -> None:
    """The default `skip`: a bad entry fails the whole reply."""
    raise ParseError(message)


def loads(text: bytes | bytearray | str, what: str) -> Any:
    if not text or text.isspace():  # (no copy of a 40 MB reply)
        raise ParseError(f"{what}: empty reply")
    try:
        return raw_loads(text)
    except RecursionError:
        raise ParseError(f"{what}: JSON nested too deeply") from None
    except ValueError as e:  # orjson.JSONDecodeError and json.JSONDecodeError are ValueErrors
        raise ParseError(f"{what}: not JSON ({str(e)[:120]})") from None


def _at(where: str, what: str) -> str:
    return f"{where}: {what}" if where else what


def as_dict(v: Any, where: str = "") -> dict[str, Any]:
    if not isinstance(v, dict):
        raise ParseError(_at(where, f"expected an object, got {type(v).__name__}"))
    return v


def as_list(v: Any, where: str = "") -> list[Any]:
    if not isinstance(v, list):
        raise ParseError(_at(where, f"expected a list, got {type(v).__name__}"))
    return v


def get_int(d: dict[str, Any], key: str, where: str = "") -> int:
    v = d.get(key)
    if type(v) is int:
        return v
    if v is None:
        raise ParseError(_at(where, f"{key} is missing"))
    raise ParseError(_at(where, f"{key} is not an integer: {str(v)[:40]!r}"))


def opt_int(d: dict[str, Any], key: str, where: str = "") -> int | None:
    """The integer at `key`, or None if FRR did not write it."""
    v = d.get(key)
    if v is None or type(v) is int:
        return v
    raise ParseError(_at(where, f"{key} is not an integer: {str(v)[:40]!r}"))


def first_int(d: dict[str, Any], keys: tuple[str, ...], where: str = "") -> int | None:
    """The first of `keys` that is there (the current name first, then older ones)."""
    for k in keys:
        if k in d:
            return opt_int(d, k, where)
    return None


def get_str(d: dict[str, Any], key: str, where: str = "", default: str | None = None) -> str:
    v = d.get(key, default)
    if type(v) is str:
        return v
    if v is None:
        raise ParseError(_at(where, f"{key} is missing"))
    raise ParseError(_at(where, f"{key} is not a string: {str(v)[:40]!r}"))


def opt_str(d: dict[str, Any], key: str) -> str | None:
    """The string at `key`; None if missing (or not a string: these are free text, never numbers)."""
    v = d.get(key)
    return v if type(v) is str else None


def asn(v: Any, where: str = "") -> str:
    """An AS number as asplain decimal text; FRR writes `as-notation dot` ones as "1.10" strings."""
    if type(v) is int and 0 <= v < 2**32:
        return str(v)
    if isinstance(v, str):
        s = v.strip()
        if s.isdigit() and int(s) < 2**32:
            return str(int(s))
        hi, dot, lo = s.partition(".")
        if dot and hi.isdigit() and lo.isdigit() and int(hi) < 65536 and int(lo) < 65536:
            return str(int(hi) * 65536 + int(lo))
    raise ParseError(_at(where, f"not an AS number: {str(v)[:40]!r}"))


def epoch(d: dict[str, Any], epoch_key: str, msec_key: str, now: float | None) -> int | None:
    """The Unix time of an event: FRR's `...Epoch` key, else `now` less the age in ms that older releases
    give alone; None where neither is there, or the age is 0 (FRR's "never")."""
    e = opt_int(d, epoch_key)
    if e is not None or now is None:
        return e
    msec = opt_int(d, msec_key)
    if not msec or msec < 0:
        return None
    return round(now - msec / 1000)
