"""colo-exporters: Prometheus exporters for a small LXD colocation rack."""

import signal as _signal
import threading as _threading

__version__ = "0.1.0"

# SIGHUP asks an exporter to reload. One that comes while it is still starting (importing takes a second
# or more; systemd's ExecReload, a config-management run) must not kill it, as the default action would:
# from the first import of this package it is remembered here, and the core reloads once it serves
# (exporters/core/cli.py installs the real handler).
early_signals: list[int] = []


def _remember(signum: int, _frame: object) -> None:
    early_signals.append(signum)


if _threading.current_thread() is _threading.main_thread() and _signal.getsignal(_signal.SIGHUP) in (
    _signal.SIG_DFL,
    None,
):
    _signal.signal(_signal.SIGHUP, _remember)
