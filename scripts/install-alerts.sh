#!/usr/bin/env bash
# Alerts: Debian starts prometheus-alertmanager on install (on :9093, the demo's port); the tests and the
# demo run their own. Stopped only when the service itself runs (its pidfile says so): never a lab's.
set -euo pipefail
if command -v service >/dev/null && service prometheus-alertmanager status >/dev/null 2>&1; then
	service prometheus-alertmanager stop >/dev/null 2>&1 || true
fi
exit 0
