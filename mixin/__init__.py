"""Dashboards, recording rules and alert rules as code, in the monitoring-mixin layout.

`mixin/config.py` holds the one set of selectors and thresholds they all share. Each part exposes
`outputs() -> dict[str, str]` (repository-relative path -> file text); `python -m mixin.build` writes
them, and `python -m mixin.build --check` (run by the tests) fails when a committed file is stale.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def alert_rule_files() -> list[Path]:
    """The shipped alert rule files (`alerts/*.yml` but Alertmanager's own config)."""
    return sorted(p for p in (ROOT / "alerts").glob("*.yml") if p.name != "alertmanager.yml")


def rule_files() -> list[Path]:
    """Every rule file Prometheus loads: the recording rules (`rules/*.yml`) and the alert rules."""
    return sorted((ROOT / "rules").glob("*.yml")) + alert_rule_files()
