#!/usr/bin/env bash
# Builds the Debian packages from this checkout, on Debian 12 (needs python3-venv; root is not needed):
#   colo-{frr,lxd,snmp,bmc}-exporter  the exporter in its own virtualenv /usr/lib/colo-exporters/<x>/
#       holding only its pip extra; /usr/bin/colo-<x>-exporter; the .service and .socket units;
#       /etc/colo-exporters/<x>.yml and /etc/default/colo-<x>-exporter (conffiles); a system user.
#   colo-exporters-bundle  alert and recording rules, dashboards, Prometheus and Alertmanager examples.
# A plain dpkg-deb build (docs/deploy.md says why). The checkout is only read: the wheel builds from a
# copy. Usage: packaging/build.sh [OUTDIR]   (default build/packages; one line per package printed)
set -euo pipefail
umask 022
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$here/build/packages}")
py=${PYTHON:-/usr/bin/python3}
pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$here/exporters/__init__.py")
debver="$version-${COLO_DEB_REVISION:-1}"
arch=$(dpkg --print-architecture)
maintainer=${COLO_DEB_MAINTAINER:-"colo-exporters developers <colo-exporters@example.org>"}
homepage=https://github.com/colo-exporters/colo-exporters
# gzip: any dpkg and repository tool reads it, in 2 s a package; xz saves a quarter of the size in 25x the
# time (COLO_DEB_COMPRESS="-Zxz" for a release).
compress=${COLO_DEB_COMPRESS:--Zgzip -z6}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_WARN_SCRIPT_LOCATION=1
work=$(mktemp -d "${TMPDIR:-/tmp}/colo-packages.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# Every wheel once: ours from a copy of the sources (setuptools writes build/ and *.egg-info next to
# them), and each dependency of [all], downloaded or built into a wheelhouse the venvs install from.
# pip's cache is kept in build/cache/pip (an ignored dir) unless PIP_CACHE_DIR or PIP_NO_CACHE_DIR say.
mkdir "$work/src"
cp -r "$here"/{pyproject.toml,README.md,LICENSE,exporters} "$work/src/"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
# What --version prints besides the version (the core reads exporters/_build_info.py when present).
cat >"$work/src/exporters/_build_info.py" <<EOF
"""Written by packaging/build.sh."""

BRANCH = "$(git -C "$here" rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)"
REVISION = "$(git -C "$here" rev-parse HEAD 2>/dev/null || echo unknown)"
BUILD_USER = "$(id -un)@$(hostname)"
BUILD_DATE = "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d-%H:%M:%S)"
EOF
[ -n "${PIP_CACHE_DIR:-}${PIP_NO_CACHE_DIR:-}" ] || export PIP_CACHE_DIR="$here/build/cache/pip"
# pip itself: the checkout's .venv (make install made it) or a throw-away venv
pip=("$here/.venv/bin/python" -m pip)
if ! "${pip[@]}" --version >/dev/null 2>&1; then
	"$py" -m venv "$work/tools"
	pip=("$work/tools/bin/python" -m pip)
fi
"${pip[@]}" wheel -q -w "$work/wheels" "$work/src[all]"

finish() { # root package: docs, md5sums, mtimes, size; then dpkg-deb
	local root=$1 name=$2
	install -D -m 0644 "$here/LICENSE" "$root/usr/share/doc/$name/LICENSE"
	gzip -9n <"$here/CHANGELOG.md" >"$root/usr/share/doc/$name/changelog.gz"
	chmod 0644 "$root/usr/share/doc/$name/changelog.gz"
	(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' |
		LC_ALL=C sort -z | xargs -0r md5sum >DEBIAN/md5sums)
	local kib
	kib=$(du -sk --apparent-size --exclude=DEBIAN "$root" | cut -f1)
	sed -i "s/^Installed-Size: .*/Installed-Size: $kib/" "$root/DEBIAN/control"
	find "$root" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	# shellcheck disable=SC2086
	dpkg-deb --root-owner-group $compress --build "$root" "$out" >/dev/null
	printf '%s_%s  %s KiB installed\n' "$name" "$debver" "$kib"
}

copyright() { # the Debian copyright file: ours, and each vendored Python distribution's licence
	local file=$1 venv_python=${2:-}
	{
		printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n'
		printf 'Upstream-Name: colo-exporters\nSource: %s\n\n' "$homepage"
		printf 'Files: *\nCopyright: colo-exporters developers\nLicense: Apache-2.0\n'
		printf ' The full text is in /usr/share/doc/%s/LICENSE.\n' "$(basename "$(dirname "$file")")"
		if [ -n "$venv_python" ]; then
			printf 'Comment: The virtualenv under /usr/lib/colo-exporters/ vendors these Python\n'
			printf ' distributions; each keeps its licence texts in its *.dist-info directory.\n'
			"$venv_python" -I "$here/packaging/licences.py"
		fi
	} >"$file"
}

exporter() { # x  extra-description  groups  relation-line
	local x=$1 what=$2 groups=$3 relation=$4
	local name=colo-$x-exporter venv=/usr/lib/colo-exporters/$x
	local root=$work/$name
	mkdir -p "$root/DEBIAN"
	"$py" -m venv --without-pip "$root$venv"
	"${pip[@]}" --python "$root$venv/bin/python" install -q --no-compile \
		--no-index --find-links "$work/wheels" "colo-exporters[$x]"
	# Only the interpreter links stay in bin/ (pip's scripts name the build directory); python3 names
	# the exact interpreter the venv was built for (the package depends on it).
	find "$root$venv/bin" -mindepth 1 ! -name 'python*' -delete
	rm -rf "$root$venv/include"
	ln -sfn "/usr/bin/python$pyver" "$root$venv/bin/python3"
	rm -f "$root$venv"/lib/python*/site-packages/*.dist-info/direct_url.json
	sed -i "s#$root##g" "$root$venv/pyvenv.cfg"
	# Bytecode now, with the installed paths, checked by source hash (not mtime): nothing is written at
	# run time, so purge leaves no __pycache__ behind.
	"$py" -m compileall -q -j0 --invalidation-mode checked-hash -s "$root" -p / "$root$venv/lib" >/dev/null
	if grep -rlI --exclude='*.pyc' -e "$work" "$root" | head -3 | grep .; then
		echo "build.sh: $name still names the build directory (above)" >&2
		exit 1
	fi
	install -d "$root/usr/bin"
	printf '#!%s/bin/python3 -IB\n# %s from the Debian package: the exporter in its own virtualenv.\nimport sys\n\nfrom exporters.launch import %s\n\nsys.exit(%s())\n' \
		"$venv" "$name" "$x" "$x" >"$root/usr/bin/$name"
	chmod 0755 "$root/usr/bin/$name"
	install -D -m 0640 "$here/packaging/etc/$x.yml" "$root/etc/colo-exporters/$x.yml"
	install -D -m 0644 "$here/packaging/default/$name" "$root/etc/default/$name"
	install -D -m 0644 -t "$root/lib/systemd/system" \
		"$here/examples/systemd/$name.service" "$here/examples/systemd/$name.socket"
	local doc=$root/usr/share/doc/$name
	install -D -m 0644 -t "$doc" "$here/docs/$x.md" "$here/docs/deploy.md" "$here/docs/migration.md"
	install -D -m 0644 -t "$doc/examples" "$here/examples/$x.yml" "$here/examples/web-config.yml"
	copyright "$doc/copyright" "$root$venv/bin/python3"
	printf '/etc/colo-exporters/%s.yml\n/etc/default/%s\n' "$x" "$name" >"$root/DEBIAN/conffiles"
	for s in postinst prerm postrm; do
		sed -e "s/@NAME@/$name/g" -e "s/@X@/$x/g" -e "s/@GROUPS@/$groups/g" \
			"$here/packaging/maint/$s" >"$root/DEBIAN/$s"
		chmod 0755 "$root/DEBIAN/$s"
	done
	cat >"$root/DEBIAN/control" <<-EOF
		Package: $name
		Version: $debver
		Architecture: $arch
		Maintainer: $maintainer
		Installed-Size: 0
		Depends: python$pyver, adduser
		$relation
		Section: net
		Priority: optional
		Homepage: $homepage
		Description: Prometheus exporter for $what
		 Part of colo-exporters, a kit of exporters, alerts and dashboards for a small LXD
		 colocation rack. Python, in its own virtualenv under $venv,
		 with a hardened systemd unit, an optional socket unit and its own system user.
	EOF
	sed -i '/^$/d' "$root/DEBIAN/control"
	finish "$root" "$name"
}

bundle() {
	local name=colo-exporters-bundle
	local root=$work/$name share=$work/$name/usr/share/colo-exporters
	mkdir -p "$root/DEBIAN" "$share"
	# alerts/ holds the rule files and the Alertmanager example (which is not a rule file).
	find "$here/alerts" -maxdepth 1 -name '*.yml' ! -name alertmanager.yml -exec install -D -m 0644 -t "$share/alerts" {} +
	if compgen -G "$here/rules/*.yml" >/dev/null; then
		install -D -m 0644 -t "$share/rules" "$here"/rules/*.yml
	fi
	install -D -m 0644 -t "$share/grafana/dashboards" "$here"/grafana/*.json
	install -d "$share/grafana/provisioning"
	sed "s#/var/lib/grafana/dashboards/colo#/usr/share/colo-exporters/grafana/dashboards#" \
		"$here/grafana/provisioning/colo-dashboards.yml" >"$share/grafana/provisioning/colo-dashboards.yml"
	install -D -m 0644 "$here/examples/prometheus.yml" "$share/examples/prometheus.yml"
	install -D -m 0644 "$here/alerts/alertmanager.yml" "$share/examples/alertmanager.yml"
	install -D -m 0644 -t "$root/usr/share/doc/$name" "$here/docs/deploy.md" "$here/docs/alerts.md"
	copyright "$root/usr/share/doc/$name/copyright"
	cat >"$root/DEBIAN/control" <<-EOF
		Package: $name
		Version: $debver
		Architecture: all
		Maintainer: $maintainer
		Installed-Size: 0
		Suggests: prometheus, prometheus-alertmanager
		Section: net
		Priority: optional
		Homepage: $homepage
		Description: Prometheus rules, Grafana dashboards and examples for colo-exporters
		 Alert and recording rules and Grafana dashboards for the colo LXD, SNMP, BMC and FRR
		 exporters, in /usr/share/colo-exporters/, with example Prometheus and Alertmanager
		 configurations that load them.
	EOF
	finish "$root" "$name"
}

exporter frr "FRR: BGP sessions, BFD peers, VRRP, routes" "frrvty" "Recommends: frr"
exporter lxd "LXD: instances, cluster members, storage pools" "lxd" "Suggests: lxd"
exporter snmp "switch ports over SNMP: IF-MIB, LAGs, LLDP" "" ""
exporter bmc "BMCs over IPMI and Redfish: fans, temperatures, power, PSUs" "" ""
bundle
