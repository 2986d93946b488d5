#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Through busctl only (the raw D-Bus API): AttachInterface in generic mode,
# Block the peer's IPv4 and IPv6 addresses, real pings are dropped, ListRules
# shows the rules with rising counters, Unblock, pings pass again.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

sandbox_start_all

step "AttachInterface($SANDBOX_FW_IF, generic)"
pf_call AttachInterface ss "$SANDBOX_FW_IF" generic
check_eq "Interfaces" "a(ss) 1 \"$SANDBOX_FW_IF\" \"generic\"" "$(pf_get_property Interfaces)"
check_ping_passes "$SANDBOX_FW_IPV4"
check_ping_passes "$SANDBOX_FW_IPV6"

step "Block the peer's addresses"
declare -A rule_id
for peer in "$SANDBOX_PEER_IPV4" "$SANDBOX_PEER_IPV6"; do
        reply=$(pf_call Block su "$peer" 0)
        [[ $reply =~ ^u\ ([0-9]+)$ ]] || fail "Block($peer) replied '$reply', expected 'u ID'"
        rule_id[$peer]=${BASH_REMATCH[1]}
        ok "Block($peer) -> id ${rule_id[$peer]}"
done
check_eq "RuleCount" 2 "$(pf_rule_count)"
[ "${rule_id[$SANDBOX_PEER_IPV4]}" != "${rule_id[$SANDBOX_PEER_IPV6]}" ] || fail "both blocks got the same id"

step "ListRules describes each rule"
pf_call_json ListRules
for peer in "$SANDBOX_PEER_IPV4" "$SANDBOX_PEER_IPV6"; do
        check_eq "id of the rule for $peer" "${rule_id[$peer]}" "$(pf_rule_field "$peer" id)"
        check_eq "action of the rule for $peer" drop "$(pf_rule_field "$peer" action)"
        check_eq "expires of the rule for $peer" 0 "$(pf_rule_field "$peer" expires)"
        pf_rule_field "$peer" bytes >/dev/null
        pf_rule_field "$peer" created >/dev/null
done

step "pings from the peer are dropped and the rules' counters rise"
for pair in "$SANDBOX_PEER_IPV4 $SANDBOX_FW_IPV4" "$SANDBOX_PEER_IPV6 $SANDBOX_FW_IPV6"; do
        read -r peer fw <<<"$pair"
        before=$(pf_rule_field "$peer" packets)
        check_ping_blocked "$fw"
        after=$(pf_rule_field "$peer" packets)
        check_gt "packets counted by the rule for $peer" "$after" "$before"
        [ "$((after - before))" -ge 3 ] || fail "3 pings dropped but the counter rose by $((after - before))"
        check_gt "bytes counted by the rule for $peer" "$(pf_rule_field "$peer" bytes)" 0
done

step "Unblock: pings pass again"
check_eq "Unblock($SANDBOX_PEER_IPV4)" "u 1" "$(pf_call Unblock s "$SANDBOX_PEER_IPV4")"
check_ping_passes "$SANDBOX_FW_IPV4"
check_ping_blocked "$SANDBOX_FW_IPV6"
check_eq "Unblock($SANDBOX_PEER_IPV6)" "u 1" "$(pf_call Unblock s "$SANDBOX_PEER_IPV6")"
check_ping_passes "$SANDBOX_FW_IPV6"
check_eq "RuleCount" 0 "$(pf_rule_count)"
check_eq "Unblock of an address not blocked" "u 0" "$(pf_call Unblock s "$SANDBOX_PEER_IPV4")"

step "DetachInterface"
pf_call DetachInterface s "$SANDBOX_FW_IF"
check_eq "Interfaces" "a(ss) 0" "$(pf_get_property Interfaces)"
