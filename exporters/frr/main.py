"""colo-frr-exporter: BGP sessions, BFD peers, VRRP state and routes of one or more FRR instances.

Each scrape runs one job per (instance, daemon); a job opens one connection to that daemon's vty socket
and sends all its commands on it, so a stopped daemon is `colo_frr_up{instance,daemon} 0` while the
other daemons keep reporting.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from prometheus_client.core import Metric

from exporters.core import Deadline, Job, ScrapeError, get_logger
from exporters.core.app import ExporterSpec
from exporters.core.cli import main_for

from . import collector
from .config import Config
from .parse_bfd import parse_bfd
from .parse_bgp import parse_advertised_to, parse_neighbors, parse_summary
from .parse_common import ParseError
from .parse_vrrp import parse_vrrp
from .parse_zebra import parse_route_summary, parse_version
from .vty import socket_commands, vtysh_commands

BGP_SUMMARY = "show bgp vrf all summary json"
BGP_SUMMARY_V4 = "show bgp vrf all ipv4 unicast summary json"
BGP_SUMMARY_V6 = "show bgp vrf all ipv6 unicast summary json"
BGP_NEIGHBORS = "show bgp vrf all neighbors json"
BFD_PEERS = "show bfd peers json"
BFD_COUNTERS = "show bfd peers counters json"
VRRP = "show vrrp json"
VERSION = "show version"
ROUTES_V4 = "show ip route summary json"
ROUTES_V6 = "show ipv6 route summary json"

log = get_logger(__name__)


def prefix_command(vrf: str, afi: str, prefix: str) -> str:
    return f"show bgp vrf {vrf} {afi} unicast {prefix} json"


class Runtime:
    def __init__(self, config: Config) -> None:
        self.config = config

    def targets(self) -> list[str]:
        return list(self.config.instances)

    def jobs(self, target: str | None) -> list[Job]:
        return [
            Job({"frr_instance": name, "daemon": d}, partial(self.collect, name, d))
            for name, inst in self.config.instances.items()
            for d in inst.daemons
        ]

    def close(self) -> None:
        pass

    # one job ---------------------------------------------------------------------------------------
    def commands(self, name: str, daemon: str) -> list[str]:
        inst = self.config.instances[name]
        if daemon == "bgpd":
            cmds = [BGP_SUMMARY] if self.config.bgp_summary == "all" else [BGP_SUMMARY_V4, BGP_SUMMARY_V6]
            cmds.append(BGP_NEIGHBORS)
            for a in inst.expected_advertisements:
                c = prefix_command(a.vrf, a.afi, a.prefix)
                if c not in cmds:
                    cmds.append(c)
            return cmds
        return {"bfdd": [BFD_PEERS, BFD_COUNTERS], "vrrpd": [VRRP], "zebra": [VERSION, ROUTES_V4, ROUTES_V6]}[
            daemon
        ]

    def fetch(self, name: str, daemon: str, cmds: list[str], deadline: Deadline) -> list[bytes]:
        c = self.config
        sock_dir = c.socket_dir(name)
        # Expected-advertisement lookups answer a warning for an unknown VRF: that is "not advertised".
        lenient = [x for x in cmds if x.startswith("show bgp vrf ") and not x.startswith("show bgp vrf all ")]
        if c.transport == "vtysh":
            return vtysh_commands(c.vtysh_path, sock_dir, daemon, cmds, deadline, c.max_reply_bytes, lenient)
        try:
            return socket_commands(sock_dir, daemon, cmds, deadline, c.max_reply_bytes, lenient, c.pipeline)
        except ScrapeError as e:
            if not (c.vtysh_fallback and e.reason in ("connect", "permission")):
                raise
            log.debug("socket failed; trying vtysh", frr_instance=name, daemon=daemon, err=e.message)
        return vtysh_commands(c.vtysh_path, sock_dir, daemon, cmds, deadline, c.max_reply_bytes, lenient)

    def collect(self, name: str, daemon: str, deadline: Deadline) -> Iterable[Metric]:
        cmds = self.commands(name, daemon)
        out = dict(zip(cmds, self.fetch(name, daemon, cmds, deadline), strict=True))
        try:
            if daemon == "bgpd":
                return self._bgp(name, out)
            if daemon == "bfdd":
                return collector.bfd(name, parse_bfd(out[BFD_PEERS], out[BFD_COUNTERS]))
            if daemon == "vrrpd":
                return collector.vrrp(name, parse_vrrp(out[VRRP]))
            return collector.zebra(
                name,
                parse_version(out[VERSION]),
                {"ipv4": parse_route_summary(out[ROUTES_V4]), "ipv6": parse_route_summary(out[ROUTES_V6])},
            )
        except ParseError as e:
            raise ScrapeError("malformed", str(e)) from None

    def _bgp(self, name: str, out: dict[str, bytes]) -> collector.Families:
        if self.config.bgp_summary == "all":
            summary = parse_summary(out[BGP_SUMMARY])
        else:
            summary = parse_summary(out[BGP_SUMMARY_V4], "ipv4Unicast") + parse_summary(
                out[BGP_SUMMARY_V6], "ipv6Unicast"
            )
        neighbors = parse_neighbors(out[BGP_NEIGHBORS])
        adverts = []
        for a in self.config.instances[name].expected_advertisements:
            to = parse_advertised_to(out[prefix_command(a.vrf, a.afi, a.prefix)], a.prefix)
            if to is None:
                log.warning(
                    "expected advertisement: bgpd has no BGP instance for this VRF",
                    frr_instance=name,
                    vrf=a.vrf,
                    prefix=a.prefix,
                )
                to = set()
            adverts += [(a.vrf, a.prefix, p, p in to) for p in a.peers]
        return collector.bgp(name, summary, neighbors, adverts, self.config.description_label)


SPEC = ExporterSpec(
    name="frr",
    namespace="colo_frr",
    description="Prometheus exporter for FRR: BGP sessions, BFD peers, VRRP state and routes, "
    "read from the daemons' vty sockets.",
    default_port=9474,
    config_type=Config,
    build=Runtime,
    multi_target=False,
    default_config_file="/etc/colo-exporters/frr.yml",
    config_required=False,
    error_reasons=("connect", "permission", "protocol", "command", "malformed", "vtysh"),
)


def main() -> None:
    main_for(SPEC)


if __name__ == "__main__":
    main()
