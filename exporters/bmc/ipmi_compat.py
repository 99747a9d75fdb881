"""prometheus-community/ipmi_exporter's `modules:` section, accepted as that exporter documents it.

An operator moving from ipmi_exporter keeps the `modules:` block of its config file unchanged (user,
pass, privilege, driver, timeout, collectors, exclude_sensor_ids, workaround_flags, and the FreeIPMI-only
keys) and names BMCs under `targets:` with `ipmi: {host: ..., module: NAME}` instead of `auth:`: this
exporter contacts only BMCs named in its config, never an address from a scrape URL.

What each key does here:
- `user`, `pass`: the credentials; `privilege` user | operator | admin (FreeIPMI's default: operator).
- `driver`: LAN_2_0 (RMCP+, also when unset) or LAN (IPMI 1.5); the in-band drivers need a local BMC and
  are refused for a target.
- `timeout` (ms): the per-request timeout (FreeIPMI's session timeout; the scrape deadline applies).
- `collectors`: `ipmi` (sensors), `chassis` (power state), `dcmi` (power reading), `sel` (SEL info and
  counts); `bmc`, `bmc-watchdog`, `sel-events` and `sm-lan-mode` are accepted and not read. Unset: ipmi,
  dcmi, bmc, chassis (ipmi_exporter's default).
- `exclude_sensor_ids`: FreeIPMI's record ids, i.e. the SDR record ids; those sensors are not read.
- `workaround_flags`: FreeIPMI's names; `ignorescanningdisabled` and `assumesystemevent` are honoured,
  `discretereading` is what this exporter always does, the others concern FreeIPMI's own protocol code
  and have no effect (said once in the log at start).
- `collector_cmd`, `default_args`, `custom_args`, `sel_events`: FreeIPMI command lines and patterns; this
  exporter runs no FreeIPMI command, so they have no effect (said once in the log at start).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ..core import ConfigError, Duration, Secret, parse_config

COLLECTORS = ("bmc", "bmc-watchdog", "chassis", "dcmi", "ipmi", "sel", "sel-events", "sm-lan-mode")
DEFAULT_COLLECTORS = ("ipmi", "dcmi", "bmc", "chassis")
READ = ("ipmi", "chassis", "dcmi", "sel")
# FreeIPMI 1.6's workaround flags (the WORKAROUNDS sections of ipmi-sensors(8), ipmi-sel(8), ipmi-chassis(8),
# ipmi-dcmi(8), bmc-info(8)), and "none".
FREEIPMI_WORKAROUNDS = (
    "assumebmcowner", "assumeio", "assumemaxsdrrecordcount", "assumesystemevent", "authcap",
    "discretereading", "endianseq", "forcepermsg", "guidformat", "idzero", "ignoreauthcode",
    "ignorescanningdisabled", "intel20", "integritycheckvalue", "noauthcodecheck", "nochecksumcheck", "none",
    "opensesspriv", "spinpoll", "sun20", "supermicro20", "unexpectedauth",
)  # fmt: skip
HONOURED = ("assumesystemevent", "discretereading", "ignorescanningdisabled", "none")
DRIVERS = {"LAN_2_0": "rmcpplus", "LAN": "rmcp"}
LOCAL_DRIVERS = ("KCS", "SSIF", "OPENIPMI", "SUNBMC", "INTELDCMI")
_PRIVILEGE = {"user": "user", "operator": "operator", "admin": "administrator"}


@dataclass(frozen=True)
class SelEvent:
    name: str
    regex: str

    def validate(self) -> None:
        try:
            re.compile(self.regex)
        except re.error as e:
            raise ConfigError("regex", f"not a regular expression: {e}") from None


def _validate(self: IpmiModule) -> None:
    for i, c in enumerate(self.collectors):
        if c not in COLLECTORS:
            raise ConfigError(f"collectors[{i}]", f"unknown collector {c!r} (known: {', '.join(COLLECTORS)})")
    for i, w in enumerate(self.workaround_flags):
        if w not in FREEIPMI_WORKAROUNDS:
            raise ConfigError(
                f"workaround_flags[{i}]",
                f"unknown FreeIPMI workaround flag {w!r} (known: {', '.join(FREEIPMI_WORKAROUNDS)})",
            )
    if self.driver is not None and self.driver not in DRIVERS and self.driver not in LOCAL_DRIVERS:
        raise ConfigError(
            "driver", f"unknown driver {self.driver!r} (known: {', '.join([*DRIVERS, *LOCAL_DRIVERS])})"
        )
    for i, n in enumerate(self.exclude_sensor_ids):
        if not 0 <= n <= 0xFFFF:
            raise ConfigError(f"exclude_sensor_ids[{i}]", "must be an SDR record id, 0-65535")
    for key in ("collector_cmd", "default_args", "custom_args"):
        for name in getattr(self, key):
            if name not in COLLECTORS:
                raise ConfigError(f"{key}.{name}", f"unknown collector (known: {', '.join(COLLECTORS)})")
    if self.timeout is not None and self.timeout <= 0:
        raise ConfigError("timeout", "must be a positive number of milliseconds")


@dataclass(frozen=True)
class IpmiModule:
    """One module of ipmi_exporter's `modules:` (read it with `parse_module`: `pass` becomes `password`)."""

    user: str = ""
    password: Secret = Secret("")
    privilege: Literal["user", "operator", "admin"] | None = None
    driver: str | None = None
    timeout: int | None = None  # milliseconds
    collectors: list[str] = field(default_factory=lambda: list(DEFAULT_COLLECTORS))
    exclude_sensor_ids: list[int] = field(default_factory=list)
    workaround_flags: list[str] = field(default_factory=list)
    collector_cmd: dict[str, str] = field(default_factory=dict)
    default_args: dict[str, list[str]] = field(default_factory=dict)
    custom_args: dict[str, list[str]] = field(default_factory=dict)
    sel_events: list[SelEvent] = field(default_factory=list)

    validate = _validate


def parse_module(raw: Any, key: str) -> IpmiModule:
    """A module as written in ipmi_exporter's format (the password under `pass`, a Python keyword)."""
    if isinstance(raw, dict):
        if "password" in raw:
            raise ConfigError(f"{key}.password", "unknown key (ipmi_exporter's password key is `pass`)")
        raw = {("password" if k == "pass" else k): v for k, v in raw.items()}
    try:
        return parse_config(IpmiModule, raw)
    except ConfigError as e:
        e = e.within(key)
        raise ConfigError(_pass(e.key), _pass(e.message)) from None


def _pass(text: str) -> str:
    """Our field name back to ipmi_exporter's key in messages."""
    return re.sub(r"\bpassword\b", "pass", text)


@dataclass(frozen=True)
class Settings:
    """What a module means for one IPMI target of this exporter."""

    user: str
    password: Secret
    privilege: Literal["user", "operator", "administrator"]
    interface: Literal["rmcpplus", "rmcp"]
    timeout: Duration | None
    read: frozenset[str]  # of READ
    exclude_record_ids: frozenset[int]
    ignore_scanning_disabled: bool
    assume_system_event: bool
    no_effect: tuple[str, ...] = field(default=())  # keys and flags that do nothing here, for one log line


def settings(module: Any, key: str) -> Settings:
    """A module -> settings for a target; ConfigError (at `key`) when it cannot serve a remote BMC."""
    if not module.user:
        raise ConfigError(f"{key}.user", "a module used by a target needs `user` and `pass`")
    driver = module.driver or "LAN_2_0"
    if driver in LOCAL_DRIVERS:
        raise ConfigError(
            f"{key}.driver", f"{driver} is an in-band driver; a remote BMC needs LAN_2_0 or LAN"
        )
    no_effect = [f"workaround_flags: {w}" for w in module.workaround_flags if w not in HONOURED]
    no_effect += [
        k for k in ("collector_cmd", "default_args", "custom_args", "sel_events") if getattr(module, k)
    ]
    no_effect += [f"collectors: {c}" for c in module.collectors if c not in READ]
    return Settings(
        user=module.user,
        password=module.password,
        privilege=_PRIVILEGE[module.privilege or "operator"],  # type: ignore[arg-type]
        interface=DRIVERS[driver],  # type: ignore[arg-type]
        timeout=Duration(module.timeout / 1000.0) if module.timeout else None,
        read=frozenset(c for c in module.collectors if c in READ),
        exclude_record_ids=frozenset(module.exclude_sensor_ids),
        ignore_scanning_disabled="ignorescanningdisabled" in module.workaround_flags,
        assume_system_event="assumesystemevent" in module.workaround_flags,
        no_effect=tuple(no_effect),
    )
