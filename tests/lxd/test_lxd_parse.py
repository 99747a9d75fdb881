"""Parsing and metric building on captured real LXD output and API-shaped edge cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client.core import Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import CollectorRegistry

from exporters.lxd import collector, metrics_text, parse
from exporters.lxd.main import SPEC
from lab.exporter import parse as parse_text
from lab.prometheus import check_metrics

from lxd_testlib import find, value

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "lxd"
NS = SPEC.namespace


def load(name: str) -> object:
    return json.loads((FIX / name).read_text())


def expose(fams: object) -> str:
    class C:
        def collect(self) -> list[Metric]:
            return list(fams)  # type: ignore[call-overload]

    r = CollectorRegistry()
    r.register(C())
    return generate_latest(r).decode()


def by_name(insts: list[parse.Instance]) -> dict[str, parse.Instance]:
    return {i.name: i for i in insts}


def test_real_instances_standalone() -> None:
    insts = by_name(parse.instances(load("instances_recursion2_allprojects.json")))
    assert set(insts) == {"c1", "c2", "c3", "c4"}
    c2 = insts["c2"]
    assert (c2.project, c2.type, c2.status) == ("default", "container", "running")
    assert c2.memory_limit_bytes == 64 * 2**20 and c2.cpu_limit == 1
    assert c2.cpu_seconds is not None and 0 < c2.cpu_seconds < 10
    assert c2.processes == 3
    eth0 = {d.device: d for d in c2.network}["eth0"]
    assert eth0.rx_bytes and eth0.rx_bytes > 0 and eth0.tx_packets and eth0.tx_packets > 0
    assert c2.disks == ()  # dir pool: no usage, no size: nothing
    assert insts["c3"].project == "proj2"
    c4 = insts["c4"]  # stopped: LXD says zeros; we say nothing
    assert c4.status == "stopped"
    assert c4.cpu_seconds is None and c4.memory_usage_bytes is None and c4.processes is None
    assert c4.network == () and c4.last_used is None


def test_real_instances_clustered_location() -> None:
    insts = parse.instances(load("instances_recursion2_allprojects_clustered.json"))
    assert {i.location for i in insts} == {"node1"}


def test_vm_shapes_and_edge_cases() -> None:
    insts = by_name(parse.instances(load("instances_vm_and_edge_cases.json"), ["user.monitor"]))
    vm = insts["vm-agent"]
    assert vm.type == "virtual-machine" and vm.processes == 57 and vm.cpu_seconds == 12.5
    assert vm.memory_usage_bytes == 512 * 2**20 and vm.memory_limit_bytes == 2 * 2**30 and vm.cpu_limit == 4
    assert vm.disks == (parse.Disk("root", 1234567890.0, 10 * 2**30),)
    assert vm.user == ("critical",)
    na = insts["vm-noagent"]  # no agent: absent, not zeros; host-side NIC counters stay
    assert na.processes is None and na.cpu_seconds is None and na.memory_usage_bytes is None
    assert na.swap_usage_bytes is None
    assert [d.device for d in na.network] == ["eth0"]
    assert na.memory_limit_bytes is None and na.memory_limit_ratio == 0.5
    assert na.cpu_limit == 2 and na.cpu_allowance_ratio == 0.25
    assert na.disks == () and na.user == ("",)
    st = insts["vm-stopped"]
    assert st.status == "stopped" and st.cpu_seconds is None and st.memory_limit_bytes == 1e9
    assert st.last_used is None
    off = insts["c-offline"]
    assert (
        off.status == "error" and off.location == "node3" and off.cpu_seconds is None and off.created is None
    )
    d1 = insts["d1"]
    assert d1.status == "frozen" and d1.cpu_seconds == 2.0 and d1.swap_usage_bytes == 4096
    assert d1.disks == (parse.Disk("root", 52428800.0, 500 * 2**20),) and d1.cpu_allowance_ratio == 0.5


def test_exposition_passes_promtool_and_absent_means_absent() -> None:
    """The three sources of one scrape together: config from recursion=1, counters from each member's
    /1.0/metrics, disk usage from the background recursion=2."""
    insts = parse.instances(load("instances_vm_and_edge_cases.json"), ["user.monitor"])
    per_member = [
        (node, metrics_text.parse((FIX / f"metrics_vm_and_edge_cases_{node}.txt").read_text())[0])
        for node in ("node1", "node2")
    ]
    fams = [
        *collector.instance_families(NS, insts, ["user_monitor"]),
        *collector.counter_families(NS, per_member),
        *collector.disk_families(NS, insts, 12.5),
    ]
    text = expose(fams)
    assert check_metrics(text) == []
    s = parse_text(text)
    assert find(s, "colo_lxd_instance_cpu_seconds_total", name="vm-noagent") == []
    assert find(s, "colo_lxd_instance_memory_usage_bytes", name="vm-noagent") == []
    assert find(s, "colo_lxd_instance_processes", name="vm-noagent") == []
    assert (
        find(s, "colo_lxd_instance_network_receive_bytes_total", name="vm-noagent") == []
    )  # LXD 5.0: no metrics
    assert value(s, "colo_lxd_instance_cpu_seconds_total", name="vm-agent", location="node1") == 12.5
    assert value(s, "colo_lxd_instance_disk_read_bytes_total", name="vm-agent", device="sda") == 10485760
    assert value(s, "colo_lxd_instance_state", name="c-offline", state="error") == 1
    assert value(s, "colo_lxd_instance_state", name="c-offline", state="running") == 0
    assert value(s, "colo_lxd_instance_disk_usage_bytes", name="d1", device="root") == 52428800
    assert value(s, "colo_lxd_instance_disk_quota_bytes", name="d1", device="root") == 500 * 2**20
    assert value(s, "colo_lxd_instance_disk_usage_age_seconds") == 12.5
    assert value(s, "colo_lxd_instance_memory_usage_peak_bytes", name="vm-agent") >= 0
    assert value(s, "colo_lxd_instance_info", name="vm-agent", user_monitor="critical") == 1
    assert value(s, "colo_lxd_instance_memory_limit_ratio", name="vm-noagent") == 0.5
    assert value(s, "colo_lxd_instance_network_receive_bytes_total", name="d1", device="eth0") == 4096
    assert find(s, "colo_lxd_instance_network_receive_bytes_total", name="d1", device="lo") == []
    # every counter series has the same labels as the config series of its instance (PromQL joins)
    info = {
        (lbl["project"], lbl["name"], lbl["location"], lbl["type"])
        for lbl, _ in find(s, "colo_lxd_instance_info")
    }
    for lbl, _ in find(s, "colo_lxd_instance_cpu_seconds_total"):
        assert (lbl["project"], lbl["name"], lbl["location"], lbl["type"]) in info


def test_members_and_cluster_families() -> None:
    members = parse.members(load("cluster_members_three_synthetic.json"))
    server = parse.Server("node1", "5.0.2", True, True)
    text = expose(collector.cluster_families(NS, server, members))
    assert check_metrics(text) == []
    s = parse_text(text)
    assert value(s, "colo_lxd_cluster_member_state", member="node2", state="Evacuated") == 1
    assert value(s, "colo_lxd_cluster_member_state", member="node3", state="Offline") == 1
    assert value(s, "colo_lxd_cluster_member_state", member="node3", state="Online") == 0
    assert value(s, "colo_lxd_cluster_member_role", member="node1", role="database-leader") == 1
    assert value(s, "colo_lxd_cluster_member_info", member="node3", failure_domain="rack2") == 1
    real = parse.members(load("cluster_members_recursion1.json"))
    assert real[0].name == "node1" and real[0].status == "Online" and "database" in real[0].roles


def test_server_pools_projects() -> None:
    srv = parse.server(load("1.0.json"))
    assert srv.version.startswith("5.0") and srv.trusted and not srv.clustered
    u = parse.pool_usage(load("storage_pool_default_resources.json"))
    assert u.space_used and u.space_total and u.space_used < u.space_total
    names = [p.name for p in parse.projects(load("projects.json"))]
    assert names == ["default", "proj2"]


@pytest.mark.parametrize(
    "text,want",
    [
        ("64MiB", 64 * 2**20),
        ("1GB", 1e9),
        ("1GiB", 2**30),
        ("512kB", 512e3),
        ("100", 100.0),
        ("1.5GiB", 1.5 * 2**30),
        ("10B", 10.0),
        ("50%", None),
        ("lots", None),
        ("", None),
        (None, None),
        ("64 MiB", 64 * 2**20),
        ("1Q", None),
    ],
)
def test_parse_size(text: object, want: float | None) -> None:
    assert parse.parse_size(text) == want


@pytest.mark.parametrize(
    "text,want",
    [
        ("2", 2),
        ("0-3", 4),
        ("0,2", 2),
        ("0-1,4", 3),
        ("1-1", 1),
        ("3-1", None),
        ("x", None),
        ("", None),
        ("0-", None),
    ],
)
def test_parse_cpu_limit(text: str, want: float | None) -> None:
    assert parse.parse_cpu_limit(text) == want


def test_parse_time_and_allowance() -> None:
    assert parse.parse_time("2026-11-27T22:44:08.238121544Z") == pytest.approx(1795819448.238121544)
    assert parse.parse_time("2026-11-27T23:44:08+01:00") == 1795819448.0
    assert parse.parse_time("0001-01-01T00:00:00Z") is None
    assert parse.parse_time("yesterday") is None
    assert parse.parse_time("2026-11-27T22:44:08") is None  # no zone: not guessed
    assert parse.parse_time("2026-11-27 22:44:08Z") is None
    assert parse.parse_time("2026-11-27T22:44:08.5-00:30") == 1795819448.5 + 1800
    assert parse.parse_cpu_allowance("50%") == 0.5
    assert parse.parse_cpu_allowance("25ms/100ms") == 0.25
    assert parse.parse_cpu_allowance("fast") is None


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"type": "async", "metadata": []},
        {"type": "sync"},
        {"type": "sync", "metadata": {"a": 1}},
        {"type": "sync", "metadata": ["c1"]},
        {"type": "sync", "metadata": [{"status": "Running"}]},
    ],
)
def test_malformed_instances(doc: object) -> None:
    with pytest.raises(parse.Malformed):
        parse.instances(doc)


def test_wrong_types_inside_are_absent_not_wrong() -> None:
    raw = {
        "name": "x",
        "status": "Running",
        "type": "container",
        "state": {
            "cpu": {"usage": "a lot"},
            "memory": {"usage": True},
            "processes": None,
            "network": {"eth0": {"counters": {"bytes_received": "12"}}},
        },
    }
    i = parse.instance(raw)
    assert i.cpu_seconds is None and i.memory_usage_bytes is None and i.processes is None
    assert i.network[0].rx_bytes is None


def test_project_counts_include_zeros() -> None:
    insts = parse.instances(load("instances_recursion2_allprojects.json"))
    projects = parse.projects(load("projects.json"))
    s = parse_text(expose(collector.project_families(NS, projects, insts)))
    assert value(s, "colo_lxd_project_instances", project="default", type="container", status="running") == 2
    assert value(s, "colo_lxd_project_instances", project="default", type="container", status="stopped") == 1
    assert (
        value(s, "colo_lxd_project_instances", project="proj2", type="virtual-machine", status="running") == 0
    )


def test_pool_exposition() -> None:
    pools = [parse.Pool("default", "dir", "Created"), parse.Pool("bpool", "btrfs", "Created")]
    usage = [
        ("default", "node1", parse.pool_usage(load("storage_pool_default_resources.json"))),
        ("bpool", "node1", parse.PoolUsage(1e6, 2e9, None, None)),
    ]
    text = expose(collector.pool_families(NS, pools, usage))
    assert check_metrics(text) == []
    s = parse_text(text)
    assert value(s, "colo_lxd_storage_pool_size_bytes", pool="bpool", member="node1") == 2e9
    assert find(s, "colo_lxd_storage_pool_inodes", pool="bpool") == []
    assert value(s, "colo_lxd_storage_pool_inodes", pool="default") == 16777216
