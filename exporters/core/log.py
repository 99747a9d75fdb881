"""Logging in the Go exporters' style: `--log.level`, `--log.format` logfmt or json, key=value pairs."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import sys
import threading
import warnings
from typing import Any, TextIO

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}
_NAMES = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warn",
    logging.ERROR: "error",
    logging.CRITICAL: "error",
}


def _ts(record: logging.LogRecord) -> str:
    t = _dt.datetime.fromtimestamp(record.created, _dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _pairs(record: logging.LogRecord) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = [
        ("ts", _ts(record)),
        ("level", _NAMES.get(record.levelno, "info")),
        ("caller", f"{record.module}.py:{record.lineno}"),
        ("msg", record.getMessage()),
    ]
    pairs.extend(getattr(record, "kv", {}).items())
    if record.exc_info and record.exc_info[1] is not None:
        pairs.append(("exc", logging.Formatter().formatException(record.exc_info)))
    return pairs


def _logfmt_value(v: Any) -> str:
    s = str(v)
    if s == "" or any(c in s for c in ' ="\\\n\t'):
        return (
            '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'
        )
    return s


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{k}={_logfmt_value(v)}" for k, v in _pairs(record))


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {k: (v if isinstance(v, (int, float, bool)) else str(v)) for k, v in _pairs(record)}
        )


class KVLogger:
    """A logger that takes key=value pairs: `log.warning("scrape failed", target="sw1", err=e)`."""

    __slots__ = ("_log",)

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger

    def _emit(self, level: int, msg: str, kv: dict[str, Any], exc_info: bool = False) -> None:
        if self._log.isEnabledFor(level):
            self._log.log(level, msg, extra={"kv": kv}, stacklevel=3, exc_info=exc_info)

    def debug(self, msg: str, **kv: Any) -> None:
        self._emit(logging.DEBUG, msg, kv)

    def info(self, msg: str, **kv: Any) -> None:
        self._emit(logging.INFO, msg, kv)

    def warning(self, msg: str, **kv: Any) -> None:
        self._emit(logging.WARNING, msg, kv)

    def error(self, msg: str, **kv: Any) -> None:
        self._emit(logging.ERROR, msg, kv)

    def exception(self, msg: str, **kv: Any) -> None:
        """An error line; the traceback only at debug level."""
        self._emit(logging.ERROR, msg, kv, exc_info=self._log.isEnabledFor(logging.DEBUG))

    def enabled(self, level: str) -> bool:
        return self._log.isEnabledFor(LEVELS[level])


def get_logger(name: str) -> KVLogger:
    return KVLogger(logging.getLogger(name))


def setup(level: str = "info", fmt: str = "logfmt", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JSONFormatter() if fmt == "json" else LogfmtFormatter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(LEVELS[level])
    # Libraries' own loggers are chatty at debug and may echo request details; keep them at warn.
    for noisy in ("pysnmp", "pyasn1", "pyipmi", "ws4py", "asyncio"):
        logging.getLogger(noisy).setLevel(max(LEVELS[level], logging.WARNING))
    warnings.showwarning = _show_warning


# Python warnings (a library's own, deprecations) go through the logger in the chosen format, once per
# distinct warning, instead of raw lines on stderr.
MAX_DISTINCT_WARNINGS = 1000
_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    text = str(message)
    key = (category.__name__, text)
    with _warned_lock:
        if key in _warned or len(_warned) > MAX_DISTINCT_WARNINGS:
            return
        _warned.add(key)
        last = len(_warned) > MAX_DISTINCT_WARNINGS
    get_logger("py.warnings").warning(
        text[:500], category=category.__name__, where=f"{os.path.basename(filename)}:{lineno}"
    )
    if last:
        get_logger("py.warnings").warning(
            f"more than {MAX_DISTINCT_WARNINGS} distinct warnings; no more are logged"
        )
