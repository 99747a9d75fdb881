#!/usr/bin/env bash
# snmpsim for the SNMP lab: its own venv on Debian's /usr/bin/python3 (python3-gdbm gives it `dbm` after it
# drops privileges to nobody), with pysmi and cryptography that snmpsim 1.2.2 needs but does not declare.
# Idempotent: a stamp file makes a second run instant.
set -euo pipefail
# Debian starts lldpd on install where an init system runs; the tests start their own, in namespaces.
command -v service >/dev/null && service lldpd stop >/dev/null 2>&1 || true
VENV=${COLO_SNMPSIM_VENV:-/opt/colo-snmpsim}
WANT="snmpsim==1.2.2 pysmi==2.0.0 cryptography"
stamp="$VENV/.colo-installed"
if [ -x "$VENV/bin/snmpsim-command-responder" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$WANT" ]; then
	exit 0
fi
[ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install -q --disable-pip-version-check $WANT
chmod -R a+rX "$VENV"
echo "$WANT" > "$stamp"
