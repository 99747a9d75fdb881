"""The SNMP exporter's config file: credentials by name (`auths:`) and switches by name (`targets:`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from exporters.core import ConfigError, Duration, Secret

AUTH_PROTOCOLS = ("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
PRIV_PROTOCOLS = ("DES", "AES", "AES192", "AES256", "AES192C", "AES256C")


@dataclass(frozen=True)
class Auth:
    """How to talk to an agent: v1/v2c community, or a v3 USM user."""

    version: Literal["1", "2c", "3"] = "2c"
    community: Secret = Secret("public")
    username: str = ""
    security_level: Literal["noAuthNoPriv", "authNoPriv", "authPriv"] = "authPriv"
    auth_protocol: Literal["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"] = "SHA"
    auth_password: Secret = Secret("")
    priv_protocol: Literal["DES", "AES", "AES192", "AES256", "AES192C", "AES256C"] = "AES"
    priv_password: Secret = Secret("")
    context_name: str = ""

    def validate(self) -> None:
        if self.version != "3":
            if self.username or self.auth_password or self.priv_password:
                raise ConfigError("version", "username/passwords are for version 3; v1/v2c use community")
            if self.context_name:
                raise ConfigError("context_name", "only SNMPv3 has contexts")
            return
        if not self.username:
            raise ConfigError("username", "required for version 3")
        if self.security_level != "noAuthNoPriv" and len(self.auth_password.reveal()) < 8:
            raise ConfigError("auth_password", f"{self.security_level} needs one of at least 8 characters")
        if self.security_level == "authPriv" and len(self.priv_password.reveal()) < 8:
            raise ConfigError("priv_password", "authPriv needs one of at least 8 characters")


_SPEED = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:b(?:it)?/?s|bps)?", re.IGNORECASE)
_SPEED_UNIT = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def parse_speed(text: str) -> int:
    """`10G`, `2.5G`, `100M`, `1Gb/s` -> bits per second."""
    m = _SPEED.fullmatch(text.strip())
    if not m:
        raise ValueError(f"not a speed: {text!r} (use e.g. 1G, 10G, 100M)")
    return int(float(m.group(1)) * _SPEED_UNIT[m.group(2).upper()])


@dataclass(frozen=True)
class PortRule:
    """Names a port by exactly one of ifname, ifalias (a regex, searched) or ifindex."""

    role: str
    link: str = ""
    ifname: str | None = None
    ifalias: str | None = None
    ifindex: int | None = None
    speed: str | None = None  # expected speed (e.g. 10G): below it, the port is reported as slow

    @property
    def speed_bps(self) -> int | None:
        return parse_speed(self.speed) if self.speed else None

    def validate(self) -> None:
        if self.speed is not None:
            try:
                parse_speed(self.speed)
            except ValueError as e:
                raise ConfigError("speed", str(e)) from None
        given = [k for k in ("ifname", "ifalias", "ifindex") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ConfigError("", "give exactly one of ifname, ifalias, ifindex")
        if not re.fullmatch(r"[A-Za-z0-9_.:-]+", self.role):
            raise ConfigError("role", f"{self.role!r}: use a word such as wan, uplink, mesh, bmc")
        if self.ifalias is not None:
            try:
                re.compile(self.ifalias)
            except re.error as e:
                raise ConfigError("ifalias", f"not a valid regular expression: {e}") from None


@dataclass(frozen=True)
class Target:
    address: str
    auth: str = "public_v2"
    port: int = 161
    timeout: Duration = Duration(2.0)
    retries: int = 1
    max_repetitions: int = 25
    in_flight: int = 2  # GETBULK requests out at once (each for its own columns); 1 for touchy agents
    lag: bool = True
    lldp: bool = True
    ports: list[PortRule] = field(default_factory=list)

    def validate(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError("port", "must be 1..65535")
        if not 0 <= self.retries <= 10:
            raise ConfigError("retries", "must be 0..10")
        if not 1 <= self.max_repetitions <= 200:
            raise ConfigError("max_repetitions", "must be 1..200")
        if not 1 <= self.in_flight <= 8:
            raise ConfigError("in_flight", "must be 1..8")
        if self.timeout <= 0:
            raise ConfigError("timeout", "must be positive")


@dataclass(frozen=True)
class Config:
    auths: dict[str, Auth] = field(default_factory=lambda: {"public_v2": Auth()})
    targets: dict[str, Target] = field(default_factory=dict)

    def validate(self) -> None:
        for name, t in self.targets.items():
            if t.auth not in self.auths:
                raise ConfigError(
                    f"targets.{name}.auth",
                    f"no auth named {t.auth!r} (known: {', '.join(sorted(self.auths))})",
                )
