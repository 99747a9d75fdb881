#!/usr/bin/env bash
# Alerts: Debian starts prometheus-alertmanager on install (on :9093, the demo's port); the tests and the
# demo run their own.
set -euo pipefail
if command -v service >/dev/null; then
	service prometheus-alertmanager stop >/dev/null 2>&1 || true
fi
exit 0
