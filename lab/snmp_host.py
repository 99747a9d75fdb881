"""Two Linux hosts as the mesh sees them: network namespaces srv1 and srv2 joined by two veth links (the
mesh's host-to-host links, enp1s0 and enp2s0 on each side), lldpd on both, and net-snmp's snmpd on srv1 with
lldpd as its AgentX subagent (`lldpd -x`), so srv1's snmpd serves LLDP-MIB. With `bond=True` the two links
are members of bond0 (802.3ad) on both hosts; that needs the kernel's bonding driver, which some kernels
lack (`PeerMissing`). The exporter reaches srv1's snmpd over a third veth from the root namespace, on
link-local addresses chosen per lab."""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from .proc import Lab, PeerMissing, require, run, wait_for
from .snmp import COMMUNITY, Agent

LINKS = ("enp1s0", "enp2s0")
LLDP_REM_SYS_NAME = "1.0.8802.1.1.2.1.4.1.1.9"


@dataclass
class Hosts:
    agent: Agent  # srv1's snmpd, as the exporter in the root namespace reaches it
    srv1: str  # namespace names
    srv2: str
    bonded: bool


def _bonding_available(ns: str) -> bool:
    r = subprocess.run(
        ["ip", "-n", ns, "link", "add", "colo-bondtest", "type", "bond"], capture_output=True, check=False
    )
    if r.returncode:
        return False
    run(["ip", "-n", ns, "link", "del", "colo-bondtest"])
    return True


def start_hosts(lab: Lab, bond: bool = False, port: int = 16161) -> Hosts:
    snmpd = require("snmpd", "snmpd")
    lldpd = require("lldpd", "lldpd")
    tag = uuid.uuid4().hex[:6]
    srv1, srv2 = lab.netns(f"snmp-srv1-{tag}"), lab.netns(f"snmp-srv2-{tag}")
    if bond and not _bonding_available(srv1):
        raise PeerMissing("this kernel has no bonding driver (CONFIG_BONDING), so no Linux bond can be made")
    for name in LINKS:  # one veth per mesh link, the same name on both hosts
        run(
            [
                "ip",
                "link",
                "add",
                f"{name[:5]}a{tag}",
                "netns",
                srv1,
                "type",
                "veth",
                "peer",
                "name",
                f"{name[:5]}b{tag}",
                "netns",
                srv2,
            ]
        )
        run(["ip", "-n", srv1, "link", "set", f"{name[:5]}a{tag}", "name", name])
        run(["ip", "-n", srv2, "link", "set", f"{name[:5]}b{tag}", "name", name])
    for ns in (srv1, srv2):
        if bond:
            run(["ip", "-n", ns, "link", "add", "bond0", "type", "bond", "mode", "802.3ad"])
            for name in LINKS:
                run(["ip", "-n", ns, "link", "set", name, "master", "bond0"])
            run(["ip", "-n", ns, "link", "set", "bond0", "up"])
        for name in LINKS:
            run(["ip", "-n", ns, "link", "set", name, "up"])
    # management link root <-> srv1 on a link-local /30 of its own
    a, b = random.randrange(1, 255), random.randrange(0, 64) * 4
    host_ip, agent_ip = f"169.254.{a}.{b + 1}", f"169.254.{a}.{b + 2}"
    root_side = f"snmpm{tag}"
    run(["ip", "link", "add", root_side, "type", "veth", "peer", "name", "mgmt0", "netns", srv1])
    run(["ip", "addr", "add", f"{host_ip}/30", "dev", root_side])
    run(["ip", "link", "set", root_side, "up"])
    run(["ip", "-n", srv1, "addr", "add", f"{agent_ip}/30", "dev", "mgmt0"])
    run(["ip", "-n", srv1, "link", "set", "mgmt0", "up"])

    # lldpd drops privileges (and runs lldpcli for its config): its sockets live outside a possibly 0700 tmp
    d = Path(tempfile.mkdtemp(prefix="snmp-hosts-", dir="/tmp"))
    lab.callback(shutil.rmtree, d, True)
    d.chmod(0o755)
    (d / "persist").mkdir()
    agentx = d / "agentx"
    (d / "snmpd.conf").write_text(
        f"agentaddress udp:{agent_ip}:{port}\n"
        f"rocommunity {COMMUNITY} {host_ip}\n"
        "master agentx\n"
        f"agentXSocket unix:{agentx}\n"
        "agentXPerms 0777 0777\n"
        "sysName srv1\n"
        "dontLogTCPWrappersConnects yes\n"
    )
    proc = lab.start(
        "hosts-snmpd",
        [snmpd, "-f", "-Lo", "-C", "-c", str(d / "snmpd.conf"), "-p", str(d / "snmpd.pid")],
        env={"SNMP_PERSISTENT_DIR": str(d / "persist"), "MIBS": ""},
        netns=srv1,
    )
    wait_for(agentx.exists, 20, "snmpd's AgentX socket", log=proc.log)
    for host, ns in (("srv1", srv1), ("srv2", srv2)):
        conf = d / f"lldpd-{host}.conf"
        conf.write_text(f"configure system hostname {host}\n")
        argv = [lldpd, "-d", "-u", str(d / f"lldpd-{host}.socket"), "-O", str(conf), "-I", ",".join(LINKS)]
        if host == "srv1":
            argv += ["-x", "-X", f"unix:{agentx}"]
        lab.start(f"hosts-lldpd-{host}", argv, netns=ns)
    agent = Agent(agent_ip, port)
    walk = shutil.which("snmpbulkwalk")
    if walk:

        def neighbours() -> bool:
            r = run(
                [
                    walk,
                    "-v2c",
                    "-c",
                    COMMUNITY,
                    "-On",
                    "-t",
                    "1",
                    "-r",
                    "0",
                    f"{agent_ip}:{port}",
                    LLDP_REM_SYS_NAME,
                ],
                check=False,
            )
            return r.stdout.count('"srv2"') >= len(LINKS)

        wait_for(neighbours, 40, "srv1's snmpd to list srv2 on both links (lldpd -x)", log=proc.log)
    return Hosts(agent, srv1, srv2, bond)
