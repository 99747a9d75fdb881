"""Everything the exporter prints goes through its logger, in logfmt or json (issue 17)."""

from __future__ import annotations

import json

from core_testlib import Toy, toy_config


def test_python_warnings_go_through_the_logger_once(lab, peer) -> None:
    for fmt in ("logfmt", "json"):
        toy = Toy(
            lab, {**toy_config(sw1=peer), "warn": True}, args=[f"--log.format={fmt}"], name=f"toy-{fmt}"
        )
        for _ in range(3):
            assert toy.request("/probe?target=sw1")[0] == 200
        lines = [ln for ln in toy.log().splitlines() if ln.strip()]
        if fmt == "logfmt":
            stray = [ln for ln in lines if not ln.startswith("ts=")]
        else:
            stray = []
            for ln in lines:
                try:
                    json.loads(ln)
                except ValueError:
                    stray.append(ln)
        assert stray == [], stray
        hits = [ln for ln in lines if "LibraryWarning" in ln]
        assert len(hits) == 1 and ("level=warn" in hits[0] or '"level": "warn"' in hits[0]), hits
