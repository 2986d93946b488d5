#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `meson install` into a DESTDIR puts exactly the expected files where a
# distribution expects them, with the right modes; the installed files agree
# with each other (unit <-> daemon path, activation file <-> unit, bus name);
# `systemd-analyze verify` accepts the installed unit.
#
# meson passes the build folder and every install folder as configured
# (tests/install/meson.build), so the list follows -Dprefix= and friends.
# Needs no root and touches nothing outside its own temporary folder.
set -o errexit -o nounset -o pipefail

: "${PF_BUILD_DIR:?}" "${PF_BINDIR:?}" "${PF_LIBEXECDIR:?}" "${PF_DATADIR:?}" "${PF_MANDIR:?}"
: "${PF_UNITDIR:?}" "${PF_COMPLETIONSDIR:?}" "${PF_DISPATCHERDIR:?}" "${PF_DOCDIR:?}" "${PF_MAN:?}"

fail() {
        echo "FAIL: $*" >&2
        exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root

echo "=== meson install --destdir"
meson install -C "$PF_BUILD_DIR" --destdir "$root" --no-rebuild --quiet

# path mode, one a line; paths as installed (without the DESTDIR).
expected=(
        "$PF_LIBEXECDIR/packetfilterd 755"
        "$PF_BINDIR/packetfilterctl 755"
        "$PF_DISPATCHERDIR/90-packetfilter 755"
        "$PF_UNITDIR/packetfilterd.service 644"
        "$PF_DATADIR/dbus-1/system.d/org.example.PacketFilter.conf 644"
        "$PF_DATADIR/dbus-1/system-services/org.example.PacketFilter.service 644"
        "$PF_DATADIR/dbus-1/interfaces/org.example.PacketFilter1.xml 644"
        "$PF_DATADIR/polkit-1/actions/org.example.packetfilter.policy 644"
        "$PF_DOCDIR/examples/50-packetfilter-example.rules 644"
        "$PF_COMPLETIONSDIR/packetfilterctl 644"
)
if [ "$PF_MAN" = yes ]; then
        expected+=(
                "$PF_MANDIR/man8/packetfilterd.8 644"
                "$PF_MANDIR/man8/packetfilterctl.8 644"
                "$PF_MANDIR/man5/packetfilterd.conf.5 644"
                "$PF_MANDIR/man5/org.example.PacketFilter1.5 644"
        )
fi

echo "=== the file list, exactly"
printf '%s\n' "${expected[@]}" | sort >"$work/expected"
(cd "$root" && find . ! -type d -printf '/%P %m\n') | sort >"$work/installed"
if ! diff -u "$work/expected" "$work/installed"; then
        fail "installed files differ from the expected list (- expected, + installed)"
fi
sed 's/^/ok: /' "$work/installed"

echo "=== the files agree with each other"
unit=$root$PF_UNITDIR/packetfilterd.service
activation=$root$PF_DATADIR/dbus-1/system-services/org.example.PacketFilter.service
grep -qx "ExecStart=$PF_LIBEXECDIR/packetfilterd" "$unit" ||
        fail "the unit's ExecStart is not $PF_LIBEXECDIR/packetfilterd: $(grep ExecStart= "$unit")"
grep -qx 'BusName=org.example.PacketFilter' "$unit" || fail "the unit has no BusName=org.example.PacketFilter"
grep -qx 'Name=org.example.PacketFilter' "$activation" || fail "the activation file names another bus name"
grep -qx 'SystemdService=packetfilterd.service' "$activation" ||
        fail "the activation file has no SystemdService=packetfilterd.service"
grep -q 'own="org.example.PacketFilter"' "$root$PF_DATADIR/dbus-1/system.d/org.example.PacketFilter.conf" ||
        fail "the bus policy does not let anyone own org.example.PacketFilter"
grep -q '<interface name="org.example.PacketFilter1">' "$root$PF_DATADIR/dbus-1/interfaces/org.example.PacketFilter1.xml" ||
        fail "the interface XML does not describe org.example.PacketFilter1"
grep -q 'complete -F _packetfilterctl packetfilterctl' "$root$PF_COMPLETIONSDIR/packetfilterctl" ||
        fail "the completion file does not register packetfilterctl"
bash -n "$root$PF_COMPLETIONSDIR/packetfilterctl" || fail "the completion file is not valid bash"
"$root$PF_BINDIR/packetfilterctl" --version >/dev/null || fail "the installed packetfilterctl does not run"
"$root$PF_LIBEXECDIR/packetfilterd" --version >/dev/null || fail "the installed packetfilterd does not run"
echo "ok: ExecStart, BusName, SystemdService, bus policy, interface, completion, binaries run"

echo "=== systemd-analyze verify, on the installed tree"
if ! command -v systemd-analyze >/dev/null; then
        fail "systemd-analyze not found (Debian package systemd)"
fi
# --root makes verify look for the unit, its ExecStart and every unit it
# names inside the root. The DESTDIR alone lacks dbus.socket, local-fs.target
# and the like: a copy of it gets the host's units next to ours.
verify_root=$work/verify-root
cp -a "$root" "$verify_root"
mkdir -p "$verify_root$PF_UNITDIR"
for dir in /lib/systemd/system /usr/lib/systemd/system; do
        [ -d "$dir" ] && cp -an "$dir/." "$verify_root$PF_UNITDIR/"
done
# ExecReload= runs kill(1), which the host has: give the tree the same, as the system it lands on has.
mkdir -p "$verify_root/usr/bin" "$verify_root/bin"
cp -a "$(type -P kill)" "$verify_root/usr/bin/kill"
cp -a "$(type -P kill)" "$verify_root/bin/kill"
[ -e "$verify_root$PF_UNITDIR/dbus.socket" ] || fail "the host has no dbus.socket to verify against (Debian package dbus)"
status=0
systemd-analyze verify --man=no --root="$verify_root" packetfilterd.service >"$work/verify.txt" 2>&1 || status=$?
if [ "$status" != 0 ] || [ -s "$work/verify.txt" ]; then
        cat "$work/verify.txt" >&2
        fail "systemd-analyze verify --root: status $status, or the warnings above"
fi
echo "ok: systemd-analyze verify --root=DESTDIR+host units packetfilterd.service is silent"
