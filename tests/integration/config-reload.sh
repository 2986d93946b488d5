#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The config file at start, Reload() and SIGHUP: the default action and the
# interfaces it names take effect without a gap; a bad file is refused with
# InvalidConfig and changes nothing (nor stops a reload by signal); and
# DetachOnStop=yes detaches the filter when the daemon stops, while the default
# leaves it in place.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

sandbox_init
sandbox_start_bus
sandbox_start_polkitd
sandbox_start_netns
sandbox_mount_bpffs

conf="$SANDBOX_DIR/packetfilterd.conf"
xdp_attached() {
        in_fw ip -d link show "$SANDBOX_FW_IF" | grep -q "prog/xdp"
}
ping_passes() {
        in_peer ping -c 1 -W 1 "$SANDBOX_FW_IPV4" >/dev/null 2>&1
}
expect_eq() {
        [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
        ok "$1 = $3"
}

step "start with a config that attaches the interface in generic mode"
printf '[Filter]\nInterfaces=%s:generic\n' "$SANDBOX_FW_IF" >"$conf"
sandbox_start_daemon
expect_eq Interfaces "a(ss) 1 \"$SANDBOX_FW_IF\" \"generic\"" "$(pf_get_property Interfaces)"
expect_eq DefaultAction 's "pass"' "$(pf_get_property DefaultAction)"
ping_passes || fail "pings should pass with default pass"

step "Reload() applies DefaultAction=drop: pings stop, neighbour discovery still works"
printf '[Filter]\nInterfaces=%s:generic\nDefaultAction=drop\n' "$SANDBOX_FW_IF" >"$conf"
before=$(pf_get_property Generation | sed -n 's/^t //p')
pf_call Reload
expect_eq DefaultAction 's "drop"' "$(pf_get_property DefaultAction)"
after=$(pf_get_property Generation | sed -n 's/^t //p')
[ "$after" -gt "$before" ] || fail "Generation did not rise on Reload ($before -> $after)"
ping_passes && fail "pings pass with default drop"
ok "pings dropped by the default action"

step "a bad file: Reload() fails with InvalidConfig and changes nothing"
printf '[Filter]\nDefaultAction=maybe\n' >"$conf"
if out=$(pf_call Reload 2>&1); then
        fail "Reload of a bad file succeeded"
fi
echo "$out"
[[ $out == *"invalid"* ]] || fail "Reload error does not say the configuration is invalid: $out"
named=$("${PF_CALL:-$PF_BUILD_DIR/tests/gdbus/pf-call}" Reload 2>&1 || true)
[[ $named == org.example.PacketFilter1.Error.InvalidConfig:* ]] ||
        fail "the error is not org.example.PacketFilter1.Error.InvalidConfig: $named"
ok "InvalidConfig"
expect_eq DefaultAction 's "drop"' "$(pf_get_property DefaultAction)"
grep -q "DefaultAction must be pass or drop" "$SANDBOX_DIR/daemon.log" || fail "the log does not name the bad line"
ok "the log names the bad line"

step "SIGHUP re-reads the file: back to pass"
printf '[Filter]\nInterfaces=%s:generic\nDefaultAction=pass\n' "$SANDBOX_FW_IF" >"$conf"
kill -HUP "$(sandbox_name_owner_pid "$PF_BUS_NAME")"
sandbox_wait 5 "DefaultAction to become pass" sh -c "busctl --system get-property $PF_BUS_NAME $PF_OBJECT_PATH $PF_INTERFACE DefaultAction | grep -q pass"
ping_passes || fail "pings should pass again after SIGHUP"
ok "SIGHUP applied the file"

step "default stop leaves the filter attached"
xdp_attached || fail "XDP is not attached before the stop"
sandbox_stop_daemon
xdp_attached || fail "a plain stop detached the filter"
ok "still attached after the daemon stopped"

step "DetachOnStop=yes detaches it when the daemon stops"
printf '[Filter]\nInterfaces=%s:generic\nDetachOnStop=yes\n' "$SANDBOX_FW_IF" >"$conf"
sandbox_start_daemon
xdp_attached || fail "not attached after start"
sandbox_stop_daemon
xdp_attached && fail "DetachOnStop=yes left the filter attached"
ok "detached on stop"
