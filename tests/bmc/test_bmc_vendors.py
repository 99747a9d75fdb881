"""Every vendor tree in tests/fixtures/bmc/ read right: each value of its expected.json checked, first by the
pure assembly (redfish_parse.walk over the tree), then by the exporter process against a server serving it."""

from __future__ import annotations

import dataclasses
import json
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from exporters.bmc import redfish_parse as R
from exporters.bmc.collector import families
from exporters.bmc.links import request_path
from exporters.core import ScrapeError
from lab.bmc import PASSWORD, USER
from lab.bmc_redfish import RedfishServer
from lab.exporter import ExporterProc
from lab.proc import Lab
from lab.prometheus import check_metrics

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "bmc"
VENDORS = sorted(p.parent.name for p in FIX.glob("*/tree.json"))
Samples = dict[str, list[tuple[dict[str, str], float]]]


class TreeReader:
    """redfish_parse.Reader over a fixture tree (path -> resource); a missing resource is None."""

    def __init__(self, tree: dict[str, Any]) -> None:
        self.tree = tree
        self.requests = 0

    def get(self, link: str, required: bool = False) -> dict[str, Any] | None:
        self.requests += 1
        doc = self.tree.get(urllib.parse.unquote(request_path(link)))
        if doc is None and required:
            raise ScrapeError("http", f"GET {link}: HTTP 404")
        return doc

    def collection(self, link: str, required: bool = False) -> list[tuple[str | None, dict[str, Any]]] | None:
        doc = self.get(link, required)
        if doc is None:
            return None
        out = []
        for m in R.members(doc):
            if set(m) <= {"@odata.id"}:
                got = self.get(m["@odata.id"])
                if got is not None:
                    out.append((m["@odata.id"], got))
            else:
                out.append((None, m))
        return out

    def parallel(self, calls: Sequence[Callable[[], Any]]) -> list[Any]:
        return [c() for c in calls]


def load(vendor: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    tree = json.loads((FIX / vendor / "tree.json").read_text())
    return tree, json.loads((FIX / vendor / "expected.json").read_text())["checks"]


def parse_text(text: str) -> Samples:
    from prometheus_client.parser import text_string_to_metric_families

    out: Samples = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


def samples_of(snap: Any) -> Samples:
    out: Samples = {}
    for fam in families("colo_bmc", "t", "redfish", snap):
        for s in fam.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


def check(samples: Samples, checks: list[dict[str, Any]], base: dict[str, str]) -> list[str]:
    """Every failed check, as a line; [] when all hold. Each sample name and label set appears once."""
    failed = []
    for name, items in samples.items():
        keys = [tuple(sorted(lb.items())) for lb, _ in items]
        if len(keys) != len(set(keys)):
            failed.append(f"{name}: a label set appears twice")
    for c in checks:
        want = {**base, **c["labels"]}
        got = [v for lb, v in samples.get(c["metric"], []) if all(lb.get(k) == v for k, v in want.items())]
        if "count" in c:
            if len(got) != c["count"]:
                failed.append(f"{c['metric']}{c['labels']}: {len(got)} samples, want {c['count']}")
        elif c.get("absent"):
            if got:
                failed.append(f"{c['metric']}{c['labels']}: present ({got}), want none")
        elif len(got) != 1 or abs(got[0] - c["value"]) > 1e-6:
            failed.append(f"{c['metric']}{c['labels']}: {got}, want {c['value']}")
    return failed


@pytest.mark.parametrize("vendor", VENDORS)
def test_vendor_tree_parsed(vendor: str) -> None:
    tree, checks = load(vendor)
    reader = TreeReader(tree)
    root = tree["/redfish/v1"]
    snap = dataclasses.replace(R.walk(root, reader), components=R.components(root, reader))
    failed = check(samples_of(snap), checks, {"target": "t", "source": "redfish"})
    assert not failed, "\n".join(failed)
    assert len(checks) >= 20


def test_dmtf_rackmount1_parsed(shared_dir: Path) -> None:
    root_dir = shared_dir / "fixtures" / "redfish" / "dmtf-public-rackmount1"
    tree = {}
    for f in root_dir.rglob("index.json"):
        path = "/" + str(f.parent.relative_to(root_dir))
        tree[path] = json.loads(f.read_text())
    checks = json.loads((FIX / "dmtf-rackmount1" / "expected.json").read_text())["checks"]
    snap = R.walk(tree["/redfish/v1"], TreeReader(tree))
    failed = check(samples_of(snap), checks, {"target": "t", "source": "redfish"})
    assert not failed, "\n".join(failed)


@pytest.fixture(scope="module")
def trees_exporter(module_lab: Lab) -> tuple[ExporterProc, dict[str, RedfishServer]]:
    servers = {
        v: RedfishServer(module_lab, name=f"bmc-tree-{v}", tree=FIX / v / "tree.json") for v in VENDORS
    }
    targets = {
        v: {"redfish": {"url": s.url, "auth": "lab", "insecure_http": True, "components": True}}
        for v, s in servers.items()
    }
    exp = ExporterProc(
        module_lab, "bmc", {"auths": {"lab": {"user": USER, "password": PASSWORD}}, "targets": targets}
    )
    return exp, servers


@pytest.mark.parametrize("vendor", VENDORS)
def test_vendor_tree_served(
    trees_exporter: tuple[ExporterProc, dict[str, RedfishServer]], vendor: str
) -> None:
    exp, _ = trees_exporter
    _, checks = load(vendor)
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": "10"}
    text = exp.probe(vendor, headers=headers)
    if any(c["metric"] == "colo_bmc_component_health" and "value" in c for c in checks):
        for _ in range(50):  # the component health is read in the background: wait for its first round
            if "colo_bmc_component_health{" in text:
                break
            time.sleep(0.1)
            text = exp.probe(vendor, headers=headers)
    m = parse_text(text)
    assert check_metrics(text) == []
    base = {"target": vendor, "source": "redfish"}
    assert m["colo_bmc_up"] and [v for lb, v in m["colo_bmc_up"] if lb == base] == [1.0]
    failed = check(m, checks, base)
    assert not failed, "\n".join(failed)
