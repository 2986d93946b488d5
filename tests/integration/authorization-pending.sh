#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The polkit check is asynchronous: while one caller's authorization is
# pending (a polkit rule that takes 5 s to answer), the daemon keeps serving
# everyone else. Root's changes (no polkit) and reads, by root and by an
# unprivileged user, each get their reply in under 1 s; the slow caller gets
# its answer (AccessDenied) only after the rule returns, and its call changes
# nothing.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

readonly SLOW_ADDRESS=198.51.100.77
readonly SLOW_SEC=5
readonly PROMPT_MS=1000

command -v gdbus >/dev/null || sandbox_missing "gdbus (Debian package libglib2.0-bin)"

now_ms() {
        echo $(($(date +%s%N) / 1000000))
}

# timed WHAT COMMAND...: runs COMMAND, fails unless it succeeds within PROMPT_MS.
timed() {
        local what=$1 start elapsed
        shift
        start=$(now_ms)
        "$@" >/dev/null || fail "$what failed while another caller's authorization was pending"
        elapsed=$(($(now_ms) - start))
        [ "$elapsed" -lt "$PROMPT_MS" ] ||
                fail "$what took $elapsed ms while another caller's authorization was pending (limit $PROMPT_MS ms)"
        ok "$what answered in $elapsed ms"
}

sandbox_init
# polkit.spawn() runs synchronously: the rule answers after SLOW_SEC, and
# only for calls about SLOW_ADDRESS.
slow_rules=$SANDBOX_DIR/40-packetfilter-slow.rules
cat >"$slow_rules" <<EOF
// Written by tests/integration/authorization-pending.sh: a slow answer.
polkit.addRule(function(action, subject) {
        if (action.id == "org.example.packetfilter.manage-rules" &&
            action.lookup("address") == "$SLOW_ADDRESS") {
                polkit.spawn(["sleep", "$SLOW_SEC"]);
                return polkit.Result.NO;
        }
});
EOF
SANDBOX_POLKIT_RULES=("$slow_rules")
sandbox_start_bus
sandbox_start_polkitd
sandbox_start_netns
sandbox_mount_bpffs
sandbox_start_daemon
sandbox_ensure_test_users
pf_call AttachInterface ss "$SANDBOX_FW_IF" generic
generation_before=$(pf_get_property Generation)

step "$SANDBOX_TEST_USER asks to Block $SLOW_ADDRESS: polkit takes $SLOW_SEC s to answer"
slow_start=$(now_ms)
sandbox_run_as "$SANDBOX_TEST_USER" gdbus call --system --timeout 60 --dest "$PF_BUS_NAME" \
        --object-path "$PF_OBJECT_PATH" --method "$PF_INTERFACE.Block" "'$SLOW_ADDRESS'" "uint32 0" \
        >"$SANDBOX_DIR/slow.out" 2>&1 &
slow_pid=$!
# Give the call time to reach the daemon and the daemon time to ask polkitd.
sleep 0.5
sandbox__alive "$slow_pid" || fail "the slow call returned at once: $(cat "$SANDBOX_DIR/slow.out")"
ok "the slow call is pending"

step "meanwhile, everyone else is served at once"
timed "GetStatistics as root" pf_call GetStatistics
timed "ListRules as root" pf_call ListRules
timed "Block 192.0.2.77 as root" pf_call Block su 192.0.2.77 0
timed "AddRule as root" pf_call AddRule 'a{sv}' 3 action s drop protocol s tcp port s 8080
timed "RuleCount as root" pf_get_property RuleCount
timed "ListRules as $SANDBOX_TEST_USER" sandbox_run_as "$SANDBOX_TEST_USER" busctl --system call \
        "$PF_BUS_NAME" "$PF_OBJECT_PATH" "$PF_INTERFACE" ListRules
timed "properties as $SANDBOX_TEST_USER" sandbox_run_as "$SANDBOX_TEST_USER" busctl --system get-property \
        "$PF_BUS_NAME" "$PF_OBJECT_PATH" "$PF_INTERFACE" Version RuleCount Generation Interfaces
timed "GetStatistics as $SANDBOX_TEST_ADMIN" sandbox_run_as "$SANDBOX_TEST_ADMIN" busctl --system call \
        "$PF_BUS_NAME" "$PF_OBJECT_PATH" "$PF_INTERFACE" GetStatistics
timed "Unblock 192.0.2.77 as root" pf_call Unblock s 192.0.2.77
sandbox__alive "$slow_pid" || fail "the slow call returned before polkit answered: $(cat "$SANDBOX_DIR/slow.out")"
ok "the slow call is still pending"

step "the slow caller gets polkit's answer when it comes, and nothing of its call happened"
status=0
wait "$slow_pid" || status=$?
slow_ms=$(($(now_ms) - slow_start))
[ "$status" != 0 ] || fail "the slow Block as $SANDBOX_TEST_USER succeeded: $(cat "$SANDBOX_DIR/slow.out")"
grep -q 'org.freedesktop.DBus.Error.AccessDenied' "$SANDBOX_DIR/slow.out" ||
        fail "the slow Block as $SANDBOX_TEST_USER: expected AccessDenied, got: $(cat "$SANDBOX_DIR/slow.out")"
[ "$slow_ms" -ge $(((SLOW_SEC - 1) * 1000)) ] ||
        fail "the slow Block was answered after $slow_ms ms: polkit's rule did not hold it"
ok "the slow Block was refused after $slow_ms ms"
if pf_call_json ListRules | pf_json rule-field "$SLOW_ADDRESS" id >/dev/null 2>&1; then
        fail "$SLOW_ADDRESS is blocked"
fi
check_eq "RuleCount" 1 "$(pf_rule_count)"
[ "$(pf_get_property Generation)" != "$generation_before" ] || fail "root's changes did not raise Generation"
check_ping_passes "$SANDBOX_FW_IPV4"

step "the daemon still answers polkit-checked calls afterwards"
check_eq "Block as $SANDBOX_TEST_ADMIN" ok \
        "$(pf_call_error_name --as "$SANDBOX_TEST_ADMIN" Block string:"$SANDBOX_PEER_IPV4" uint32:0)"
check_ping_blocked "$SANDBOX_FW_IPV4"
