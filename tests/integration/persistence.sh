#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Blocks survive the daemon: they stay enforced while it is stopped (the filter
# is pinned in the bpffs), come back after a restart with the interface, and
# the restarted daemon still controls them (Unblock works).
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

sandbox_start_all

step "attach and block the peer's addresses (one through the CLI, one through busctl)"
pf_ctl attach "$SANDBOX_FW_IF"
pf_ctl block "$SANDBOX_PEER_IPV4"
pf_call Block su "$SANDBOX_PEER_IPV6" 0
check_ping_blocked "$SANDBOX_FW_IPV4"
check_ping_blocked "$SANDBOX_FW_IPV6"
interfaces_before=$(pf_get_property Interfaces)
sources_before=$(pf_call_json ListRules | pf_json rule-sources | sort)
id_v4=$(pf_rule_field "$SANDBOX_PEER_IPV4" id)
id_v6=$(pf_rule_field "$SANDBOX_PEER_IPV6" id)

step "stop the daemon: the blocks stay enforced while it is down"
sandbox_stop_daemon
check_ping_blocked "$SANDBOX_FW_IPV4"
check_ping_blocked "$SANDBOX_FW_IPV6"

step "start it again: rules and interface are back"
sandbox_start_daemon
check_eq "RuleCount" 2 "$(pf_rule_count)"
check_eq "sources" "$sources_before" "$(pf_call_json ListRules | pf_json rule-sources | sort)"
check_eq "id of the rule for $SANDBOX_PEER_IPV4" "$id_v4" "$(pf_rule_field "$SANDBOX_PEER_IPV4" id)"
check_eq "id of the rule for $SANDBOX_PEER_IPV6" "$id_v6" "$(pf_rule_field "$SANDBOX_PEER_IPV6" id)"
check_eq "Interfaces" "$interfaces_before" "$(pf_get_property Interfaces)"
pf_ctl list

step "still enforced, and counted, after the restart"
for pair in "$SANDBOX_PEER_IPV4 $SANDBOX_FW_IPV4" "$SANDBOX_PEER_IPV6 $SANDBOX_FW_IPV6"; do
        read -r peer fw <<<"$pair"
        before=$(pf_rule_field "$peer" packets)
        check_ping_blocked "$fw"
        check_gt "packets counted by the rule for $peer" "$(pf_rule_field "$peer" packets)" "$before"
done

step "restart once more (SIGTERM + start): still there"
sandbox_restart_daemon
check_eq "RuleCount" 2 "$(pf_rule_count)"
check_ping_blocked "$SANDBOX_FW_IPV4"

step "the restarted daemon controls the live filter: Unblock lets pings through"
check_eq "removed" 1 "$(pf_ctl unblock "$SANDBOX_PEER_IPV4")"
check_eq "Unblock($SANDBOX_PEER_IPV6)" "u 1" "$(pf_call Unblock s "$SANDBOX_PEER_IPV6")"
check_ping_passes "$SANDBOX_FW_IPV4"
check_ping_passes "$SANDBOX_FW_IPV6"

step "and an Unblock is persistent too"
sandbox_restart_daemon
check_eq "RuleCount" 0 "$(pf_rule_count)"
check_ping_passes "$SANDBOX_FW_IPV4"
