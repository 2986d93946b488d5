#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A block with a timeout reports when it expires and lifts by itself, in the
# rule list and in the data plane.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

now_usec() {
        echo $(($(date +%s%N) / 1000))
}

# Waits (bounded) until no rule has SOURCE; prints the elapsed seconds since START_USEC.
wait_rule_gone() {
        local source=$1 start=$2 deadline=$(($(date +%s) + 10))
        while pf_rule_field "$source" id >/dev/null 2>&1; do
                [ "$(date +%s)" -lt "$deadline" ] || fail "the block on $source is still there after 10 s"
                sleep 0.1
        done
        echo $((($(now_usec) - start) / 1000))
}

sandbox_start_all
pf_ctl attach "$SANDBOX_FW_IF"

step "block the peer's IPv4 address for 2 s (busctl) and its IPv6 address for 3 s (CLI)"
start=$(now_usec)
pf_call Block su "$SANDBOX_PEER_IPV4" 2
pf_ctl block "$SANDBOX_PEER_IPV6" --timeout 3
check_eq "RuleCount" 2 "$(pf_rule_count)"

step "ListRules says when each block expires"
for pair in "$SANDBOX_PEER_IPV4 2" "$SANDBOX_PEER_IPV6 3"; do
        read -r peer seconds <<<"$pair"
        expires=$(pf_rule_field "$peer" expires)
        expected=$((start + seconds * 1000000))
        [ "$expires" -ge $((expected - 1000000)) ] && [ "$expires" -le $((expected + 1500000)) ] ||
                fail "expires of the $seconds s block on $peer is $expires µs, expected about $expected"
        ok "the block on $peer expires at $expires (about $seconds s from now)"
done

step "the blocks hold meanwhile"
check_ping_blocked "$SANDBOX_FW_IPV4" 1
check_ping_blocked "$SANDBOX_FW_IPV6" 1

step "they lift by themselves"
elapsed_ms=$(wait_rule_gone "$SANDBOX_PEER_IPV4" "$start")
[ "$elapsed_ms" -ge 1500 ] && [ "$elapsed_ms" -le 4500 ] ||
        fail "the 2 s block lifted after $elapsed_ms ms"
ok "the 2 s block on $SANDBOX_PEER_IPV4 lifted after $elapsed_ms ms"
check_ping_passes "$SANDBOX_FW_IPV4"
elapsed_ms=$(wait_rule_gone "$SANDBOX_PEER_IPV6" "$start")
[ "$elapsed_ms" -ge 2500 ] && [ "$elapsed_ms" -le 5500 ] ||
        fail "the 3 s block lifted after $elapsed_ms ms"
ok "the 3 s block on $SANDBOX_PEER_IPV6 lifted after $elapsed_ms ms"
check_ping_passes "$SANDBOX_FW_IPV6"
check_eq "RuleCount" 0 "$(pf_rule_count)"
