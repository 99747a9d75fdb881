"""Bad input: no daemon, a missing socket, malformed or slow answers, VM-shaped state, odd clusters.

A small fake LXD on a unix socket serves what the real daemon will not (see lab/lxd_fake.py).
"""

from __future__ import annotations

import gc
import socket
import tempfile
import time
from pathlib import Path

import pytest

from exporters.core import Deadline, ScrapeError, parse_config
from exporters.core.scrape import ErrorCounters, run_jobs
from exporters.lxd.config import Config
from exporters.lxd.main import Runtime
from lab.exporter import ExporterProc, parse
from lab.lxd_fake import FakeLXD, Route, error, server_info, sync
from lab.proc import Lab
from lab.prometheus import check_metrics

from lxd_testlib import Scrape, find, value

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "lxd"


def fixture_bytes(name: str) -> bytes:
    return (FIX / name).read_bytes()


def routes(**over: Route) -> dict[str, Route]:
    base = {
        "/1.0": Route(server_info("node1", clustered=False)),
        "/1.0/instances": Route(fixture_bytes("instances_recursion2_allprojects.json")),
        "/1.0/cluster/members": Route(fixture_bytes("cluster_members_standalone.json"), 500),
        "/1.0/storage-pools": Route(sync([{"name": "default", "driver": "dir", "status": "Created"}])),
        "/1.0/storage-pools/default/resources": Route(fixture_bytes("storage_pool_default_resources.json")),
        "/1.0/projects": Route(fixture_bytes("projects.json")),
        "/1.0/metrics": Route(fixture_bytes("metrics_unix_socket.txt")),
    }
    base.update({k.replace("__", "/"): v for k, v in over.items()})
    return base


def cluster_routes(member: str, **over: Route) -> dict[str, Route]:
    """routes() as `member` of the synthetic three-member cluster, serving the VM and edge-case instances."""
    return routes(
        **{
            "/1.0": Route(server_info(member, clustered=True)),
            "/1.0/instances": Route(fixture_bytes("instances_vm_and_edge_cases.json")),
            "/1.0/cluster/members": Route(fixture_bytes("cluster_members_three_synthetic.json")),
            **over,
        }
    )


def scrape_core(sock: str, seconds: float, **cfg: object) -> tuple[dict, float]:
    rt = Runtime(parse_config(Config, {"socket": sock, **cfg}))
    t0 = time.monotonic()
    fams = run_jobs(rt.jobs(None), Deadline(seconds), "colo_lxd", ErrorCounters(("timeout", "malformed")))
    took = time.monotonic() - t0
    return {(s.name, frozenset(s.labels.items())): s.value for f in fams for s in f.samples}, took


def test_fake_serves_real_data(lab: Lab) -> None:
    fake = FakeLXD(lab, routes())
    sc = Scrape({"socket": fake.socket})
    assert sc.errors == {}
    assert sc.value("colo_lxd_cluster_enabled") == 0  # 500 "not clustered" is not an error
    assert len(sc.find("colo_lxd_instance_info")) == 4
    # recursion=1 once, shared by the instances and projects jobs; recursion=2 only in the background
    assert [r for r in fake.requests if r.startswith("/1.0/instances?recursion=1")] == [
        "/1.0/instances?recursion=1&all-projects=true"
    ]
    assert sc.value("colo_lxd_instance_cpu_seconds_total", name="c1") == 0.272  # from /1.0/metrics
    assert fake.hits["/1.0/metrics"] == 1


def test_socket_missing() -> None:
    sc = Scrape({"socket": "/nonexistent/colo-lxd/unix.socket"})
    e = sc.errors["instances"]
    assert e.reason == "connect" and "does not exist" in e.message and "/nonexistent/colo-lxd" in e.message
    assert set(sc.errors) == {"instances", "counters", "disk", "cluster", "storage_pools", "projects"}


def test_lxd_not_running(tmp_path: Path) -> None:
    d = Path(tempfile.mkdtemp(prefix="colo-lxd-dead-"))
    path = str(d / "unix.socket")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)  # a socket file nobody listens on: what a stopped daemon leaves
    s.close()
    try:
        sc = Scrape({"socket": path})
        e = sc.errors["instances"]
        assert e.reason == "connect" and "is LXD running" in e.message, e.message
    finally:
        Path(path).unlink()
        d.rmdir()


@pytest.mark.parametrize(
    "body,status",
    [
        (b'{"type": "sync", "metadata": [{"name": "c1", "sta', 200),  # cut short
        (b"<html><body>502 Bad Gateway</body></html>", 200),
        (b'{"type": "sync", "metadata": {"c1": {}}}', 200),
        (b'{"type": "sync", "metadata": ["c1", "c2"]}', 200),
        (b"null", 200),
    ],
)
def test_malformed_instances_answer(lab: Lab, body: bytes, status: int) -> None:
    fake = FakeLXD(lab, routes(**{"/1.0/instances": Route(body, status)}))
    sc = Scrape({"socket": fake.socket})
    assert set(sc.errors) == {"instances", "disk"}  # the background refresh reads the same path
    assert sc.errors["instances"].reason == "malformed" and sc.errors["disk"].reason == "malformed"
    assert "/1.0/instances" in sc.errors["instances"].message
    assert sc.find("colo_lxd_instance_state") == []
    assert sc.find("colo_lxd_project_info") and sc.find("colo_lxd_project_instances") == []
    assert gc.isenabled()  # paused while parsing, and back on after a failure too


def test_lxd_error_answer(lab: Lab) -> None:
    fake = FakeLXD(lab, routes(**{"/1.0/instances": Route(error(500, "database is locked"), 500)}))
    sc = Scrape({"socket": fake.socket})
    assert sc.errors["instances"].reason == "api" and "database is locked" in sc.errors["instances"].message


def test_slow_instances_cost_only_their_own_series(lab: Lab) -> None:
    fake = FakeLXD(
        lab,
        routes(**{"/1.0/instances": Route(fixture_bytes("instances_recursion2_allprojects.json"), delay=6)}),
    )
    samples, took = scrape_core(fake.socket, 1.5)
    assert took < 3.5, f"scrape took {took:.1f}s past a 1.5s deadline"
    up = {dict(lbl)["collector"]: v for (n, lbl), v in samples.items() if n == "colo_lxd_up"}
    # disk: the first background refresh is still waiting too, so its series are absent (not an error)
    assert up == {"instances": 0, "counters": 1, "disk": 1, "cluster": 1, "storage_pools": 1, "projects": 1}
    assert not [k for k in samples if k[0] == "colo_lxd_instance_disk_usage_age_seconds"]


def test_member_that_times_out(lab: Lab) -> None:
    """A cluster member that does not answer: the members call hangs, instances on it come back as Error."""
    slow = Route(fixture_bytes("cluster_members_three_synthetic.json"), delay=6)
    fake = FakeLXD(lab, cluster_routes("node1", **{"/1.0/cluster/members": slow}))
    samples, took = scrape_core(fake.socket, 1.5, scope="cluster")
    assert took < 3.5
    up = {dict(lbl)["collector"]: v for (n, lbl), v in samples.items() if n == "colo_lxd_up"}
    assert up["cluster"] == 0 and up["instances"] == 1
    state = {
        dict(lbl)["state"]: v
        for (n, lbl), v in samples.items()
        if n == "colo_lxd_instance_state" and dict(lbl)["name"] == "c-offline"
    }
    assert state["error"] == 1 and state["running"] == 0


def test_scope_member_reports_only_this_member(lab: Lab) -> None:
    fake = FakeLXD(lab, cluster_routes("node2"))
    member = Scrape({"socket": fake.socket, "scope": "member"})
    cluster = Scrape({"socket": fake.socket, "scope": "cluster"})
    assert {lbl["name"] for lbl, _ in member.find("colo_lxd_instance_info")} == {"vm-noagent", "vm-stopped"}
    assert len(cluster.find("colo_lxd_instance_info")) == 5
    # pools: this member's, or every reachable member's (node3 is Offline: not asked)
    assert {lbl["member"] for lbl, _ in member.find("colo_lxd_storage_pool_size_bytes")} == {"node2"}
    assert {lbl["member"] for lbl, _ in cluster.find("colo_lxd_storage_pool_size_bytes")} == {
        "node1",
        "node2",
    }
    assert cluster.value("colo_lxd_cluster_member_state", member="node3", state="Offline") == 1
    assert (
        member.value("colo_lxd_project_instances", project="default", type="container", status="error") == 0
    )
    assert (
        cluster.value("colo_lxd_project_instances", project="default", type="container", status="error") == 1
    )


def test_vm_state_through_the_exporter(lab: Lab) -> None:
    fake = FakeLXD(
        lab,
        cluster_routes(
            "node1",
            **{
                "/1.0/projects": Route(sync([{"name": "default"}, {"name": "web"}])),
                "/1.0/metrics?target=node1": Route(fixture_bytes("metrics_vm_and_edge_cases_node1.txt")),
                "/1.0/metrics?target=node2": Route(fixture_bytes("metrics_vm_and_edge_cases_node2.txt")),
            },
        ),
    )
    exp = ExporterProc(
        lab, "lxd", {"socket": fake.socket, "scope": "cluster", "user_labels": ["user.monitor"]}
    )
    text = exp.metrics()
    assert check_metrics(text) == []
    s = parse(text)
    assert all(v == 1 for _, v in find(s, "colo_lxd_up"))
    assert find(s, "colo_lxd_instance_cpu_seconds_total", name="vm-noagent") == []
    assert find(s, "colo_lxd_instance_processes", name="vm-noagent") == []
    assert value(s, "colo_lxd_instance_processes", name="vm-agent", location="node1") == 57
    assert value(s, "colo_lxd_instance_cpu_seconds_total", name="vm-agent") == 12.5
    assert value(s, "colo_lxd_instance_memory_usage_bytes", name="vm-agent") == 2**29
    assert value(s, "colo_lxd_instance_disk_read_bytes_total", name="vm-agent", device="sda") == 10485760
    assert value(s, "colo_lxd_instance_disk_writes_completed_total", name="vm-agent", device="sda") == 64
    assert find(s, "colo_lxd_instance_network_receive_bytes_total", name="d1", device="lo") == []
    assert value(s, "colo_lxd_instance_network_receive_bytes_total", name="d1", device="eth0") == 4096
    # the metrics of node3 (Offline) are not asked for
    assert not [r for r in fake.requests if "target=node3" in r and r.startswith("/1.0/metrics")]
    assert value(s, "colo_lxd_instance_info", name="vm-agent", user_monitor="critical", project="web") == 1
    assert (
        value(s, "colo_lxd_project_instances", project="web", type="virtual-machine", status="running") == 2
    )


def test_malformed_logged_clearly_by_the_exporter(lab: Lab) -> None:
    fake = FakeLXD(lab, routes(**{"/1.0/instances": Route(b'{"type": "sync", "metadata": [')}))
    exp = ExporterProc(lab, "lxd", {"socket": fake.socket})
    s = parse(exp.metrics())
    assert value(s, "colo_lxd_up", collector="instances") == 0
    assert value(s, "colo_lxd_up", collector="projects") == 1
    # the background disk refresh reads the same path: its collector reports the same error
    assert value(s, "colo_lxd_scrape_errors_total", reason="malformed") == 2
    log = exp.log_text()
    assert "reason=malformed" in log and "/1.0/instances: not valid JSON" in log
    assert "Traceback" not in log


def test_slow_drip_answer_is_cut_at_the_deadline(lab: Lab) -> None:
    body = fixture_bytes("instances_recursion2_allprojects.json")  # 64 bytes every 50 ms: ~20 s
    fake = FakeLXD(lab, routes(**{"/1.0/instances": Route(body, drip=0.05)}))
    rt = Runtime(parse_config(Config, {"socket": fake.socket}))
    job = rt.jobs(None)[0]
    t0 = time.monotonic()
    with pytest.raises(ScrapeError) as e:
        list(job.run(Deadline(1.0)))
    assert time.monotonic() - t0 < 2.5
    assert e.value.reason == "timeout"


def test_reconnects_after_lxd_restarts(lab: Lab) -> None:
    fake = FakeLXD(lab, routes())
    rt = Runtime(parse_config(Config, {"socket": fake.socket}))
    assert Scrape({}, runtime=rt).errors == {}
    fake.close()
    down = Scrape({}, runtime=rt)
    assert down.errors["instances"].reason == "connect"
    Path(fake.socket).parent.mkdir(exist_ok=True)
    again = FakeLXD(lab, routes(), socket=fake.socket)
    try:
        assert Scrape({}, runtime=rt).errors == {}
    finally:
        again.close()
        Path(fake.socket).parent.rmdir()


def test_exporter_honours_prometheus_timeout_header(lab: Lab) -> None:
    fake = FakeLXD(
        lab,
        routes(**{"/1.0/instances": Route(fixture_bytes("instances_recursion2_allprojects.json"), delay=8)}),
    )
    exp = ExporterProc(lab, "lxd", {"socket": fake.socket})
    t0 = time.monotonic()
    code, text = exp.get("/metrics", headers={"X-Prometheus-Scrape-Timeout-Seconds": "2"})
    took = time.monotonic() - t0
    assert code == 200 and took < 3.5, took
    s = parse(text)
    assert value(s, "colo_lxd_up", collector="instances") == 0
    assert value(s, "colo_lxd_up", collector="storage_pools") == 1
    assert value(s, "colo_lxd_scrape_errors_total", reason="timeout") == 1
