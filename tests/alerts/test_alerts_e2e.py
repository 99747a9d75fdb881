"""End to end: real faults in a lab rack must reach a person exactly as intended.

Real peers, real exporters, Debian's Prometheus with the generated rules and Debian's Alertmanager with
the shipped alerts/alertmanager.yml (its receivers pointed at a webhook of this test's own). Durations are
shortened in the lab (tests/alerts/e2e_rack.py: every rule duration / 20, scrapes and evaluations every
second, group_wait 3s and group_interval 5s).

For each fault the test waits for exactly the notifications it should cause (receiver, status, alert
names and labels), and for their "resolved" after the fault is undone; at the end every notification
the webhook received must have been expected: a duplicate, a "resolved" sent while the fault was still
there, or a page the inhibitions should have stopped fails the test. The table of faults, notifications
and delays is printed (and written to $COLO_ALERTS_TABLE if set).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from e2e_rack import Book, Rack, Row, Want, start_rack

from lab.proc import Lab, require_root, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

FIRE, RESOLVE = 60.0, 60.0  # seconds a notification may take (scaled rules: 3-15 s `for`, 6 s resolve_delay)
HOLD = 20.0  # how long a blind window is kept up, so that a lying "resolved" would have time to show


@pytest.fixture(scope="module")
def rack(tmp_path_factory: pytest.TempPathFactory) -> Rack:
    require_root()
    with Lab(tmp_path_factory.mktemp("e2e")) as lab:
        r = start_rack(lab)
        yield r


def quiet(rack: Rack) -> None:
    """At rest: no pending or firing alert but the expected none, for 5 s in a row."""
    since = [time.monotonic()]

    def still() -> bool:
        active = [a for a in rack.prom.alerts() if a["labels"].get("severity") != "info"]
        if active:
            since[0] = time.monotonic()
            rest.clear()
            rest.extend(f"{a['labels']['alertname']}{a['labels']} {a['state']}" for a in active)
            return False
        return time.monotonic() - since[0] >= 5

    rest: list[str] = []
    try:
        wait_for(still, 90, "the rack to be quiet", interval=0.5)
    except Exception as e:
        raise AssertionError(f"the rack is not quiet at rest: {rest}") from e


def step(book: Book, row: Row, action: Callable[[], Any], want: Want, resolved: bool = False) -> None:
    t = time.monotonic()
    action()
    _, delay = book.wait(want, t, RESOLVE if resolved else FIRE)
    text = f"{want.receiver}: {want.brief()} (1)"
    if resolved:
        row.resolved, row.resolve_delay = text, delay
    else:
        row.notified, row.notify_delay = text, delay


def fault(
    book: Book,
    row: Row,
    cause: Callable[[], Any],
    cure: Callable[[], Any],
    notify: Callable[..., Want],
    group: dict[str, str],
    *alerts: tuple[str, dict[str, str]],
    hold: float = 0.0,
) -> None:
    """`cause` is notified once firing; `hold` s later `cure` is notified once resolved; the row is booked."""
    step(book, row, cause, notify("firing", group, *alerts))
    time.sleep(hold)
    step(book, row, cure, notify("resolved", group, *alerts), resolved=True)
    book.rows.append(row)


def wait_inhibited(rack: Rack, names: list[str]) -> None:
    """Until each of `names` is active in Alertmanager, and all but the maintenance alert are inhibited."""
    last: dict[str, Any] = {}

    def done() -> bool:
        last.clear()
        last.update({a["labels"]["alertname"]: a["status"] for a in rack.am.alerts()})
        return all(
            n in last and (n == "LxdClusterMemberInMaintenance" or last[n]["inhibitedBy"]) for n in names
        )

    try:
        wait_for(done, FIRE, f"{names} to fire and be inhibited", interval=0.5)
    except Exception as e:
        raise AssertionError(f"{names} not all inhibited; Alertmanager has {last}") from e


def page(status: str, group: dict[str, str], *alerts: tuple[str, dict[str, str]]) -> Want:
    return Want("page", status, group, tuple((n, status, lbl) for n, lbl in alerts))


def email(status: str, group: dict[str, str], *alerts: tuple[str, dict[str, str]]) -> Want:
    return Want("email", status, group, tuple((n, status, lbl) for n, lbl in alerts))


# --- the scenarios (each in its own thread; they touch different peers) ------------------------------


def frr(rack: Rack, book: Book) -> None:
    """BGP neighbor shut by the provider; the exporter stopped while it is down (blind window); back."""
    session = ("FrrBgpSessionDown", {"frr_instance": "r1", "peer": "192.0.2.0", "vrf": "default"})
    router = {"object": "router"}
    row = Row(1, "BGP neighbor shut (provider shuts r1's v4 session)")
    step(
        book,
        row,
        lambda: rack.frr.neighbor_shutdown("prov", 64500, "192.0.2.1"),
        page("firing", router, session),
    )
    book.rows.append(row)

    exporter = ("FrrExporterDown", {"job": "colo-frr", "exporter": "frr"})
    monitoring = {"object": "monitoring", "exporter": "frr"}
    row2 = Row(2, "FRR exporter stopped while that session is down (no 'resolved' for the session)")
    stop, restart = rack.frr_exporter.proc.stop, rack.restart_frr_exporter
    fault(book, row2, stop, restart, email, monitoring, exporter, hold=HOLD)

    def no_shutdown() -> None:
        rack.frr.neighbor_shutdown("prov", 64500, "192.0.2.1", down=False)

    step(book, row, no_shutdown, page("resolved", router, session), resolved=True)


def snmp(rack: Rack, book: Book) -> None:
    """WAN port down (the switch probed under two names: one notification); the switch frozen while it
    is down (blind window: no 'resolved'); thawed; the port back; then shut on purpose: no notification."""
    link = {"object": "link", "role": "wan", "link": "transit"}
    down = [("LinkDown", {"side": s, "interface": "wan0", "role": "wan"}) for s in ("sw", "sw-v3")]
    row = Row(3, "WAN port down (wan0; the switch probed twice, as sw and sw-v3)")
    step(book, row, lambda: rack.switch.wan(False), page("firing", link, *down))
    book.rows.append(row)

    switch = {"object": "switch"}
    unreachable = [("SnmpSwitchUnreachable", {"target": t}) for t in ("sw", "sw-v3")]
    row2 = Row(4, "switch frozen (snmpd SIGSTOP) while the WAN port is down (no 'resolved' for the port)")
    freeze, thaw = lambda: rack.switch.freeze(True), lambda: rack.switch.freeze(False)
    fault(book, row2, freeze, thaw, page, switch, *unreachable, hold=HOLD)
    time.sleep(5)  # thawed and the port still down: nothing new may be sent about it
    # The two probes see the port back up to a few scrapes apart. When one of Alertmanager's group flushes
    # falls between them, the first side's "resolved" comes in a firing update of the group (the other
    # side still down), then the group's "resolved": each side is said resolved once, never early.
    t = time.monotonic()
    rack.switch.wan(True)
    port = {"interface": "wan0", "role": "wan"}
    split = Want("page", "firing", link, (("LinkDown", "firing", port), ("LinkDown", "resolved", port)))
    k, n, delay = book.wait_any([page("resolved", link, *down), split], t, RESOLVE)
    row.resolved, row.resolve_delay = "page: LinkDown x2 (1)", delay
    if k == 1:
        back = [a["labels"]["side"] for a in n.alerts() if a["status"] == "resolved"]
        other = ("LinkDown", {**port, "side": next(s for s in ("sw", "sw-v3") if s not in back)})
        _, delay = book.wait(page("resolved", link, other), t, RESOLVE)
        row.resolved, row.resolve_delay = (
            f"page: LinkDown x2 in 2 (the sides came back across a group flush: {back[0]} in a firing "
            "update, then the group resolved)",
            delay,
        )

    # Shut on purpose (an operator's `shutdown`): the port goes down, and nobody is paged.
    row3 = Row(9, "WAN port shut on purpose (wan0 administratively down), then brought back")
    t = time.monotonic()
    rack.switch.shut(True)
    wait_for(
        lambda: (
            len(rack.prom.query('colo:link_admin_up{link="transit"} == 0')) == 2
            and len(rack.prom.query('colo:link_up{link="transit"} == 0')) == 2
        ),
        FIRE,
        "both probes to see wan0 shut",
        interval=0.5,
    )
    time.sleep(HOLD)  # many times LinkDown's scaled `for`: it would be firing, and sent, by now
    fired = [a for a in rack.prom.alerts() if a["labels"].get("link") == "transit"]
    assert not fired, fired
    rack.switch.shut(False)
    wait_for(
        lambda: len(rack.prom.query('colo:link_up{link="transit"} == 1')) == 2, FIRE, "wan0 up", interval=0.5
    )
    row3.notified = f"none (down and shut on both probes for {time.monotonic() - t:.0f} s)"
    row3.resolved = "none"
    book.rows.append(row3)


def fan(rack: Rack, book: Book) -> None:
    group = {"object": "server", "host": "server1"}
    alert = ("BmcFanStopped", {"host": "server1", "target": "server1", "sensor": "FAN3"})
    row = Row(5, "fan stopped (server1 FAN3 at 0 rpm)")
    sim = rack.bmcs["server1"].sim
    fault(book, row, lambda: sim.set_fan(3, 0), lambda: sim.set_fan(3, 5300), page, group, alert)


def psu(rack: Rack, book: Book) -> None:
    group = {"object": "server", "host": "server2"}
    alert = ("BmcPsuFailed", {"host": "server2", "target": "server2", "sensor": "PSU2 Status"})
    row = Row(6, "PSU failed (server2 PSU2)")
    sim = rack.bmcs["server2"].sim
    fault(book, row, lambda: sim.set_psu(2, "fail"), lambda: sim.set_psu(2, "ok"), page, group, alert)


def lxd(rack: Rack, book: Book) -> None:
    """A critical container stopped; then the weekly reboot of its member: evacuated, powered off with
    LXD and the exporter on it down, back, restored: no notification at all, though the alerts fire."""
    group = {"object": "instance", "host": "server3"}
    alert = ("LxdCriticalInstanceNotRunning", {"host": "server3", "name": "c2", "project": "default"})
    row = Row(7, "container stopped (critical c2 on server3)")
    stop, start = lambda: rack.lxd.lxc("stop", "c2", "--force"), lambda: rack.lxd.lxc("start", "c2")
    fault(book, row, stop, start, page, group, alert)

    row2 = Row(
        8, "member server3 evacuated, then offline (chassis off, LXD and its exporter down), back, restored"
    )
    t = time.monotonic()
    rack.lxd.lxc("cluster", "evacuate", "server3", "--force")
    # The reboot follows once the exporter has seen c2 stopped by the evacuation (the member shows
    # Evacuated before its instances stop; /1.0/metrics, cached 8 s, shows the stop a little later).
    stopped = 'colo_lxd_instance_state{name="c2", state="stopped"} == 1'
    wait_for(lambda: rack.prom.query(stopped), 40, "Prometheus to see c2 stopped by the evacuation")
    rack.bmcs["server3"].power(False)
    rack.lxd.stop_lxd()
    expected = [
        "LxdClusterMemberInMaintenance",
        "LxdCriticalInstanceNotRunning",
        "BmcChassisPoweredOff",
        "LxdCollectorFailing",
    ]
    wait_inhibited(rack, expected)
    rack.lxd.stop_exporter()  # the exporter on the member goes with it
    expected.append("LxdExporterDown")
    wait_inhibited(rack, expected)
    took = time.monotonic() - t
    rack.bmcs["server3"].power(True)
    rack.lxd.start_lxd()
    rack.lxd.start_exporter()
    rack.lxd.lxc("cluster", "restore", "server3", "--force")

    def over() -> bool:
        return not [a for a in rack.prom.alerts() if a["labels"].get("host") == "server3"]

    wait_for(over, 90, "every alert about server3 to be over (maintenance grace included)", interval=0.5)
    time.sleep(8)  # a group_interval and more: anything left to send about server3 would be sent by now
    row2.notified = f"none (the {len(expected)} alerts fired and were inhibited, after {took:.1f} s)"
    row2.resolved = f"none ({time.monotonic() - t:.0f} s in all)"
    book.rows.append(row2)


def test_faults_reach_a_person_once(rack: Rack, capsys: pytest.CaptureFixture[str]) -> None:
    book = Book(rack.webhook)
    quiet(rack)
    assert not book.unclaimed(), [n.brief() for n in book.unclaimed()]
    t0 = time.monotonic()
    with ThreadPoolExecutor(5) as pool:
        futures = [pool.submit(f, rack, book) for f in (frr, snmp, fan, psu, lxd)]
        for f in futures:
            f.result()
    time.sleep(8)  # late notifications (duplicates, re-fires) would arrive within a group_interval or two
    table = book.table() + (
        f"\n\nLab started in {rack.started_in:.0f} s; faults (run in parallel) took "
        f"{time.monotonic() - t0:.0f} s. "
        "Durations scaled by 1/20; delays include the scaled `for` and keep_firing_for."
    )
    with capsys.disabled():
        print("\n" + table)
    if os.environ.get("COLO_ALERTS_TABLE"):
        Path(os.environ["COLO_ALERTS_TABLE"]).write_text(table + "\n")
    extra = book.unclaimed()
    assert not extra, "unexpected notifications:\n" + "\n".join(n.brief() for n in extra)
