#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# polkit, method by method. Every mutating method of org.example.PacketFilter1:
#   - pf-test-user (no rule grants it anything): refused with AccessDenied or
#     InteractiveAuthorizationRequired, and nothing changes (Generation,
#     RuleCount, rules, interfaces, default action);
#   - pf-test-admin (group pf-test-admins, granted by a rule): allowed;
#   - pf-test-f2b, limited by the shipped example rule
#     (polkit/50-packetfilter-example.rules, with the names swapped for the
#     test ones) to the rule group "fail2ban": allowed on rules of that group,
#     refused (AccessDenied: the rule says NO) everywhere else;
#   - polkitd stopped: every unprivileged caller refused, even the granted
#     one; root (uid 0, never asked about) allowed.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

readonly F2B_USER=pf-test-f2b
readonly F2B_GROUP=fail2ban
REFUSED='^org\.freedesktop\.DBus\.Error\.(AccessDenied|InteractiveAuthorizationRequired)$'
DENIED='^org\.freedesktop\.DBus\.Error\.AccessDenied$'

command -v gdbus >/dev/null || sandbox_missing "gdbus (Debian package libglib2.0-bin)"

# gcall [--as USER] [--interactive] METHOD GVARIANT_ARG...: calls METHOD with
# gdbus (as root, or as USER) and prints "ok" or the D-Bus error name. gdbus
# sets the allow-interactive-authorization flag only with --interactive.
gcall() {
        local -a as=() flags=()
        while :; do
                case $1 in
                --as) as=(sandbox_run_as "$2"); shift 2 ;;
                --interactive) flags+=(--interactive); shift ;;
                *) break ;;
                esac
        done
        local method=$1 output name
        shift
        if output=$("${as[@]}" gdbus call --system --timeout 30 "${flags[@]}" --dest "$PF_BUS_NAME" \
                        --object-path "$PF_OBJECT_PATH" --method "$PF_INTERFACE.$method" "$@" 2>&1); then
                echo ok
                return 0
        fi
        name=$(sed -n 's/^Error: GDBus\.Error:\([^:]*\):.*/\1/p' <<<"$output" | head -n 1)
        echo "${name:-unparsed: $output}"
}

# gcall_reply METHOD ARG...: as root; prints gdbus's reply, e.g. "(uint32 5,)".
gcall_reply() {
        local method=$1
        shift
        gdbus call --system --timeout 30 --dest "$PF_BUS_NAME" --object-path "$PF_OBJECT_PATH" \
                --method "$PF_INTERFACE.$method" "$@"
}

# The id in a reply like "(uint32 5,)".
reply_id() {
        sed -n 's/^(uint32 \([0-9]*\),)$/\1/p'
}

generation() {
        pf_get_property Generation | sed -n 's/^t //p'
}

# Everything a refused call must leave alone, counters aside (no traffic
# flows here, but they are not part of what a call may change).
snapshot() {
        echo "Generation $(generation)"
        echo "RuleCount $(pf_rule_count)"
        echo "Interfaces $(pf_get_property Interfaces)"
        echo "DefaultAction $(pf_get_property DefaultAction)"
        pf_call_json ListRules | python3 -c '
import json, sys
rules = json.load(sys.stdin)["data"][0]
for rule in rules:
    print(sorted((k, v["data"]) for k, v in rule.items() if k not in ("packets", "bytes")))'
}

check_unchanged() {
        local what=$1 now
        now=$(snapshot)
        if [ "$now" != "$SNAPSHOT" ]; then
                diff <(echo "$SNAPSHOT") <(echo "$now") >&2 || true
                fail "$what changed the daemon's state"
        fi
        ok "nothing changed ($what)"
}

# expect PATTERN WHAT RESULT
expect() {
        local pattern=$1 what=$2 result=$3
        [[ $result =~ $pattern ]] || fail "$what: expected $pattern, got '$result'"
        ok "$what: $result"
}

rule_group_of() {
        gcall_reply GetRule "uint32 $1" | sed -n "s/.*'group': <'\([^']*\)'>.*/\1/p"
}

# Every mutating method, with arguments that are valid and would change
# something: only the authorization can stop it. mutate WHO CASE prints the
# result of gcall. Uses RULE_DEFAULT, RULE_F2B (ids of a rule in each group)
# and BLOCKED (an address blocked by root).
mutate() {
        local who=$1 case=$2
        local -a as=()
        [ "$who" = root ] || as=(--as "$who")
        case $case in
        AddRule)          gcall "${as[@]}" AddRule "{'action': <'drop'>, 'source': <'198.51.100.1'>, 'protocol': <'tcp'>}" ;;
        AddRules)         gcall "${as[@]}" AddRules "[{'action': <'drop'>, 'source': <'198.51.100.2'>}, {'action': <'pass'>, 'protocol': <'udp'>, 'port': <'53'>}]" ;;
        RemoveRule)       gcall "${as[@]}" RemoveRule "uint32 $RULE_DEFAULT" ;;
        RemoveRules)      gcall "${as[@]}" RemoveRules "[uint32 $RULE_DEFAULT, $RULE_F2B]" ;;
        ReplaceRules)     gcall "${as[@]}" ReplaceRules "'default'" "[{'action': <'drop'>, 'source': <'198.51.100.3'>}]" ;;
        SetRuleEnabled)   gcall "${as[@]}" SetRuleEnabled "uint32 $RULE_DEFAULT" false ;;
        SetDefaultAction) gcall "${as[@]}" SetDefaultAction "'drop'" ;;
        ResetCounters)    gcall "${as[@]}" ResetCounters ;;
        Block)            gcall "${as[@]}" Block "'198.51.100.4'" "uint32 0" ;;
        Unblock)          gcall "${as[@]}" Unblock "'$BLOCKED'" ;;
        AttachInterface)  gcall "${as[@]}" AttachInterface "'lo'" "'generic'" ;;
        DetachInterface)  gcall "${as[@]}" DetachInterface "'$SANDBOX_FW_IF'" ;;
        Reload)           gcall "${as[@]}" Reload ;;
        *) fail "no such case $case" ;;
        esac
}
readonly MUTATING_METHODS=(AddRule AddRules RemoveRule RemoveRules ReplaceRules SetRuleEnabled
        SetDefaultAction ResetCounters Block Unblock AttachInterface DetachInterface Reload)

# The shipped example, with the test's names: the service user, and the test
# admins' group for "netadmin". Each substitution must hit, so that an edit of
# the example that this test no longer follows fails here.
sandbox_init
example=$PF_SOURCE_DIR/polkit/50-packetfilter-example.rules
rules=$SANDBOX_DIR/40-packetfilter-example-test.rules
sed -e "s/subject\.user != \"fail2ban\"/subject.user != \"$F2B_USER\"/" \
    -e "s/isInGroup(\"netadmin\")/isInGroup(\"$SANDBOX_TEST_ADMIN_GROUP\")/" "$example" >"$rules"
grep -q "subject.user != \"$F2B_USER\"" "$rules" && grep -q "isInGroup(\"$SANDBOX_TEST_ADMIN_GROUP\")" "$rules" ||
        fail "$example no longer has the user and group this test substitutes"
grep -q "action.lookup(\"group\") == \"$F2B_GROUP\"" "$rules" ||
        fail "$example no longer limits the service user to the group $F2B_GROUP"
SANDBOX_POLKIT_RULES=("$rules")
sandbox_start_bus
sandbox_start_polkitd
sandbox_start_netns
sandbox_mount_bpffs
sandbox_start_daemon
sandbox_ensure_test_users
sandbox_ensure_user "$F2B_USER"

step "root sets the scene: an interface, a rule in group default, one in group $F2B_GROUP, a block"
check_eq "AttachInterface as root" ok "$(gcall AttachInterface "'$SANDBOX_FW_IF'" "'generic'")"
RULE_DEFAULT=$(gcall_reply AddRule "{'action': <'drop'>, 'source': <'203.0.113.0/24'>, 'protocol': <'udp'>}" | reply_id)
RULE_F2B=$(gcall_reply AddRule "{'action': <'drop'>, 'source': <'203.0.113.7'>, 'protocol': <'tcp'>, 'port': <'22'>, 'group': <'$F2B_GROUP'>}" | reply_id)
BLOCKED=198.51.100.200
check_eq "Block as root" ok "$(gcall Block "'$BLOCKED'" "uint32 0")"
[ -n "$RULE_DEFAULT" ] && [ -n "$RULE_F2B" ] || fail "root could not add the scene's rules"
check_eq "group of rule $RULE_F2B" "$F2B_GROUP" "$(rule_group_of "$RULE_F2B")"
SNAPSHOT=$(snapshot)
sandbox_log "state before the refused calls:"$'\n'"$SNAPSHOT"

step "$SANDBOX_TEST_USER is refused every mutating method, and nothing changes"
for method in "${MUTATING_METHODS[@]}"; do
        expect "$REFUSED" "$method as $SANDBOX_TEST_USER" "$(mutate "$SANDBOX_TEST_USER" "$method")"
done
# With the interactive flag and no agent to ask, still no.
expect "$REFUSED" "Block as $SANDBOX_TEST_USER, interactive" \
        "$(gcall --as "$SANDBOX_TEST_USER" --interactive Block "'198.51.100.5'" "uint32 0")"
check_unchanged "$SANDBOX_TEST_USER's calls"

step "$F2B_USER is refused everything outside the group $F2B_GROUP (the rule says NO: AccessDenied)"
for method in "${MUTATING_METHODS[@]}"; do
        expect "$DENIED" "$method as $F2B_USER" "$(mutate "$F2B_USER" "$method")"
done
expect "$DENIED" "AddRule in group web as $F2B_USER" \
        "$(gcall --as "$F2B_USER" AddRule "{'action': <'drop'>, 'source': <'198.51.100.6'>, 'group': <'web'>}")"
expect "$DENIED" "AddRules spanning $F2B_GROUP and default as $F2B_USER" \
        "$(gcall --as "$F2B_USER" AddRules "[{'action': <'drop'>, 'source': <'198.51.100.7'>, 'group': <'$F2B_GROUP'>}, {'action': <'drop'>, 'source': <'198.51.100.8'>}]")"
expect "$DENIED" "ReplaceRules web as $F2B_USER" \
        "$(gcall --as "$F2B_USER" ReplaceRules "'web'" "[{'action': <'drop'>, 'source': <'198.51.100.9'>}]")"
# Smuggling a rule of another group into the replaced one is refused before polkit is asked.
expect '^org\.example\.PacketFilter1\.Error\.InvalidRule$' "ReplaceRules $F2B_GROUP with a rule of group web as $F2B_USER" \
        "$(gcall --as "$F2B_USER" ReplaceRules "'$F2B_GROUP'" "[{'action': <'drop'>, 'source': <'198.51.100.9'>, 'group': <'web'>}]")"
expect "$DENIED" "SetRuleEnabled on rule $RULE_DEFAULT (default) as $F2B_USER" \
        "$(gcall --as "$F2B_USER" SetRuleEnabled "uint32 $RULE_DEFAULT" false)"
check_unchanged "$F2B_USER's refused calls"

step "$F2B_USER may manage the rules of the group $F2B_GROUP"
before=$(generation)
check_eq "AddRule in $F2B_GROUP as $F2B_USER" ok \
        "$(gcall --as "$F2B_USER" AddRule "{'action': <'drop'>, 'source': <'198.51.100.10'>, 'group': <'$F2B_GROUP'>}")"
check_eq "group of the rule on 198.51.100.10" "$F2B_GROUP" "$(pf_rule_field 198.51.100.10 group)"
check_eq "AddRules in $F2B_GROUP as $F2B_USER" ok \
        "$(gcall --as "$F2B_USER" AddRules "[{'action': <'drop'>, 'source': <'198.51.100.11'>, 'group': <'$F2B_GROUP'>}, {'action': <'drop'>, 'source': <'198.51.100.12'>, 'group': <'$F2B_GROUP'>}]")"
check_eq "SetRuleEnabled on rule $RULE_F2B ($F2B_GROUP) as $F2B_USER" ok \
        "$(gcall --as "$F2B_USER" SetRuleEnabled "uint32 $RULE_F2B" false)"
check_eq "RemoveRule $RULE_F2B ($F2B_GROUP) as $F2B_USER" ok \
        "$(gcall --as "$F2B_USER" RemoveRule "uint32 $RULE_F2B")"
id11=$(pf_rule_field 198.51.100.11 id)
id12=$(pf_rule_field 198.51.100.12 id)
check_eq "RemoveRules [$id11, $id12] ($F2B_GROUP) as $F2B_USER" ok \
        "$(gcall --as "$F2B_USER" RemoveRules "[uint32 $id11, $id12]")"
# Rules without a group join the group replaced.
check_eq "ReplaceRules $F2B_GROUP as $F2B_USER" ok \
        "$(gcall --as "$F2B_USER" ReplaceRules "'$F2B_GROUP'" "[{'action': <'drop'>, 'source': <'198.51.100.13'>}, {'action': <'drop'>, 'source': <'198.51.100.14'>, 'group': <'$F2B_GROUP'>}]")"
check_eq "rules of $F2B_GROUP after ReplaceRules" "198.51.100.13/32 198.51.100.14/32" \
        "$(pf_call_json ListRulesInGroup s "$F2B_GROUP" | pf_json rule-sources | sort | paste -sd ' ')"
check_gt "Generation after $F2B_USER's changes" "$(generation)" "$before"
check_eq "rule $RULE_DEFAULT (default) still there" default "$(rule_group_of "$RULE_DEFAULT")"
pf_call_json ListRules | pf_json rule-field "$BLOCKED" id >/dev/null
ok "the default group's rule and root's block are untouched"

step "$SANDBOX_TEST_ADMIN (granted) may call every mutating method"
SNAPSHOT=$(snapshot)
for method in "${MUTATING_METHODS[@]}"; do
        before=$(generation)
        check_eq "$method as $SANDBOX_TEST_ADMIN" ok "$(mutate "$SANDBOX_TEST_ADMIN" "$method")"
        case $method in
        AddRule | AddRules | RemoveRule | ReplaceRules | SetRuleEnabled | SetDefaultAction | Block | Unblock)
                check_gt "Generation after $method" "$(generation)" "$before" ;;
        esac
        # Each took effect; and give the next cases rules to work on.
        case $method in
        RemoveRule)
                RULE_DEFAULT=$(gcall_reply AddRule "{'action': <'drop'>, 'source': <'203.0.113.1'>, 'protocol': <'udp'>}" | reply_id)
                RULE_F2B=$(gcall_reply AddRule "{'action': <'drop'>, 'source': <'203.0.113.2'>, 'protocol': <'udp'>, 'group': <'$F2B_GROUP'>}" | reply_id) ;;
        RemoveRules)
                RULE_F2B=$(pf_rule_field 198.51.100.13 id) ;;
        ReplaceRules)
                # The group default holds just the new rule now (root's block went with it).
                check_eq "rules of group default" 1 "$(pf_call_json ListRulesInGroup s default | pf_json rule-count)"
                RULE_DEFAULT=$(pf_rule_field 198.51.100.3 id)
                BLOCKED=198.51.100.4 ;;
        SetRuleEnabled)
                check_eq "enabled of rule $RULE_DEFAULT" False "$(pf_rule_field 198.51.100.3 enabled)" ;;
        SetDefaultAction)
                check_eq "DefaultAction" 's "drop"' "$(pf_get_property DefaultAction)" ;;
        AttachInterface)
                [[ $(pf_get_property Interfaces) == *'"lo"'* ]] || fail "lo is not attached" ;;
        DetachInterface)
                [[ $(pf_get_property Interfaces) != *"\"$SANDBOX_FW_IF\""* ]] || fail "$SANDBOX_FW_IF is still attached" ;;
        esac
done
ok "every change took effect"

step "polkitd stopped: unprivileged callers refused (even granted ones), root allowed"
sandbox_stop_polkitd
SNAPSHOT=$(snapshot)
for user in "$SANDBOX_TEST_USER" "$SANDBOX_TEST_ADMIN" "$F2B_USER"; do
        for method in "${MUTATING_METHODS[@]}"; do
                expect "$REFUSED" "$method as $user without polkitd" "$(mutate "$user" "$method")"
        done
done
check_unchanged "calls without polkitd"
check_eq "Block as root without polkitd" ok "$(gcall Block "'198.51.100.20'" "uint32 0")"
check_eq "SetDefaultAction as root without polkitd" ok "$(gcall SetDefaultAction "'pass'")"
check_eq "AttachInterface as root without polkitd" ok "$(gcall AttachInterface "'$SANDBOX_FW_IF'" "'generic'")"
check_eq "RuleCount" "$(($(sed -n 's/^RuleCount //p' <<<"$SNAPSHOT") + 1))" "$(pf_rule_count)"
check_ping_passes "$SANDBOX_FW_IPV4"
check_eq "Block the peer as root without polkitd" ok "$(gcall Block "'$SANDBOX_PEER_IPV4'" "uint32 0")"
check_ping_blocked "$SANDBOX_FW_IPV4"
