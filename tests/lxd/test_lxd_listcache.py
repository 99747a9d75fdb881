"""When the instance list is read again (exporters/lxd/listcache.py), on its own and through the exporter
against the fake LXD (lab/lxd_fake.py): the steady state is one request per scrape, a contradiction
from /1.0/metrics causes one read of the list, and neither LXD's 8 s metrics cache nor an instance that
never shows in /1.0/metrics causes a read every scrape. The same against the real daemons:
test_lxd_live.py::test_list_cache_follows_the_daemon."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from exporters.core import Deadline, parse_config
from exporters.core.scrape import ErrorCounters, run_jobs
from exporters.lxd import listcache
from exporters.lxd.config import Config
from exporters.lxd.listcache import METRICS_CACHE, ListCache, Listed, Seen
from exporters.lxd.main import Runtime
from lab.lxd_fake import FakeLXD, Route, server_info, sync
from lab.proc import Lab

from lxd_testlib import Scrape

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "lxd"


def keys(*names: str, location: str = "none") -> frozenset[tuple[str, str, str]]:
    return frozenset(("default", n, location) for n in names)


def listed(at: float, *running: str, members: frozenset | None = None) -> Listed:
    return Listed([], [], at, keys(*running), members)


def seen(at: float, *running: str, members: frozenset | None = None) -> Seen:
    return Seen(keys(*running), frozenset({"none"}), at, members)


# --- the decision on its own ---


def test_age_and_agreement() -> None:
    c = ListCache(60)
    assert c.reason(0, None) == "age"  # nothing read yet
    c.store(listed(0, "c1", "c2"), None, "age")
    assert c.reason(30, seen(30, "c1", "c2")) is None
    assert c.reason(30, None) == "unverified"
    assert c.reason(60, seen(60, "c1", "c2")) == "age"
    assert ListCache(0).reason(0, None) == "age"


def test_a_stop_start_or_new_instance_reads_the_list_once() -> None:
    c = ListCache(60)
    c.store(listed(0, "c1", "c2"), None, "age")
    assert c.reason(20, seen(20, "c1")) == "changed"  # c2 stopped
    c.store(listed(20, "c1"), seen(20, "c1"), "changed")
    assert c.reason(40, seen(40, "c1")) is None
    assert c.reason(50, seen(50, "c1", "c9")) == "changed"  # c9 started or created running


def test_an_answer_older_than_the_list_is_not_a_contradiction() -> None:
    """LXD's cached /1.0/metrics may predate a list read for another reason."""
    c = ListCache(60)
    c.store(listed(0, "c1", "c2"), None, "age")
    # at 60 the list is read for its age; c2 stopped at 59, but the metrics answer was built at 55
    s = seen(60, "c1", "c2")
    c.store(listed(60, "c1"), s, c.reason(60, s) or "")
    assert c.reason(65, seen(65, "c1", "c2")) is None  # still the old answer: the list is newer
    # once an answer must be newer than the list, the same disagreement is a change (c2 started again)
    assert c.reason(60 + METRICS_CACHE, seen(60 + METRICS_CACHE, "c1", "c2")) == "changed"
    later = seen(75, "c1", "c2")
    c.store(listed(75, "c1", "c2"), later, "changed")
    assert c.reason(90, seen(90, "c1", "c2")) is None


def test_an_instance_missing_from_metrics_is_settled_after_two_reads() -> None:
    """LXD 5.0 leaves a VM whose agent does not answer out of /1.0/metrics: it runs, but shows nowhere."""
    c = ListCache(600)
    c.store(listed(0, "c1", "vm"), None, "age")
    reads = 0
    for t in range(15, 300, 15):
        s = seen(t, "c1")
        r = c.reason(t, s)
        if r is not None:
            reads += 1
            c.store(listed(t, "c1", "vm"), s, r)
    assert reads == 2
    assert c.reason(300, seen(300, "c1", "vm")) is None  # the agent answers: agreement
    assert c.reason(315, seen(315, "c1")) is None  # and the known disagreement again: still settled
    assert c.reason(330, seen(330)) == "changed"  # but c1 stopping is news
    c.store(listed(330, "vm"), seen(330), "changed")
    assert c.reason(335, seen(335)) is None  # pending: the same disagreement, answer maybe older
    assert c.reason(330 + METRICS_CACHE, seen(330 + METRICS_CACHE)) == "changed"
    c.store(listed(341, "vm"), seen(330 + METRICS_CACHE), "changed")
    assert c.reason(400, seen(400)) is None  # settled again
    c.store(listed(600, "vm"), seen(600), "age")
    assert c.reason(610, seen(610)) is None  # a read for its age keeps what is settled


def test_members_and_unread_members() -> None:
    on = frozenset({("m1", "Online"), ("m2", "Online")})
    c = ListCache(60)
    c.store(Listed([], [], 0, keys("a1", location="m1") | keys("a2", location="m2"), on), None, "age")
    only_m1 = Seen(keys("a1", location="m1"), frozenset({"m1"}), 10, on)
    assert c.reason(10, only_m1) is None  # m2's metrics were not read: its instances are not judged
    m2_out = frozenset({("m1", "Online"), ("m2", "Offline")})
    assert c.reason(20, Seen(keys("a1", location="m1"), frozenset({"m1"}), 20, m2_out)) == "changed"


# --- through the exporter, against the fake ---


def instances_json(stopped: tuple[str, ...] = (), limit: str | None = None) -> bytes:
    env = json.loads((FIX / "instances_recursion2_allprojects.json").read_bytes())
    for i in env["metadata"]:
        if i["name"] in stopped:
            i["status"], i["status_code"], i["state"] = "Stopped", 102, None
        if limit and i["name"] == "c2":
            i["expanded_config"]["limits.memory"] = limit
    return json.dumps(env).encode()


def metrics_text(without: tuple[str, ...] = ()) -> bytes:
    lines = (FIX / "metrics_unix_socket.txt").read_text().splitlines()
    return ("\n".join(ln for ln in lines if not any(f'name="{n}"' in ln for n in without)) + "\n").encode()


def standalone(lab: Lab) -> FakeLXD:
    return FakeLXD(
        lab,
        {
            "/1.0": Route(server_info("node1", clustered=False)),
            "/1.0/instances": Route(instances_json()),
            "/1.0/cluster/members": Route((FIX / "cluster_members_standalone.json").read_bytes(), 500),
            "/1.0/storage-pools": Route(sync([{"name": "default", "driver": "dir", "status": "Created"}])),
            "/1.0/storage-pools/default/resources": Route(
                (FIX / "storage_pool_default_resources.json").read_bytes()
            ),
            "/1.0/projects": Route((FIX / "projects.json").read_bytes()),
            "/1.0/metrics": Route(metrics_text()),
        },
    )


def runtime(lab: Lab, socket: str, **cfg: object) -> Runtime:
    rt = Runtime(parse_config(Config, {"socket": socket, "disk_interval": "1h", **cfg}))
    lab.callback(rt.close)
    return rt


def requests_of(fake: FakeLXD, rt: Runtime) -> tuple[Scrape, list[str]]:
    n = len(fake.requests)
    sc = Scrape({}, runtime=rt)
    return sc, fake.requests[n:]


def test_steady_state_is_one_request_and_a_stop_reads_the_list(lab: Lab) -> None:
    fake = standalone(lab)
    rt = runtime(lab, fake.socket)
    first = Scrape({}, runtime=rt)
    assert first.errors == {}
    assert first.value("colo_lxd_instance_list_age_seconds") < 5
    for k in ("server_info", "storage_pool_usage", "project_info"):
        assert 0 <= first.value(f"colo_lxd_{k}_age_seconds") < 5
    sc, sent = requests_of(fake, rt)
    assert sent == ["/1.0/metrics"]
    assert sc.value("colo_lxd_instance_state", name="c2", state="running") == 1
    assert sc.value("colo_lxd_instance_list_reads_total", reason="age") == 1
    # c2 stops: gone from /1.0/metrics, Stopped in the list
    fake.routes["/1.0/metrics"] = Route(metrics_text(without=("c2",)))
    fake.routes["/1.0/instances"] = Route(instances_json(stopped=("c2",)))
    sc, sent = requests_of(fake, rt)
    assert sent == ["/1.0/metrics", "/1.0/instances?recursion=1&all-projects=true"]
    assert sc.value("colo_lxd_instance_state", name="c2", state="stopped") == 1
    assert sc.find("colo_lxd_instance_cpu_seconds_total", name="c2") == []
    assert sc.value("colo_lxd_instance_list_reads_total", reason="changed") == 1
    assert sc.value("colo_lxd_project_instances", project="default", type="container", status="stopped") == 2
    # a limit changed: nothing in /1.0/metrics shows it; the list is read again for its age
    fake.routes["/1.0/instances"] = Route(instances_json(stopped=("c2",), limit="128MiB"))
    sc, sent = requests_of(fake, rt)
    assert sent == ["/1.0/metrics"]
    assert sc.value("colo_lxd_instance_memory_limit_bytes", name="c2") == 64 * 2**20
    rt.listing.max_age = 0.5
    time.sleep(0.6)
    sc, sent = requests_of(fake, rt)
    assert len(sent) == 2 and sc.value("colo_lxd_instance_memory_limit_bytes", name="c2") == 128 * 2**20
    assert sc.value("colo_lxd_instance_list_reads_total", reason="age") == 2


def test_no_metrics_means_the_list_is_read(lab: Lab) -> None:
    fake = standalone(lab)
    rt = runtime(lab, fake.socket)
    Scrape({}, runtime=rt)
    fake.routes["/1.0/metrics"] = Route(b'{"type":"error","error":"boom","error_code":500}', 500)
    sc, sent = requests_of(fake, rt)
    assert set(sc.errors) == {"counters"}
    assert "/1.0/instances?recursion=1&all-projects=true" in sent
    assert sc.value("colo_lxd_instance_list_reads_total", reason="unverified") == 1


def test_an_agentless_vm_costs_two_reads_then_none(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """vm-noagent runs on node2 but LXD 5.0 leaves it out of node2's /1.0/metrics, for good."""
    monkeypatch.setattr(listcache, "METRICS_CACHE", 0.3)  # the fake has no 8 s cache
    fake = FakeLXD(
        lab,
        {
            "/1.0": Route(server_info("node1", clustered=True)),
            "/1.0/instances": Route((FIX / "instances_vm_and_edge_cases.json").read_bytes()),
            "/1.0/cluster/members": Route((FIX / "cluster_members_three_synthetic.json").read_bytes()),
            "/1.0/storage-pools": Route(sync([])),
            "/1.0/projects": Route(sync([{"name": "default"}, {"name": "web"}])),
            "/1.0/metrics?target=node1": Route((FIX / "metrics_vm_and_edge_cases_node1.txt").read_bytes()),
            "/1.0/metrics?target=node2": Route((FIX / "metrics_vm_and_edge_cases_node2.txt").read_bytes()),
        },
    )
    rt = runtime(lab, fake.socket, scope="cluster")
    reads = []
    for _ in range(8):
        sc, sent = requests_of(fake, rt)
        assert sc.errors == {}
        reads.append(sum(1 for r in sent if r.startswith("/1.0/instances?recursion=1")))
        time.sleep(0.2)
    assert reads[0] == 1 and sum(reads[1:]) == 2 and reads[-3:] == [0, 0, 0], reads
    # the steady state on a cluster: the members' status and each reachable member's metrics
    assert sorted(sent) == [
        "/1.0/cluster/members?recursion=1",
        "/1.0/metrics?target=node1",
        "/1.0/metrics?target=node2",
    ]
    # node2 goes Offline: a member's status is news for the list (its instances come back as Error)
    members = json.loads((FIX / "cluster_members_three_synthetic.json").read_bytes())
    members["metadata"][1]["status"] = "Offline"
    fake.routes["/1.0/cluster/members"] = Route(json.dumps(members).encode())
    sc, sent = requests_of(fake, rt)
    assert "/1.0/instances?recursion=1&all-projects=true" in sent
    assert sc.value("colo_lxd_cluster_member_state", member="node2", state="Offline") == 1


def test_background_data_never_holds_a_scrape(lab: Lab) -> None:
    """After the first, a scrape serves the last server info, pools and projects with their age, however
    slow their refresh."""
    fake = standalone(lab)
    rt = runtime(lab, fake.socket, server_interval="1s")
    assert Scrape({}, runtime=rt).errors == {}
    for path in ("/1.0", "/1.0/storage-pools", "/1.0/projects"):
        fake.routes[path] = Route(fake.routes[path].body, delay=20)
    time.sleep(1.5)  # the refreshes are now waiting for the slow answers
    t0 = time.monotonic()
    fams = run_jobs(rt.jobs(None), Deadline(1.0), "colo_lxd", ErrorCounters(("timeout",)))
    assert time.monotonic() - t0 < 1.5
    got = {(s.name, tuple(s.labels.values())): s.value for f in fams for s in f.samples}
    assert all(got[("colo_lxd_up", (c,))] == 1 for c in ("cluster", "storage_pools", "projects")), got
    assert got[("colo_lxd_server_info_age_seconds", ())] >= 1.0


def test_a_failed_refresh_is_reported_until_one_succeeds(lab: Lab) -> None:
    fake = standalone(lab)
    rt = runtime(lab, fake.socket, server_interval="1s")
    assert Scrape({}, runtime=rt).errors == {}
    good = fake.routes["/1.0/projects"]
    fake.routes["/1.0/projects"] = Route(b"<html>502 Bad Gateway</html>")
    time.sleep(1.5)
    sc = Scrape({}, runtime=rt)
    assert set(sc.errors) == {"projects"}
    assert sc.errors["projects"].reason == "malformed" and "/1.0/projects" in sc.errors["projects"].message
    assert sc.find("colo_lxd_project_info") == []
    fake.routes["/1.0/projects"] = good
    time.sleep(1.5)
    sc = Scrape({}, runtime=rt)
    assert sc.errors == {} and sc.value("colo_lxd_project_info_age_seconds") < 1.5
