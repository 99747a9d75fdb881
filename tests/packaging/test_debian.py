"""The Debian packages on a fresh Debian 12 machine: install, units, hardening, service, purge.

One container for the module (booting and installing is the expensive part); the tests run in file
order and the last one purges. `frrvty` exists before the install (as on a router with FRR), `lxd`
does not (as on a host that reads LXD over HTTPS): postinst must handle both.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lab import snmp as snmp_lab
from lab.proc import Lab, wait_for
from lab.prometheus import promtool

from pkg_testlib import EXPORTERS, PORTS, SCORES, Container, Timer, base_tarball, snapshot

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.timeout(900)]

UNITS = [f"colo-{x}-exporter.{kind}" for x in EXPORTERS for kind in ("service", "socket")]
SCORE = re.compile(r"Overall exposure level for \S+: (\d+\.\d+)")
MAX_SCORE = 3.0


class Machine(Container):
    def prepare(self) -> None:
        # A router with FRR has its frrvty group; this machine has no LXD, so no lxd group.
        groupadd = ["chroot", str(self.root), "groupadd", "--system", "frrvty"]
        subprocess.run(groupadd, check=True, capture_output=True, timeout=60)


@dataclass
class Installed:
    box: Machine
    before: dict[str, str]
    output: str
    snmpd: snmp_lab.Agent


@pytest.fixture(scope="module")
def installed(packaging_lab: Lab, debs: dict[str, Path]) -> Installed:
    ns = packaging_lab.netns(f"colopkg{time.time_ns() % 10**8}")
    agent = snmp_lab.start_snmpd(packaging_lab, name="pkg-snmpd", netns=ns)
    debdir = next(iter(debs.values())).parent
    box = Machine(packaging_lab, base_tarball(), ns, [(debdir, "/srv/colo-debs")])
    before = snapshot(box.root)
    with Timer("install"):
        r = box.run(["sh", "-c", "dpkg -i /srv/colo-debs/*.deb 2>&1"], check=False, timeout=300)
    assert r.returncode == 0, r.stdout
    return Installed(box, before, r.stdout, agent)


def test_postinst_added_the_groups_that_exist(installed: Installed) -> None:
    box = installed.box
    assert "colo-frr-exporter added to group frrvty" in installed.output
    assert "group lxd does not exist; once it does: adduser colo-lxd-exporter lxd" in installed.output
    assert "frrvty" in box.run(["id", "-nG", "colo-frr-exporter"]).stdout.split()
    assert box.run(["id", "-nG", "colo-lxd-exporter"]).stdout.split() == ["colo-lxd-exporter"]


@pytest.mark.parametrize("x", EXPORTERS)
def test_system_user_and_config_permissions(installed: Installed, x: str) -> None:
    box, name = installed.box, f"colo-{x}-exporter"
    user = box.run(["getent", "passwd", name]).stdout.strip().split(":")
    assert int(user[2]) < 1000 and user[5] == "/nonexistent" and user[6] == "/usr/sbin/nologin", user
    assert not (box.root / "nonexistent").exists()
    stat = box.run(["stat", "-c", "%a %U %G", f"/etc/colo-exporters/{x}.yml"]).stdout.split()
    assert stat == ["640", "root", name]
    conffiles = box.run(["dpkg-query", "-W", "-f=${Conffiles}", name]).stdout
    assert f"/etc/colo-exporters/{x}.yml " in conffiles and f"/etc/default/{name} " in conffiles
    assert 'ARGS=""' in (box.root / f"etc/default/{name}").read_text()


def test_units_verify(installed: Installed) -> None:
    r = installed.box.run(
        ["systemd-analyze", "verify", *(f"/lib/systemd/system/{u}" for u in UNITS)], check=False
    )
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr


@pytest.mark.parametrize("x", EXPORTERS)
def test_unit_security_score(installed: Installed, x: str) -> None:
    box, unit = installed.box, f"colo-{x}-exporter.service"
    offline = box.run(["systemd-analyze", "security", "--offline=yes", f"/lib/systemd/system/{unit}"])
    online = box.run(["systemd-analyze", "security", "--no-pager", unit])
    scores = [float(SCORE.search(r.stdout)[1]) for r in (offline, online)]  # type: ignore[index]
    SCORES[unit] = scores[0]
    assert max(scores) <= MAX_SCORE, offline.stdout


def _main_pid(box: Container, unit: str) -> int:
    return int(box.run(["systemctl", "show", "-P", "MainPID", unit]).stdout)


@pytest.mark.parametrize("x", EXPORTERS)
def test_service_runs_as_its_user_and_answers(installed: Installed, x: str) -> None:
    box, name = installed.box, f"colo-{x}-exporter"
    wait_for(
        lambda: box.run(["systemctl", "is-active", name], check=False).stdout.strip() == "active",
        30,
        f"{name} active",
    )
    status = box.run(["cat", f"/proc/{_main_pid(box, name)}/status"]).stdout
    uid = box.run(["id", "-u", name]).stdout.strip()
    assert re.search(rf"^Uid:\s+{uid}\s+{uid}\s+{uid}\s+{uid}$", status, re.M), status
    assert re.search(r"^CapEff:\s+0+$", status, re.M) and re.search(r"^NoNewPrivs:\s+1$", status, re.M)

    def answers() -> str | None:
        code, body = box.get(f"http://127.0.0.1:{PORTS[x]}/metrics")
        return body if code == 200 else None

    body = str(wait_for(answers, 30, f"{name} /metrics"))
    assert f"colo_{x}_build_info{{" in body and f"colo_{x}_config_last_reload_successful 1.0" in body
    journal = box.run(["journalctl", "-u", name, "-o", "cat", "--no-pager"]).stdout
    assert "Traceback" not in journal and "Warning" not in journal, journal


def test_version_names_the_build(installed: Installed) -> None:
    out = installed.box.run(["colo-bmc-exporter", "--version"]).stdout
    assert out.startswith("colo-bmc-exporter")
    if "revision:" in out:  # the core's full --version: build.sh's revision, not "unknown"
        assert not re.search(r"revision: unknown|build date: +unknown", out), out


def test_frr_and_lxd_report_their_missing_peer(installed: Installed) -> None:
    """No FRR and no LXD on this machine: each says so in its metrics, and keeps running."""
    _, frr = installed.box.get(f"http://127.0.0.1:{PORTS['frr']}/metrics")
    assert re.search(r'^colo_frr_up\{daemon="bgpd",frr_instance="default"\} 0\.0$', frr, re.M), frr
    _, lxd = installed.box.get(f"http://127.0.0.1:{PORTS['lxd']}/metrics")
    assert re.search(r"^colo_lxd_up(\{[^}]*\})? 0\.0$", lxd, re.M), lxd


def test_each_virtualenv_holds_only_its_extra(installed: Installed) -> None:
    box = installed.box
    others = {"pylxd", "pysnmp", "pyipmi", "requests", "urllib3", "cryptography", "pyasn1"}
    wanted = {"frr": set(), "lxd": set(), "snmp": {"cryptography"}, "bmc": {"pyipmi", "cryptography"}}
    for x in EXPORTERS:
        site = box.root / f"usr/lib/colo-exporters/{x}/lib/python3.11/site-packages"
        present = {p.name for p in site.iterdir()} & others
        assert present == wanted.get(x), (x, present, "`wanted` above lists what each extra brings")
    # The FRR package's interpreter runs the BMC exporter only to name the extra it lacks; the LXD
    # exporter, which needs nothing beyond the core, it runs.
    frr_python = "/usr/lib/colo-exporters/frr/bin/python3"
    r = box.run([frr_python, "-IB", "-c", "from exporters.launch import bmc; bmc()"], check=False)
    assert r.returncode == 1 and r.stdout == "", r
    assert r.stderr.strip().splitlines() == [
        "colo-bmc-exporter: Python package 'pyipmi' is missing: "
        "install the bmc extra: pip install 'colo-exporters[bmc]'"
    ]
    r = box.run([frr_python, "-IB", "-c", "from exporters.launch import lxd; lxd()", "--version"])
    assert r.stdout.startswith("colo-lxd-exporter, version "), r


def test_snmp_v3_probe_through_the_hardened_unit(installed: Installed) -> None:
    """A real SNMPv3 authPriv walk (SHA, AES) from inside the unit's sandbox, after a reload."""
    box, agent = installed.box, installed.snmpd
    conf = {"auths": {"lab": agent.auths()["v3"]}, "targets": {"lab": agent.target("lab")}}
    box.write("/etc/colo-exporters/snmp.yml", yaml.safe_dump(conf), 0o640)
    box.run(["colo-snmp-exporter", "--config.check"])
    box.run(["systemctl", "reload", "colo-snmp-exporter"])

    up = re.compile(r'^colo_snmp_up\{[^}]*target="lab"[^}]*\} 1\.0$', re.M)

    def walked() -> str | None:  # the first walk may time out on a loaded machine: up 0, then 1
        code, body = box.get(f"http://127.0.0.1:{PORTS['snmp']}/probe?target=lab")
        return body if code == 200 and up.search(body) else None

    body = str(wait_for(walked, 60, "a successful walk of the lab target after the reload", interval=1))
    assert re.search(r'^colo_snmp_interface_oper_status\{ifindex="1",ifname="lo",[^}]*\} 1\.0$', body, re.M)


def test_bundle_installs_rules_dashboards_and_examples(installed: Installed) -> None:
    share = installed.box.root / "usr/share/colo-exporters"
    repo = Path(__file__).resolve().parents[2]
    for src, dst in (("alerts", "alerts"), ("rules", "rules"), ("grafana", "grafana/dashboards")):
        want = sorted(p.name for p in (repo / src).glob("*.yml" if src != "grafana" else "*.json"))
        want = [n for n in want if n != "alertmanager.yml"]  # alerts/alertmanager.yml is no rule file
        have = sorted(p.name for p in (share / dst).glob("*")) if (share / dst).exists() else []
        assert have == want, (src, have, want)
    for rules in sorted((share / "alerts").glob("*.yml")) + sorted((share / "rules").glob("*.yml")):
        rc, out = promtool("check", "rules", str(rules))
        assert rc == 0, out
    provisioning = yaml.safe_load((share / "grafana/provisioning/colo-dashboards.yml").read_text())
    path = provisioning["providers"][0]["options"]["path"]
    assert path == "/usr/share/colo-exporters/grafana/dashboards", path
    assert (share / "examples/prometheus.yml").exists()
    assert (share / "examples/alertmanager.yml").read_text() == (repo / "alerts/alertmanager.yml").read_text()


def test_socket_activation(installed: Installed) -> None:
    """The .socket unit holds the port; the first connection starts the service, which takes the socket
    from systemd (ARGS="--web.systemd-socket" in /etc/default, as docs/deploy.md says)."""
    box, name = installed.box, "colo-frr-exporter"
    if "--web.systemd-socket" not in box.run([f"/usr/bin/{name}", "--help"]).stdout:
        pytest.skip("this build has no --web.systemd-socket yet (the core's part of issue 17)")
    default = box.root / f"etc/default/{name}"
    shipped = default.read_text()
    box.run(["systemctl", "stop", f"{name}.service"])
    default.write_text(shipped.replace('ARGS=""', 'ARGS="--web.systemd-socket"'))
    try:
        box.run(["systemctl", "start", f"{name}.socket"])
        assert (
            box.run(["systemctl", "is-active", f"{name}.service"], check=False).stdout.strip() == "inactive"
        )
        code, body = box.get(f"http://127.0.0.1:{PORTS['frr']}/metrics")
        assert code == 200 and "colo_frr_build_info{" in body
        assert box.run(["systemctl", "is-active", f"{name}.service"]).stdout.strip() == "active"
        uid = box.run(["id", "-u", name]).stdout.strip()
        status = box.run(["cat", f"/proc/{_main_pid(box, name + '.service')}/status"]).stdout
        assert re.search(rf"^Uid:\s+{uid}\s", status, re.M), status
        journal = box.run(["journalctl", "-u", f"{name}.service", "-o", "cat", "--no-pager"]).stdout
        assert "listening on the sockets systemd passed" in journal, journal[-2000:]
    finally:
        box.run(["systemctl", "stop", f"{name}.socket", f"{name}.service"], check=False)
        default.write_text(shipped)
        box.run(["systemctl", "start", f"{name}.service"], check=False)


def test_purge_removes_everything(installed: Installed) -> None:
    box = installed.box
    names = [f"colo-{x}-exporter" for x in EXPORTERS] + ["colo-exporters-bundle"]
    uids = {box.run(["id", "-u", n]).stdout.strip() for n in names[:4]}
    with Timer("purge"):
        box.run(["dpkg", "--purge", *names], timeout=300)
    for n in names[:4]:
        assert box.run(["getent", "passwd", n], check=False).returncode == 2
        assert box.run(["getent", "group", n], check=False).returncode == 2
    running = box.sh("for s in /proc/[0-9]*/status; do sed -n 's/^Uid:\\s*\\([0-9]*\\).*/\\1/p' $s; done")
    assert not uids & set(running.split()), "an exporter's process outlived the purge"
    left = box.sh("find /var/lib/systemd /etc /run/systemd/system -name '*colo*' 2>/dev/null || true")
    assert not left.strip(), left
    after = snapshot(box.root)
    added = sorted(set(after) - set(installed.before))
    changed = sorted(k for k in set(after) & set(installed.before) if after[k] != installed.before[k])
    assert not added and not changed, f"left after purge: {added[:20]}; changed: {changed[:20]}"
