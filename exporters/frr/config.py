"""The FRR exporter's config file: which FRR instances (pathspaces) to watch, which daemons each runs."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal

from exporters.core import ConfigError

from .daemons import DAEMONS
from .vty import DEFAULT_MAX_BYTES

# What may go into a vty command line: no spaces, no NUL (which would end the command), no quotes.
NAME = re.compile(r"[A-Za-z0-9_.:@/+-]{1,64}")


@dataclass(frozen=True)
class ExpectedAdvertisement:
    """A prefix that must be advertised to each of `peers` (the anycast case)."""

    prefix: str
    peers: list[str]
    vrf: str = "default"

    def validate(self) -> None:
        try:
            net = ipaddress.ip_network(self.prefix, strict=True)
        except ValueError as e:
            try:
                hint = f"; did you mean {ipaddress.ip_network(self.prefix, strict=False)}?"
            except ValueError:
                hint = ""
            raise ConfigError("prefix", f"not a prefix: {e}{hint}") from None
        if str(net) != self.prefix:
            raise ConfigError("prefix", f"write it as {net}")
        if not self.peers:
            raise ConfigError("peers", "list at least one peer (address, or interface for unnumbered)")
        if not NAME.fullmatch(self.vrf):
            raise ConfigError("vrf", f"not a VRF name: {self.vrf!r}")
        for i, p in enumerate(self.peers):
            if not NAME.fullmatch(p):
                raise ConfigError(f"peers[{i}]", f"not an address or interface name: {p!r}")

    @property
    def afi(self) -> str:
        return "ipv6" if ":" in self.prefix else "ipv4"


@dataclass(frozen=True)
class Instance:
    """One FRR instance. `pathspace` is its `-N` name ("" for the default instance); `socket_dir` overrides
    where its `<daemon>.vty` sockets are (default `<run_dir>[/<pathspace>]`)."""

    pathspace: str | None = None
    socket_dir: str | None = None
    daemons: list[str] = field(default_factory=lambda: list(DAEMONS))
    expected_advertisements: list[ExpectedAdvertisement] = field(default_factory=list)

    def validate(self) -> None:
        for i, d in enumerate(self.daemons):
            if d not in DAEMONS:
                raise ConfigError(f"daemons[{i}]", f"unknown daemon {d!r}; known: {', '.join(DAEMONS)}")
        if len(set(self.daemons)) != len(self.daemons):
            raise ConfigError("daemons", "lists a daemon twice")
        if self.pathspace and (
            not NAME.fullmatch(self.pathspace) or "/" in self.pathspace or self.pathspace.startswith(".")
        ):
            raise ConfigError("pathspace", "must be a plain name, as given to `-N`")
        if self.expected_advertisements and "bgpd" not in self.daemons:
            raise ConfigError("expected_advertisements", "needs bgpd in daemons")


@dataclass(frozen=True)
class Config:
    # Instance name (the `frr_instance` label) -> instance. Without a pathspace, the name is the pathspace,
    # except for the name "default", which is FRR's default instance.
    instances: dict[str, Instance] = field(default_factory=lambda: {"default": Instance()})
    run_dir: str = "/var/run/frr"
    # socket: the daemons' vty sockets; vtysh: `vtysh -d <daemon> -c ...` (30 ms a process).
    transport: Literal["socket", "vtysh"] = "socket"
    # Write all of a daemon's commands at once and then read the replies (FRR answers them in order);
    # false: one command at a time. Same framing, same results; pipelining saves a round trip each.
    pipeline: bool = True
    # With transport socket: use vtysh when a socket is missing or refuses us.
    vtysh_fallback: bool = False
    vtysh_path: str = "/usr/bin/vtysh"
    # Peer descriptions as a `description` label (they change, and each change starts new series).
    description_label: bool = False
    # BGP summary command to try first: "all" (`show bgp vrf all summary json`) or "per-family"
    # (`... ipv4 unicast summary json` and `... ipv6 ...`). Either falls back to the other by itself
    # when the daemon does not know it; there is no need to set this for any FRR release.
    bgp_summary: Literal["all", "per-family"] = "all"
    # A reply larger than this is refused (a lying or runaway daemon); 10,000 BGP peers are ~45 MB.
    max_reply_bytes: int = DEFAULT_MAX_BYTES

    def validate(self) -> None:
        if not self.instances:
            raise ConfigError("instances", "list at least one FRR instance")
        seen: dict[str, str] = {}
        for name in self.instances:
            ps = self.pathspace(name)
            if ps in seen:
                raise ConfigError(f"instances.{name}", f"same pathspace as {seen[ps]}")
            seen[ps] = name
        if self.max_reply_bytes < 4096:
            raise ConfigError("max_reply_bytes", "must be at least 4096")

    def pathspace(self, name: str) -> str:
        inst = self.instances[name]
        if inst.pathspace is not None:
            return inst.pathspace
        return "" if name == "default" else name

    def socket_dir(self, name: str) -> str:
        inst = self.instances[name]
        if inst.socket_dir:
            return inst.socket_dir
        ps = self.pathspace(name)
        return f"{self.run_dir.rstrip('/')}/{ps}" if ps else self.run_dir.rstrip("/")
