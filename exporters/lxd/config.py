"""The LXD exporter's config file (`/etc/colo-exporters/lxd.yml`)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Literal

from exporters.core import ConfigError, Duration
from exporters.core.config import ReadableFile

SNAP_SOCKET = "/var/snap/lxd/common/lxd/unix.socket"
DEB_SOCKET = "/var/lib/lxd/unix.socket"
INCUS_SOCKET = "/var/lib/incus/unix.socket"
_USER_KEY = re.compile(r"^user\.[A-Za-z0-9_.\-]+$")


def default_socket() -> str:
    """$LXD_DIR or $INCUS_DIR's unix.socket; else the first that exists of the LXD snap's, Debian's LXD
    and Incus' sockets; else Debian's LXD socket (the error then names it)."""
    for var in ("LXD_DIR", "INCUS_DIR"):
        if os.environ.get(var):
            return os.path.join(os.environ[var], "unix.socket")
    for path in (SNAP_SOCKET, DEB_SOCKET, INCUS_SOCKET):
        if os.path.exists(path):
            return path
    return DEB_SOCKET


@dataclass(frozen=True)
class TLS:
    cert_file: ReadableFile  # client certificate LXD trusts (`lxc config trust add --type=client`)
    key_file: ReadableFile
    server_cert_file: ReadableFile | None = None  # the server's (or cluster's) certificate, pinned
    insecure_skip_verify: bool = False

    def validate(self) -> None:
        if self.server_cert_file and self.insecure_skip_verify:
            raise ConfigError(
                "insecure_skip_verify", "give either server_cert_file or insecure_skip_verify, not both"
            )


@dataclass(frozen=True)
class Config:
    socket: str | None = None  # unix socket path; default: see default_socket()
    url: str | None = None  # https://host:8443 instead of the socket
    tls: TLS | None = None
    scope: Literal["member", "cluster"] = "member"
    user_labels: list[str] = field(default_factory=list)
    timeout: Duration = Duration(8.0)  # per collector; the scrape deadline applies too
    disk_interval: Duration = Duration(60.0)  # disk usage and quota: refreshed in the background this often
    instances_max_age: Duration = Duration(60.0)  # the instance list is re-read at least this often
    server_interval: Duration = Duration(60.0)  # /1.0, storage pools, projects: refreshed in the background

    def validate(self) -> None:
        if self.url is not None:
            if self.socket is not None:
                raise ConfigError("url", "give either socket or url, not both")
            if not self.url.startswith("https://"):
                raise ConfigError("url", "must start with https:// (use socket: for the local unix socket)")
            if self.tls is None:
                raise ConfigError("tls", "an https url needs tls.cert_file and tls.key_file")
        elif self.tls is not None:
            raise ConfigError("tls", "only used with url")
        for i, key in enumerate(self.user_labels):
            if not _USER_KEY.match(key):
                raise ConfigError(
                    f"user_labels[{i}]", f"{key!r}: expected a user.* config key, e.g. user.monitor"
                )
        names = [label_name(k) for k in self.user_labels]
        if len(set(names)) != len(names):
            raise ConfigError("user_labels", "two keys map to the same label name")
        if self.timeout <= 0:
            raise ConfigError("timeout", "must be positive")
        if self.disk_interval < 1:
            raise ConfigError("disk_interval", "must be at least 1s")
        if self.instances_max_age < 0:
            raise ConfigError("instances_max_age", "must not be negative (0s: read the list every scrape)")
        if self.server_interval < 1:
            raise ConfigError("server_interval", "must be at least 1s")

    def socket_path(self) -> str:
        return self.socket or default_socket()


def label_name(key: str) -> str:
    """`user.monitor` -> `user_monitor` (Prometheus label names allow [a-zA-Z0-9_])."""
    return re.sub(r"[^A-Za-z0-9_]", "_", key)
