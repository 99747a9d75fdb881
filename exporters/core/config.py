"""YAML config files, validated against dataclasses.

Each exporter describes its config as (frozen) dataclasses; `load_config(Root, path)` reads the YAML and
builds them, or raises `ConfigError` naming the file, the line and the key path
(`sw.yml:7: targets.sw1.auth.community: ...`). Supported field types: str, int, float, bool, `Secret`,
`Duration`, `ReadableFile`, `Expandable`, `Literal[...]`, `X | None`, `list[X]`, `dict[str, X]`, nested
dataclasses and `Any`. A field without a default is required. A dataclass may define `validate(self)` for
cross-field checks; it raises `ConfigError("key", "message")` relative to itself.

How values are read (the core composes the YAML node tree itself, so it sees the text as written):
* A `str`, `Secret`, `Expandable` or `ReadableFile` field takes a plain scalar's text exactly as written,
  also where YAML 1.1 would read a number: `community: 0123` is "0123" (not octal 83), `1_000` is "1_000".
  `true/false/yes/no/on/off` and null in such a field are refused with a hint to quote the value.
* An `int` is decimal (`1_000` allowed), `0x..`, `0o..` or `0b..`; YAML 1.1's leading-zero octal (`0644`)
  and sexagesimal (`1:30`) forms are refused as ambiguous. `bool` takes YAML 1.1's true/false/yes/no/on/off.
* A key given twice in one mapping is an error naming both lines. `<<` merge keys work as in YAML 1.1.
* Every `Secret` field `x` may instead be given as `x_file: PATH`: the file is read at load and reload
  (at most 64 KiB, trailing newlines stripped), and refused when its mode lets group or others read it.
* With `expand_env` (`--config.expand-environment-variables`), `${VAR}` and `$VAR` in `Secret` and
  `Expandable` fields are replaced as Go's `os.Expand` does (what snmp_exporter uses); an unset variable
  is an error.
* A `ReadableFile` is a path, relative to the config file's directory, that must exist and be readable.
* Bounds: a config file of more than 4 MiB, or whose aliases expand to more than 100,000 nodes, is refused.
  Error messages never repeat a value (it may be a secret typed into the wrong field), only its kind,
  and an unknown key is repeated only when it is a near-miss of a known one.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import stat
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar, get_args, get_origin

import yaml

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")  # config roots are dataclasses


MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_ALIAS_NODES = 100_000  # nodes reached through aliases, beyond the nodes the file itself holds
MAX_SECRET_FILE_BYTES = 64 * 1024


class ConfigError(Exception):
    """A config problem a person can fix: which file (and line), which key, what is wrong."""

    def __init__(self, key: str, message: str, file: str | None = None, line: int | None = None) -> None:
        self.key, self.message, self.file, self.line = key, message, file, line
        super().__init__(str(self))

    def __str__(self) -> str:
        at = self.file
        if self.line:
            at = f"{self.file}:{self.line}" if self.file else f"line {self.line}"
        where = ": ".join(p for p in (at, self.key) if p)
        return f"{where}: {self.message}" if where else self.message

    def within(self, prefix: str = "", file: str | None = None, line: int | None = None) -> ConfigError:
        key = ".".join(p for p in (prefix, self.key) if p)
        return ConfigError(key, self.message, file or self.file, self.line or line)


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


class ReadableFile(str):
    """A path the config refers to (a CA bundle, a client certificate): checked to exist and be readable
    when the config is loaded; a relative path is resolved against the config file's directory."""

    __slots__ = ()


class _ExpandMarker:
    def __repr__(self) -> str:
        return "expand-environment-variables"


EXPAND = _ExpandMarker()
# A string that `--config.expand-environment-variables` expands, like a Secret (a username, say).
Expandable = Annotated[str, EXPAND]


# --- reading the YAML text into nodes ---------------------------------------------------------------------

_T = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = _T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"
TIMESTAMP, MERGE, MAP, SEQ = _T + "timestamp", _T + "merge", _T + "map", _T + "seq"
_TEXT_TAGS = (STR, INT, FLOAT, TIMESTAMP)  # scalars whose text a string field takes as written
_TRUE = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
_FALSE = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")
_PREFIXED = re.compile(r"([-+]?)0([xob])([0-9a-fA-F_]+)")
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Py(yaml.ScalarNode):
    """A Python value given to `parse_config` (not from YAML text), carried through the same code."""

    def __init__(self, value: Any) -> None:
        super().__init__("python", "")
        self.obj = value


def _node(data: Any) -> yaml.Node:
    if isinstance(data, yaml.Node):
        return data
    if isinstance(data, dict):
        return yaml.MappingNode(MAP, [(_node(k), _node(v)) for k, v in data.items()])
    if isinstance(data, (list, tuple)):
        return yaml.SequenceNode(SEQ, [_node(v) for v in data])
    return _Py(data)


def _line(node: yaml.Node | None) -> int | None:
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _kind(node: yaml.Node) -> str:
    """What a node is, for an error message (never its value)."""
    if isinstance(node, _Py):
        v = node.obj
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "boolean"
        return {str: "string", int: "integer", float: "number"}.get(type(v), type(v).__name__)
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return {
        STR: "string",
        INT: "integer",
        FLOAT: "number",
        BOOL: "boolean",
        NULL: "null",
        TIMESTAMP: "timestamp",
    }.get(node.tag, f"YAML tag {node.tag}"[:60])


def _is_null(node: yaml.Node) -> bool:
    if isinstance(node, _Py):
        return node.obj is None
    return isinstance(node, yaml.ScalarNode) and node.tag == NULL


def _check_aliases(root: yaml.Node) -> None:
    """Refuse a tree whose aliases expand beyond MAX_ALIAS_NODES (an anchor bomb) or refer to themselves."""
    sizes: dict[int, int] = {}
    unique = 0
    # Iterative post-order over the DAG; a node met again while still open is a recursive alias.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_: set[int] = set()
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            open_.discard(nid)
            kids = _children(node)
            sizes[nid] = 1 + sum(sizes[id(k)] for k in kids)
            continue
        if nid in sizes:
            continue
        if nid in open_:
            raise ConfigError("", "a YAML alias refers to the node that contains it", line=_line(node))
        open_.add(nid)
        unique += 1
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in sizes)
    if sizes[id(root)] - unique > MAX_ALIAS_NODES:
        raise ConfigError(
            "",
            f"YAML aliases expand to more than {MAX_ALIAS_NODES:,} nodes (an anchor bomb?); "
            "write the repeated parts out or shorten them",
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


# --- converting nodes into the dataclasses ----------------------------------------------------------------


@dataclasses.dataclass
class _Ctx:
    file: str | None = None
    base: str = "."  # directory relative paths are resolved against
    expand_env: bool = False


def _type_name(tp: Any) -> str:
    if tp is Secret or tp is ReadableFile:
        return "string"
    if tp is Duration:
        return "duration"
    origin = get_origin(tp)
    if origin is Annotated:
        return _type_name(get_args(tp)[0])
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (list, dict):
        return origin.__name__
    if dataclasses.is_dataclass(tp):
        return "mapping"
    return getattr(tp, "__name__", str(tp))


def _err(key: str, message: str, node: yaml.Node | None) -> ConfigError:
    return ConfigError(key, message, line=_line(node))


def _text(node: yaml.Node, key: str, what: str = "a string") -> str:
    """The text of a scalar that a string-like field takes: as written, or refused."""
    if isinstance(node, _Py):
        v = node.obj
        if isinstance(v, (str, int, float)) and not isinstance(v, bool):
            return str(v)
        raise _err(key, f"expected {what}, got {_kind(node)}", node)
    if isinstance(node, yaml.ScalarNode) and node.tag in _TEXT_TAGS:
        return str(node.value)
    hint = ""
    if isinstance(node, yaml.ScalarNode) and node.tag in (BOOL, NULL):
        hint = "; quote the value if it is meant as text"
    raise _err(key, f"expected {what}, got {_kind(node)}{hint}", node)


def _int(node: yaml.Node, key: str) -> int:
    if isinstance(node, _Py):
        if isinstance(node.obj, int) and not isinstance(node.obj, bool):
            return node.obj
        raise _err(key, f"expected an integer, got {_kind(node)}", node)
    if not isinstance(node, yaml.ScalarNode) or node.tag != INT:
        raise _err(key, f"expected an integer, got {_kind(node)}", node)
    text = node.value
    if _DECIMAL.fullmatch(text):
        return int(text.replace("_", ""))
    m = _PREFIXED.fullmatch(text)
    if m:
        try:
            return int(m.group(1) + m.group(3).replace("_", ""), {"x": 16, "o": 8, "b": 2}[m.group(2)])
        except ValueError:
            pass
    if ":" in text:
        raise _err(
            key, "expected an integer; YAML 1.1 reads this colon form as base 60: write the number", node
        )
    raise _err(
        key,
        "expected an integer; a leading zero is ambiguous (YAML 1.1 reads it as octal): write "
        "the decimal number, or 0o... for octal",
        node,
    )


def _float(node: yaml.Node, key: str) -> float:
    if isinstance(node, _Py):
        if isinstance(node.obj, (int, float)) and not isinstance(node.obj, bool):
            return float(node.obj)
        raise _err(key, f"expected a number, got {_kind(node)}", node)
    if isinstance(node, yaml.ScalarNode) and node.tag == INT:
        return float(_int(node, key))
    if isinstance(node, yaml.ScalarNode) and node.tag == FLOAT:
        text = node.value.replace("_", "").lower()
        if text.lstrip("+-") in (".inf", ".nan"):
            text = text.replace(".", "")
        try:
            return float(text)
        except ValueError:
            pass
    raise _err(key, f"expected a number, got {_kind(node)}", node)


def _bool(node: yaml.Node, key: str) -> bool:
    if isinstance(node, _Py) and isinstance(node.obj, bool):
        return node.obj
    if isinstance(node, yaml.ScalarNode) and node.tag == BOOL and not isinstance(node, _Py):
        if node.value in _TRUE:
            return True
        if node.value in _FALSE:
            return False
    raise _err(key, f"expected true or false, got {_kind(node)}", node)


def _expand(text: str, key: str, node: yaml.Node) -> str:
    """`${VAR}` and `$VAR` as Go's os.Expand reads them (what snmp_exporter's flag of the same name uses):
    `${...}` takes any name up to the brace, `$name` a run of [A-Za-z0-9_], `$` and one of `*#$@!?-0-9` a
    one-character name; a `$` followed by anything else is kept. An unset variable is an error."""
    out: list[str] = []
    i = j = 0
    n = len(text)
    while j < n:
        if text[j] == "$" and j + 1 < n:
            out.append(text[i:j])
            name, width = _shell_name(text, j + 1)
            if name:
                value = os.environ.get(name)
                if value is None:
                    raise _err(
                        key,
                        f"environment variable {name[:64]} is not set "
                        "(--config.expand-environment-variables is on)",
                        node,
                    )
                out.append(value)
            elif width == 0:
                out.append("$")
            j += width
            i = j + 1
        j += 1
    out.append(text[i:])
    return "".join(out)


_SPECIAL = set("*#$@!?-0123456789")


def _shell_name(s: str, at: int) -> tuple[str, int]:
    c = s[at]
    if c == "{":
        if len(s) - at > 2 and s[at + 1] in _SPECIAL and s[at + 2] == "}":
            return s[at + 1], 3
        end = s.find("}", at + 1)
        if end == -1:
            return "", 1  # bad syntax: "${" is dropped, as Go does
        if end == at + 1:
            return "", 2  # "${}" is dropped
        return s[at + 1 : end], end - at + 1
    if c in _SPECIAL:
        return c, 1
    k = at
    while k < len(s) and (s[k] == "_" or (s[k].isascii() and s[k].isalnum())):
        k += 1
    return s[at:k], k - at


def _convert(tp: Any, node: yaml.Node, key: str, ctx: _Ctx) -> Any:
    origin = get_origin(tp)
    expand = False
    if origin is Annotated:
        tp, *extras = get_args(tp)
        expand = any(x is EXPAND for x in extras)
        origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if _is_null(node):
            return None
        errors = []
        for a in args:
            try:
                return _convert(a, node, key, ctx)
            except ConfigError as e:
                errors.append(e)
        if len(errors) == 1:
            raise errors[0]
        raise _err(key, f"expected {' or '.join(_type_name(a) for a in args)}, got {_kind(node)}", node)
    if origin is Literal:
        return _literal(tp, node, key)
    if origin is list:
        if isinstance(node, _Py) and isinstance(node.obj, (list, tuple)):
            node = _node(list(node.obj))
        if not isinstance(node, yaml.SequenceNode):
            raise _err(key, f"expected a list, got {_kind(node)}", node)
        (item,) = get_args(tp)
        return [_convert(item, v, f"{key}[{i}]", ctx) for i, v in enumerate(node.value)]
    if origin is dict:
        if not isinstance(node, yaml.MappingNode):
            raise _err(key, f"expected a mapping, got {_kind(node)}", node)
        _, item = get_args(tp)
        out = {}
        for k, v in _pairs(node, key):
            name = _key_text(k, key)
            out[name] = _convert(item, v, f"{key}.{_shown_key(name)}", ctx)
        return out
    if dataclasses.is_dataclass(tp):
        return _build(typing.cast(type, tp), node, key, ctx)  # a type hint: the class, never an instance
    if tp is Secret:
        if isinstance(node, _Py) and isinstance(node.obj, Secret):
            return node.obj
        text = _text(node, key)
        return Secret(_expand(text, key, node) if ctx.expand_env and text else text)
    if tp is Duration:
        return _duration(node, key)
    if tp is bool:
        return _bool(node, key)
    if tp is int:
        return _int(node, key)
    if tp is float:
        return _float(node, key)
    if tp is ReadableFile:
        return _readable(_text(node, key, "a path"), key, node, ctx)
    if tp is str:
        text = _text(node, key)
        return _expand(text, key, node) if expand and ctx.expand_env and text else text
    if tp is Any:
        if isinstance(node, _Py):
            return node.obj
        return yaml.SafeLoader("").construct_object(node, deep=True)
    raise TypeError(f"unsupported config type {tp!r} at {key}")


def _literal(tp: Any, node: yaml.Node, key: str) -> Any:
    choices = get_args(tp)
    if isinstance(node, _Py):
        v = node.obj
        for c in choices:
            if type(v) is type(c) and v == c:
                return c
            if isinstance(c, str) and isinstance(v, int) and not isinstance(v, bool) and str(v) == c:
                return c
    elif isinstance(node, yaml.ScalarNode):
        # `version: 2c` is a string to YAML and `version: 3` an int: compare the text as written.
        for c in choices:
            if isinstance(c, str) and node.tag in _TEXT_TAGS and node.value == c:
                return c
            if isinstance(c, bool) and node.tag == BOOL and (node.value in _TRUE) == c:
                return c
            if (
                isinstance(c, int)
                and not isinstance(c, bool)
                and node.tag == INT
                and _DECIMAL.fullmatch(node.value)
                and int(node.value.replace("_", "")) == c
            ):
                return c
    hint = ""
    if isinstance(node, yaml.ScalarNode) and not isinstance(node, _Py) and len(node.value) <= 64:
        near = difflib.get_close_matches(node.value, [str(c) for c in choices], n=1, cutoff=0.6)
        if near:
            hint = f" (did you mean {near[0]!r}?)"
    raise _err(key, f"expected {_type_name(tp)}, got {_a(_kind(node))}{hint}", node)


def _a(kind: str) -> str:
    return ("an " if kind[:1] in "aeiou" else "a ") + kind


def _duration(node: yaml.Node, key: str) -> Duration:
    if isinstance(node, _Py):
        v = node.obj
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if v < 0:
                raise _err(key, "must not be negative", node)
            return Duration(v)
        if isinstance(v, str):
            try:
                return Duration.parse(v)
            except ValueError:
                raise _err(key, "not a duration (use e.g. 500ms, 5s, 1m)", node) from None
        raise _err(key, f"expected a duration (e.g. 5s), got {_kind(node)}", node)
    if isinstance(node, yaml.ScalarNode) and node.tag in (INT, FLOAT):
        v = _float(node, key)
        if v < 0 or v != v or v == float("inf"):
            raise _err(key, "must be a finite number of seconds, not negative", node)
        return Duration(v)
    if isinstance(node, yaml.ScalarNode) and node.tag == STR:
        try:
            return Duration.parse(node.value)
        except ValueError:
            raise _err(key, "not a duration (use e.g. 500ms, 5s, 1m)", node) from None
    raise _err(key, f"expected a duration (e.g. 5s), got {_kind(node)}", node)


def _resolve(path: str, ctx: _Ctx) -> str:
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(ctx.base, path))


def _readable(text: str, key: str, node: yaml.Node, ctx: _Ctx) -> ReadableFile:
    path = _resolve(text, ctx)
    try:
        st = os.stat(path)
    except OSError as e:
        raise _err(key, f"cannot read {path}: {e.strerror}", node) from None
    if stat.S_ISDIR(st.st_mode):
        raise _err(key, f"{path} is a directory, not a file", node)
    if not os.access(path, os.R_OK):
        raise _err(key, f"cannot read {path}: permission denied", node)
    return ReadableFile(path)


def _secret_file(node: yaml.Node, key: str, ctx: _Ctx) -> Secret:
    path = _resolve(_text(node, key, "a path"), ctx)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOCTTY)
    except OSError as e:
        raise _err(key, f"cannot read {path}: {e.strerror}", node) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _err(key, f"{path} is not a regular file", node)
        if st.st_mode & 0o044:
            raise _err(
                key,
                f"{path} is readable by group or others (mode {stat.S_IMODE(st.st_mode):04o}); "
                "make it readable by the exporter's user only (chmod 600)",
                node,
            )
        data = os.read(fd, MAX_SECRET_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_SECRET_FILE_BYTES:
        raise _err(key, f"{path} is larger than {MAX_SECRET_FILE_BYTES // 1024} KiB", node)
    try:
        text = data.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise _err(key, f"{path} is not UTF-8 text", node) from None
    if not text:
        raise _err(key, f"{path} is empty", node)
    return Secret(text)


def _key_text(k: yaml.Node, key: str) -> str:
    if isinstance(k, _Py):
        if isinstance(k.obj, (str, int)) and not isinstance(k.obj, bool):
            return str(k.obj)
    elif isinstance(k, yaml.ScalarNode) and k.tag in (*_TEXT_TAGS, BOOL):
        return str(k.value)
    raise _err(key, f"keys must be strings, got {_a(_kind(k))}", k)


def _pairs(node: yaml.MappingNode, key: str) -> Iterator[tuple[yaml.Node, yaml.Node]]:
    """The mapping's (key, value) nodes with `<<` merges applied; a key given twice is an error."""
    merged: list[tuple[yaml.Node, yaml.Node]] = []
    own: dict[str, yaml.Node] = {}
    pairs: list[tuple[yaml.Node, yaml.Node]] = []
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.tag == MERGE:
            for m in v.value if isinstance(v, yaml.SequenceNode) else [v]:
                if not isinstance(m, yaml.MappingNode):
                    raise _err(key, "a << merge takes a mapping or a list of mappings", m)
                merged.extend(_pairs(m, key))
            continue
        text = _key_text(k, key) if isinstance(k, yaml.ScalarNode) else None
        if text is not None:
            first = own.get(text)
            if first is not None:
                where = f" (first at line {_line(first)})" if _line(first) else ""
                raise _err(_join(key, _shown_key(text)), f"duplicate key{where}", k)
            own[text] = k
        pairs.append((k, v))
    seen = set(own)
    for k, v in merged:  # explicit keys override merged ones; of merged ones the first wins, as in YAML 1.1
        text = _key_text(k, key)
        if text not in seen:
            seen.add(text)
            pairs.append((k, v))
    return iter(pairs)


def _shown_key(text: str) -> str:
    return text if len(text) <= 64 else text[:64] + "..."


class _Shape:
    """What `_build` needs to know about a dataclass, worked out once per class."""

    def __init__(self, cls: type) -> None:
        self.hints = typing.get_type_hints(cls, include_extras=True)
        self.fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        # Every Secret field `x` may come from a file instead: `x_file` (unless the class has its own).
        self.from_file = {
            f"{n}_file": n
            for n in self.fields
            if _is_secret(self.hints[n]) and f"{n}_file" not in self.fields
        }
        self.known = sorted([*self.fields, *self.from_file])


_SHAPES: dict[type, _Shape] = {}


def _is_secret(tp: Any) -> bool:
    if tp is Secret:
        return True
    return get_origin(tp) in (typing.Union, types.UnionType) and Secret in get_args(tp)


def _build(cls: type[T], node: yaml.Node, key: str, ctx: _Ctx) -> T:
    if _is_null(node):
        node = yaml.MappingNode(MAP, [], start_mark=getattr(node, "start_mark", None))
    if isinstance(node, _Py) and isinstance(node.obj, dict):
        node = _node(node.obj)
    if not isinstance(node, yaml.MappingNode):
        raise _err(key, f"expected a mapping, got {_kind(node)}", node)
    shape = _SHAPES.get(cls)
    if shape is None:
        shape = _SHAPES[cls] = _Shape(cls)
    hints, fields, from_file, known = shape.hints, shape.fields, shape.from_file, shape.known
    given: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for k, v in _pairs(node, key):
        name = _key_text(k, key)
        if name not in fields and name not in from_file:
            raise _unknown(name, known, key, k)
        given[name] = (k, v)
    kwargs = {}
    lines: dict[str, int | None] = {}
    for fname, secret in from_file.items():
        if fname in given:
            if secret in given:
                raise _err(_join(key, fname), f"give {secret} or {fname}, not both", given[fname][0])
            kwargs[secret] = _secret_file(given[fname][1], _join(key, fname), ctx)
            lines[secret] = _line(given[fname][1])
    for name, f in fields.items():
        if name in given:
            kwargs[name] = _convert(hints[name], given[name][1], _join(key, name), ctx)
            lines[name] = _line(given[name][1])
        elif name in kwargs:
            continue
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise _err(_join(key, name), "required key is missing", node)
    obj = cls(**kwargs)
    check = getattr(obj, "validate", None)
    if check is not None:
        try:
            check()
        except ConfigError as e:
            first = e.key.split(".")[0].split("[")[0]
            raise e.within(key, line=lines.get(first) or _line(node)) from None
    return obj


def _unknown(name: str, known: list[str], key: str, node: yaml.Node) -> ConfigError:
    # A near-miss is a typo of a key, safe to repeat; anything else may be a value (a password pasted on
    # the wrong line), so it is not repeated: the line number says where it is.
    if len(name) <= 64 and difflib.get_close_matches(name, known, n=1, cutoff=0.6):
        return _err(_join(key, name), f"unknown key (known keys here: {', '.join(known)})", node)
    return _err(
        key,
        "unknown key, not repeated here in case it is a value typed in the wrong place "
        f"(known keys here: {', '.join(known)})",
        node,
    )


def _join(a: str, b: str) -> str:
    return f"{a}.{b}" if a else b


def parse_config(cls: type[T], data: Any, file: str | None = None, *, expand_env: bool = False) -> T:
    """Build `cls` from already-loaded data (Python values, or a YAML node tree)."""
    base = os.path.dirname(os.path.abspath(file)) if file else os.getcwd()
    try:
        return _build(cls, _node(data), "", _Ctx(file, base, expand_env))
    except ConfigError as e:
        raise e.within(file=file) from None


def load_config(cls: type[T], path: str | Path | None, *, expand_env: bool = False) -> T:
    """Read and validate a YAML config file; `None` gives the defaults (all fields must have one)."""
    if path is None:
        return parse_config(cls, {})
    name = str(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise ConfigError("", f"cannot read: {e.strerror}", name) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            "", f"larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB; refusing to read it", name
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError("", f"not UTF-8 text (at byte {e.start})", name) from None
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = str(getattr(e, "problem", None) or e)[:200]
        raise ConfigError("", f"not valid YAML{at}: {problem}", name) from None
    if root is None:
        root = yaml.MappingNode(MAP, [])
    try:
        _check_aliases(root)
    except ConfigError as e:
        raise e.within(file=name) from None
    return parse_config(cls, root, name, expand_env=expand_env)
