#!/usr/bin/env bash
# The rack view's needs beyond apt-packages.txt: Debian's node_exporter service stopped (the lab starts its
# own inside namespaces); npm where Node has none of its own (Debian's nodejs); and Grafana's published
# types with the TypeScript compiler, pinned by tests/dashboards/schema/package-lock.json, installed into
# build/grafana-schema (npm's cache in /var/cache/colo-npm, so a reinstall needs no network).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v service >/dev/null && service prometheus-node-exporter stop >/dev/null 2>&1 || true
if ! command -v npm >/dev/null; then
	[ "$(id -u)" = 0 ] || { echo "install-rack.sh: npm missing; run as root" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
src=tests/dashboards/schema
dest=build/grafana-schema
if [ ! -f "$dest/.installed" ] || [ "$src/package-lock.json" -nt "$dest/.installed" ] \
	|| [ ! -x "$dest/node_modules/typescript/bin/tsc" ]; then
	mkdir -p "$dest"
	cp "$src/package.json" "$src/package-lock.json" "$dest/"
	(cd "$dest" && npm ci --cache /var/cache/colo-npm --prefer-offline --no-audit --no-fund --loglevel=error)
	touch "$dest/.installed"
fi
