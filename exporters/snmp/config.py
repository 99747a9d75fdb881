"""The SNMP exporter's config file: credentials by name (`auths:`) and switches by name (`targets:`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from exporters.core import ConfigError, Duration, Secret
from exporters.core.config import Expandable

from . import usm


@dataclass(frozen=True)
class Auth:
    """How to talk to an agent: a v1/v2c community, or a v3 USM user.

    An entry may also be written as snmp_exporter writes its `auths:` (0.23 and later): its key `password`
    for the auth password, `version: 2` for v2c. Such an entry gets snmp_exporter's defaults (noAuthNoPriv,
    MD5, DES) and, as there, its v3 keys are ignored unless it is version 3. Ours default to authPriv,
    SHA, AES."""

    version: Literal["1", "2", "2c", "3"] = "2c"
    community: Secret = Secret("public")
    username: Expandable = ""
    security_level: str | None = None  # noAuthNoPriv | authNoPriv | authPriv
    auth_protocol: str | None = None  # a key of usm.AUTH
    auth_password: Secret | None = None
    password: Secret | None = None  # snmp_exporter's name for auth_password
    priv_protocol: str | None = None  # a key of usm.PRIV
    priv_password: Secret | None = None
    context_name: str = ""

    @property
    def snmp_exporter_style(self) -> bool:
        return self.password is not None or self.version == "2"

    @property
    def snmp_version(self) -> str:
        """ "1", "2c" or "3"."""
        return "2c" if self.version == "2" else self.version

    @property
    def level(self) -> str:
        return self.security_level or ("noAuthNoPriv" if self.snmp_exporter_style else "authPriv")

    @property
    def auth_name(self) -> str:
        return self.auth_protocol or ("MD5" if self.snmp_exporter_style else "SHA")

    @property
    def priv_name(self) -> str:
        return self.priv_protocol or ("DES" if self.snmp_exporter_style else "AES")

    @property
    def auth_key(self) -> str:
        key = self.auth_password if self.auth_password is not None else self.password
        return key.reveal() if key is not None else ""

    @property
    def priv_key(self) -> str:
        return self.priv_password.reveal() if self.priv_password is not None else ""

    def validate(self) -> None:
        if self.password is not None and self.auth_password is not None:
            raise ConfigError("password", "give auth_password or snmp_exporter's password, not both")
        v3_keys = self.username or self.password or self.auth_password or self.priv_password
        if self.snmp_version != "3":
            if self.snmp_exporter_style:
                return  # snmp_exporter reads v3 keys only for version 3
            if v3_keys:
                raise ConfigError("version", "username/passwords are for version 3; v1/v2c use community")
            if self.context_name:
                raise ConfigError("context_name", "only SNMPv3 has contexts")
        for key, value, choices in (
            ("security_level", self.security_level, usm.SECURITY_LEVELS),
            ("auth_protocol", self.auth_protocol, usm.AUTH_PROTOCOLS),
            ("priv_protocol", self.priv_protocol, usm.PRIV_PROTOCOLS),
        ):
            if value is not None and value not in choices:
                raise ConfigError(key, f"{value!r} is not one of {', '.join(choices)}")
        if self.snmp_version != "3":
            return
        if not self.username:
            raise ConfigError("username", "required for version 3")
        level = self.level
        if level != "noAuthNoPriv" and len(self.auth_key) < 8:
            hint = "" if self.security_level else " (the default security_level; write noAuthNoPriv for none)"
            key = "password" if self.snmp_exporter_style else "auth_password"
            raise ConfigError(key, f"{level}{hint} needs one of at least 8 characters")
        if level == "authPriv" and len(self.priv_key) < 8:
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
