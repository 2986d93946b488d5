#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# polkit decides: an unprivileged user is refused every change (AccessDenied or
# InteractiveAuthorizationRequired) and nothing changes; a user in a group that
# a polkit rule grants is allowed; root is allowed; reads are open to everyone;
# only root may own the bus name.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

REFUSED='^org\.freedesktop\.DBus\.Error\.(AccessDenied|InteractiveAuthorizationRequired)$'

# check_refused WHAT ERROR_NAME
check_refused() {
        [[ $2 =~ $REFUSED ]] || fail "$1: expected AccessDenied or InteractiveAuthorizationRequired, got '$2'"
        ok "$1 refused: $2"
}

sandbox_start_all
sandbox_ensure_test_users
ctl=$SANDBOX_DIR/bin/packetfilterctl

step "root (uid 0) may change the filter"
pf_ctl attach "$SANDBOX_FW_IF"
pf_call Block su "$SANDBOX_PEER_IPV4" 0 >/dev/null
rules_before=$(pf_call_json ListRules | pf_json rule-sources)
interfaces_before=$(pf_get_property Interfaces)

step "$SANDBOX_TEST_USER is refused every change"
check_refused "Block as $SANDBOX_TEST_USER" \
        "$(pf_call_error_name --as "$SANDBOX_TEST_USER" Block string:192.0.2.50 uint32:0)"
check_refused "Unblock as $SANDBOX_TEST_USER" \
        "$(pf_call_error_name --as "$SANDBOX_TEST_USER" Unblock string:"$SANDBOX_PEER_IPV4")"
check_refused "AttachInterface as $SANDBOX_TEST_USER" \
        "$(pf_call_error_name --as "$SANDBOX_TEST_USER" AttachInterface string:lo string:generic)"
check_refused "DetachInterface as $SANDBOX_TEST_USER" \
        "$(pf_call_error_name --as "$SANDBOX_TEST_USER" DetachInterface string:"$SANDBOX_FW_IF")"
# busctl asks for interactive authorization by default; there is no agent.
sandbox_run_as "$SANDBOX_TEST_USER" busctl --system call "$PF_BUS_NAME" "$PF_OBJECT_PATH" \
        "$PF_INTERFACE" Block su 192.0.2.51 0 2>/dev/null &&
        fail "busctl Block as $SANDBOX_TEST_USER succeeded"
ok "busctl Block as $SANDBOX_TEST_USER refused"
status=0
output=$(sandbox_run_as "$SANDBOX_TEST_USER" "$ctl" block 192.0.2.52 2>&1 </dev/null) || status=$?
check_eq "exit status of packetfilterctl block as $SANDBOX_TEST_USER" 1 "$status"
ok "packetfilterctl says: $output"

step "the bus policy lets only root own $PF_BUS_NAME"
status=0
output=$(sandbox_run_as "$SANDBOX_TEST_USER" dbus-send --system --print-reply --dest=org.freedesktop.DBus \
        /org/freedesktop/DBus org.freedesktop.DBus.RequestName string:"$PF_BUS_NAME" uint32:0 2>&1) || status=$?
[ "$status" != 0 ] && [[ $output == *AccessDenied* ]] ||
        fail "RequestName($PF_BUS_NAME) as $SANDBOX_TEST_USER was not denied: $output"
ok "RequestName as $SANDBOX_TEST_USER denied"
check_eq "owner of $PF_BUS_NAME" "$SANDBOX_DAEMON_PID" "$(sandbox_name_owner_pid "$PF_BUS_NAME")"

step "nothing changed"
check_eq "rules" "$rules_before" "$(pf_call_json ListRules | pf_json rule-sources)"
check_eq "RuleCount" 1 "$(pf_rule_count)"
check_eq "Interfaces" "$interfaces_before" "$(pf_get_property Interfaces)"
check_ping_blocked "$SANDBOX_FW_IPV4"

step "reads are open to $SANDBOX_TEST_USER"
sandbox_run_as "$SANDBOX_TEST_USER" busctl --system --json=short call "$PF_BUS_NAME" "$PF_OBJECT_PATH" \
        "$PF_INTERFACE" ListRules | pf_json rule-field "$SANDBOX_PEER_IPV4" id >/dev/null
sandbox_run_as "$SANDBOX_TEST_USER" busctl --system --json=short call "$PF_BUS_NAME" "$PF_OBJECT_PATH" \
        "$PF_INTERFACE" GetStatistics | pf_json statistic dropped >/dev/null
sandbox_run_as "$SANDBOX_TEST_USER" busctl --system get-property "$PF_BUS_NAME" "$PF_OBJECT_PATH" \
        "$PF_INTERFACE" RuleCount Interfaces Version >/dev/null
sandbox_run_as "$SANDBOX_TEST_USER" "$ctl" list >/dev/null
sandbox_run_as "$SANDBOX_TEST_USER" "$ctl" stats >/dev/null
sandbox_run_as "$SANDBOX_TEST_USER" "$ctl" status >/dev/null
ok "ListRules, GetStatistics, properties, list, stats and status work"

step "$SANDBOX_TEST_ADMIN (group $SANDBOX_TEST_ADMIN_GROUP, granted by the test polkit rule) is allowed"
check_eq "Block as $SANDBOX_TEST_ADMIN" ok \
        "$(pf_call_error_name --as "$SANDBOX_TEST_ADMIN" Block string:"$SANDBOX_PEER_IPV6" uint32:0)"
check_ping_blocked "$SANDBOX_FW_IPV6"
sandbox_run_as "$SANDBOX_TEST_ADMIN" "$ctl" block 192.0.2.53 </dev/null >/dev/null
check_eq "RuleCount" 3 "$(pf_rule_count)"
check_eq "Unblock as $SANDBOX_TEST_ADMIN" "1" \
        "$(sandbox_run_as "$SANDBOX_TEST_ADMIN" "$ctl" unblock "$SANDBOX_PEER_IPV4" </dev/null)"
check_ping_passes "$SANDBOX_FW_IPV4"
sandbox_run_as "$SANDBOX_TEST_ADMIN" "$ctl" detach "$SANDBOX_FW_IF" </dev/null
check_eq "Interfaces" "a(ss) 0" "$(pf_get_property Interfaces)"
check_ping_passes "$SANDBOX_FW_IPV6"
sandbox_run_as "$SANDBOX_TEST_ADMIN" busctl --system call "$PF_BUS_NAME" "$PF_OBJECT_PATH" \
        "$PF_INTERFACE" AttachInterface ss "$SANDBOX_FW_IF" auto
check_ping_blocked "$SANDBOX_FW_IPV6"
ok "Block, Unblock, DetachInterface and AttachInterface as $SANDBOX_TEST_ADMIN"

step "root still may"
check_eq "Unblock as root" "u 1" "$(pf_call Unblock s "$SANDBOX_PEER_IPV6")"
check_ping_passes "$SANDBOX_FW_IPV6"
