#!/usr/bin/env bash
# Installs what the tests and the demo need on a Debian 12 machine (run as root): the Debian packages
# in scripts/apt-packages.txt, and the project in a virtualenv at .venv. Quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t pkgs < <(sed -e 's/#.*//' -e '/^\s*$/d' scripts/apt-packages.txt)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || { echo "install.sh: missing packages (${missing[*]}); run as root" >&2; exit 1; }
	echo "install.sh: apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	# Debian starts these on install where an init system runs; the tests start their own. Only right
	# after installing: with no service running, `service snmpd stop` ends in start-stop-daemon --exec,
	# which SIGKILLs every snmpd on the machine (another checkout's lab switch, a running demo's).
	for svc in frr snmpd prometheus prometheus-snmp-exporter prometheus-ipmi-exporter; do
		command -v service >/dev/null && service "$svc" stop >/dev/null 2>&1 || true
	done
fi

PY=${PYTHON:-python3}
stamp=.venv/.colo-installed
if [ -L .venv ]; then
	: # a venv shared with another checkout (a git worktree): that checkout installs into it
elif [ ! -x .venv/bin/python ] || [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
	[ -x .venv/bin/python ] || "$PY" -m venv .venv
	.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
	touch "$stamp"
fi
for extra in scripts/install-*.sh; do
	[ -e "$extra" ] && bash "$extra"
done
exit 0
