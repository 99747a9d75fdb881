"""Helpers the parsers share: loading JSON replies and reading typed fields with a clear error."""

from __future__ import annotations

import json
from typing import Any


class ParseError(ValueError):
    """A reply that is not what FRR sends: not JSON, or a field of the wrong type."""


def loads(text: bytes | str, what: str) -> Any:
    if not text or not text.strip():
        raise ParseError(f"{what}: empty reply")
    try:
        return json.loads(text)
    except ValueError as e:
        raise ParseError(f"{what}: not JSON ({e})") from None
    except RecursionError:
        raise ParseError(f"{what}: JSON nested too deeply") from None


def as_dict(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise ParseError(f"{where}: expected an object, got {type(v).__name__}")
    return v


def as_list(v: Any, where: str) -> list[Any]:
    if not isinstance(v, list):
        raise ParseError(f"{where}: expected a list, got {type(v).__name__}")
    return v


def get_int(d: dict[str, Any], key: str, where: str, default: int | None = None) -> int:
    v = d.get(key, default)
    if v is None:
        raise ParseError(f"{where}: {key} is missing")
    if isinstance(v, bool) or not isinstance(v, int):
        raise ParseError(f"{where}: {key} is not an integer: {str(v)[:40]!r}")
    return v


def opt_int(d: dict[str, Any], key: str, where: str) -> int | None:
    if key not in d:
        return None
    return get_int(d, key, where)


def get_str(d: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    v = d.get(key, default)
    if v is None:
        raise ParseError(f"{where}: {key} is missing")
    if not isinstance(v, str):
        raise ParseError(f"{where}: {key} is not a string: {str(v)[:40]!r}")
    return v


def asn(v: Any, where: str) -> str:
    """An AS number as asplain decimal text; FRR writes `as-notation dot` ones as "1.10" strings."""
    if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**32:
        return str(v)
    if isinstance(v, str):
        s = v.strip()
        if s.isdigit() and int(s) < 2**32:
            return str(int(s))
        hi, dot, lo = s.partition(".")
        if dot and hi.isdigit() and lo.isdigit() and int(hi) < 65536 and int(lo) < 65536:
            return str(int(hi) * 65536 + int(lo))
    raise ParseError(f"{where}: not an AS number: {str(v)[:40]!r}")
