"""Our reader of the daemons' /1.0/metrics against prometheus_client's text parser, on captured LXD 5.0.2
and Incus 6.0.4 answers, and on odd input (one odd line costs only itself)."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporters.lxd import metrics_text

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "lxd"
CAPTURED = [
    "metrics_unix_socket.txt",
    "metrics_diskio.txt",
    "incus_metrics.txt",
    "metrics_vm_and_edge_cases_node1.txt",
]


def reference(text: str) -> dict[tuple[str, str, str], dict[str, float]]:
    """The same figures, from prometheus_client's parser."""
    out: dict[tuple[str, str, str], dict[str, float]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if "name" not in s.labels:
                continue
            name = s.name.split("_", 1)[1]  # lxd_ or incus_
            key = (s.labels.get("project", ""), s.labels["name"], s.labels.get("type", "container"))
            d = out.setdefault(key, {})
            dev = s.labels.get("device", "")
            if name == "cpu_seconds_total":
                d["cpu"] = d.get("cpu", 0.0) + s.value
            elif name in (
                "memory_MemTotal_bytes",
                "memory_MemFree_bytes",
                "memory_Swap_bytes",
                "procs_total",
            ):
                d[name] = s.value
            elif name == "memory_OOM_kills_total":
                d["oom"] = s.value
            elif name.startswith(("network_", "disk_")) and dev != "lo" and not name.startswith("disk_usage"):
                d[f"{name}/{dev}"] = s.value
    return out


@pytest.mark.parametrize("name", CAPTURED)
def test_same_numbers_as_prometheus_client(name: str) -> None:
    text = (FIX / name).read_text()
    got, odd = metrics_text.parse(text)
    assert odd == 0
    want = reference(text)
    assert {(c.project, c.name, c.type) for c in got} == set(want)
    for c in got:
        w = want[(c.project, c.name, c.type)]
        assert c.cpu_seconds == pytest.approx(w["cpu"])
        assert c.memory_usage_bytes == w["memory_MemTotal_bytes"] - w["memory_MemFree_bytes"]
        assert c.swap_usage_bytes == w["memory_Swap_bytes"] and c.processes == w["procs_total"]
        assert c.oom_kills == w.get("oom")
        mine = {}
        for n in c.network:
            for attr, fam in (("rx_bytes", "receive_bytes"), ("tx_packets", "transmit_packets")):
                if getattr(n, attr) is not None:
                    mine[f"network_{fam}_total/{n.device}"] = getattr(n, attr)
        for io in c.disk_io:
            mine[f"disk_read_bytes_total/{io.device}"] = io.read_bytes
            mine[f"disk_writes_completed_total/{io.device}"] = io.writes
        assert mine == {k: v for k, v in w.items() if k in mine}
        assert {n.device for n in c.network} == {k.split("/")[1] for k in w if k.startswith("network_")}


def test_lxd_and_incus_disk_io_per_block_device() -> None:
    for name in ("metrics_diskio.txt", "incus_metrics.txt"):
        got = {c.name: c for c in metrics_text.parse((FIX / name).read_text())[0]}
        (io,) = got["c2"].disk_io
        assert io == metrics_text.DiskIO("vda", 3145728.0, 3145728.0, 6.0, 3.0)
        assert got["c1"].disk_io == ()  # no I/O counted: absent, not zero


HEAD = "# HELP lxd_procs_total x\n# TYPE lxd_procs_total gauge\n"


@pytest.mark.parametrize(
    "line,odd",
    [
        ('lxd_procs_total{name="c9",project="default",type="container"} many', 1),  # not a number
        ('lxd_procs_total{project="default",name="c9",type="container"} 3', 1),  # labels unsorted
        ('lxd_procs_total{name="c}9",project="default",type="container"} 3', 1),  # a brace in a value
        ('lxd_procs_total{name="c9",project="default",type="container"} NaN', 0),  # NaN: absent
        ('lxd_procs_total{name="c9",project="default",type="container"} 3 1700000000000', 0),  # timestamp
    ],
)
def test_one_odd_line_costs_only_itself(line: str, odd: int) -> None:
    good = 'lxd_procs_total{name="c1",project="default",type="container"} 2\n'
    got, n = metrics_text.parse(HEAD + good + line + "\n")
    assert n == odd
    by = {c.name: c for c in got}
    assert by["c1"].processes == 2
    if "c9" in by:
        assert by["c9"].processes in (3.0, None)


def test_escapes_in_label_values_and_text_without_type_lines() -> None:
    text = 'lxd_procs_total{name="c1",project="we\\"ird",type="container"} 4\n'
    (c,), odd = metrics_text.parse(text)  # no # TYPE: lines grouped by family name instead
    assert odd == 0 and c.project == 'we"ird' and c.processes == 4


def test_unrelated_and_unlabelled_families_are_skipped() -> None:
    text = (
        "# HELP lxd_go_goroutines x\n# TYPE lxd_go_goroutines gauge\nlxd_go_goroutines 97\n"
        "# HELP lxd_filesystem_size_bytes x\n# TYPE lxd_filesystem_size_bytes gauge\n"
        'lxd_filesystem_size_bytes{device="",fstype="ext4",mountpoint="/",name="c1",project="default"} 9\n'
    )
    assert metrics_text.parse(text) == ([], 0)
