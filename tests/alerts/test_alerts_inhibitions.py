"""alerts/alertmanager.yml's inhibitions in a real Alertmanager (Debian's 0.25, the shipped config with
the receivers pointed at a local webhook): alerts are added and read back with amtool, which says which
ones are inhibited. The collector inhibitions (FRR, LXD) silence exactly what their collector feeds; a
component alert does not inhibit the BMC's health rollup (the rule drops the rollup instead: docs/alerts.md,
BmcComponentFailed). Each case has an `instance` of its own, so the cases do not inhibit each other."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from lab.alertmanager import Alertmanager, WebhookReceiver, amtool, lab_config
from lab.proc import Lab, wait_for

A = dict[str, str]


@pytest.fixture(scope="module")
def am(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    with Lab(tmp_path_factory.mktemp("inhibit")) as lab:
        hook = WebhookReceiver(lab)
        yield Alertmanager(lab, lab_config(hook.url))


def add(am: Alertmanager, labels: A) -> None:
    args = [f"{k}={v}" for k, v in labels.items()]
    code, out = amtool("alert", "add", f"--alertmanager.url={am.url}", *args, "--annotation=summary=test")
    assert code == 0, out


def query(am: Alertmanager, *flags: str) -> list[A]:
    code, out = amtool("alert", "query", f"--alertmanager.url={am.url}", "-o", "json", *flags)
    assert code == 0, out
    return [a["labels"] for a in json.loads(out or "[]")]


def inhibited(am: Alertmanager, instance: str) -> set[str]:
    return {a["alertname"] for a in query(am, "--inhibited") if a.get("instance") == instance}


def active(am: Alertmanager, instance: str) -> set[str]:
    return {a["alertname"] for a in query(am, "--active") if a.get("instance") == instance}


def case(am: Alertmanager, instance: str, alerts: list[A], muted: set[str], notified: set[str]) -> None:
    for a in alerts:
        add(am, {**a, "instance": instance})

    def settled() -> bool:
        return inhibited(am, instance) == muted and active(am, instance) == notified

    wait_for(
        settled,
        15,
        f"{instance}: inhibited {sorted(muted)}, active {sorted(notified)} "
        f"(got {sorted(inhibited(am, instance))}, {sorted(active(am, instance))})",
    )


FRR = {"job": "colo-frr", "frr_instance": "r1", "object": "router"}
FAILING = {"alertname": "FrrCollectorFailing", "job": "colo-frr", "frr_instance": "r1", "severity": "warning"}
FAILING |= {"object": "monitoring", "exporter": "frr", "daemon": "bgpd"}
SESSION = {**FRR, "vrf": "default", "peer": "192.0.2.0", "peer_as": "64500", "local_as": "64501"}
ZERO = {
    **SESSION,
    "alertname": "FrrBgpPrefixesReceivedZero",
    "afi_safi": "ipv4Unicast",
    "severity": "critical",
}
DOWN = {**SESSION, "alertname": "FrrBgpSessionDown", "severity": "critical"}


def test_frr_summary_failing_silences_the_prefix_counts_not_the_sessions(am: Alertmanager) -> None:
    case(
        am,
        "inh-frr-summary:9474",
        [{**FAILING, "collector": "summary"}, ZERO, DOWN],
        muted={"FrrBgpPrefixesReceivedZero"},
        notified={"FrrCollectorFailing", "FrrBgpSessionDown"},
    )


def test_frr_neighbors_failing_silences_nothing(am: Alertmanager) -> None:
    """The summary still gives the sessions' state: a session down must page."""
    case(
        am,
        "inh-frr-neighbors:9474",
        [{**FAILING, "collector": "neighbors"}, DOWN],
        muted=set(),
        notified={"FrrCollectorFailing", "FrrBgpSessionDown"},
    )


def test_frr_advertisement_lookup_failing_silences_that_advertisement_only(am: Alertmanager) -> None:
    adv = {**FRR, "alertname": "FrrExpectedAdvertisementMissing", "severity": "critical", "vrf": "default"}
    adv["peer"] = "192.0.2.0"
    case(
        am,
        "inh-frr-adv:9474",
        [
            {
                **FAILING,
                "collector": "advertised:default:203.0.113.0/24",
                "vrf": "default",
                "prefix": "203.0.113.0/24",
            },
            {**adv, "prefix": "203.0.113.0/24"},
            {**adv, "prefix": "198.51.100.0/24"},
        ],
        muted={"FrrExpectedAdvertisementMissing"},
        notified={"FrrCollectorFailing", "FrrExpectedAdvertisementMissing"},
    )
    left = [a for a in query(am, "--active") if a.get("instance") == "inh-frr-adv:9474" and "prefix" in a]
    assert {a["prefix"] for a in left if a["alertname"] == "FrrExpectedAdvertisementMissing"} == {
        "198.51.100.0/24"
    }


LXD = {"job": "colo-lxd", "host": "m1"}
LXD_FAILING = {**LXD, "alertname": "LxdCollectorFailing", "severity": "warning", "object": "monitoring"}
LXD_FAILING["exporter"] = "lxd"
INST = {
    **LXD,
    "project": "default",
    "name": "db",
    "location": "m1",
    "type": "container",
    "object": "instance",
}
MEMORY = {**INST, "alertname": "LxdInstanceMemoryNearLimit", "severity": "warning"}
DISK = {**INST, "alertname": "LxdInstanceDiskNearQuota", "severity": "warning", "device": "root"}


@pytest.mark.parametrize(
    ("collector", "muted"),
    [("disk", {"LxdInstanceDiskNearQuota"}), ("counters", {"LxdInstanceMemoryNearLimit"})],
)
def test_lxd_collector_failing_silences_what_it_feeds(
    am: Alertmanager, collector: str, muted: set[str]
) -> None:
    case(
        am,
        f"inh-lxd-{collector}:9471",
        [{**LXD_FAILING, "collector": collector}, MEMORY, DISK],
        muted=muted,
        notified={"LxdCollectorFailing", "LxdInstanceMemoryNearLimit", "LxdInstanceDiskNearQuota"} - muted,
    )


def test_bmc_component_alert_does_not_inhibit_the_rollup(am: Alertmanager) -> None:
    """One failed drive is one notification because the rule leaves the rollup out (promtool tests it);
    an inhibition would also swallow the rollup's "resolved" where the rollup fired first."""
    bmc = {"job": "colo-bmc", "target": "s6", "source": "redfish", "host": "server6", "object": "server"}
    case(
        am,
        "inh-bmc:s6",
        [
            {**bmc, "alertname": "BmcComponentFailed", "severity": "critical", "kind": "drive"}
            | {"component": "Disk.Bay.0"},
            {**bmc, "alertname": "BmcHealthNotOk", "severity": "warning", "component": "system 1"},
        ],
        muted=set(),
        notified={"BmcComponentFailed", "BmcHealthNotOk"},
    )
