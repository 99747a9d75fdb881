"""Command line in the Go exporters' style, and the process' life: start, reload on SIGHUP, stop."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import typing
from collections.abc import Sequence

from .. import __version__
from . import log as logs
from .app import App, ExporterSpec
from .config import ConfigError, Duration
from .server import serve
from .webconfig import load_web_config

log = logs.get_logger("exporters.core.cli")


def _duration(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        try:
            return float(Duration.parse(text))
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None


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
    p.add_argument(
        "--config.check",
        dest="config_check",
        action="store_true",
        help="validate the config and web config files, then exit",
    )
    p.add_argument(
        "--web.timeout-offset",
        dest="timeout_offset",
        type=_duration,
        default=0.5,
        metavar="DURATION",
        help="subtracted from Prometheus' scrape timeout to leave time to answer (default 0.5s)",
    )
    p.add_argument(
        "--scrape.default-timeout",
        dest="default_timeout",
        type=_duration,
        default=10.0,
        metavar="DURATION",
        help="deadline when the request carries no X-Prometheus-Scrape-Timeout-Seconds (default 10s)",
    )
    p.add_argument(
        "--config.expand-environment-variables",
        dest="expand_env",
        action="store_true",
        help="expand ${VAR} and $VAR in secret fields of the config (as snmp_exporter does)",
    )
    p.add_argument("--log.level", dest="log_level", choices=list(logs.LEVELS), default="info")
    p.add_argument("--log.format", dest="log_format", choices=["logfmt", "json"], default="logfmt")
    p.add_argument("--version", action="version", version=f"colo-{spec.name}-exporter {__version__}")
    return p


def _config_file(spec: ExporterSpec, given: str | None) -> str | None:
    if given:
        return given
    if spec.default_config_file and (spec.config_required or os.path.exists(spec.default_config_file)):
        return spec.default_config_file
    return None


def run(spec: ExporterSpec, argv: Sequence[str] | None = None) -> int:
    args = parser(spec).parse_args(argv)
    logs.setup(args.log_level, args.log_format)
    config_file = _config_file(spec, args.config)
    try:
        app = App(
            spec,
            config_file,
            timeout_offset=args.timeout_offset,
            default_timeout=args.default_timeout,
            expand_env=args.expand_env,
        )
        security = load_web_config(args.web_config)
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
    servers = []
    try:
        for address in args.listen or [f":{spec.default_port}"]:
            servers.append(serve(address, app, security))
    except (OSError, ValueError) as e:
        log.error("cannot listen", err=str(e))
        for s in servers:
            s.server_close()
        app.close()
        return 1

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=app.reload, daemon=True).start())
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True).start()
        host, port = typing.cast("tuple[str, int]", s.server_address[:2])  # an inet server: never bytes
        log.info(
            "listening",
            address=f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            tls=security.ssl_context is not None,
            basic_auth=security.auth_required,
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
    log.info("shutting down")
    for s in servers:
        s.shutdown()
        s.server_close()
    app.close()
    return 0


def main_for(spec: ExporterSpec) -> None:
    sys.exit(run(spec))
