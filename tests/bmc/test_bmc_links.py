"""The one function that turns a BMC link into a request path: hostile forms refused, real ones kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exporters.bmc.links import BadLink, location_path, request_path
from lab.bmc_hostile import HostileRedfish, Tripwire

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "bmc"


@pytest.fixture(scope="module")
def hostile_links() -> list[str]:
    with Tripwire() as trip, HostileRedfish(trip) as bmc:
        links = bmc.hostile("/redfish/v1/Chassis/1") + bmc.hostile("/redfish/v1/SessionService/Sessions")
    return links


def test_hostile_links_are_refused(hostile_links: list[str]) -> None:
    assert len(hostile_links) >= 26
    for link in hostile_links:
        with pytest.raises(BadLink):
            request_path(link)


@pytest.mark.parametrize(
    "link",
    [
        "0/redfish/v1",  # base + link would be another port
        "9/redfish/v1",
        "redfish/v1/Systems",  # relative
        "http://127.0.0.1:1/redfish/v1",
        "/redfish/v1/../../cgi-bin/login",  # another endpoint of the BMC
        "/redfish/v1/%2e%2e/%2e%2e/etc",
        "/redfish/v1/Chassis%2f..%2f..",
        "/redfish/v1/Chassis/1\x7f",
        "/redfish/v1/Chassis/1 HTTP/1.1\r\nX: y",
        "/other",
        "",
        None,
        42,
        "/redfish/v1/" + "a" * 3000,
    ],
)
def test_odd_links_are_refused(link: object) -> None:
    with pytest.raises(BadLink):
        request_path(link)


def test_every_link_of_the_vendor_trees_is_kept() -> None:
    seen = 0
    for tree in FIX.glob("*/tree.json"):
        for path, doc in json.loads(tree.read_text()).items():
            for link in [path, *_links(doc)]:
                got = request_path(link)
                assert got == request_path(got)  # idempotent
                assert got.startswith("/redfish")
                seen += 1
    assert seen > 300


def test_normal_forms() -> None:
    assert request_path("/redfish/v1/") == "/redfish/v1"
    assert request_path("/redfish/v1/Chassis/1U/Thermal#/Fans/0") == "/redfish/v1/Chassis/1U/Thermal"
    assert request_path("/redfish/v1/Chassis?$skip=4") == "/redfish/v1/Chassis?$skip=4"
    assert request_path("/redfish/v1//Chassis/./1/") == "/redfish/v1/Chassis/1"
    assert request_path("/redfish/v1/Memory/Ä") == "/redfish/v1/Memory/%C3%84"
    assert (
        request_path("/redfish/v1/Thermal/iDRAC.Embedded.1%23Fan")
        == "/redfish/v1/Thermal/iDRAC.Embedded.1%23Fan"
    )


@pytest.mark.parametrize(
    "location,ok",
    [
        ("/redfish/v1/SessionService/Sessions/7", True),
        ("https://10.0.0.5/redfish/v1/SessionService/Sessions/7", True),
        ("https://10.0.0.5:443/redfish/v1/SessionService/Sessions/7", True),
        ("https://10.0.0.50/redfish/v1/SessionService/Sessions/7", False),
        ("https://10.0.0.5:8443/redfish/v1/SessionService/Sessions/7", False),
        ("http://10.0.0.5/redfish/v1/SessionService/Sessions/7", False),
        ("https://user@10.0.0.5/redfish/v1/SessionService/Sessions/7", False),
        ("https://10.0.0.5:x/redfish/v1/SessionService/Sessions/7", False),
        ("//10.0.0.5/redfish/v1/SessionService/Sessions/7", False),
        (None, False),
    ],
)
def test_session_location(location: object, ok: bool) -> None:
    if ok:
        assert location_path(location, "https://10.0.0.5") == "/redfish/v1/SessionService/Sessions/7"
    else:
        with pytest.raises(BadLink):
            location_path(location, "https://10.0.0.5")


def _links(doc: object) -> list[str]:
    out: list[str] = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k in ("@odata.id", "DataSourceUri") and isinstance(v, str):
                out.append(v)
            else:
                out += _links(v)
    elif isinstance(doc, list):
        for v in doc:
            out += _links(v)
    return out
