"""alerts/lxd.yml: `promtool check rules` and `promtool test rules` on series shaped like the exporter's."""

from __future__ import annotations

from pathlib import Path

import yaml

from lab.prometheus import promtool

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "alerts" / "lxd.yml"

LBL = 'project="default",location="m1",type="container"'

TESTS = {
    "rule_files": [str(RULES)],
    "evaluation_interval": "1m",
    "tests": [
        {  # the exporter disappears: down after 5m; a target that never served colo_lxd is not ours
            "interval": "1m",
            "input_series": [
                {"series": 'up{job="lxd",instance="m1:9471"}', "values": "1 1 0x15"},
                {
                    "series": 'colo_lxd_build_info{job="lxd",instance="m1:9471",version="0.1"}',
                    "values": "1 1",
                },
                {"series": 'up{job="node",instance="m1:9100"}', "values": "0x17"},
            ],
            "alert_rule_test": [
                {"eval_time": "4m", "alertname": "LxdExporterDown", "exp_alerts": []},
                {
                    "eval_time": "10m",
                    "alertname": "LxdExporterDown",
                    "exp_alerts": [
                        {
                            "exp_labels": {"severity": "warning", "job": "lxd", "instance": "m1:9471"},
                            "exp_annotations": {
                                "summary": "colo-lxd-exporter m1:9471 is down",
                                "description": "Prometheus cannot scrape m1:9471 (job lxd): "
                                "no LXD data from it.",
                            },
                        }
                    ],
                },
            ],
        },
        {  # cluster: three exporters (scope member) each report every member: one alert per member
            "interval": "1m",
            "input_series": [
                *[
                    {
                        "series": f'colo_lxd_cluster_member_state{{instance="m{k}:9471",'
                        f'member="m3",state="Offline"}}',
                        "values": "0 0 1x10",
                    }
                    for k in (1, 2)
                ],
                *[
                    {
                        "series": f'colo_lxd_cluster_member_state{{instance="m{k}:9471",'
                        f'member="m2",state="Evacuated"}}',
                        "values": "1x200",
                    }
                    for k in (1, 2)
                ],
                {"series": 'colo_lxd_up{instance="m1:9471",collector="storage_pools"}', "values": "1 0x10"},
            ],
            "alert_rule_test": [
                {"eval_time": "3m", "alertname": "LxdClusterMemberOffline", "exp_alerts": []},
                {
                    "eval_time": "6m",
                    "alertname": "LxdClusterMemberOffline",
                    "exp_alerts": [
                        {"exp_labels": {"severity": "critical", "member": "m3", "state": "Offline"}}
                    ],
                },
                {"eval_time": "90m", "alertname": "LxdClusterMemberEvacuatedTooLong", "exp_alerts": []},
                {
                    "eval_time": "150m",
                    "alertname": "LxdClusterMemberEvacuatedTooLong",
                    "exp_alerts": [{"exp_labels": {"severity": "warning", "member": "m2"}}],
                },
                {
                    "eval_time": "7m",
                    "alertname": "LxdCollectorFailing",
                    "exp_alerts": [
                        {
                            "exp_labels": {
                                "severity": "warning",
                                "instance": "m1:9471",
                                "collector": "storage_pools",
                            }
                        }
                    ],
                },
            ],
        },
        {  # instances
            "interval": "1m",
            "input_series": [
                {"series": f'colo_lxd_instance_state{{{LBL},name="web",state="running"}}', "values": "0x10"},
                {
                    "series": f'colo_lxd_instance_info{{{LBL},name="web",'
                    f'architecture="x86_64",user_monitor="critical"}}',
                    "values": "1x10",
                },
                {
                    "series": f'colo_lxd_instance_state{{{LBL},name="scratch",state="running"}}',
                    "values": "0x10",
                },
                {
                    "series": f'colo_lxd_instance_info{{{LBL},name="scratch",'
                    f'architecture="x86_64",user_monitor=""}}',
                    "values": "1x10",
                },
                {"series": f'colo_lxd_instance_state{{{LBL},name="db",state="error"}}', "values": "1x10"},
                {"series": f'colo_lxd_instance_memory_usage_bytes{{{LBL},name="db"}}', "values": "950x20"},
                {"series": f'colo_lxd_instance_memory_limit_bytes{{{LBL},name="db"}}', "values": "1000x20"},
                {"series": f'colo_lxd_instance_memory_usage_bytes{{{LBL},name="web"}}', "values": "500x20"},
                {"series": f'colo_lxd_instance_memory_limit_bytes{{{LBL},name="web"}}', "values": "1000x20"},
                {"series": 'colo_lxd_storage_pool_used_bytes{pool="default",member="m1"}', "values": "90x20"},
                {
                    "series": 'colo_lxd_storage_pool_size_bytes{pool="default",member="m1"}',
                    "values": "100x20",
                },
            ],
            "alert_rule_test": [
                {
                    "eval_time": "6m",
                    "alertname": "LxdCriticalInstanceNotRunning",
                    "exp_alerts": [
                        {
                            "exp_labels": {
                                "severity": "critical",
                                "project": "default",
                                "name": "web",
                                "location": "m1",
                                "type": "container",
                                "state": "running",
                            },
                            "exp_annotations": {
                                "summary": "Critical LXD instance default/web is not running",
                                "description": "default/web (user.monitor=critical) on m1 "
                                "has not been running for 5 minutes.",
                            },
                        }
                    ],
                },
                {
                    "eval_time": "6m",
                    "alertname": "LxdInstanceError",
                    "exp_alerts": [
                        {
                            "exp_labels": {
                                "severity": "warning",
                                "project": "default",
                                "name": "db",
                                "location": "m1",
                                "type": "container",
                                "state": "error",
                            }
                        }
                    ],
                },
                {
                    "eval_time": "16m",
                    "alertname": "LxdInstanceMemoryNearLimit",
                    "exp_alerts": [
                        {
                            "exp_labels": {
                                "severity": "warning",
                                "project": "default",
                                "name": "db",
                                "location": "m1",
                                "type": "container",
                            }
                        }
                    ],
                },
                {
                    "eval_time": "16m",
                    "alertname": "LxdStoragePoolNearlyFull",
                    "exp_alerts": [
                        {"exp_labels": {"severity": "warning", "pool": "default", "member": "m1"}}
                    ],
                },
                {"eval_time": "16m", "alertname": "LxdStoragePoolFull", "exp_alerts": []},
            ],
        },
    ],
}


# What the templates must render to, for the alerts above that do not spell it out inline.
ANNOTATIONS = {
    "LxdClusterMemberOffline": {
        "summary": "LXD cluster member m3 is Offline",
        "description": "Member m3 is Offline; its instances are unreachable (they show as Error).",
    },
    "LxdCollectorFailing": {
        "summary": "LXD collector storage_pools fails on m1:9471",
        "description": "The exporter cannot read storage_pools from LXD; its log says why "
        "(connect, permission, auth, timeout, malformed).",
    },
    "LxdClusterMemberEvacuatedTooLong": {
        "summary": "LXD cluster member m2 has been evacuated for over 2h",
        "description": "Run `lxc cluster restore m2` once its maintenance is done; "
        "until then the cluster runs without its capacity.",
    },
    "LxdInstanceError": {
        "summary": "LXD instance default/db is in Error",
        "description": "container default/db on m1 reports status Error (often: its member is unreachable).",
    },
    "LxdInstanceMemoryNearLimit": {
        "summary": "LXD instance default/db uses 95% of its memory limit",
        "description": "Raise limits.memory or find what grows; near the limit the kernel reclaims cache and "
        "then kills processes.",
    },
    "LxdStoragePoolNearlyFull": {"summary": "LXD storage pool default on m1 is 90% full"},
}
for _t in TESTS["tests"]:
    for _a in _t["alert_rule_test"]:
        for _e in _a["exp_alerts"]:
            if "exp_annotations" not in _e:
                _e["exp_annotations"] = ANNOTATIONS[_a["alertname"]]


def test_rules_are_valid() -> None:
    code, out = promtool("check", "rules", str(RULES))
    assert code == 0, out


def test_rules_unit_tests(tmp_path: Path) -> None:
    f = tmp_path / "lxd_alerts_test.yml"
    f.write_text(yaml.safe_dump(TESTS, sort_keys=False))
    code, out = promtool("test", "rules", str(f))
    assert code == 0, out


def test_every_alert_is_tested() -> None:
    names = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    tested = {a["alertname"] for t in TESTS["tests"] for a in t["alert_rule_test"]}
    assert names - tested <= {"LxdInstanceDiskNearQuota"}, names - tested
