#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every invalid key or value is refused with its named error
# (org.example.PacketFilter1.Error.*), the message names the field, and nothing changes:
# Generation, RuleCount, DefaultAction and every rule are the same after each refusal.
# Calls go through tests/gdbus/pf-call (GVariant-text arguments): busctl shows no error
# names and dbus-send cannot build a{sv}. Covers unknown keys, every key with a value of
# another D-Bus type, bad addresses, protocols, ports, ranges, ICMP types, VLANs,
# comments, groups and interfaces, a missing action, repeated keys, all-or-none
# AddRules/RemoveRules/ReplaceRules, NoSuchRule, LimitExceeded at MaxRules.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

PF_CALL=${PF_CALL:-$PF_BUILD_DIR/tests/gdbus/pf-call}
[ -x "$PF_CALL" ] || sandbox_missing "pf-call not built: $PF_CALL (needs gio-2.0)"

readonly ERROR=org.example.PacketFilter1.Error

# Everything a refused call must leave alone (counters aside: traffic may move them).
snapshot() {
        pf_get_property Generation
        pf_get_property RuleCount
        pf_get_property DefaultAction
        pf_get_property Interfaces
        "$PF_CALL" ListRules | sed -E "s/'(packets|bytes)': <uint64 [0-9]+>, //g"
}

# pf METHOD ARGS: the call through pf-call; ARGS "@FILE" reads the arguments from FILE.
pf() {
        if [[ $2 == @* ]]; then
                "$PF_CALL" "$1" - <"${2#@}"
        else
                "$PF_CALL" "$@"
        fi
}

# accepted METHOD ARGS: the call succeeds; prints its reply.
accepted() {
        local output
        output=$(pf "$@") || fail "$1 ${2:0:200} was refused: $output"
        printf '%s\n' "$output"
}

# refused ERROR FIELD METHOD ARGS: the call fails with ERROR, its message contains FIELD,
# and the daemon's state is as before.
refused() {
        local error=$1 field=$2 method=$3 args=$4 before after output status=0 shown
        shown=${args:0:160}
        before=$(snapshot)
        output=$(pf "$method" "$args") || status=$?
        [ "$status" = 1 ] || fail "$method $shown: expected $error, but it exited $status: ${output:0:300}"
        [ "${output%%: *}" = "$error" ] || fail "$method $shown: expected $error, got ${output:0:300}"
        [[ ${output#*: } == *"$field"* ]] || fail "$method $shown: the message does not name '$field': $output"
        after=$(snapshot)
        if [ "$after" != "$before" ]; then
                diff <(echo "$before") <(echo "$after") | head -n 20 >&2 || true
                fail "$method $shown was refused ($output) but changed the daemon's state (diff above)"
        fi
        ok "$method $shown -> ${output:0:200}"
}

# The id in a reply like "(uint32 7,)".
reply_id() {
        [[ $1 =~ ^\(uint32\ ([0-9]+),\)$ ]] || fail "expected a reply '(uint32 ID,)', got '$1'"
        echo "${BASH_REMATCH[1]}"
}

# A rule of the AddRule kind with one more KEY and VALUE (GVariant text of the variant).
rule_with() {
        printf "({'action': <'drop'>, %s},)" "$1"
}

sandbox_start_all
pf_ctl attach "$SANDBOX_FW_IF"

step "a few rules to leave untouched"
ssh_rule=$(accepted AddRule "({'action': <'drop'>, 'source': <'192.0.2.0/24'>, 'protocol': <'tcp'>, 'port': <'22'>},)")
ssh_rule=$(reply_id "$ssh_rule")
g1_rule=$(accepted AddRule "({'action': <'pass'>, 'protocol': <'udp'>, 'port': <'53'>, 'group': <'g1'>},)")
g1_rule=$(reply_id "$g1_rule")
block=$(pf_call Block su "$SANDBOX_PEER_IPV6" 0)
block=${block#u }
ok "rules $ssh_rule (default), $g1_rule (g1), block $block; $(pf_get_property Generation)"

step "AddRule: unknown keys"
refused $ERROR.InvalidRule colour AddRule "$(rule_with "'colour': <'red'>")"
refused $ERROR.InvalidRule id AddRule "$(rule_with "'id': <uint32 7>")"
refused $ERROR.InvalidRule packets AddRule "$(rule_with "'packets': <uint64 0>")"
refused $ERROR.InvalidRule Action AddRule "({'Action': <'drop'>},)"

step "AddRule: every key with a value of another D-Bus type"
refused $ERROR.InvalidRule action AddRule "({'action': <uint32 1>},)"
refused $ERROR.InvalidRule action AddRule "({'action': <<'drop'>>},)"
while read -r key wrong; do
        refused $ERROR.InvalidRule "$key" AddRule "$(rule_with "'$key': $wrong")"
done <<'EOF'
source <uint32 3221225985>
destination <@as ['192.0.2.1']>
protocol <uint32 6>
port <uint32 22>
source-port <uint16 22>
icmp-type <'8'>
icmp-type <int32 8>
vlan <int32 7>
vlan <uint16 7>
interface <uint32 2>
priority <uint32 1>
priority <int64 1>
enabled <uint32 1>
enabled <'true'>
comment <int64 5>
group <uint32 1>
timeout <uint64 5>
timeout <int32 5>
EOF
refused org.freedesktop.DBus.Error.InvalidArgs "a{sv}" AddRule "({'action': 'drop'},)"

step "AddRule: bad addresses (InvalidAddress)"
for bad in 192.0.2.256 not-an-address 2001:db8::/129 192.0.2.0/33 192.0.2.1/24 2001:db8:::1 "" 192.0.2.1/ " 192.0.2.1"; do
        refused $ERROR.InvalidAddress source AddRule "$(rule_with "'source': <'$bad'>")"
done
for bad in 192.0.2.300 2001:db8::1/64 example.org; do
        refused $ERROR.InvalidAddress destination AddRule "$(rule_with "'destination': <'$bad'>")"
done
refused $ERROR.InvalidRule destination AddRule "$(rule_with "'source': <'192.0.2.2'>, 'destination': <'2001:db8::1'>")"

step "AddRule: bad protocols"
for bad in tcpp 256 -1 "" "tcp " 6x; do
        refused $ERROR.InvalidRule protocol AddRule "$(rule_with "'protocol': <'$bad'>")"
done
refused $ERROR.InvalidRule protocol AddRule "$(rule_with "'protocol': <'icmp'>, 'source': <'2001:db8::2'>")"
refused $ERROR.InvalidRule protocol AddRule "$(rule_with "'protocol': <'icmpv6'>, 'destination': <'192.0.2.1'>")"

step "AddRule: ports only with tcp, udp or sctp, and well formed"
refused $ERROR.InvalidRule port AddRule "$(rule_with "'port': <'22'>")"
refused $ERROR.InvalidRule source-port AddRule "$(rule_with "'source-port': <'1024'>")"
for proto in icmp icmpv6 47; do
        refused $ERROR.InvalidRule port AddRule "$(rule_with "'protocol': <'$proto'>, 'port': <'22'>")"
done
for bad in 8100-8000 65536 ssh "" 22- -22 022 1-2-3 "22 "; do
        refused $ERROR.InvalidRule port AddRule "$(rule_with "'protocol': <'tcp'>, 'port': <'$bad'>")"
done
refused $ERROR.InvalidRule reversed AddRule "$(rule_with "'protocol': <'udp'>, 'port': <'8100-8000'>")"
refused $ERROR.InvalidRule source-port AddRule "$(rule_with "'protocol': <'udp'>, 'source-port': <'2000-1000'>")"

step "AddRule: icmp-type only with icmp or icmpv6, vlan up to 4095"
refused $ERROR.InvalidRule icmp-type AddRule "$(rule_with "'icmp-type': <uint32 8>")"
refused $ERROR.InvalidRule icmp-type AddRule "$(rule_with "'protocol': <'tcp'>, 'icmp-type': <uint32 8>")"
refused $ERROR.InvalidRule icmp-type AddRule "$(rule_with "'protocol': <'icmp'>, 'icmp-type': <uint32 256>")"
refused $ERROR.InvalidRule vlan AddRule "$(rule_with "'vlan': <uint32 4096>")"
refused $ERROR.InvalidRule vlan AddRule "$(rule_with "'vlan': <uint32 4294967295>")"

step "AddRule: comments, groups, interfaces"
comment_257=$(printf 'c%.0s' $(seq 257))
refused $ERROR.InvalidRule comment AddRule "$(rule_with "'comment': <'$comment_257'>")"
refused $ERROR.InvalidRule comment AddRule "$(rule_with "'comment': <'line\\nbreak'>")"
group_65=$(printf 'g%.0s' $(seq 65))
for bad in "" "has space" "a/b" "$group_65" "é"; do
        refused $ERROR.InvalidRule group AddRule "$(rule_with "'group': <'$bad'>")"
done
for bad in "" "a/b" "veth:0" "sixteen-bytes-xx" "."; do
        refused $ERROR.InvalidRule interface AddRule "$(rule_with "'interface': <'$bad'>")"
done

step "AddRule: the action is required, once"
refused $ERROR.InvalidRule action AddRule "({'source': <'192.0.2.5'>},)"
refused $ERROR.InvalidRule action AddRule "(@a{sv} {},)"
refused $ERROR.InvalidRule action AddRule "({'action': <'reject'>},)"
refused $ERROR.InvalidRule action AddRule "({'action': <'drop'>, 'action': <'pass'>},)"
refused $ERROR.InvalidRule source AddRule "$(rule_with "'source': <'192.0.2.5'>, 'source': <'192.0.2.5'>")"
# busctl can repeat a key too; it shows the message only.
output=$(pf_call AddRule 'a{sv}' 2 action s drop action s drop 2>&1) && fail "busctl: a repeated key was accepted"
[[ $output == *action* ]] || fail "busctl: the message does not name 'action': $output"
ok "busctl AddRule with 'action' twice: $output"

step "AddRules is all or none: the bad rule is named by its index"
good="{'action': <'drop'>, 'protocol': <'udp'>, 'port': <'9000'>}"
refused $ERROR.InvalidRule "rule 2" AddRules "([$good, $good, {'action': <'drop'>, 'vlan': <uint32 4096>}, $good, $good],)"
refused $ERROR.InvalidAddress "rule 4" AddRules "([$good, $good, $good, $good, {'action': <'drop'>, 'source': <'192.0.2.999'>}],)"
refused $ERROR.InvalidRule "rule 1" AddRules "([$good, {'action': <'drop'>, 'priority': <uint32 1>}],)"
refused $ERROR.InvalidRule "rule 0" AddRules "([{'action': <'drop'>, 'colour': <'red'>}, $good],)"
refused $ERROR.InvalidRule "rule 3" AddRules "([$good, $good, $good, {'action': <'drop'>, 'action': <'drop'>}],)"

step "RemoveRule, RemoveRules, SetRuleEnabled, GetRule of a missing id (NoSuchRule)"
refused $ERROR.NoSuchRule 424242 RemoveRule "(uint32 424242,)"
refused $ERROR.NoSuchRule 0 RemoveRule "(uint32 0,)"
refused $ERROR.NoSuchRule 424242 RemoveRules "([uint32 $ssh_rule, 424242, $g1_rule],)"
refused $ERROR.NoSuchRule 424243 RemoveRules "([uint32 424243],)"
refused $ERROR.NoSuchRule 424242 SetRuleEnabled "(uint32 424242, false)"
refused $ERROR.NoSuchRule 424242 GetRule "(uint32 424242,)"
accepted GetRule "(uint32 $ssh_rule,)" >/dev/null
accepted GetRule "(uint32 $g1_rule,)" >/dev/null
ok "rules $ssh_rule and $g1_rule are still there"

step "RemoveRules naming one id twice: removed once, or refused and nothing changed"
# The only block rule, so that counting it twice cannot hide behind other rules.
before=$(snapshot)
status=0
output=$(pf RemoveRules "([uint32 $block, $block],)") || status=$?
if [ "$status" = 0 ]; then
        check_eq "GetRule($block) after removing it" "$ERROR.NoSuchRule" \
                "$(pf GetRule "(uint32 $block,)" | sed 's/: .*//')"
        block=$(pf_call Block su "$SANDBOX_PEER_IPV6" 0)
        block=${block#u }
        ok "RemoveRules with $block twice removed it once; blocked again as $block"
else
        [[ ${output%%: *} == @($ERROR.InvalidRule|$ERROR.NoSuchRule) ]] ||
                fail "RemoveRules([$block, $block]): $output (expected success, InvalidRule or NoSuchRule)"
        [ "$(snapshot)" = "$before" ] || fail "RemoveRules([$block, $block]) was refused but changed the state"
        ok "RemoveRules with $block twice: $output"
fi

step "ReplaceRules: only rules of the group replaced, and all or none"
refused $ERROR.InvalidRule group ReplaceRules "('g1', [{'action': <'drop'>, 'protocol': <'udp'>, 'group': <'g2'>}])"
# Naming the default group explicitly is naming another group, like any other.
refused $ERROR.InvalidRule group ReplaceRules "('g1', [{'action': <'drop'>, 'protocol': <'udp'>, 'group': <'default'>}])"
refused $ERROR.InvalidRule "rule 1" ReplaceRules "('g1', [$good, {'action': <'drop'>, 'port': <'1'>}])"
refused $ERROR.InvalidRule group ReplaceRules "('bad group', @aa{sv} [])"
refused $ERROR.InvalidRule group ReplaceRules "('', @aa{sv} [])"
refused $ERROR.InvalidRule group ListRulesInGroup "('bad group',)"

step "SetDefaultAction, Block, Unblock, AttachInterface, DetachInterface with bad values"
for bad in maybe "" DROP reject; do
        refused $ERROR.InvalidRule "'$bad'" SetDefaultAction "('$bad',)"
done
refused $ERROR.InvalidAddress 192.0.2.256 Block "('192.0.2.256', uint32 0)"
refused $ERROR.InvalidAddress nope Unblock "('nope',)"
refused $ERROR.NoSuchInterface pf-nonexistent AttachInterface "('pf-nonexistent', 'auto')"
refused $ERROR.NoSuchInterface pf-nonexistent DetachInterface "('pf-nonexistent',)"

step "LimitExceeded: more classifier rules than MaxRules"
max_rules=$(pf_get_property MaxRules)
max_rules=${max_rules#u }
# One rule per line of a GVariant-text AddRules call, ports counting up from FIRST_PORT.
write_rules() {
        local file=$1 n=$2 first_port=$3 group=$4
        python3 - "$n" "$first_port" "$group" >"$file" <<'EOF'
import sys
n, first, group = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rules = ",\n".join(f"{{'action': <'drop'>, 'protocol': <'tcp'>, 'port': <'{first + i}'>, 'group': <'{group}'>}}"
                   for i in range(n))
print(f"([{rules}],)")
EOF
}
write_rules "$SANDBOX_DIR/too-many.txt" $((max_rules + 1)) 10000 fill
refused $ERROR.LimitExceeded "$max_rules" AddRules "@$SANDBOX_DIR/too-many.txt"
# Fill up to two short of the limit (one rule of ours is a classifier rule already: ssh,
# g1; the block is not), then ask for five more.
rule_count=$(pf_get_property RuleCount)
classifier=$((${rule_count#u } - 1))
write_rules "$SANDBOX_DIR/fill.txt" $((max_rules - classifier - 2)) 10000 fill
accepted AddRules "@$SANDBOX_DIR/fill.txt" >/dev/null
ok "$((max_rules - 2)) classifier rules"
write_rules "$SANDBOX_DIR/five.txt" 5 30000 more
refused $ERROR.LimitExceeded "$max_rules" AddRules "@$SANDBOX_DIR/five.txt"
refused $ERROR.LimitExceeded "$max_rules" ReplaceRules "('g1', [$good, $good, $good, $good])"
write_rules "$SANDBOX_DIR/two.txt" 2 30000 more
accepted AddRules "@$SANDBOX_DIR/two.txt" >/dev/null
check_eq "RuleCount at the limit" "u $((max_rules + 1))" "$(pf_get_property RuleCount)"
refused $ERROR.LimitExceeded "$max_rules" AddRule "$(rule_with "'protocol': <'udp'>")"
# Blocks live in the prefix structure: the classifier's limit does not stop them.
accepted Block "('192.0.2.77', uint32 0)" >/dev/null
ok "a block is still accepted with the classifier full"
accepted ReplaceRules "('fill', @aa{sv} [])" >/dev/null
check_eq "RuleCount after emptying group fill" "u 6" "$(pf_get_property RuleCount)"

step "the filter still works"
check_ping_blocked "$SANDBOX_FW_IPV6"
check_ping_passes "$SANDBOX_FW_IPV4"
