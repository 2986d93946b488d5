#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# GetStatistics: every documented counter is there, passed rises with allowed
# traffic, dropped and dropped-by-rule rise while the peer is blocked; the CLI
# shows the same counters.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

KEYS=(packets passed dropped dropped-by-rule dropped-by-default malformed non-ip)

sandbox_start_all
pf_ctl attach "$SANDBOX_FW_IF"

step "GetStatistics has every counter"
pf_call_json GetStatistics
for key in "${KEYS[@]}"; do
        value=$(pf_statistic "$key")
        [[ $value =~ ^[0-9]+$ ]] || fail "statistic $key is '$value'"
done
ok "${KEYS[*]}"

step "allowed traffic is counted as passed"
packets=$(pf_statistic packets)
passed=$(pf_statistic passed)
check_ping_passes "$SANDBOX_FW_IPV4"
check_ping_passes "$SANDBOX_FW_IPV6"
check_gt "passed" "$(pf_statistic passed)" "$((passed + 5))"
check_gt "packets" "$(pf_statistic packets)" "$((packets + 5))"

step "blocked traffic is counted as dropped"
pf_ctl block "$SANDBOX_PEER_IPV4"
pf_ctl block "$SANDBOX_PEER_IPV6"
dropped=$(pf_statistic dropped)
by_rule=$(pf_statistic dropped-by-rule)
check_ping_blocked "$SANDBOX_FW_IPV4"
check_ping_blocked "$SANDBOX_FW_IPV6"
check_gt "dropped" "$(pf_statistic dropped)" "$((dropped + 5))"
check_gt "dropped-by-rule" "$(pf_statistic dropped-by-rule)" "$((by_rule + 5))"
dropped=$(pf_statistic dropped)
check_ping_blocked "$SANDBOX_FW_IPV4"
check_gt "dropped, while still blocked" "$(pf_statistic dropped)" "$((dropped + 2))"

step "the CLI shows the same counters"
pf_ctl stats
json=$(pf_ctl --json stats)
for key in "${KEYS[@]}"; do
        value=$(pf_json statistic "$key" <<<"$json")
        [[ $value =~ ^[0-9]+$ ]] || fail "packetfilterctl --json stats: $key is '$value'"
done
[ "$(pf_json statistic dropped <<<"$json")" -ge "$dropped" ] || fail "packetfilterctl shows fewer drops than GetStatistics did"
ok "packetfilterctl --json stats: ${KEYS[*]}"

step "after unblocking, drops stop rising"
pf_ctl unblock "$SANDBOX_PEER_IPV4" >/dev/null
pf_ctl unblock "$SANDBOX_PEER_IPV6" >/dev/null
dropped=$(pf_statistic dropped)
check_ping_passes "$SANDBOX_FW_IPV4"
check_eq "dropped" "$dropped" "$(pf_statistic dropped)"
