#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bad input is refused with a named error and a message, and changes nothing.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

sandbox_start_all
pf_ctl attach "$SANDBOX_FW_IF"
pf_call Block su "$SANDBOX_PEER_IPV4" 0 >/dev/null
rules_before=$(pf_call_json ListRules | pf_json rule-sources)
interfaces_before=$(pf_get_property Interfaces)

step "Block and Unblock refuse what is not an address or prefix"
for bad in "not-an-address" "192.0.2.1/33" "2001:db8::/129" "192.0.2.256" "192.0.2.1/" "" \
           "192.0.2.1/24x" "2001:db8:::1"; do
        for method in Block Unblock; do
                if [ "$method" = Block ]; then
                        error=$(pf_call_error_name Block string:"$bad" uint32:0)
                else
                        error=$(pf_call_error_name Unblock string:"$bad")
                fi
                check_eq "$method('$bad')" org.example.PacketFilter1.Error.InvalidAddress "$error"
        done
done
message=$(pf_call Block su "192.0.2.1/33" 0 2>&1) && fail "Block(192.0.2.1/33) succeeded"
[[ $message == *192.0.2.1/33* ]] || fail "the error message does not name the bad address: $message"
ok "the message names the address: $message"

step "nothing changed"
check_eq "RuleCount" 1 "$(pf_rule_count)"
check_eq "rules" "$rules_before" "$(pf_call_json ListRules | pf_json rule-sources)"

step "interfaces that do not exist"
check_eq "AttachInterface(pf-nonexistent)" org.example.PacketFilter1.Error.NoSuchInterface \
        "$(pf_call_error_name AttachInterface string:pf-nonexistent string:auto)"
check_eq "DetachInterface(pf-nonexistent)" org.example.PacketFilter1.Error.NoSuchInterface \
        "$(pf_call_error_name DetachInterface string:pf-nonexistent)"
error=$(pf_call_error_name AttachInterface string:"$SANDBOX_FW_IF" string:bogus-mode)
[ "$error" != ok ] || fail "AttachInterface with mode 'bogus-mode' succeeded"
ok "AttachInterface with mode 'bogus-mode' refused: $error"
check_eq "Interfaces" "$interfaces_before" "$(pf_get_property Interfaces)"

step "the CLI: daemon errors exit 1 with the message, usage errors exit 2"
status=0
output=$(pf_ctl block not-an-address 2>&1) || status=$?
check_eq "exit status of 'packetfilterctl block not-an-address'" 1 "$status"
[[ $output == *not-an-address* ]] || fail "the CLI's error does not name the address: $output"
ok "packetfilterctl says: $output"
for usage in "frobnicate" "block" "block 192.0.2.9 --timeout" "attach"; do
        status=0
        # shellcheck disable=SC2086 # the words are meant to split
        pf_ctl $usage >/dev/null 2>&1 || status=$?
        check_eq "exit status of 'packetfilterctl $usage'" 2 "$status"
done
check_eq "RuleCount" 1 "$(pf_rule_count)"

step "the filter still works"
check_ping_blocked "$SANDBOX_FW_IPV4"
check_ping_passes "$SANDBOX_FW_IPV6"
