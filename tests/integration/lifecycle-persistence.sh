#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every accepted change is on disk before the method replies: 20 times, a
# change (Block, AddRule, Unblock, RemoveRule in turn) is followed at once by
# SIGKILL, and the restarted daemon must list exactly the rules it had
# acknowledged, with their ids; the last change (a block of the peer) must be
# enforced on real traffic.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

readonly ROUNDS=20

sandbox_start_all
pf_ctl attach "$SANDBOX_FW_IF"

declare -A expected=()          # id -> what the rule is, for messages

# The ids the daemon lists, sorted, one line.
listed_ids() {
        pf_call_json ListRules | python3 -c '
import json, sys
sys.path.insert(0, sys.argv[1])
from pfjson import unwrap, rules
print(" ".join(str(i) for i in sorted(int(r["id"]) for r in rules(unwrap(json.load(sys.stdin))))))
' "$PF_LIB_DIR"
}

expected_ids() {
        local id
        for id in "${!expected[@]}"; do
                echo "$id"
        done | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# Kills the daemon the instant the reply is in (the call and the kill run back
# to back, nothing between them); the reply is left in $reply.
change_then_kill() {
        local pid
        pid=$(sandbox__recorded_pid "$SANDBOX_DIR/daemon.pid") || fail "packetfilterd is not running"
        if reply=$(pf_call "$@"); then
                kill -KILL "$pid"
        else
                fail "$1 failed: $reply"
        fi
        sandbox__wait_gone "$pid" 5 || fail "packetfilterd survived SIGKILL"
        wait "$pid" 2>/dev/null || true
        rm -f "$SANDBOX_DIR/daemon.pid"
}

reply_id() {
        sed -n 's/^u \([0-9]*\)$/\1/p' <<<"$reply"
}

step "$ROUNDS rounds: change, SIGKILL right after the reply, start, compare"
block_ids=()
rule_ids=()
for round in $(seq 1 "$ROUNDS"); do
        # Mostly additions, so the set grows; every fifth round takes one away
        # (Unblock and RemoveRule in turn); the last one blocks the peer.
        case $((round % 5)) in
        1 | 3) action=block ;;
        2 | 4) action=add-rule ;;
        0) action=$([ $((round % 10)) = 5 ] && echo unblock || echo remove-rule) ;;
        esac
        [ "$round" = "$ROUNDS" ] && action=block-peer
        case $action in
        block | block-peer)
                address=192.0.2.$((100 + round))
                [ "$action" = block-peer ] && address=$SANDBOX_PEER_IPV4
                change_then_kill Block su "$address" 0
                id=$(reply_id)
                [ -n "$id" ] || fail "Block gave no id: $reply"
                expected[$id]="block $address"
                block_ids+=("$id:$address")
                what="Block $address -> id $id"
                ;;
        add-rule)
                change_then_kill AddRule 'a{sv}' 4 action s drop source s "2001:db8::$round" \
                        protocol s udp port s "$((10000 + round))"
                id=$(reply_id)
                [ -n "$id" ] || fail "AddRule gave no id: $reply"
                expected[$id]="drop udp port $((10000 + round)) from 2001:db8::$round"
                rule_ids+=("$id")
                what="AddRule (udp port $((10000 + round))) -> id $id"
                ;;
        unblock)        # the oldest block still there
                entry=${block_ids[0]}
                block_ids=("${block_ids[@]:1}")
                change_then_kill Unblock s "${entry#*:}"
                [ "$reply" = "u 1" ] || fail "Unblock ${entry#*:}: $reply"
                unset "expected[${entry%%:*}]"
                what="Unblock ${entry#*:} (id ${entry%%:*})"
                ;;
        remove-rule)    # the oldest rule added
                id=${rule_ids[0]}
                rule_ids=("${rule_ids[@]:1}")
                change_then_kill RemoveRule u "$id"
                unset "expected[$id]"
                what="RemoveRule $id"
                ;;
        esac
        sandbox_start_daemon >/dev/null
        check_eq "round $round ($what, SIGKILL): rule ids after restart" "$(expected_ids)" "$(listed_ids)"
done

step "the last change, a block of the peer, is enforced after the last SIGKILL"
check_ping_blocked "$SANDBOX_FW_IPV4"
check_ping_passes "$SANDBOX_FW_IPV6"
check_eq "RuleCount" "${#expected[@]}" "$(pf_rule_count)"
