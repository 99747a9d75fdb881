"""Agents that are dead, locked, or lying: up 0 with a clear reason, within the deadline, never a crash."""

from __future__ import annotations

import time

from lab.exporter import find, parse, value


def probe_down(exporter, target, reason, within=4.0, **kw):
    t0 = time.monotonic()
    s = parse(exporter.probe(target, headers={"X-Prometheus-Scrape-Timeout-Seconds": "5"}))
    took = time.monotonic() - t0
    assert value(s, "colo_snmp_up", target=target) == 0
    assert value(s, "colo_snmp_scrape_errors_total", reason=reason) >= 1, s
    assert took < within, took
    return s


def test_unreachable_agent_bounded_by_timeout(exporter):
    # 500ms timeout, 1 retry: about a second, never the scrape deadline
    probe_down(exporter, "dead", "timeout", within=3.0)
    assert "no reply from 127.0.0.1" in exporter.log_text()


def test_silent_agent(exporter, fakes):
    n = fakes["silent"].requests
    probe_down(exporter, "fake_silent", "timeout", within=3.0)
    assert fakes["silent"].requests - n == 2  # one try and one retry


def test_deadline_shorter_than_timeout(exporter):
    t0 = time.monotonic()
    s = parse(exporter.probe("dead", headers={"X-Prometheus-Scrape-Timeout-Seconds": "0.8"}))
    assert value(s, "colo_snmp_up", target="dead") == 0
    assert time.monotonic() - t0 < 1.5


def test_wrong_community(exporter):
    probe_down(exporter, "wrong_comm", "timeout")
    assert "wrong community" in exporter.log_text()


def test_wrong_v3_user(exporter):
    probe_down(exporter, "wrong_user", "auth")


def test_wrong_v3_key(exporter):
    probe_down(exporter, "wrong_key", "auth")
    assert "SNMPv3 authentication failed" in exporter.log_text()


def test_wrong_v3_priv_key(exporter):
    # snmpd cannot parse what it decrypts with the wrong key and, like most agents, drops it silently
    probe_down(exporter, "wrong_priv", "timeout")
    assert "or wrong privacy key" in exporter.log_text()


def test_looping_agent(exporter):
    probe_down(exporter, "fake_loop", "malformed")
    assert "non-increasing OID" in exporter.log_text()


def test_garbage_reply(exporter):
    # pysnmp drops what it cannot decode; its parse-error counter tells garbage from silence
    probe_down(exporter, "fake_garbage", "malformed", within=3.0)
    assert "unparseable replies" in exporter.log_text()


def test_short_table_and_32bit_fallback(exporter):
    s = parse(exporter.probe("fake_ok"))
    assert value(s, "colo_snmp_up", target="fake_ok") == 1
    assert value(s, "colo_snmp_interfaces") == 3
    assert value(s, "colo_snmp_interface_receive_bytes_total", ifindex="1") == 10**12 + 1
    # port 3: no ifXTable row, so ifDescr names it and ifInOctets (32-bit) counts
    assert value(s, "colo_snmp_interface_counters_64bit", ifname="port 3") == 0
    assert value(s, "colo_snmp_interface_receive_bytes_total", ifname="port 3") == (10**12 + 3) % 2**32


def test_duplicate_ifnames_on_fake(exporter):
    s = parse(exporter.probe("fake_dupfake"))
    assert {
        lbl["ifindex"]
        for (n, lbl) in [(k[0], dict(k[1])) for k in s]
        if n == "colo_snmp_interface_info" and lbl["ifname"] == "eth1"
    } == {"1", "2"}


def test_counter_backwards_and_agent_restart(exporter, fakes):
    a = fakes["ok"]
    from lab.snmp_fake import small_switch

    parse(exporter.probe("fake_ok"))
    a.data = small_switch(uptime=500_100, octets=10**12 - 10**6)  # counters back, uptime forward: a lie
    s = parse(exporter.probe("fake_ok"))
    assert value(s, "colo_snmp_interface_discontinuities_total") >= 2
    assert value(s, "colo_snmp_agent_restarts_total") == 0
    assert "went backwards without an agent restart" in exporter.log_text()
    a.data = small_switch(uptime=100, octets=1000)  # restarted: uptime back too
    s = parse(exporter.probe("fake_ok"))
    assert value(s, "colo_snmp_agent_restarts_total") == 1
    assert value(s, "colo_snmp_interface_receive_bytes_total", ifindex="1") == 1001
    a.data = small_switch()


def test_unknown_target_is_refused(exporter):
    code, _ = exporter.get("/probe?target=192.0.2.1")
    assert code in (400, 404)


def test_deadline_in_the_middle_of_a_walk_then_recovers(exporter):
    t0 = time.monotonic()
    s = parse(exporter.probe("sw500", headers={"X-Prometheus-Scrape-Timeout-Seconds": "0.9"}))
    assert value(s, "colo_snmp_up", target="sw500") == 0
    assert time.monotonic() - t0 < 1.5
    # the shared engine is fine afterwards
    s = parse(exporter.probe("sw54"))
    assert value(s, "colo_snmp_up", target="sw54") == 1


def test_parallel_probes_share_one_engine(exporter):
    from concurrent.futures import ThreadPoolExecutor

    targets = ["sw54", "sw54v3", "local", "local3", "dead", "fake_ok", "local_noauth"] * 2
    with ThreadPoolExecutor(len(targets)) as pool:
        bodies = list(pool.map(lambda t: parse(exporter.probe(t)), targets))
    for t, s in zip(targets, bodies, strict=True):
        assert value(s, "colo_snmp_up", target=t) == (0 if t == "dead" else 1), t


def test_long_sysdescr_is_exported_whole(exporter):
    from lab.prometheus import check_metrics
    from lab.snmp_fake import LONG_DESCR

    text = exporter.probe("fake_longdescr")
    s = parse(text)
    assert value(s, "colo_snmp_up", target="fake_longdescr") == 1
    (labels,) = [dict(k[1]) for k in s if k[0] == "colo_snmp_system_info"]
    assert labels["sys_descr"] == LONG_DESCR.decode() and len(labels["sys_descr"]) > 200
    assert check_metrics(text) == []


def test_one_bad_column_costs_only_itself(exporter):
    # ifHCInOctets loops after its first row; ifHCOutOctets and ifOperStatus come as strings.
    s = parse(exporter.probe("fake_badcols"))
    assert value(s, "colo_snmp_up", target="fake_badcols") == 1
    assert value(s, "colo_snmp_scrape_errors_total", reason="malformed") >= 2
    assert value(s, "colo_snmp_interfaces") == 3
    log = exporter.log_text()
    assert "non-increasing OID in column 1.3.6.1.2.1.31.1.1.1.6" in log
    assert "values of column 1.3.6.1.2.1.31.1.1.1.10 (out_octets) are not numbers" in log
    # every other column, every interface
    assert len(find(s, "colo_snmp_interface_admin_status")) == 3
    assert not find(s, "colo_snmp_interface_oper_status")  # the bad column, and only it, is gone
    assert (
        value(s, "colo_snmp_interface_receive_bytes_total", ifindex="1") == 10**12 + 1
    )  # read before the loop
    # where a 64-bit column failed, the 32-bit one stands in
    assert value(s, "colo_snmp_interface_receive_bytes_total", ifindex="2") == (10**12 + 2) % 2**32
    assert value(s, "colo_snmp_interface_transmit_bytes_total", ifindex="1") == (2 * 10**12 + 1) % 2**32
