"""Parsed LXD data -> metric families. No I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client.samples import Sample

from exporters.core import Families

from .parse import MEMBER_STATUSES, STATUSES, Instance, Member, Pool, PoolUsage, Project, Server

NS = "colo_lxd"
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


def instance_families(insts: Iterable[Instance], user_labels: Sequence[str] = ()) -> Families:
    """Per-instance series; `user_labels` are label names for Instance.user, in order.

    Samples are appended directly, sharing one label dict per instance (and device): at 5,000
    instances this is the hot loop. Nothing downstream modifies a sample's labels."""
    f = Families(NS)
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
    created = g("instance_created_timestamp_seconds", "When the instance was created.", BASE)
    used = g("instance_last_used_timestamp_seconds", "When the instance was last started.", BASE)
    cpu = f.counter("instance_cpu_seconds_total", "CPU time used by the instance.", BASE)
    mem = g(
        "instance_memory_usage_bytes", "Memory in use (cgroup usage; for VMs as the agent reports).", BASE
    )
    peak = g("instance_memory_usage_peak_bytes", "Highest memory use since the instance started.", BASE)
    swap = g("instance_memory_swap_usage_bytes", "Swap in use.", BASE)
    mlim = g("instance_memory_limit_bytes", "limits.memory when given as a size.", BASE)
    mratio = g(
        "instance_memory_limit_ratio", "limits.memory when given as a percentage of host memory (0-1).", BASE
    )
    clim = g("instance_cpu_limit", "CPUs the instance may use (limits.cpu as a count or a CPU set).", BASE)
    allow = g(
        "instance_cpu_allowance_ratio",
        "limits.cpu.allowance as a fraction (50% or 25ms/100ms -> 0.5/0.25).",
        BASE,
    )
    procs = g("instance_processes", "Processes running in the instance.", BASE)
    net = [
        (
            f.counter(
                f"instance_network_{name}_total",
                f"{doc} on the instance's interface (not loopback).",
                BASE + ("device",),
            ),
            attr,
        )
        for name, attr, doc in _NET
    ]
    dused = g(
        "instance_disk_usage_bytes",
        "Disk usage per disk device, where the storage driver reports it.",
        BASE + ("device",),
    )
    dquota = g(
        "instance_disk_quota_bytes",
        "Disk quota per disk device (size in the device or as reported).",
        BASE + ("device",),
    )
    info_name, info_s = info.name + "_info", info.samples
    user_keys = tuple(user_labels)
    scalars = [
        (fam.name + ("_total" if fam.type == "counter" else ""), fam.samples, attr)
        for fam, attr in (
            (created, "created"),
            (used, "last_used"),
            (cpu, "cpu_seconds"),
            (mem, "memory_usage_bytes"),
            (peak, "memory_peak_bytes"),
            (swap, "swap_usage_bytes"),
            (mlim, "memory_limit_bytes"),
            (mratio, "memory_limit_ratio"),
            (clim, "cpu_limit"),
            (allow, "cpu_allowance_ratio"),
            (procs, "processes"),
        )
    ]
    nets = [(fam.name + "_total", fam.samples, attr) for fam, attr in net]
    disks = [(dused.name, dused.samples, "usage_bytes"), (dquota.name, dquota.samples, "quota_bytes")]
    state_name, state_s = state.name, state.samples
    for i in insts:
        b = {"project": i.project, "name": i.name, "location": i.location, "type": i.type}
        info_s.append(
            Sample(
                info_name,
                {**b, "architecture": i.architecture, **dict(zip(user_keys, i.user, strict=True))},
                1.0,
                None,
            )
        )
        for s in STATUSES:
            state_s.append(Sample(state_name, {**b, "state": s}, 1.0 if i.status == s else 0.0, None))
        _append(scalars, i, b)
        for d in i.network:
            _append(nets, d, {**b, "device": d.device})
        for k in i.disks:
            _append(disks, k, {**b, "device": k.device})
    return f


def _append(specs: Sequence[tuple[str, list[Sample], str]], obj: object, labels: dict[str, str]) -> None:
    """One sample per (series name, samples, attribute) whose attribute is known; all share `labels`."""
    for name, samples, attr in specs:
        v = getattr(obj, attr)
        if v is not None:
            samples.append(Sample(name, labels, v, None))


def cluster_families(server: Server, members: Sequence[Member]) -> Families:
    f = Families(NS)
    f.info(
        "server", "The LXD server the exporter talks to.", ["server_name", "version", "clustered"]
    ).add_metric([server.server_name, server.version, str(server.clustered).lower()], {})
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


def pool_families(pools: Sequence[Pool], usage: Sequence[tuple[str, str, PoolUsage]]) -> Families:
    """`usage`: (pool, member, usage) for each pool on each member read."""
    f = Families(NS)
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


def project_families(projects: Sequence[Project], insts: Sequence[Instance] | None) -> Families:
    """Projects, and (when the instance list was read) instance counts by project, type and status."""
    f = Families(NS)
    info = f.info("project", "A project.", ["project"])
    for p in projects:
        info.add_metric([p.name], {})
    if insts is None:
        return f
    counts: dict[tuple[str, str, str], int] = {}
    for p in projects:
        for t in ("container", "virtual-machine"):
            for s in STATUSES:
                counts[(p.name, t, s)] = 0
    for i in insts:
        key = (i.project, i.type, i.status)
        counts[key] = counts.get(key, 0) + 1
    n = f.gauge("project_instances", "Instances by project, type and status.", ["project", "type", "status"])
    for (proj, t, s), c in counts.items():
        n.add_metric([proj, t, s], float(c))
    return f
