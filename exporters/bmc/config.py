"""The BMC exporter's config file: credentials by name (`auths:`) and BMCs by name (`targets:`)."""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Literal

from ..core import ConfigError, Duration, Secret
from ..core.config import Expandable, ReadableFile
from .ipmi_compat import READ, parse_module, settings

IPMI_WORKAROUNDS = (
    "ignore_sdu_length",  # python-ipmi RMCP quirks
    "ignore_rq_seq",
    "skip_sensors",  # what not to ask for (ipmi_exporter modules without these collectors)
    "skip_sel",
    "skip_chassis",
    "skip_dcmi",
    "ignore_scanning_disabled",  # read sensors the BMC says it does not scan (FreeIPMI's flag of that name)
    "assume_system_event",  # count every SEL record as a system event (FreeIPMI assumesystemevent)
)


@dataclass(frozen=True)
class Auth:
    user: Expandable
    password: Secret


@dataclass(frozen=True)
class IpmiTarget:
    host: str
    auth: str | None = None  # a key of `auths` (or `module:`)
    module: str | None = None  # a key of `modules` (ipmi_exporter's format): credentials and settings
    port: int = 623
    interface: Literal["lanplus", "lan"] = "lanplus"  # IPMI 2.0 RMCP+, or IPMI 1.5
    cipher_suite: int | None = 3  # None: try 17, then 3
    privilege: Literal["user", "operator", "administrator"] = "user"
    workarounds: list[str] = field(default_factory=list)
    timeout: Duration = Duration(2.0)  # per request; the scrape deadline applies regardless
    power_sensor: str | None = None  # the sensor that is the system's power draw (else DCMI)
    exclude_sensors: list[str] = field(default_factory=list)  # names, or regular expressions matching names
    exclude_record_ids: list[int] = field(default_factory=list)  # SDR record ids (ipmi_exporter's sensor ids)

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
        if (self.auth is None) == (self.module is None):
            raise ConfigError("auth", "an IPMI target needs exactly one of `auth:` and `module:`")
        for i, pattern in enumerate(self.exclude_sensors):
            try:
                re.compile(pattern)
            except re.error as e:
                raise ConfigError(
                    f"exclude_sensors[{i}]", f"not a regular expression ({e}); escape it"
                ) from None

    def excluded(self, name: str, record_id: int) -> bool:
        """A sensor the operator does not want: its name equals or fully matches an entry, or its record id
        is listed."""
        return record_id in self.exclude_record_ids or any(
            name == p or re.fullmatch(p, name) for p in self.exclude_sensors
        )


@dataclass(frozen=True)
class RedfishTarget:
    url: str  # https://bmc1.example[:port] (optionally with /redfish/v1)
    auth: str  # a key of `auths`
    login: Literal["session", "basic"] = "session"
    verify: bool = True  # TLS certificate verification
    ca_file: ReadableFile | None = None  # CA bundle for the BMC's certificate
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
    modules: dict[str, Any] = field(default_factory=dict)  # ipmi_exporter's `modules:`, as it documents them
    targets: dict[str, Target] = field(default_factory=dict)

    def validate(self) -> None:
        mods = {}
        for name, raw in self.modules.items():
            mods[name] = parse_module(raw, f"modules.{name}")
        object.__setattr__(self, "_modules", mods)
        for name, t in self.targets.items():
            for kind, src in (("ipmi", t.ipmi), ("redfish", t.redfish)):
                if src is not None and src.auth is not None and src.auth not in self.auths:
                    raise ConfigError(
                        f"targets.{name}.{kind}.auth",
                        f"no auth named {src.auth!r} in `auths` (have: {_names(self.auths)})",
                    )
            if t.ipmi is not None and t.ipmi.module is not None:
                if t.ipmi.module not in mods:
                    raise ConfigError(
                        f"targets.{name}.ipmi.module",
                        f"no module named {t.ipmi.module!r} in `modules` (have: {_names(mods)})",
                    )
                settings(mods[t.ipmi.module], f"modules.{t.ipmi.module}")

    def ipmi_for(self, name: str) -> tuple[IpmiTarget, Auth, tuple[str, ...]]:
        """A target's IPMI settings with its module applied, its credentials, and the module keys that have no
        effect here (for one log line)."""
        t = self.targets[name].ipmi
        assert t is not None
        if t.module is None:
            assert t.auth is not None
            return t, self.auths[t.auth], ()
        m = settings(getattr(self, "_modules")[t.module], f"modules.{t.module}")  # noqa: B009 - set in validate
        skips = [f"skip_{c if c != 'ipmi' else 'sensors'}" for c in READ if c not in m.read]
        flags = ["ignore_scanning_disabled"] * m.ignore_scanning_disabled + [
            "assume_system_event"
        ] * m.assume_system_event
        target = dataclasses.replace(
            t,
            privilege=m.privilege,
            interface="lanplus" if m.interface == "rmcpplus" else "lan",
            timeout=m.timeout if m.timeout is not None else t.timeout,
            workarounds=list(dict.fromkeys([*t.workarounds, *skips, *flags])),
            exclude_record_ids=sorted({*t.exclude_record_ids, *m.exclude_record_ids}),
        )
        return target, Auth(m.user, m.password), m.no_effect


def _names(d: dict[str, Any]) -> str:
    return ", ".join(sorted(d)) or "none"
