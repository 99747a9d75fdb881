"""Against a real LXD 5.0.2 daemon and a real Incus 6.0.4 daemon: standalone, over HTTPS with various
certificates, then as a one-member cluster (the three-member cluster is in test_lxd_cluster.py).

One daemon per flavour for the module; the tests run in file order because clustering is one-way.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.exporter import ExporterProc, parse
from lab.lxd import LXDLab, make_cert
from lab.proc import Lab, wait_for
from lab.prometheus import check_metrics
from mixin.dashboards.core import panels_of

from lxd_testlib import Scrape, find, value

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.root, pytest.mark.peer("lxd"), pytest.mark.slow]


def cgroup_dir(pid: int, controller: str) -> Path:
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, ctrls, path = line.split(":", 2)
        if controller in ctrls.split(","):
            return Path("/sys/fs/cgroup") / controller / path.lstrip("/")
    pytest.skip(f"no cgroup v1 {controller} controller")


def read_int(p: Path) -> int:
    return int(p.read_text().split()[0])


def usage_all(cpuacct: Path) -> float:
    """Seconds of CPU in cpuacct.usage_all (`cpu user system` in ns per line), what /1.0/metrics sums."""
    lines = (cpuacct / "cpuacct.usage_all").read_text().splitlines()[1:]
    return sum(int(a) + int(b) for _, a, b in (ln.split() for ln in lines)) / 1e9


# LXD and Incus cache /1.0/metrics for 8 s: counters read sooner after an earlier read do not move.
METRICS_CACHE = 8.5


@pytest.fixture(scope="module")
def exporter(module_lab: Lab, lxd: LXDLab) -> ExporterProc:
    return ExporterProc(module_lab, "lxd", {"socket": lxd.socket, "user_labels": ["user.monitor"]})


def test_standalone_scrape(exporter: ExporterProc, lxd: LXDLab) -> None:
    text = exporter.metrics()
    assert check_metrics(text) == []
    s = parse(text)
    for c in ("instances", "counters", "disk", "cluster", "storage_pools", "projects"):
        assert value(s, "colo_lxd_up", collector=c) == 1, exporter.log_text()[-2000:]
    fl = lxd.flavour.name
    server = lxd.api("/1.0")["metadata"]["environment"]
    assert (
        value(s, "colo_lxd_server_info", daemon=fl, version=server["server_version"], clustered="false") == 1
    )
    assert 0 <= value(s, "colo_lxd_instance_disk_usage_age_seconds") < 60
    for age in ("instance_list", "server_info", "storage_pool_usage", "project_info"):
        assert 0 <= value(s, f"colo_lxd_{age}_age_seconds") < 60
    assert value(s, "colo_lxd_cluster_enabled") == 0
    assert find(s, "colo_lxd_cluster_member_state") == []
    assert value(s, "colo_lxd_instance_state", project="proj2", name="c3", state="running") == 1
    assert value(s, "colo_lxd_instance_state", name="c4", state="stopped") == 1
    assert find(s, "colo_lxd_instance_cpu_seconds_total", name="c4") == []  # stopped: absent
    assert find(s, "colo_lxd_instance_memory_usage_bytes", name="c4") == []
    assert value(s, "colo_lxd_instance_memory_limit_bytes", name="c2") == 64 * 2**20
    assert value(s, "colo_lxd_instance_cpu_limit", name="c2") == 1
    assert find(s, "colo_lxd_instance_memory_limit_bytes", name="c1") == []
    assert value(s, "colo_lxd_instance_info", name="c4", user_monitor="critical", type="container") == 1
    assert value(s, "colo_lxd_instance_info", name="c1", user_monitor="") == 1
    assert find(s, "colo_lxd_instance_disk_usage_bytes", name="c1") == []  # dir pool: absent
    running = 3 if lxd.btrfs_pool else 2
    assert (
        value(s, "colo_lxd_project_instances", project="default", type="container", status="running")
        == running
    )
    assert value(s, "colo_lxd_project_instances", project="proj2", type="container", status="running") == 1
    assert value(s, "colo_lxd_storage_pool_info", pool="default", driver="dir") == 1
    assert value(s, "colo_lxd_storage_pool_size_bytes", pool="default") > 0
    created = value(s, "colo_lxd_instance_created_timestamp_seconds", name="c1")
    assert time.time() - 600 < created <= time.time()


def test_values_match_cgroups_and_proc(lxd: LXDLab) -> None:
    cfg = {"socket": lxd.socket}
    pid = lxd.container_pid("c2")
    status = Path(f"/proc/{pid}/status").read_text()
    nspid = next(ln for ln in status.splitlines() if ln.startswith("NSpid:")).split()
    assert nspid[-1] == "1", "LXD's pid for c2 is not the container's init"
    mem, cpu, pids = cgroup_dir(pid, "memory"), cgroup_dir(pid, "cpuacct"), cgroup_dir(pid, "pids")
    assert "c2" in str(mem)
    time.sleep(METRICS_CACHE)  # an earlier test's scrape may have left /1.0/metrics in LXD's cache
    m0, c0 = read_int(mem / "memory.usage_in_bytes"), usage_all(cpu)
    sc = Scrape(cfg)
    m1, c1 = read_int(mem / "memory.usage_in_bytes"), usage_all(cpu)
    # /1.0/metrics sums cpuacct.usage_all (per CPU, user and system): a little off cpuacct.usage
    got_cpu = sc.value("colo_lxd_instance_cpu_seconds_total", name="c2")
    assert c0 - 1e-6 <= got_cpu <= c1 + 1e-6, (c0, got_cpu, c1)
    got_mem = sc.value("colo_lxd_instance_memory_usage_bytes", name="c2")
    assert min(m0, m1) * 0.8 - 2**20 <= got_mem <= max(m0, m1) * 1.2 + 2**20
    assert sc.value("colo_lxd_instance_processes", name="c2") == read_int(pids / "pids.current")
    assert read_int(mem / "memory.limit_in_bytes") == sc.value(
        "colo_lxd_instance_memory_limit_bytes", name="c2"
    )


def test_counters_move_and_match_host_veth_and_blkio(lxd: LXDLab) -> None:
    if not lxd.bridge:
        pytest.skip("no bridge on this machine")
    cfg = {"socket": lxd.socket}
    veth = lxd.api("/1.0/instances/c1")["metadata"]["expanded_config"]["volatile.eth0.host_name"]
    stats = Path(f"/sys/class/net/{veth}/statistics")
    blkio = cgroup_dir(lxd.container_pid("c2"), "blkio") / "blkio.throttle.io_service_bytes_recursive"
    ops = blkio.with_name("blkio.throttle.io_serviced_recursive")
    a = Scrape(cfg)
    lxd.disk_io("c2", mib=3)
    time.sleep(METRICS_CACHE)
    before = {k: read_int(stats / k) for k in ("tx_bytes", "rx_bytes")}
    b = Scrape(cfg)
    after = {k: read_int(stats / k) for k in ("tx_bytes", "rx_bytes")}
    for name in ("colo_lxd_instance_cpu_seconds_total",):
        assert b.value(name, name="c1") > a.value(name, name="c1")
    rx = b.value("colo_lxd_instance_network_receive_bytes_total", name="c1", device="eth0")
    tx = b.value("colo_lxd_instance_network_transmit_bytes_total", name="c1", device="eth0")
    assert tx > a.value("colo_lxd_instance_network_transmit_bytes_total", name="c1", device="eth0")
    # The container's receive is the host veth's transmit, and the other way round.
    assert before["tx_bytes"] <= rx <= after["tx_bytes"]
    assert before["rx_bytes"] <= tx <= after["rx_bytes"]
    assert b.find("colo_lxd_instance_network_receive_bytes_total", device="lo") == []
    # Disk I/O per block device, as the kernel counts it for the container's cgroup.
    per_dev: dict[str, dict[str, int]] = {}
    for what, path in (("bytes_", blkio), ("ops_", ops)):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3:
                per_dev.setdefault(parts[0], {})[what + parts[1]] = int(parts[2])
    (majmin, counts), *_ = [(d, c) for d, c in per_dev.items() if c.get("bytes_Read", 0) >= 3 * 2**20]
    dev = (Path("/sys/dev/block") / majmin / "uevent").read_text().split("DEVNAME=")[1].split()[0]
    lbl = {"name": "c2", "device": dev}
    assert b.value("colo_lxd_instance_disk_read_bytes_total", **lbl) == counts["bytes_Read"]
    assert b.value("colo_lxd_instance_disk_written_bytes_total", **lbl) == counts["bytes_Write"]
    assert b.value("colo_lxd_instance_disk_reads_completed_total", **lbl) == counts["ops_Read"]
    assert b.value("colo_lxd_instance_disk_writes_completed_total", **lbl) == counts["ops_Write"]
    assert b.value("colo_lxd_instance_disk_written_bytes_total", **lbl) >= 3 * 2**20


def test_disk_usage_on_btrfs_matches_qgroup(lxd: LXDLab) -> None:
    if not lxd.btrfs_pool:
        pytest.skip("no mkfs.btrfs (Debian btrfs-progs)")
    sc = Scrape({"socket": lxd.socket})
    used = sc.value("colo_lxd_instance_disk_usage_bytes", name="d1", device="root")
    assert sc.value("colo_lxd_instance_disk_quota_bytes", name="d1", device="root") == 300 * 2**20
    r = subprocess.run(
        [
            "btrfs",
            "qgroup",
            "show",
            "--raw",
            "-f",
            str(lxd.dir / "storage-pools" / lxd.btrfs_pool / "containers" / "d1"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    exclusive = int(r.stdout.strip().splitlines()[-1].split()[2])
    assert used >= 20 * 2**20 and abs(used - exclusive) <= 2**20, (used, r.stdout)
    size = sc.value("colo_lxd_storage_pool_size_bytes", pool=lxd.btrfs_pool)
    assert (
        size == 2**30
        and 20 * 2**20 <= sc.value("colo_lxd_storage_pool_used_bytes", pool=lxd.btrfs_pool) < size
    )
    assert sc.find("colo_lxd_storage_pool_inodes", pool=lxd.btrfs_pool) == []  # btrfs: not reported


def test_list_cache_follows_the_daemon(lxd: LXDLab) -> None:
    """The instance list is kept: a scrape asks only for /1.0/metrics, whatever the number of instances; a
    start, stop or delete of a running instance shows at the next scrape once LXD's 8 s metrics cache has
    expired; a limit, a freeze or an instance created stopped within `instances_max_age`."""
    from exporters.core import parse_config
    from exporters.lxd.config import Config
    from exporters.lxd.main import Runtime

    cfg = {"socket": lxd.socket, "instances_max_age": "10s", "disk_interval": "1h", "server_interval": "1h"}
    rt = Runtime(parse_config(Config, cfg))
    last = [0.0]  # when /1.0/metrics was last read

    def scrape(calls: int) -> Scrape:
        n = rt.api.calls
        last[0] = time.monotonic()
        sc = Scrape({}, runtime=rt)
        assert sc.errors == {}, {k: e.message for k, e in sc.errors.items()}
        assert rt.api.calls - n == calls
        return sc

    def past_metrics_cache() -> None:
        time.sleep(max(0.0, last[0] + METRICS_CACHE - time.monotonic()))

    def state(sc: Scrape, name: str) -> str:
        return next(lbl["state"] for lbl, v in sc.find("colo_lxd_instance_state", name=name) if v == 1)

    try:
        # the first: the list and /1.0/metrics; in the background /1.0, the pools and each one's
        # resources, the projects and the disk refresh (recursion=2)
        scrape(calls=6 + (2 if lxd.btrfs_pool else 1))
        scrape(calls=1)  # /1.0/metrics only
        for name in ("v1", "v2", "v4"):
            lxd.launch(name)
        past_metrics_cache()
        sc = scrape(calls=2)  # three new running instances: the list is read once
        assert state(sc, "v1") == state(sc, "v4") == "running"
        sc = scrape(calls=1)  # and not again: one request per scrape with three instances more
        assert sc.value("colo_lxd_instance_list_reads_total", reason="changed") == 1
        # what /1.0/metrics cannot show is served from the list kept
        lxd.lxc("config", "set", "v2", "limits.memory=48MiB")
        lxd.launch("v3", start=False)
        sc = scrape(calls=1)
        assert sc.find("colo_lxd_instance_memory_limit_bytes", name="v2") == []
        assert sc.find("colo_lxd_instance_info", name="v3") == []
        # a stop: the next scrape past LXD's cache reads the list (and with it the limit and v3)
        lxd.lxc("stop", "--force", "v1")
        past_metrics_cache()
        sc = scrape(calls=2)
        listed_at = time.monotonic()
        assert state(sc, "v1") == "stopped"
        assert sc.find("colo_lxd_instance_cpu_seconds_total", name="v1") == []
        assert sc.value("colo_lxd_instance_memory_limit_bytes", name="v2") == 48 * 2**20
        assert state(sc, "v3") == "stopped"
        # a freeze and a limit: a frozen instance stays in /1.0/metrics, so both show within the age bound
        lxd.lxc("pause", "v2")
        lxd.lxc("config", "set", "v2", "limits.memory=40MiB")
        sc = scrape(calls=1)
        assert state(sc, "v2") == "running"
        assert sc.value("colo_lxd_instance_memory_limit_bytes", name="v2") == 48 * 2**20
        time.sleep(max(0.0, listed_at + 10.2 - time.monotonic()))
        sc = scrape(calls=2)
        assert state(sc, "v2") == "frozen"
        assert sc.value("colo_lxd_instance_memory_limit_bytes", name="v2") == 40 * 2**20
        assert sc.value("colo_lxd_instance_list_age_seconds") < 1
        assert sc.value("colo_lxd_instance_list_reads_total", reason="age") == 2
        # a start, a delete of a running instance, an unfreeze
        lxd.lxc("start", "v1")
        lxd.lxc("delete", "--force", "v4")
        lxd.lxc("start", "v2")  # unfreezes
        past_metrics_cache()
        sc = scrape(calls=2)
        assert state(sc, "v1") == state(sc, "v2") == "running"
        assert sc.value("colo_lxd_instance_cpu_seconds_total", name="v1") >= 0
        assert sc.find("colo_lxd_instance_info", name="v4") == []
        assert sc.value("colo_lxd_instance_list_reads_total", reason="changed") == 3
        assert sc.value("colo_lxd_instance_list_reads_total", reason="unverified") == 0
    finally:
        rt.close()
        for name in ("v1", "v2", "v3", "v4"):
            lxd.lxc("delete", "--force", name, check=False)


def test_permission_denied_on_the_socket(lxd: LXDLab) -> None:
    code = (
        "import sys; from exporters.core import Deadline, ScrapeError, parse_config;"
        "from exporters.lxd.config import Config; from exporters.lxd.main import Runtime;"
        f"rt = Runtime(parse_config(Config, {{'socket': {lxd.socket!r}}}));"
        "job = rt.jobs(None)[0]\n"
        "try:\n    job.run(Deadline(5))\nexcept ScrapeError as e:\n    print(e.reason, e.message)"
    )
    r = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert r.stdout.startswith("permission "), r.stdout + r.stderr
    assert "group" in r.stdout


def test_prometheus_dashboard_and_alerts_on_real_data(exporter: ExporterProc, lab: Lab) -> None:
    """Every dashboard query runs on a real Prometheus; the opt-in alert sees the stopped c4."""
    from lab.prometheus import Prometheus

    prom = Prometheus(
        lab,  # per test: its scrapes stop with it (`lxc cluster enable` can hang under API load)
        [{"job_name": "lxd", "static_configs": [{"targets": [f"127.0.0.1:{exporter.port}"]}]}],
        rule_files=[str(ROOT / "alerts" / "lxd.yml")],
        interval="1s",
        name="prometheus-lxd",
    )
    prom.wait_targets_up(60)
    wait_for(
        lambda: prom.query('rate(colo_lxd_instance_cpu_seconds_total{name="c1"}[5s]) > 0'),
        30,
        "a CPU rate for c1",
    )
    dash = json.loads((ROOT / "grafana" / "lxd.json").read_text())
    for p in panels_of(dash):
        for t in p.get("targets", []):
            prom.query(_substituted(t["expr"]))  # raises on a syntax error
    assert prom.query(
        'colo_lxd_instance_memory_usage_bytes{name="c2"} / colo_lxd_instance_memory_limit_bytes'
    )

    def pending() -> list:
        return [
            a
            for a in prom.api("alerts")["alerts"]
            if a["labels"]["alertname"] == "LxdCriticalInstanceNotRunning"
        ]

    alerts = wait_for(pending, 30, "the opt-in alert for c4 to be pending")
    assert [a["labels"]["name"] for a in alerts] == ["c4"]  # c2 is critical too, but running


@pytest.fixture(scope="module")
def certs(lxd: LXDLab, module_lab: Lab) -> dict[str, tuple[Path, Path]]:
    lxd.enable_https()
    d = module_lab.workdir / "certs"
    out = {k: make_cert(d, k) for k in ("client", "metrics", "stranger")}
    lxd.trust(out["client"][0], "client")
    lxd.trust(out["metrics"][0], "metrics")
    return out


def https_config(lxd: LXDLab, cert: tuple[Path, Path]) -> dict[str, object]:
    return {
        "url": lxd.enable_https(),
        "tls": {"cert_file": str(cert[0]), "key_file": str(cert[1]), "server_cert_file": lxd.server_cert()},
    }


def test_https_with_a_trusted_client_certificate(lxd: LXDLab, certs: dict) -> None:
    sc = Scrape(https_config(lxd, certs["client"]))
    assert sc.errors == {}
    assert sc.value("colo_lxd_instance_state", project="proj2", name="c3", state="running") == 1


def test_https_without_verifying_the_server(lxd: LXDLab, certs: dict) -> None:
    cfg = https_config(lxd, certs["client"])
    cfg["tls"] = {**cfg["tls"], "server_cert_file": None, "insecure_skip_verify": True}  # type: ignore[dict-item]
    sc = Scrape(cfg)
    assert sc.errors == {}
    assert sc.value("colo_lxd_cluster_enabled") == 0


@pytest.mark.parametrize("who", ["metrics", "stranger"])
def test_https_with_an_untrusted_or_metrics_certificate(lxd: LXDLab, certs: dict, who: str) -> None:
    if who == "metrics":  # the premise: this certificate does read /1.0/metrics
        import pylxd.client

        base = lxd.enable_https()
        session = pylxd.client.get_session_for_url(
            base, verify=lxd.server_cert(), cert=tuple(map(str, certs["metrics"]))
        )
        session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the pinned certificate
        with session:  # an open connection would hold up `lxc cluster enable` later
            r = session.get(base + "/1.0/metrics", timeout=10)
        assert r.status_code == 200 and f"{lxd.flavour.name}_procs_total" in r.text
    sc = Scrape(https_config(lxd, certs[who]))
    assert set(sc.errors) >= {"instances", "storage_pools", "projects"}
    e = sc.errors["instances"]
    assert e.reason == "auth" and "'metrics'-type certificate" in e.message and "trust add" in e.message
    assert sc.find("colo_lxd_instance_state") == []


def test_https_with_the_wrong_server_certificate(lxd: LXDLab, certs: dict, module_lab: Lab) -> None:
    cfg = https_config(lxd, certs["client"])
    cfg["tls"]["server_cert_file"] = str(certs["stranger"][0])  # type: ignore[index]
    sc = Scrape(cfg)
    assert sc.errors["instances"].reason == "tls"


def test_exporter_process_reports_an_untrusted_certificate(lxd: LXDLab, certs: dict, lab: Lab) -> None:
    # a per-test lab: the process (and its HTTPS connections) is gone before `lxc cluster enable`
    exp = ExporterProc(lab, "lxd", https_config(lxd, certs["metrics"]))
    s = parse(exp.metrics())
    assert value(s, "colo_lxd_up", collector="instances") == 0
    assert value(s, "colo_lxd_scrape_errors_total", reason="auth") >= 1
    log = exp.log_text()
    assert "reason=auth" in log and "metrics" in log
    key = certs["metrics"][1].read_text().splitlines()[1]
    assert key not in log and key not in exp.metrics() and key not in exp.get("/")[1]


def test_cluster_one_member(lxd: LXDLab, module_lab: Lab) -> None:
    lxd.enable_cluster("member1")
    for scope in ("member", "cluster"):
        sc = Scrape({"socket": lxd.socket, "scope": scope})
        assert sc.errors == {}, {k: e.message for k, e in sc.errors.items()}
        assert sc.value("colo_lxd_cluster_enabled") == 1
        assert sc.value("colo_lxd_cluster_member_state", member="member1", state="Online") == 1
        assert sc.value("colo_lxd_cluster_member_state", member="member1", state="Offline") == 0
        assert sc.find("colo_lxd_cluster_member_role", member="member1", role="database")
        assert {lbl["location"] for lbl, _ in sc.find("colo_lxd_instance_info")} == {"member1"}
        assert {lbl["location"] for lbl, _ in sc.find("colo_lxd_instance_cpu_seconds_total")} == {"member1"}
        assert len(sc.find("colo_lxd_instance_info")) == (5 if lxd.btrfs_pool else 4)
        assert sc.value("colo_lxd_storage_pool_size_bytes", pool="default", member="member1") > 0
    exp = ExporterProc(module_lab, "lxd", {"socket": lxd.socket})
    text = exp.metrics()
    assert check_metrics(text) == []
    assert value(parse(text), "colo_lxd_instance_state", name="c2", location="member1", state="running") == 1


def test_lxd_stopped(lxd: LXDLab) -> None:
    """Last: the real daemon shuts down under a running config."""
    from exporters.core import parse_config
    from exporters.lxd.config import Config
    from exporters.lxd.main import COLLECTORS, Runtime

    cfg = {"socket": lxd.socket, "server_interval": "1s", "disk_interval": "1s"}
    rt = Runtime(parse_config(Config, cfg))
    try:
        assert Scrape({}, runtime=rt).errors == {}
        lxd.shutdown()
        sc = Scrape({}, runtime=rt, seconds=5)
        # at once: /1.0/metrics, and the instance list, which cannot be checked without it
        assert {"instances", "counters"} <= set(sc.errors)
        e = sc.errors["instances"]
        assert e.reason == "connect" and ("is LXD running" in e.message), e.message
        # what is refreshed in the background: served with its age until its next refresh fails
        time.sleep(1.5)
        sc = Scrape({}, runtime=rt, seconds=5)
        assert set(sc.errors) == set(COLLECTORS)
        assert {e.reason for e in sc.errors.values()} == {"connect"}
    finally:
        rt.close()


def _substituted(expr: str) -> str:
    """A dashboard query with Grafana's variables filled in (intervals, and `.*` for the rest)."""
    fixed = {"__rate_interval": "5s", "__interval": "5s", "__range": "5m"}
    return re.sub(r"\$\{?(\w+)\}?", lambda m: fixed.get(m.group(1), ".*"), expr)
