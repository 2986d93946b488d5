#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Through packetfilterctl only: attach, block the peer's IPv4 and IPv6 addresses,
# real pings from the peer are dropped and the rules' counters rise, unblock,
# pings pass again.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

sandbox_start_all

step "attach to $SANDBOX_FW_IF (mode auto) with packetfilterctl"
pf_ctl attach "$SANDBOX_FW_IF"
pf_ctl status
pf_get_property Interfaces | grep -q "\"$SANDBOX_FW_IF\" \"\(native\|generic\)\"" ||
        fail "Interfaces does not list $SANDBOX_FW_IF with a mode in effect: $(pf_get_property Interfaces)"
ok "Interfaces: $(pf_get_property Interfaces)"

step "before any block, the peer reaches the filtered side"
check_ping_passes "$SANDBOX_FW_IPV4"
check_ping_passes "$SANDBOX_FW_IPV6"

step "block the peer's addresses with packetfilterctl"
pf_ctl block "$SANDBOX_PEER_IPV4"
pf_ctl block "$SANDBOX_PEER_IPV6"
check_eq "RuleCount" 2 "$(pf_rule_count)"

step "pings from the peer are dropped"
check_ping_blocked "$SANDBOX_FW_IPV4"
check_ping_blocked "$SANDBOX_FW_IPV6"

step "the rules' packet counters rise (packetfilterctl --json list)"
pf_ctl list
for pair in "$SANDBOX_PEER_IPV4 $SANDBOX_FW_IPV4" "$SANDBOX_PEER_IPV6 $SANDBOX_FW_IPV6"; do
        read -r peer fw <<<"$pair"
        first=$(pf_ctl --json list | pf_json rule-field "$peer" packets)
        check_gt "packets counted by the rule for $peer" "$first" 0
        check_ping_blocked "$fw"
        second=$(pf_ctl --json list | pf_json rule-field "$peer" packets)
        check_gt "packets counted for $peer after more pings" "$second" "$first"
done
pf_ctl list | grep -q "$SANDBOX_PEER_IPV4" || fail "packetfilterctl list does not show $SANDBOX_PEER_IPV4"
pf_ctl list | grep -q "$SANDBOX_PEER_IPV6" || fail "packetfilterctl list does not show $SANDBOX_PEER_IPV6"

step "unblock with packetfilterctl: pings pass again"
check_eq "removed for $SANDBOX_PEER_IPV4" 1 "$(pf_ctl unblock "$SANDBOX_PEER_IPV4")"
check_eq "removed for $SANDBOX_PEER_IPV6" 1 "$(pf_ctl unblock "$SANDBOX_PEER_IPV6")"
check_eq "RuleCount" 0 "$(pf_rule_count)"
check_ping_passes "$SANDBOX_FW_IPV4"
check_ping_passes "$SANDBOX_FW_IPV6"

step "detach with packetfilterctl"
pf_ctl detach "$SANDBOX_FW_IF"
check_eq "Interfaces" "a(ss) 0" "$(pf_get_property Interfaces)"
