"""Dashboards, recording rules and alert rules as code, in the monitoring-mixin layout.

`mixin/config.py` holds the one set of selectors and thresholds they all share. Each part exposes
`outputs() -> dict[str, str]` (repository-relative path -> file text); `python -m mixin.build` writes
them, and `python -m mixin.build --check` (run by the tests) fails when a committed file is stale.
"""
