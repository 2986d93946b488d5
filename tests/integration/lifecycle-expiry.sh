#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Expiry is kept in absolute time: a 2 s block lifts at 2 s (± 1 s), measured
# with a ping loop from the blocked peer, and emits RuleRemoved(id, "expired");
# a 3 s block lifts at 3 s although the daemon was restarted in between; and
# a 2 s block whose expiry passes while the daemon is down lifts at 2 s all the
# same (the XDP program checks expiry itself) and is gone when the daemon
# starts again.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

command -v dbus-monitor >/dev/null || sandbox_missing "dbus-monitor (Debian package dbus-bin), to see RuleRemoved"

MONITOR_PID=

monitor_cleanup() {
        local status=$?
        set +o errexit
        trap - ERR
        if [ -n "$MONITOR_PID" ]; then
                kill -TERM "$MONITOR_PID" 2>/dev/null
                wait "$MONITOR_PID" 2>/dev/null
        fi
        return "$status"
}

sandbox_start_all
trap 'monitor_cleanup; sandbox_cleanup' EXIT

# Every RuleRemoved signal on the private bus, whoever sends it (one daemon after another).
dbus-monitor --system "type='signal',interface='$PF_INTERFACE',member='RuleRemoved'" \
        >"$SANDBOX_DIR/signals.log" 2>&1 </dev/null &
MONITOR_PID=$!
sandbox_wait 5 "dbus-monitor to subscribe" grep -q NameAcquired "$SANDBOX_DIR/signals.log" ||
        sleep 1

pf_ctl attach "$SANDBOX_FW_IF"

now_ns() {
        date +%s%N
}

# Pings the fw side from the peer, one at a time, until one comes back or
# LIMIT_MS pass since START_NS; prints the ms from START_NS to that first reply,
# or "never".
first_reply_ms() {
        local start=$1 limit=$2
        while [ $((($(now_ns) - start) / 1000000)) -lt "$limit" ]; do
                if in_peer ping -n -q -c 1 -W 0.25 "$SANDBOX_FW_IPV4" >/dev/null 2>&1; then
                        echo $((($(now_ns) - start) / 1000000))
                        return 0
                fi
        done
        echo never
}

# check_lifted_at WHAT MS EXPECTED_MS: within ± 1 s.
check_lifted_at() {
        local what=$1 ms=$2 expected=$3
        [ "$ms" != never ] || fail "$what: pings never passed"
        [ "$ms" -ge $((expected - 1000)) ] && [ "$ms" -le $((expected + 1000)) ] ||
                fail "$what: the block lifted after $ms ms, expected $expected ± 1000 ms"
        ok "$what: lifted after $ms ms (expected $expected ± 1000)"
}

# Was RuleRemoved(ID, "expired") seen (within 3 s)?
expired_signal_seen() {
        local id=$1
        awk -v id="$id" '
                /member=RuleRemoved/ { n = 1; next }
                n == 1 { got = ($1 == "uint32" && $2 == id); n = 2; next }
                n == 2 { if (got && $0 ~ /string "expired"/) found = 1; n = 0 }
                END { exit !found }
        ' "$SANDBOX_DIR/signals.log"
}

check_expired_signal() {
        sandbox_wait 3 "RuleRemoved($1, \"expired\")" expired_signal_seen "$1" ||
                fail "no RuleRemoved($1, \"expired\") signal (seen: $(tr '\n' ' ' <"$SANDBOX_DIR/signals.log" | tail -c 600))"
        ok "RuleRemoved($1, \"expired\") was emitted"
}

block_for() {
        local seconds=$1
        pf_call Block su "$SANDBOX_PEER_IPV4" "$seconds" | sed -n 's/^u //p'
}

step "a 2 s block lifts at 2 s ± 1 s"
check_ping_passes "$SANDBOX_FW_IPV4" 1
start=$(now_ns)
id=$(block_for 2)
ping_blocked "$SANDBOX_FW_IPV4" 1 || fail "the block did not take effect"
check_lifted_at "2 s block" "$(first_reply_ms "$start" 6000)" 2000
check_expired_signal "$id"
check_eq "RuleCount" 0 "$(pf_rule_count)"

step "a 3 s block lifts at 3 s ± 1 s although the daemon restarts in between (absolute expiry)"
start=$(now_ns)
id=$(block_for 3)
sandbox_restart_daemon
pf_rule_field "$SANDBOX_PEER_IPV4" id >/dev/null || fail "the block is gone after the restart, before its time"
ping_blocked "$SANDBOX_FW_IPV4" 1 || fail "the block is not enforced after the restart"
check_lifted_at "3 s block across a restart" "$(first_reply_ms "$start" 7000)" 3000
check_expired_signal "$id"
check_eq "RuleCount" 0 "$(pf_rule_count)"

step "a 2 s block whose expiry passes while the daemon is down"
start=$(now_ns)
id=$(block_for 2)
sandbox_stop_daemon
ping_blocked "$SANDBOX_FW_IPV4" 1 || fail "the block is not enforced right after the daemon stopped"
# The block lifts at 2 s even then: the program itself compares the rule's expiry
# (CLOCK_TAI) with the time, so no daemon is needed for it.
check_lifted_at "2 s block with no daemon running" "$(first_reply_ms "$start" 3500)" 2000
while [ $((($(now_ns) - start) / 1000000)) -lt 3500 ]; do
        sleep 0.1
done
sandbox_start_daemon
pf_rule_field "$SANDBOX_PEER_IPV4" id >/dev/null 2>&1 &&
        fail "the expired block is still listed after the start"
ok "the expired block is gone at start"
check_eq "RuleCount" 0 "$(pf_rule_count)"
check_ping_passes "$SANDBOX_FW_IPV4"
if sandbox_wait 2 "RuleRemoved($id, \"expired\")" expired_signal_seen "$id"; then
        ok "RuleRemoved($id, \"expired\") was emitted by the daemon that found the block expired"
else
        sandbox_log "note: no RuleRemoved($id, \"expired\") for the block that expired while the daemon was down"
fi
