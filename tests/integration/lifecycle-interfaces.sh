#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Interfaces that come and go (the daemon watches rtnetlink):
#   - one named in the config but absent at start is shown as waiting, and is
#     attached when it appears;
#   - the filtered veth deleted: shown as waiting; re-created under the same
#     name: the filter is back on it without any call (blocked pings fail
#     again, allowed traffic passes);
#   - renamed: Interfaces follows the new name, filtering goes on, a restart
#     keeps the new name, and DetachInterface on the new name detaches.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

readonly LATE_IF=pf-late
readonly RENAMED_IF=pf-renamed
readonly ALLOWED_IPV4=192.0.2.3

sandbox_init
sandbox_start_bus
sandbox_start_polkitd
sandbox_start_netns
sandbox_mount_bpffs
cat >"$SANDBOX_DIR/packetfilterd.conf" <<EOF
[Filter]
Interfaces=$LATE_IF:generic
EOF
sandbox_start_daemon

interfaces() {
        pf_get_property Interfaces
}

interfaces_match() {
        interfaces | grep "$@"
}

# wait_interfaces WHAT SECONDS GREP-ARGS...: until Interfaces matches.
wait_interfaces() {
        local what=$1 seconds=$2
        shift 2
        if sandbox_wait "$seconds" "$what" interfaces_match "$@"; then
                ok "$what: $(interfaces)"
        else
                fail "$what: not within $seconds s; Interfaces is $(interfaces)"
        fi
}

# The veth pair and addresses as sandbox_start_netns makes them.
create_veth() {
        ip -n "$SANDBOX_FW_NS" link add "$SANDBOX_FW_IF" type veth peer name "$SANDBOX_PEER_IF" netns "$SANDBOX_PEER_NS"
        ip -n "$SANDBOX_FW_NS" addr add "$SANDBOX_FW_IPV4/24" dev "$SANDBOX_FW_IF"
        ip -n "$SANDBOX_FW_NS" addr add "$SANDBOX_FW_IPV6/64" dev "$SANDBOX_FW_IF" nodad
        ip -n "$SANDBOX_PEER_NS" addr add "$SANDBOX_PEER_IPV4/24" dev "$SANDBOX_PEER_IF"
        ip -n "$SANDBOX_PEER_NS" addr add "$ALLOWED_IPV4/24" dev "$SANDBOX_PEER_IF"
        ip -n "$SANDBOX_PEER_NS" addr add "$SANDBOX_PEER_IPV6/64" dev "$SANDBOX_PEER_IF" nodad
        ip -n "$SANDBOX_FW_NS" link set "$SANDBOX_FW_IF" up
        ip -n "$SANDBOX_PEER_NS" link set "$SANDBOX_PEER_IF" up
}

check_allowed_source_passes() {
        local _
        for _ in 1 2; do
                if in_peer ping -n -q -c 3 -i 0.2 -W 2 -I "$ALLOWED_IPV4" "$SANDBOX_FW_IPV4" 2>&1 | grep -q " 3 received"; then
                        ok "pings from the allowed $ALLOWED_IPV4 pass"
                        return 0
                fi
        done
        fail "pings from the allowed $ALLOWED_IPV4 do not pass"
}

step "an interface named in the config but absent at start is shown as waiting"
wait_interfaces "$LATE_IF waiting" 2 -qF "\"$LATE_IF\" \"waiting\""

step "attach $SANDBOX_FW_IF, block the peer's addresses"
ip -n "$SANDBOX_PEER_NS" addr add "$ALLOWED_IPV4/24" dev "$SANDBOX_PEER_IF"
pf_ctl attach "$SANDBOX_FW_IF" --mode generic
pf_ctl block "$SANDBOX_PEER_IPV4" >/dev/null
pf_ctl block "$SANDBOX_PEER_IPV6" >/dev/null
check_ping_blocked "$SANDBOX_FW_IPV4"
check_ping_blocked "$SANDBOX_FW_IPV6"
check_allowed_source_passes

step "$LATE_IF appears: attached without a call, in the mode the config names"
ip -n "$SANDBOX_FW_NS" link add "$LATE_IF" type veth peer name pf-late-peer
ip -n "$SANDBOX_FW_NS" link set "$LATE_IF" up
wait_interfaces "$LATE_IF attached" 5 -qF "\"$LATE_IF\" \"generic\""

step "delete the veth pair: $SANDBOX_FW_IF is shown as waiting"
ip -n "$SANDBOX_FW_NS" link del "$SANDBOX_FW_IF"
wait_interfaces "$SANDBOX_FW_IF waiting" 5 -qF "\"$SANDBOX_FW_IF\" \"waiting\""

step "re-create it under the same name: the filter comes back without a call"
create_veth
wait_interfaces "$SANDBOX_FW_IF attached again" 5 -qF "\"$SANDBOX_FW_IF\" \"generic\""
check_ping_blocked "$SANDBOX_FW_IPV4"
check_ping_blocked "$SANDBOX_FW_IPV6"
check_allowed_source_passes
before=$(pf_rule_field "$SANDBOX_PEER_IPV4" packets)
check_ping_blocked "$SANDBOX_FW_IPV4"
check_gt "packets counted by the rule for $SANDBOX_PEER_IPV4 on the new interface" \
        "$(pf_rule_field "$SANDBOX_PEER_IPV4" packets)" "$before"

step "rename $SANDBOX_FW_IF to $RENAMED_IF: followed, and filtering goes on"
ip -n "$SANDBOX_FW_NS" link set "$SANDBOX_FW_IF" down
ip -n "$SANDBOX_FW_NS" link set "$SANDBOX_FW_IF" name "$RENAMED_IF"
ip -n "$SANDBOX_FW_NS" link set "$RENAMED_IF" up
wait_interfaces "Interfaces shows $RENAMED_IF" 5 -qF "\"$RENAMED_IF\" \"generic\""
interfaces | grep -qF "\"$SANDBOX_FW_IF\"" && fail "the old name is still listed: $(interfaces)"
ok "the old name $SANDBOX_FW_IF is no longer listed"
check_ping_blocked "$SANDBOX_FW_IPV4"
check_allowed_source_passes

step "restart: the new name is kept, the filter still in force"
sandbox_restart_daemon
wait_interfaces "after the restart" 2 -qF "\"$RENAMED_IF\" \"generic\""
interfaces | grep -qF "\"$SANDBOX_FW_IF\"" && fail "the old name came back after the restart: $(interfaces)"
check_ping_blocked "$SANDBOX_FW_IPV4"

step "renamed while the daemon is down: the next daemon follows it by its pinned link"
sandbox_stop_daemon
ip -n "$SANDBOX_FW_NS" link set "$RENAMED_IF" down
ip -n "$SANDBOX_FW_NS" link set "$RENAMED_IF" name "$SANDBOX_FW_IF"
ip -n "$SANDBOX_FW_NS" link set "$SANDBOX_FW_IF" up
check_ping_blocked "$SANDBOX_FW_IPV4"
sandbox_start_daemon
wait_interfaces "Interfaces shows $SANDBOX_FW_IF again" 2 -qF "\"$SANDBOX_FW_IF\" \"generic\""
interfaces | grep -qF "\"$RENAMED_IF\"" && fail "the name from before the stop is still listed: $(interfaces)"
ok "followed to $SANDBOX_FW_IF"
check_ping_blocked "$SANDBOX_FW_IPV4"
ip -n "$SANDBOX_FW_NS" link set "$SANDBOX_FW_IF" down
ip -n "$SANDBOX_FW_NS" link set "$SANDBOX_FW_IF" name "$RENAMED_IF"
ip -n "$SANDBOX_FW_NS" link set "$RENAMED_IF" up
wait_interfaces "Interfaces shows $RENAMED_IF" 5 -qF "\"$RENAMED_IF\" \"generic\""

step "DetachInterface on the new name detaches the filter"
pf_ctl detach "$RENAMED_IF"
interfaces | grep -qF "\"$RENAMED_IF\"" && fail "$RENAMED_IF still listed after detach: $(interfaces)"
check_ping_passes "$SANDBOX_FW_IPV4"
