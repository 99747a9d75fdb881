"""Command line in the Go exporters' style, and the process' life: start, reload on SIGHUP, stop.

* SIGHUP asks for a reload; a SIGHUP that comes while the exporter is still starting is remembered (the
  package `exporters` catches it from its first import) and honoured once it serves. Reloads run one at a
  time on one thread; SIGHUPs that come during a reload give one more reload after it.
* SIGTERM/SIGINT: stop accepting, let requests in flight finish for a moment, close the runtimes in
  parallel, and exit within SHUTDOWN_BUDGET seconds whatever the peers do.
* At start the soft open-files limit is raised to the hard limit (as Go programs do since Go 1.19), and
  the number of connections the server keeps is derived from it.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import resource
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from .. import __version__, early_signals
from . import log as logs
from .app import App, ExporterSpec
from .config import ConfigError, Duration
from .server import Server, describe, listen, systemd_listeners
from .webconfig import WebConfigHolder

log = logs.get_logger("exporters.core.cli")


def _duration(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        try:
            return float(Duration.parse(text))
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None


_SWITCHES = (  # flag, dest, help
    ("--config.check", "config_check", "validate the config and web config files, then exit"),
    (
        "--config.expand-environment-variables",
        "expand_env",
        "expand ${VAR} and $VAR in secret fields of the config (as snmp_exporter does)",
    ),
    (
        "--web.systemd-socket",
        "systemd_socket",
        "listen on the sockets systemd passes (socket activation) instead of --web.listen-address",
    ),
)
_DURATIONS = (  # flag, dest, default in seconds, help
    (
        "--web.timeout-offset",
        "timeout_offset",
        0.5,
        "subtracted from Prometheus' scrape timeout to leave time to answer",
    ),
    (
        "--scrape.default-timeout",
        "default_timeout",
        10.0,
        "deadline when the request carries no X-Prometheus-Scrape-Timeout-Seconds",
    ),
)


def parser(spec: ExporterSpec) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"colo-{spec.name}-exporter", description=spec.description, allow_abbrev=False
    )
    p.add_argument(
        "--web.listen-address",
        dest="listen",
        action="append",
        metavar="ADDR",
        help=f"address to listen on; repeatable, [v6]:port works (default :{spec.default_port})",
    )
    p.add_argument(
        "--web.config.file",
        dest="web_config",
        metavar="FILE",
        help="exporter-toolkit web config: TLS, client certificates, basic auth",
    )
    cfg_help = "exporter config file (YAML)"
    if spec.default_config_file:
        cfg_help += f"; default {spec.default_config_file}" + ("" if spec.config_required else " if present")
    p.add_argument("--config.file", dest="config", metavar="FILE", help=cfg_help)
    for flag, dest, text in _SWITCHES:
        p.add_argument(flag, dest=dest, action="store_true", help=text)
    for flag, dest, default, text in _DURATIONS:
        p.add_argument(
            flag,
            dest=dest,
            type=_duration,
            default=default,
            metavar="DURATION",
            help=f"{text} (default {default:g}s)",
        )
    p.add_argument(
        "--web.max-requests",
        dest="max_requests",
        type=int,
        default=40,
        metavar="N",
        help="at most N scrapes (/metrics, /probe) at once, 503 beyond; 0 for no limit (default 40)",
    )
    p.add_argument(
        "--web.telemetry-path",
        dest="telemetry_path",
        default="/metrics",
        metavar="PATH",
        help="path of the exporter's own metrics (default /metrics)",
    )
    p.add_argument("--log.level", dest="log_level", choices=list(logs.LEVELS), default="info")
    p.add_argument("--log.format", dest="log_format", choices=["logfmt", "json"], default="logfmt")
    p.add_argument("--version", action=_Version, nargs=0, help="show the version and build, then exit")
    p.set_defaults(version_text=version_text(spec))
    return p


class _Version(argparse.Action):
    """--version as the Go exporters' version.Print: printed as is (argparse would re-flow the lines)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, *_: Any) -> None:
        sys.stdout.write(namespace.version_text)
        parser.exit(0)


def version_text(spec: ExporterSpec) -> str:
    """What `--version` prints, in the layout of Prometheus' version.Print. Branch, revision, build user and
    date come from `exporters/_build_info.py` when the package build wrote one, else "unknown"."""
    try:
        from .. import _build_info as b  # type: ignore[attr-defined]

        info = {
            k: str(getattr(b, k.upper(), "unknown"))
            for k in ("branch", "revision", "build_user", "build_date")
        }
    except ImportError:
        info = dict.fromkeys(("branch", "revision", "build_user", "build_date"), "unknown")
    return (
        f"colo-{spec.name}-exporter, version {__version__} (branch: {info['branch']}, "
        f"revision: {info['revision']})\n"
        f"  build user:       {info['build_user']}\n"
        f"  build date:       {info['build_date']}\n"
        f"  python version:   {platform.python_version()} ({platform.python_implementation()})\n"
        f"  platform:         {sys.platform}/{platform.machine()}\n"
    )


def _config_file(spec: ExporterSpec, given: str | None) -> str | None:
    if given:
        return given
    if spec.default_config_file and (spec.config_required or os.path.exists(spec.default_config_file)):
        return spec.default_config_file
    return None


SHUTDOWN_BUDGET = 5.0  # seconds from SIGTERM to exit, whatever peers and runtimes do
DRAIN_SECONDS = 1.5  # of which requests in flight may use this much to finish


def raise_fd_limit() -> tuple[int, int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit; (soft now, hard, soft before)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError) as e:
            log.warning("cannot raise the open-files limit", soft=soft, hard=hard, err=str(e))
            return soft, hard, soft
        return want, hard, soft
    return soft, hard, soft


def max_connections(fd_limit: int) -> int:
    """Connections the server keeps open: what the open-files limit leaves after a reserve for the peers'
    sockets and files (a quarter, at least 64), at most 4,096."""
    if fd_limit == resource.RLIM_INFINITY:
        fd_limit = 1 << 20
    return max(16, min(4096, fd_limit - max(64, fd_limit // 4)))


def _install_hup(reload_wanted: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGHUP, lambda *_: reload_wanted.set())
    if early_signals:  # a SIGHUP came while Python was still importing the exporter
        reload_wanted.set()


def run(spec: ExporterSpec, argv: Sequence[str] | None = None) -> int:
    reload_wanted = threading.Event()
    _install_hup(reload_wanted)  # before anything slow: a SIGHUP while starting must not kill the exporter
    args = parser(spec).parse_args(argv)
    logs.setup(args.log_level, args.log_format)
    config_file = _config_file(spec, args.config)
    try:
        web = WebConfigHolder(args.web_config)
        app = App(
            spec,
            config_file,
            timeout_offset=args.timeout_offset,
            default_timeout=args.default_timeout,
            expand_env=args.expand_env,
            web=web,
        )
    except ConfigError as e:
        log.error("invalid config", err=str(e))
        return 1
    except Exception as e:  # noqa: BLE001 - one clear line, never a traceback
        log.error("cannot start", err=f"{type(e).__name__}: {e}")
        return 1
    if args.config_check:
        app.close()
        print(
            f"config OK: {config_file or '(defaults)'}"
            + (f", web config OK: {args.web_config}" if args.web_config else "")
        )
        return 0
    if args.max_requests < 0 or not args.telemetry_path.startswith("/"):
        log.error("invalid flags: --web.max-requests must be >= 0 and --web.telemetry-path start with /")
        app.close()
        return 1
    soft, hard, was = raise_fd_limit()
    log.info(
        "open-files limit raised to the hard limit" if soft != was else "open-files limit",
        soft=soft,
        hard=hard,
        was=was,
    )
    listeners = []
    try:
        if args.systemd_socket:
            listeners = systemd_listeners()
            log.info("listening on the sockets systemd passed (--web.systemd-socket)", sockets=len(listeners))
        else:
            for address in args.listen or [f":{spec.default_port}"]:
                listeners.append(listen(address))
    except (OSError, ValueError) as e:
        log.error("cannot listen", err=str(e))
        for s in listeners:
            s.close()
        app.close()
        return 1
    server = Server(
        app,
        listeners,
        max_requests=args.max_requests,
        max_connections=max_connections(soft),
        telemetry_path=args.telemetry_path,
    )
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    threading.Thread(target=_reloader, args=(app, reload_wanted), name="reloader", daemon=True).start()
    sec = web.current
    for s in listeners:
        log.info(
            "listening",
            address=describe(s),
            tls=sec.ssl_context is not None,
            basic_auth=sec.auth_required,
            max_requests=args.max_requests,
            max_connections=server.max_connections,
        )
    log.info(
        f"starting colo-{spec.name}-exporter",
        version=__version__,
        config=config_file or "(defaults)",
        targets=len(app.targets()),
    )
    # The kernel may hand a signal to any thread; Python runs the handler in the main thread only when it
    # next executes bytecode, so the main thread must wake up regularly rather than block for long.
    while not stop.wait(0.25):
        pass
    return _shutdown(server, app)


def _reloader(app: App, wanted: threading.Event) -> None:
    while True:
        wanted.wait()
        wanted.clear()
        app.reload()


def _shutdown(server: Server, app: App) -> int:
    t0 = time.monotonic()
    log.info("shutting down", budget_seconds=SHUTDOWN_BUDGET)
    server.close_listeners()
    drained = server.wait_idle(DRAIN_SECONDS)
    server.stop()
    closed = app.shutdown(max(0.0, SHUTDOWN_BUDGET - 0.5 - (time.monotonic() - t0)))
    took = round(time.monotonic() - t0, 3)
    if drained and closed:
        log.info("shut down", seconds=took)
    else:
        log.warning(
            "requests or runtime closes did not finish within the shutdown budget; exiting anyway",
            requests_finished=drained,
            runtimes_closed=closed,
            seconds=took,
        )
    return 0


def main_for(spec: ExporterSpec) -> None:
    code = run(spec)
    # Exit now, whatever threads are still running (a close() stuck on a dead peer, a library's worker
    # pool that Python would wait for at exit): the shutdown budget is the process' promise.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
