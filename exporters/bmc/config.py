"""The BMC exporter's config file: credentials by name (`auths:`) and BMCs by name (`targets:`)."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Literal

from ..core import ConfigError, Duration, Secret

IPMI_WORKAROUNDS = ("ignore_sdu_length", "ignore_rq_seq", "skip_sel", "skip_chassis", "skip_dcmi")


@dataclass(frozen=True)
class Auth:
    user: str
    password: Secret


@dataclass(frozen=True)
class IpmiTarget:
    host: str
    auth: str  # a key of `auths`
    port: int = 623
    cipher_suite: int | None = 3  # None: try 17, then 3
    privilege: Literal["user", "operator", "administrator"] = "user"
    workarounds: list[str] = field(default_factory=list)
    timeout: Duration = Duration(2.0)  # per request; the scrape deadline applies regardless
    power_sensor: str | None = None  # the sensor that is the system's power draw (else DCMI)

    def validate(self) -> None:
        for i, w in enumerate(self.workarounds):
            if w not in IPMI_WORKAROUNDS:
                raise ConfigError(
                    f"workarounds[{i}]", f"unknown workaround {w!r} (known: {', '.join(IPMI_WORKAROUNDS)})"
                )
        if self.cipher_suite is not None and self.cipher_suite not in (1, 2, 3, 15, 16, 17):
            raise ConfigError("cipher_suite", "must be one of 1, 2, 3, 15, 16, 17 (or null for 17 then 3)")
        if not 0 < self.port < 65536:
            raise ConfigError("port", "must be 1-65535")


@dataclass(frozen=True)
class RedfishTarget:
    url: str  # https://bmc1.example[:port] (optionally with /redfish/v1)
    auth: str  # a key of `auths`
    login: Literal["session", "basic"] = "session"
    verify: bool = True  # TLS certificate verification
    ca_file: str | None = None  # CA bundle for the BMC's certificate
    timeout: Duration = Duration(10.0)  # per request; the scrape deadline applies regardless
    sel: bool = False  # count System Event Log entries (2 more requests)
    insecure_http: bool = False  # allow http:// (the password then crosses the network in clear)
    components: bool = False  # health of drives, storage controllers, memory, processors (in the background)
    components_interval: Duration = Duration(300.0)  # how often the component health is read

    def validate(self) -> None:
        # Never echo the URL: it may hold a password.
        try:
            parts = urllib.parse.urlsplit(self.url)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            raise ConfigError("url", "not a URL (want https://host[:port])") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError("url", "must be https://host[:port] (or http:// with insecure_http: true)")
        if parts.password is not None:
            raise ConfigError(
                "url", "has a password in it: remove it from the URL and put the credentials under `auths:`"
            )
        if parts.username is not None:
            raise ConfigError("url", "has a user name in it: put the credentials under `auths:`")
        if parts.path.rstrip("/") not in ("", "/redfish/v1", "/redfish") or parts.query or parts.fragment:
            raise ConfigError("url", "must be only scheme://host[:port] (optionally with /redfish/v1)")
        if self.components_interval < 10:
            raise ConfigError("components_interval", "must be at least 10s")
        if parts.scheme == "http" and not self.insecure_http:
            raise ConfigError(
                "url",
                "http:// sends the password in clear (session and basic login alike); use https://, or set "
                "`insecure_http: true` for this target if the network is trusted",
            )

    @property
    def origin(self) -> str:
        """scheme://host[:port] of the BMC: every request goes there and nowhere else."""
        parts = urllib.parse.urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Target:
    ipmi: IpmiTarget | None = None
    redfish: RedfishTarget | None = None
    timeout: Duration | None = None  # the whole scrape of this BMC, if shorter than Prometheus'

    def validate(self) -> None:
        if self.ipmi is None and self.redfish is None:
            raise ConfigError("", "a target needs `ipmi:`, `redfish:` or both")


@dataclass(frozen=True)
class Config:
    auths: dict[str, Auth] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)

    def validate(self) -> None:
        for name, t in self.targets.items():
            for kind, src in (("ipmi", t.ipmi), ("redfish", t.redfish)):
                if src is not None and src.auth not in self.auths:
                    raise ConfigError(
                        f"targets.{name}.{kind}.auth",
                        f"no auth named {src.auth!r} in `auths` (have: "
                        f"{', '.join(sorted(self.auths)) or 'none'})",
                    )
