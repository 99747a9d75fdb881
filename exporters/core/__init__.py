"""The shared core every colo exporter is built on: flags, config, web server, scrape runner, logging.

An exporter is an `ExporterSpec` (see `cli.py`) plus a runtime that turns one target's scrape into
`Job`s (see `scrape.py`). Everything else — HTTP, TLS and auth, deadlines, self-metrics, reload — is here.
"""

from .config import ConfigError, Duration, Secret, load_config, parse_config
from .log import get_logger
from .metrics import Families
from .scrape import Deadline, Exclusive, Job, Malformed, ScrapeError

__all__ = [
    "ConfigError",
    "Deadline",
    "Duration",
    "Exclusive",
    "Families",
    "Job",
    "Malformed",
    "ScrapeError",
    "Secret",
    "get_logger",
    "load_config",
    "parse_config",
]
