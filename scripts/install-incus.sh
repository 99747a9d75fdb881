#!/usr/bin/env bash
# Incus 6.0 LTS for the LXD lab (the same exporter runs against it): Debian 12 has it only in
# bookworm-backports. We install `incus-base`, the container-only daemon of the `incus` source package
# (`incus` itself only adds VM support and needs QEMU 8 from backports, which this lab has no use for).
# The suite is added with a pin that keeps every other package on bookworm: only incus-base, incus-client
# and the two libraries that exist only in backports (libcowsql0, libraft0) come from there.
# Incus is started by the tests by hand (lab/lxd.py), never as a service.
# Idempotent: quick when incus is installed. Run as root (install.sh runs it).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "install-incus.sh: run as root" >&2; exit 1; }
. /etc/os-release
if [ "${VERSION_CODENAME:-}" != bookworm ]; then
	echo "install-incus.sh: not Debian 12 (bookworm); install Incus 6.0 another way" >&2
	exit 0
fi
if dpkg-query -W -f='${Status} ${Version}' incus-base 2>/dev/null | grep -q 'install ok installed 6\.0\.'; then
	exit 0
fi

src=/etc/apt/sources.list.d/colo-bookworm-backports.sources
pin=/etc/apt/preferences.d/colo-incus-backports
cat >"$src" <<'EOF'
# colo-exporters: bookworm-backports, only for incus (see /etc/apt/preferences.d/colo-incus-backports)
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cat >"$pin" <<'EOF'
# colo-exporters: nothing comes from bookworm-backports unless asked for by name below (or needed by it).
Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100

Package: incus-base incus-client
Pin: release n=bookworm-backports
Pin-Priority: 500
EOF
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends incus-base >/dev/null
# The package starts and enables incus.socket/incus.service where systemd runs; the lab starts its own.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
	systemctl disable --now incus.service incus.socket incus-user.socket incus-user.service >/dev/null 2>&1 || true
fi
command -v service >/dev/null && service incus stop >/dev/null 2>&1 || true
dpkg-query -W -f='install-incus.sh: incus-base ${Version}\n' incus-base
