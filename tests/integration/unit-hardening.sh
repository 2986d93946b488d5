#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The unit meson generates (packaging/packetfilterd.service) stays hardened:
#   - `systemd-analyze security --offline=true` scores it at most 2.0;
#   - `systemd-analyze verify` accepts it with no warning (unknown keys,
#     bad values), with ExecStart pointed at the built daemon;
#   - the capability set is exactly the one proven needed (docs/security.md).
# Needs no root, bus or namespace: only systemd-analyze (Debian package systemd).
set -o errexit -o nounset -o pipefail

PF_SOURCE_DIR=${PF_SOURCE_DIR:-$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)}
PF_BUILD_DIR=${PF_BUILD_DIR:-$PF_SOURCE_DIR/build}
PF_DAEMON=${PF_DAEMON:-$PF_BUILD_DIR/daemon/packetfilterd}
UNIT=${PF_UNIT:-$PF_BUILD_DIR/packaging/packetfilterd.service}
readonly MAX_EXPOSURE=2.0
readonly CAPABILITIES="CAP_BPF CAP_NET_ADMIN CAP_PERFMON"

fail() {
        printf 'FAIL: %s\n' "$*" >&2
        exit 1
}

missing() {
        if [ "${PF_ALLOW_SKIP:-0}" = 1 ]; then
                printf 'SKIP: missing prerequisite: %s\n' "$*" >&2
                exit 77
        fi
        fail "missing prerequisite: $* (set PF_ALLOW_SKIP=1 to skip instead)"
}

command -v systemd-analyze >/dev/null || missing "systemd-analyze (Debian package systemd)"
[ -f "$UNIT" ] || fail "the unit was not generated: $UNIT"
[ -x "$PF_DAEMON" ] || fail "packetfilterd not built: $PF_DAEMON"
systemd-analyze security --help 2>/dev/null | grep -q -- '--offline' ||
        missing "systemd-analyze security --offline (systemd >= 250)"

work=$(mktemp -d "${TMPDIR:-/tmp}/packetfilter-unit.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Same file name: systemd-analyze judges a unit by its name and type.
cp "$UNIT" "$work/packetfilterd.service"

echo "=== systemd-analyze security --offline=true $UNIT"
systemd-analyze security --offline=true --no-pager "$work/packetfilterd.service" >"$work/security.txt" 2>&1 ||
        { cat "$work/security.txt" >&2; fail "systemd-analyze security failed"; }
grep -E '✗|Overall' "$work/security.txt" || true
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$work/security.txt")
[ -n "$score" ] || { cat "$work/security.txt" >&2; fail "no overall exposure level in the output"; }
awk -v s="$score" -v max="$MAX_EXPOSURE" 'BEGIN { exit !(s <= max) }' ||
        fail "exposure $score is above $MAX_EXPOSURE: a hardening option was lost (see docs/security.md)"
echo "ok: exposure $score <= $MAX_EXPOSURE"

echo "=== capabilities"
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
[ "$caps" = "$CAPABILITIES" ] ||
        fail "CapabilityBoundingSet is '$caps', expected '$CAPABILITIES' (change docs/security.md with it)"
ambient=$(sed -n 's/^AmbientCapabilities=//p' "$UNIT")
[ -z "$ambient" ] || fail "AmbientCapabilities is '$ambient', expected none"
echo "ok: CapabilityBoundingSet=$caps"

echo "=== systemd-analyze verify"
# ExecStart names the installed path; point it at the build so verify finds it.
sed -i "s|^ExecStart=.*|ExecStart=$PF_DAEMON|" "$work/packetfilterd.service"
status=0
systemd-analyze verify --man=no "$work/packetfilterd.service" >"$work/verify.txt" 2>&1 || status=$?
if [ "$status" != 0 ] || [ -s "$work/verify.txt" ]; then
        cat "$work/verify.txt" >&2
        fail "systemd-analyze verify: status $status, or warnings above"
fi
echo "ok: systemd-analyze verify is silent"
