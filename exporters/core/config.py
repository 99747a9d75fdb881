"""YAML config files, validated against dataclasses.

Each exporter describes its config as (frozen) dataclasses; `load_config(Root, path)` reads the YAML and
builds them, or raises `ConfigError` naming the file and the key path (`targets.sw1.auth.community`).
Supported field types: str, int, float, bool, `Secret`, `Duration`, `Literal[...]`, `X | None`,
`list[X]`, `dict[str, X]` and nested dataclasses. A field without a default is required. A dataclass may
define `validate(self)` for cross-field checks; it raises `ConfigError("key", "message")` relative to itself.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, get_args, get_origin

import yaml

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")  # config roots are dataclasses


class ConfigError(Exception):
    """A config problem a person can fix: which file, which key, what is wrong."""

    def __init__(self, key: str, message: str, file: str | None = None) -> None:
        self.key, self.message, self.file = key, message, file
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.file, self.key) if p)
        return f"{where}: {self.message}" if where else self.message

    def within(self, prefix: str = "", file: str | None = None) -> ConfigError:
        key = ".".join(p for p in (prefix, self.key) if p)
        return ConfigError(key, self.message, file or self.file)


class Secret:
    """A credential from the config. Never printed: `repr`/`str` show a mask; `reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('<secret>')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


class Duration(float):
    """Seconds, written as a number or Go-style (`500ms`, `5s`, `1m30s`)."""

    _PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
    _UNIT: ClassVar[dict[str, float]] = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

    @classmethod
    def parse(cls, text: str) -> Duration:
        s = text.strip()
        pos, total = 0, 0.0
        for m in cls._PART.finditer(s):
            if m.start() != pos:
                break
            total += float(m.group(1)) * cls._UNIT[m.group(2)]
            pos = m.end()
        if pos != len(s) or not s:
            raise ValueError(f"not a duration: {text!r} (use e.g. 500ms, 5s, 1m)")
        return cls(total)


def _type_name(tp: Any) -> str:
    if tp is Secret:
        return "string"
    if tp is Duration:
        return "duration"
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (list, dict):
        return origin.__name__
    if dataclasses.is_dataclass(tp):
        return "mapping"
    return getattr(tp, "__name__", str(tp))


def _got(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {dict: "mapping", list: "list", str: "string", int: "integer", float: "number"}.get(
        type(value), type(value).__name__
    )


def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if value is None:
            return None
        errors = []
        for a in args:
            try:
                return _convert(a, value, key)
            except ConfigError as e:
                errors.append(e)
        raise (
            errors[0]
            if len(errors) == 1
            else ConfigError(key, f"expected {' or '.join(_type_name(a) for a in args)}, got {_got(value)}")
        )
    if origin is Literal:
        choices = get_args(tp)
        # YAML reads `version: 2c` as a string but `version: 3` as an int: compare as text too.
        for c in choices:
            if value == c or (
                isinstance(c, str)
                and not isinstance(value, (bool, dict, list))
                and value is not None
                and str(value) == c
            ):
                return c
        raise ConfigError(key, f"expected {_type_name(tp)}, got {value!r}")
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(key, f"expected a list, got {_got(value)}")
        (item,) = get_args(tp)
        return [_convert(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(key, f"expected a mapping, got {_got(value)}")
        _, item = get_args(tp)
        out = {}
        for k, v in value.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise ConfigError(key, f"keys must be strings, got {k!r}")
            out[str(k)] = _convert(item, v, f"{key}.{k}")
        return out
    if dataclasses.is_dataclass(tp):
        return _build(typing.cast(type, tp), value, key)  # a type hint: the class, never an instance
    if tp is Secret:
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ConfigError(key, f"expected a string, got {_got(value)}")
        return Secret(str(value))
    if tp is Duration:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value < 0:
                raise ConfigError(key, "must not be negative")
            return Duration(value)
        if isinstance(value, str):
            try:
                return Duration.parse(value)
            except ValueError as e:
                raise ConfigError(key, str(e)) from None
        raise ConfigError(key, f"expected a duration (e.g. 5s), got {_got(value)}")
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true or false, got {_got(value)}")
        return value
    if tp is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(key, f"expected an integer, got {_got(value)}")
        return value
    if tp is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ConfigError(key, f"expected a number, got {_got(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(key, f"expected a string, got {_got(value)}")
        return str(value)
    if tp is Any:
        return value
    raise TypeError(f"unsupported config type {tp!r} at {key}")


_HINTS: dict[type, dict[str, Any]] = {}


def _build(cls: type[T], data: Any, key: str) -> T:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(key, f"expected a mapping, got {_got(data)}")
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise ConfigError(
            _join(key, str(unknown[0])), f"unknown key (known keys here: {', '.join(sorted(fields))})"
        )
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = _convert(hints[name], data[name], _join(key, name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(_join(key, name), "required key is missing")
    obj = cls(**kwargs)
    check = getattr(obj, "validate", None)
    if check is not None:
        try:
            check()
        except ConfigError as e:
            raise e.within(key) from None
    return obj


def _join(a: str, b: str) -> str:
    return f"{a}.{b}" if a else b


def parse_config(cls: type[T], data: Any, file: str | None = None) -> T:
    """Build `cls` from already-loaded YAML data."""
    try:
        return _build(cls, data, "")
    except ConfigError as e:
        raise e.within(file=file) from None


def load_config(cls: type[T], path: str | Path | None) -> T:
    """Read and validate a YAML config file; `None` gives the defaults (all fields must have one)."""
    if path is None:
        return parse_config(cls, {})
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError("", f"cannot read: {e.strerror}", name) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError("", f"not valid YAML{at}: {getattr(e, 'problem', None) or e}", name) from None
    return parse_config(cls, data, name)
