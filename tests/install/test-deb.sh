#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package (packaging/debian/): `dpkg-buildpackage -us -uc -b` in a
# copy of the source tree builds it; `dpkg-deb -c` lists exactly the expected
# files with the right modes; lintian finds no error; the maintainer scripts
# enable the unit with deb-systemd-helper and start it only when systemd runs.
# The package is unpacked (dpkg-deb -x), never installed: that would touch
# the host. Needs dpkg-dev, debhelper, lintian and the build dependencies; a
# missing one fails the test, or skips it with PF_ALLOW_SKIP=1.
set -o errexit -o nounset -o pipefail

SOURCE_DIR=${PF_SOURCE_DIR:-$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)}

fail() {
        echo "FAIL: $*" >&2
        exit 1
}

missing() {
        echo "FAIL: missing prerequisite: $* (set PF_ALLOW_SKIP=1 to skip instead)" >&2
        [ "${PF_ALLOW_SKIP:-0}" = 1 ] && exit 77
        exit 1
}

command -v dpkg-buildpackage >/dev/null || missing "dpkg-buildpackage (Debian package dpkg-dev)"
command -v dh >/dev/null || missing "dh (Debian package debhelper)"
command -v lintian >/dev/null || missing "lintian (Debian package lintian)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "=== a copy of the source tree, with packaging/debian as debian/"
# Everything but .git and build folders (any folder meson set up), so the
# package builds from what is on disk now, committed or not.
mkdir "$work/packetfilter"
for entry in "$SOURCE_DIR"/* "$SOURCE_DIR"/.[!.]*; do
        [ -e "$entry" ] || continue
        name=${entry##*/}
        case $name in
        .git | debian | obj-*) continue ;;
        esac
        [ -d "$entry/meson-private" ] && continue
        cp -a "$entry" "$work/packetfilter/"
done
cp -a "$SOURCE_DIR/packaging/debian" "$work/packetfilter/debian"

echo "=== dpkg-buildpackage -us -uc -b"
(cd "$work/packetfilter" && dpkg-checkbuilddeps) || missing "the build dependencies above (packaging/debian/control)"
start=$SECONDS
if ! (cd "$work/packetfilter" &&
      DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
        tail -n 60 "$work/build.log" >&2
        fail "dpkg-buildpackage failed (the end of its log is above)"
fi
deb=$(echo "$work"/packetfilter_*_*.deb)
[ -f "$deb" ] || fail "no packetfilter_*.deb was built: $(ls "$work")"
echo "ok: ${deb##*/} in $((SECONDS - start)) s"

echo "=== dpkg-deb -c: exactly the expected files"
cat >"$work/expected" <<'EOF'
-rw-r--r-- ./lib/systemd/system/packetfilterd.service
-rwxr-xr-x ./usr/bin/packetfilterctl
-rwxr-xr-x ./usr/lib/NetworkManager/dispatcher.d/90-packetfilter
-rwxr-xr-x ./usr/libexec/packetfilterd
-rw-r--r-- ./usr/share/bash-completion/completions/packetfilterctl
-rw-r--r-- ./usr/share/dbus-1/interfaces/org.example.PacketFilter1.xml
-rw-r--r-- ./usr/share/dbus-1/system-services/org.example.PacketFilter.service
-rw-r--r-- ./usr/share/dbus-1/system.d/org.example.PacketFilter.conf
-rw-r--r-- ./usr/share/doc/packetfilter/changelog.gz
-rw-r--r-- ./usr/share/doc/packetfilter/copyright
-rw-r--r-- ./usr/share/doc/packetfilter/examples/50-packetfilter-example.rules
-rw-r--r-- ./usr/share/lintian/overrides/packetfilter
-rw-r--r-- ./usr/share/man/man5/org.example.PacketFilter1.5.gz
-rw-r--r-- ./usr/share/man/man5/packetfilterd.conf.5.gz
-rw-r--r-- ./usr/share/man/man8/packetfilterctl.8.gz
-rw-r--r-- ./usr/share/man/man8/packetfilterd.8.gz
-rw-r--r-- ./usr/share/polkit-1/actions/org.example.packetfilter.policy
EOF
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $1, $6 }' | sort -k2 >"$work/listed"
if ! diff -u "$work/expected" "$work/listed"; then
        fail "the package's files differ from the expected list (- expected, + in the package)"
fi
dpkg-deb -c "$deb" | awk '{ print $2 }' | grep -qvx 'root/root' && fail "files not owned by root/root in the package"
echo "ok: $(wc -l <"$work/expected") files, owned by root, modes as expected"

echo "=== dpkg-deb -f: dependencies"
depends=$(dpkg-deb -f "$deb" Depends)
for dependency in dbus 'polkitd | policykit-1' libbpf1 libsystemd0 libjson-c5; do
        [[ ", $depends," == *", $dependency"[\ ,]* ]] || fail "Depends lacks $dependency: $depends"
done
echo "ok: Depends: $depends"

echo "=== maintainer scripts"
dpkg-deb -e "$deb" "$work/control"
postinst=$work/control/postinst
grep -q "deb-systemd-helper enable 'packetfilterd.service'" "$postinst" ||
        fail "postinst does not enable packetfilterd.service with deb-systemd-helper"
# The start (restart on upgrade) only where systemd runs: not in a chroot.
awk '/if \[ -d \/run\/systemd\/system \]/ { guarded = 1 } /deb-systemd-invoke/ && !guarded { exit 1 }' "$postinst" ||
        fail "postinst calls deb-systemd-invoke without checking /run/systemd/system"
grep -q "deb-systemd-invoke \$_dh_action 'packetfilterd.service'" "$postinst" ||
        fail "postinst does not start packetfilterd.service through deb-systemd-invoke"
grep -q "deb-systemd-invoke stop 'packetfilterd.service'" "$work/control/prerm" ||
        fail "prerm does not stop packetfilterd.service"
grep -q "deb-systemd-helper purge 'packetfilterd.service'" "$work/control/postrm" ||
        fail "postrm does not purge the unit's state with deb-systemd-helper"
grep -q 'rm -rf /sys/fs/bpf/packetfilter' "$work/control/postrm" || fail "postrm does not unpin the filter on removal"
for script in postinst prerm postrm; do
        sh -n "$work/control/$script" || fail "$script is not valid sh"
done
echo "ok: enable with deb-systemd-helper, start guarded by /run/systemd/system, stop, purge, unpin"

echo "=== dpkg-deb -x: the unpacked tree"
dpkg-deb -x "$deb" "$work/root"
grep -qx 'ExecStart=/usr/libexec/packetfilterd' "$work/root/lib/systemd/system/packetfilterd.service" ||
        fail "the packaged unit's ExecStart is not /usr/libexec/packetfilterd"
"$work/root/usr/bin/packetfilterctl" --version >/dev/null || fail "the packaged packetfilterctl does not run"
"$work/root/usr/libexec/packetfilterd" --version >/dev/null || fail "the packaged packetfilterd does not run"
echo "ok: ExecStart=/usr/libexec/packetfilterd, both binaries run"

echo "=== lintian"
changes=$(echo "$work"/packetfilter_*_*.changes)
status=0
lintian --fail-on error --display-info "$changes" >"$work/lintian.txt" 2>&1 || status=$?
grep -v '^running with root privileges' "$work/lintian.txt" || true
if [ "$status" != 0 ] || grep -q '^E: ' "$work/lintian.txt"; then
        fail "lintian found errors (status $status)"
fi
echo "ok: lintian: no error"
