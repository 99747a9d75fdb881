"""Parsed LXD data -> metric families. No I/O. `ns` is the exporter's namespace (SPEC.namespace)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client.core import Metric
from prometheus_client.samples import Sample

from exporters.core import Families
from exporters.core.exposition import Labels
from exporters.core.metrics import sample

from .metrics_text import Counters
from .parse import MEMBER_STATUSES, STATUSES, Instance, Member, Pool, PoolUsage, Project, Server

BASE = ("project", "name", "location", "type")  # `name` as in LXD's metrics: `instance` is the target's label
_NET = (
    ("receive_bytes", "rx_bytes", "Bytes received"),
    ("transmit_bytes", "tx_bytes", "Bytes sent"),
    ("receive_packets", "rx_packets", "Packets received"),
    ("transmit_packets", "tx_packets", "Packets sent"),
    ("receive_errs", "rx_errs", "Receive errors"),
    ("transmit_errs", "tx_errs", "Transmit errors"),
    ("receive_drop", "rx_drop", "Inbound packets dropped"),
    ("transmit_drop", "tx_drop", "Outbound packets dropped"),
)
_DISK_IO = (
    ("disk_read_bytes_total", "read_bytes", "Bytes read from the block device."),
    ("disk_written_bytes_total", "written_bytes", "Bytes written to the block device."),
    ("disk_reads_completed_total", "reads", "Reads completed on the block device."),
    ("disk_writes_completed_total", "writes", "Writes completed on the block device."),
)

Spec = tuple[str, list[Sample], str]  # (series name, samples, attribute)


def _specs(fams: Iterable[tuple[Metric, str]]) -> list[Spec]:
    """(family, attribute) -> (series name, the family's samples, attribute)."""
    return [(fam.name + ("_total" if fam.type == "counter" else ""), fam.samples, attr) for fam, attr in fams]


def instance_families(ns: str, insts: Iterable[Instance], user_labels: Sequence[str] = ()) -> Families:
    """Config and status of every instance (from `recursion=1`); `user_labels` name Instance.user, in order.

    Samples are appended directly, sharing one label dict per instance: at 5,000 instances this is the
    hot loop. Nothing downstream modifies a sample's labels."""
    f = Families(ns)
    g = f.gauge
    info = f.info(
        "instance",
        "Instance metadata; allow-listed user.* keys as user_* labels.",
        BASE + ("architecture",) + tuple(user_labels),
    )
    state = g(
        "instance_state",
        "1 for the instance's current status (running, stopped, frozen, error, other).",
        BASE + ("state",),
    )
    scalars = _specs(
        (
            (g("instance_created_timestamp_seconds", "When the instance was created.", BASE), "created"),
            (
                g("instance_last_used_timestamp_seconds", "When the instance was last started.", BASE),
                "last_used",
            ),
            (
                g("instance_memory_limit_bytes", "limits.memory when given as a size.", BASE),
                "memory_limit_bytes",
            ),
            (
                g(
                    "instance_memory_limit_ratio",
                    "limits.memory when given as a percentage of host memory (0-1).",
                    BASE,
                ),
                "memory_limit_ratio",
            ),
            (
                g(
                    "instance_cpu_limit",
                    "CPUs the instance may use (limits.cpu as a count or a CPU set).",
                    BASE,
                ),
                "cpu_limit",
            ),
            (
                g(
                    "instance_cpu_allowance_ratio",
                    "limits.cpu.allowance as a fraction (50% or 25ms/100ms -> 0.5/0.25).",
                    BASE,
                ),
                "cpu_allowance_ratio",
            ),
        )
    )
    info_name, info_s = info.name + "_info", info.samples
    user_keys = tuple(user_labels)
    state_name, state_s = state.name, state.samples
    for i in insts:
        b = Labels({"project": i.project, "name": i.name, "location": i.location, "type": i.type})
        il = b.plus("architecture", i.architecture)
        for k, v in zip(user_keys, i.user, strict=True):
            il = il.plus(k, v)
        info_s.append(sample(info_name, il, 1.0))
        st = i.status
        for s in STATUSES:
            state_s.append(sample(state_name, b.plus("state", s), 1.0 if st == s else 0.0))
        _append(scalars, i, b)
    return f


def list_families(ns: str, age: float, reads: dict[str, int]) -> Families:
    """The instance list's age, and how often it was read (by reason) since start."""
    f = Families(ns)
    f.gauge(
        "instance_list_age_seconds",
        "Seconds since the instance list (config, limits, status) was read from the daemon.",
    ).add_metric([], round(age, 3))
    n = f.counter(
        "instance_list_reads_total",
        "Reads of the instance list since start, by reason: age, changed (/1.0/metrics contradicted it), "
        "unverified (/1.0/metrics could not be read).",
        ["reason"],
    )
    for reason, c in reads.items():
        n.add_metric([reason], float(c))
    return f


def counter_families(ns: str, per_member: Iterable[tuple[str, Sequence[Counters]]]) -> Families:
    """Counters of running instances from `/1.0/metrics`: (location, counters) for each member read."""
    f = Families(ns)
    g, c = f.gauge, f.counter
    scalars = _specs(
        (
            (c("instance_cpu_seconds_total", "CPU time used by the instance.", BASE), "cpu_seconds"),
            (
                g("instance_memory_usage_bytes", "Memory in use (cgroup usage; for VMs as reported).", BASE),
                "memory_usage_bytes",
            ),
            (g("instance_memory_swap_usage_bytes", "Swap in use.", BASE), "swap_usage_bytes"),
            (g("instance_processes", "Processes running in the instance.", BASE), "processes"),
            (
                c(
                    "instance_memory_oom_kills_total",
                    "Processes the kernel's OOM killer ended in the instance (where the daemon reports it).",
                    BASE,
                ),
                "oom_kills",
            ),
        )
    )
    nets = _specs(
        (
            c(
                f"instance_network_{name}_total",
                f"{doc} on the instance's interface (not loopback).",
                BASE + ("device",),
            ),
            attr,
        )
        for name, attr, doc in _NET
    )
    disks = _specs(
        (c("instance_" + name, doc + " `device` is the kernel's block device.", BASE + ("device",)), attr)
        for name, attr, doc in _DISK_IO
    )
    for location, counters in per_member:
        for k in counters:
            b = Labels({"project": k.project, "name": k.name, "location": location, "type": k.type})
            _append(scalars, k, b)
            for d in k.network:
                _append(nets, d, b.plus("device", d.device))
            for io in k.disk_io:
                _append(disks, io, b.plus("device", io.device))
    return f


def disk_families(ns: str, insts: Iterable[Instance], age: float) -> Families:
    """Disk usage and quota, and peak memory, from the background `recursion=2` refresh `age` seconds ago."""
    f = Families(ns)
    g = f.gauge
    f.gauge(
        "instance_disk_usage_age_seconds",
        "Seconds since the disk usage, disk quota and peak memory series were read from the daemon.",
    ).add_metric([], round(age, 3))
    disks = _specs(
        (
            (
                g(
                    "instance_disk_usage_bytes",
                    "Disk usage per disk device, where the storage driver reports it.",
                    BASE + ("device",),
                ),
                "usage_bytes",
            ),
            (
                g(
                    "instance_disk_quota_bytes",
                    "Disk quota per disk device (size in the device or as reported).",
                    BASE + ("device",),
                ),
                "quota_bytes",
            ),
        )
    )
    peak = _specs(
        (
            (
                g("instance_memory_usage_peak_bytes", "Highest memory use since the instance started.", BASE),
                "memory_peak_bytes",
            ),
        )
    )
    for i in insts:
        b = Labels({"project": i.project, "name": i.name, "location": i.location, "type": i.type})
        _append(peak, i, b)
        for k in i.disks:
            _append(disks, k, b.plus("device", k.device))
    return f


def _append(specs: Sequence[Spec], obj: object, labels: dict[str, str]) -> None:
    """One sample per (series name, samples, attribute) whose attribute is known; all share `labels`."""
    for name, samples, attr in specs:
        v = getattr(obj, attr)
        if v is not None:
            samples.append(sample(name, labels, v))


def _age(f: Families, name: str, doc: str, age: float | None) -> None:
    if age is not None:
        f.gauge(name, doc).add_metric([], round(age, 3))


def cluster_families(
    ns: str, server: Server, members: Sequence[Member], age: float | None = None
) -> Families:
    """`server` (/1.0, read in the background `age` seconds ago) and the members, read this scrape."""
    f = Families(ns)
    _age(f, "server_info_age_seconds", "Seconds since the server info (/1.0) was read from the daemon.", age)
    f.info(
        "server",
        "The LXD or Incus server the exporter talks to (`daemon`: lxd or incus).",
        ["server_name", "daemon", "version", "clustered"],
    ).add_metric([server.server_name, server.daemon, server.version, str(server.clustered).lower()], {})
    f.gauge("cluster_enabled", "1 if the server is a cluster member.").add_metric([], float(server.clustered))
    if not server.clustered:
        return f
    state = f.gauge(
        "cluster_member_state",
        "1 for the member's current status (Online, Evacuated, Offline, Blocked, other).",
        ["member", "state"],
    )
    info = f.info(
        "cluster_member",
        "Cluster member metadata.",
        ["member", "url", "failure_domain", "architecture", "message"],
    )
    role = f.gauge("cluster_member_role", "1 for each role the member holds.", ["member", "role"])
    for m in members:
        status = m.status if m.status in MEMBER_STATUSES else "other"
        for s in MEMBER_STATUSES:
            state.add_metric([m.name, s], 1.0 if s == status else 0.0)
        info.add_metric([m.name, m.url, m.failure_domain, m.architecture, m.message], {})
        for r in m.roles:
            role.add_metric([m.name, r], 1.0)
    return f


def pool_families(
    ns: str, pools: Sequence[Pool], usage: Sequence[tuple[str, str, PoolUsage]], age: float | None = None
) -> Families:
    """`usage`: (pool, member, usage) for each pool on each member read, `age` seconds ago."""
    f = Families(ns)
    _age(
        f, "storage_pool_usage_age_seconds", "Seconds since the storage pools and their space were read.", age
    )
    info = f.info("storage_pool", "Storage pool metadata.", ["pool", "driver", "status"])
    for p in pools:
        info.add_metric([p.name, p.driver, p.status], {})
    lbl = ["pool", "member"]
    used = f.gauge("storage_pool_used_bytes", "Space used in the pool.", lbl)
    total = f.gauge("storage_pool_size_bytes", "Size of the pool.", lbl)
    iused = f.gauge(
        "storage_pool_inodes_used", "Inodes used in the pool, where the driver reports them.", lbl
    )
    itotal = f.gauge("storage_pool_inodes", "Inodes of the pool, where the driver reports them.", lbl)
    for pool, member, u in usage:
        for fam, v in (
            (used, u.space_used),
            (total, u.space_total),
            (iused, u.inodes_used),
            (itotal, u.inodes_total),
        ):
            if v is not None:
                fam.add_metric([pool, member], v)
    return f


def project_families(
    ns: str, projects: Sequence[Project], insts: Sequence[Instance] | None, age: float | None = None
) -> Families:
    """Projects (read `age` seconds ago), and (when the instance list is known) instance counts by project,
    type and status."""
    f = Families(ns)
    _age(f, "project_info_age_seconds", "Seconds since the projects were read.", age)
    info = f.info("project", "A project.", ["project"])
    for proj in projects:
        info.add_metric([proj.name], {})
    if insts is None:
        return f
    counts: dict[tuple[str, str, str], int] = {}
    for proj in projects:
        for t in ("container", "virtual-machine"):
            for s in STATUSES:
                counts[(proj.name, t, s)] = 0
    for i in insts:
        key = (i.project, i.type, i.status)
        counts[key] = counts.get(key, 0) + 1
    n = f.gauge("project_instances", "Instances by project, type and status.", ["project", "type", "status"])
    for (p, t, s), c in counts.items():
        n.add_metric([p, t, s], float(c))
    return f
