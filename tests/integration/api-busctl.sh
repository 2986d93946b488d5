#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every method and property of org.example.PacketFilter1 through busctl, the way a
# script drives it, with real traffic from the peer namespace: a rule on protocol and
# port drops exactly what it names (TCP/UDP probes), SetRuleEnabled false lets it pass
# again, priorities decide the first match, ReplaceRules swaps one group only, the
# default action drop stops pings but not ARP or neighbour discovery, ResetCounters
# zeroes the counters. Each committed change raises Generation by exactly one.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

generation() {
        pf_get_property Generation | sed -n 's/^t //p'
}

# busctl call, with "--" so that negative numbers are arguments, not options.
bus_call() {
        busctl --system --timeout=30 call -- "$PF_BUS_NAME" "$PF_OBJECT_PATH" "$PF_INTERFACE" "$@"
}

# change METHOD SIGNATURE ARG...: a committed change through busctl: it succeeds, and
# Generation rises by exactly one. Prints the reply.
change() {
        local method=$1 before after reply
        before=$(generation)
        reply=$(bus_call "$@") || fail "$method failed"
        after=$(generation)
        [ "$after" = $((before + 1)) ] ||
                fail "$method: Generation went from $before to $after, expected exactly $((before + 1))"
        printf '%s\n' "$reply"
}

# The single u in a reply like "u 7".
reply_id() {
        [[ $1 =~ ^u\ ([0-9]+)$ ]] || fail "expected a reply 'u ID', got '$1'"
        echo "${BASH_REMATCH[1]}"
}

# FIELD of rule ID as "TYPE VALUE" (from GetRule); "absent" when the rule has no such key.
rule_field() {
        pf_call_json GetRule u "$1" | python3 -c '
import json, sys
rule = json.load(sys.stdin)["data"][0]
field = sys.argv[1]
if field not in rule:
    print("absent")
else:
    value = rule[field]["data"]
    print(rule[field]["type"], json.dumps(value) if isinstance(value, str) else str(value).lower())
' "$2"
}

rule_packets() {
        rule_field "$1" packets | sed -n 's/^t //p'
}

# The ids of a reply like "au 3 7 8 9".
reply_ids() {
        local -a words
        read -r -a words <<<"$1"
        [[ ${words[0]} = au && ${words[1]} = $((${#words[@]} - 2)) ]] || fail "expected 'au N ID...', got '$1'"
        echo "${words[@]:2}"
}

# The ids of the rules a list method returns, in its order.
listed_ids() {
        pf_call_json "$@" | python3 -c '
import json, sys
print(" ".join(str(rule["id"]["data"]) for rule in json.load(sys.stdin)["data"][0]))'
}

# probe tcp|udp ADDRESS PORT, from the peer to the filtered side, where nothing listens:
# "passed" when the fw kernel answered (TCP reset, ICMP port unreachable), "dropped" when
# nothing came back within a second.
probe() {
        in_peer python3 - "$@" <<'EOF'
import socket, sys
proto, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
family = socket.AF_INET6 if ":" in address else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
s.settimeout(1.0)
try:
    s.connect((address, port))
    if proto == "udp":
        s.send(b"packetfilter probe")
        s.recv(64)
    print("passed")
except ConnectionRefusedError:
    print("passed")
except (socket.timeout, TimeoutError):
    print("dropped")
EOF
}

# check_probe passed|dropped tcp|udp ADDRESS PORT (a "passed" is tried twice: one lost
# answer is not a drop).
check_probe() {
        local expected=$1 got
        shift
        got=$(probe "$@")
        [ "$got" = "$expected" ] || [ "$expected" = dropped ] || got=$(probe "$@")
        [ "$got" = "$expected" ] || fail "$1 to [$2]:$3 from the peer: $got, expected $expected"
        ok "$1 to [$2]:$3 from the peer is $got"
}

# The neighbour entry NS has for ADDRESS carries a link-layer address (resolved).
neighbour_resolved() {
        local ns=$1 address=$2 entry
        entry=$(ip -n "$ns" neigh show "$address" dev "${3:-$SANDBOX_PEER_IF}")
        [[ $entry == *lladdr* ]] && [[ $entry != *FAILED* ]] && [[ $entry != *INCOMPLETE* ]]
}

command -v sysctl >/dev/null || sandbox_missing "command 'sysctl' not found (Debian package procps)"
sandbox_start_all
# The probes count on an answer to every packet that passes: no ICMP rate limit in the
# filtered namespace (its own sysctls, not the host's).
in_fw sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0

step "properties"
version=$(pf_get_property Version)
[[ $version =~ ^s\ \"[0-9]+\.[0-9]+ ]] || fail "Version is '$version'"
ok "Version = $version"
check_eq "DefaultAction" 's "pass"' "$(pf_get_property DefaultAction)"
check_eq "Interfaces" "a(ss) 0" "$(pf_get_property Interfaces)"
check_eq "RuleCount" "u 0" "$(pf_get_property RuleCount)"
check_eq "Generation" "t 0" "$(pf_get_property Generation)"
check_eq "MaxRules" "u 4096" "$(pf_get_property MaxRules)"
busctl --system introspect "$PF_BUS_NAME" "$PF_OBJECT_PATH" "$PF_INTERFACE" >"$SANDBOX_DIR/introspect.txt"
for property in Version DefaultAction Interfaces RuleCount Generation MaxRules; do
        grep -q "^\.$property  *property" "$SANDBOX_DIR/introspect.txt" || fail "busctl introspect does not list $property"
done
ok "busctl introspect lists every property"

step "AttachInterface($SANDBOX_FW_IF, auto)"
pf_call AttachInterface ss "$SANDBOX_FW_IF" auto
interfaces=$(pf_get_property Interfaces)
[[ $interfaces =~ ^a\(ss\)\ 1\ \"$SANDBOX_FW_IF\"\ \"(native|generic)\"$ ]] || fail "Interfaces: $interfaces"
ok "Interfaces = $interfaces"
check_eq "Generation (attaching is a committed change too)" 1 "$(generation)"
check_probe passed tcp "$SANDBOX_FW_IPV4" 22
check_probe passed udp "$SANDBOX_FW_IPV4" 22
check_ping_passes "$SANDBOX_FW_IPV4"

step "AddRule exactly as the issue writes it: drop source 192.0.2.0/24 protocol tcp port 22"
before=$(generation)
reply=$(busctl call org.example.PacketFilter /org/example/PacketFilter org.example.PacketFilter1 AddRule 'a{sv}' 4 action s drop source s 192.0.2.0/24 protocol s tcp port s 22)
ssh_rule=$(reply_id "$reply")
ok "AddRule -> $ssh_rule"
check_eq "Generation" $((before + 1)) "$(generation)"
check_eq "RuleCount" "u 1" "$(pf_get_property RuleCount)"
check_eq "action" 's "drop"' "$(rule_field "$ssh_rule" action)"
check_eq "source" 's "192.0.2.0/24"' "$(rule_field "$ssh_rule" source)"
check_eq "protocol" 's "tcp"' "$(rule_field "$ssh_rule" protocol)"
check_eq "port" 's "22"' "$(rule_field "$ssh_rule" port)"
check_eq "group" 's "default"' "$(rule_field "$ssh_rule" group)"
check_eq "enabled" "b true" "$(rule_field "$ssh_rule" enabled)"
check_eq "expires" "t 0" "$(rule_field "$ssh_rule" expires)"

step "the rule drops TCP to port 22 from the peer, and nothing else"
check_probe dropped tcp "$SANDBOX_FW_IPV4" 22
check_probe passed tcp "$SANDBOX_FW_IPV4" 23
check_probe passed udp "$SANDBOX_FW_IPV4" 22
check_probe passed tcp "$SANDBOX_FW_IPV6" 22
check_ping_passes "$SANDBOX_FW_IPV4"
check_gt "packets counted by rule $ssh_rule" "$(rule_packets "$ssh_rule")" 0
check_gt "bytes counted by rule $ssh_rule" "$(rule_field "$ssh_rule" bytes | sed -n 's/^t //p')" 0

step "SetRuleEnabled false: TCP to port 22 passes again; true: dropped again"
change SetRuleEnabled ub "$ssh_rule" false >/dev/null
check_eq "enabled" "b false" "$(rule_field "$ssh_rule" enabled)"
packets=$(rule_packets "$ssh_rule")
check_probe passed tcp "$SANDBOX_FW_IPV4" 22
check_eq "packets of the disabled rule" "$packets" "$(rule_packets "$ssh_rule")"
change SetRuleEnabled ub "$ssh_rule" true >/dev/null
check_probe dropped tcp "$SANDBOX_FW_IPV4" 22
check_gt "packets of the enabled rule" "$(rule_packets "$ssh_rule")" "$packets"

step "every key of the rule model round-trips through AddRule and GetRule"
full=$(reply_id "$(change AddRule 'a{sv}' 13 \
        action s pass source s 192.0.2.2 destination s 192.0.2.1 protocol s udp \
        port s 7000-7010 source-port s 1024-65535 vlan u 7 interface s "$SANDBOX_FW_IF" \
        priority i -20 enabled b false comment s "all keys" group s scripts timeout u 3600)")
for pair in 'action s "pass"' 'source s "192.0.2.2"' 'destination s "192.0.2.1"' 'protocol s "udp"' \
            'port s "7000-7010"' 'source-port s "1024-65535"' 'vlan u 7' "interface s \"$SANDBOX_FW_IF\"" \
            'priority i -20' 'enabled b false' 'comment s "all keys"' 'group s "scripts"' "id u $full"; do
        read -r key value <<<"$pair"
        check_eq "rule $full: $key" "$value" "$(rule_field "$full" "$key")"
done
for key in packets bytes created expires; do
        [[ $(rule_field "$full" "$key") =~ ^t\ [0-9]+$ ]] || fail "rule $full: $key is $(rule_field "$full" "$key")"
done
created=$(rule_field "$full" created | sed -n 's/^t //p')
expires=$(rule_field "$full" expires | sed -n 's/^t //p')
check_eq "expires - created (timeout 3600 s), in seconds" 3600 $(((expires - created + 500000) / 1000000))
check_eq "timeout is not returned (expires is)" absent "$(rule_field "$full" timeout)"
icmp=$(reply_id "$(change AddRule 'a{sv}' 4 action s drop protocol s icmp icmp-type u 13 group s scripts)")
check_eq "rule $icmp: icmp-type" "u 13" "$(rule_field "$icmp" icmp-type)"
check_eq "rule $icmp: protocol" 's "icmp"' "$(rule_field "$icmp" protocol)"
check_ping_passes "$SANDBOX_FW_IPV4"

step "priority: the first matching rule in (priority, id) order decides"
allow=$(reply_id "$(change AddRule 'a{sv}' 5 action s pass source s 192.0.2.2 protocol s tcp port s 22 priority i -1)")
check_probe passed tcp "$SANDBOX_FW_IPV4" 22
check_gt "packets of the pass rule $allow (priority -1)" "$(rule_packets "$allow")" 0
check_eq "ListRules order: (priority, id)" "$full $allow $ssh_rule $icmp" "$(listed_ids ListRules)"
change RemoveRule u "$allow" >/dev/null
check_probe dropped tcp "$SANDBOX_FW_IPV4" 22
check_eq "GetRule of the removed rule" org.example.PacketFilter1.Error.NoSuchRule \
        "$(pf_call_error_name GetRule uint32:"$allow")"

step "AddRules: UDP port range and IPv6, all in one change"
ids=$(reply_ids "$(change AddRules 'aa{sv}' 2 \
        3 action s drop protocol s udp port s 5000-5010 \
        4 action s drop source s 2001:db8::/64 protocol s tcp port s 22)")
read -r udp_range v6_ssh <<<"$ids"
ok "AddRules -> $udp_range $v6_ssh"
check_eq "RuleCount" "u 5" "$(pf_get_property RuleCount)"
check_probe dropped udp "$SANDBOX_FW_IPV4" 5000
check_probe dropped udp "$SANDBOX_FW_IPV4" 5010
check_probe passed udp "$SANDBOX_FW_IPV4" 5011
check_probe passed udp "$SANDBOX_FW_IPV4" 4999
check_probe dropped tcp "$SANDBOX_FW_IPV6" 22
check_probe passed tcp "$SANDBOX_FW_IPV6" 23
check_gt "packets of the IPv6 rule $v6_ssh" "$(rule_packets "$v6_ssh")" 0

step "ReplaceRules swaps the rules of one group and no other"
check_eq "ListRulesInGroup(scripts)" "$full $icmp" "$(listed_ids ListRulesInGroup s scripts)"
old_scripts=$(listed_ids ListRulesInGroup s scripts)
scripts=$(reply_ids "$(change ReplaceRules 'saa{sv}' scripts 2 \
        3 action s drop protocol s udp port s 6000 \
        3 action s drop protocol s udp port s 6001)")
ok "ReplaceRules(scripts) -> $scripts"
check_eq "ListRulesInGroup(scripts)" "$scripts" "$(listed_ids ListRulesInGroup s scripts)"
for id in $old_scripts; do
        check_eq "GetRule($id) after the replace" org.example.PacketFilter1.Error.NoSuchRule \
                "$(pf_call_error_name GetRule uint32:"$id")"
done
check_eq "ListRulesInGroup(default)" "$ssh_rule $udp_range $v6_ssh" "$(listed_ids ListRulesInGroup s default)"
check_probe dropped udp "$SANDBOX_FW_IPV4" 6000
check_probe dropped udp "$SANDBOX_FW_IPV4" 6001
scripts=$(reply_ids "$(change ReplaceRules 'saa{sv}' scripts 1 3 action s drop protocol s udp port s 6001)")
check_probe passed udp "$SANDBOX_FW_IPV4" 6000
check_probe dropped udp "$SANDBOX_FW_IPV4" 6001
check_probe dropped tcp "$SANDBOX_FW_IPV4" 22
check_eq "ListRulesInGroup(nobody)" "" "$(listed_ids ListRulesInGroup s nobody)"

step "Block and Unblock"
block=$(reply_id "$(change Block su "$SANDBOX_PEER_IPV4" 0)")
check_ping_blocked "$SANDBOX_FW_IPV4"
check_probe dropped udp "$SANDBOX_FW_IPV4" 6000
check_eq "Block again: the same rule" "u $block" "$(pf_call Block su "$SANDBOX_PEER_IPV4" 0)"
check_eq "Unblock" "u 1" "$(change Unblock s "$SANDBOX_PEER_IPV4")"
check_ping_passes "$SANDBOX_FW_IPV4"
check_eq "Unblock again" "u 0" "$(pf_call Unblock s "$SANDBOX_PEER_IPV4")"
short=$(reply_id "$(change Block su "$SANDBOX_PEER_IPV6" 2)")
check_ping_blocked "$SANDBOX_FW_IPV6"
sandbox_wait 6 "the 2 s block to expire" sh -c "! busctl --system call $PF_BUS_NAME $PF_OBJECT_PATH $PF_INTERFACE GetRule u $short" ||
        fail "the 2 s block $short is still there"
check_ping_passes "$SANDBOX_FW_IPV6"

step "SetDefaultAction drop: pings fail, ARP and neighbour discovery still work"
generation_before=$(generation)
pf_call SetDefaultAction s drop
check_eq "DefaultAction" 's "drop"' "$(pf_get_property DefaultAction)"
check_eq "Generation" $((generation_before + 1)) "$(generation)"
ip -n "$SANDBOX_PEER_NS" neigh flush dev "$SANDBOX_PEER_IF"
ip -n "$SANDBOX_FW_NS" neigh flush dev "$SANDBOX_FW_IF"
check_ping_blocked "$SANDBOX_FW_IPV4"
check_ping_blocked "$SANDBOX_FW_IPV6"
check_probe dropped tcp "$SANDBOX_FW_IPV4" 23
neighbour_resolved "$SANDBOX_PEER_NS" "$SANDBOX_FW_IPV4" || fail "the peer cannot resolve $SANDBOX_FW_IPV4 (ARP)"
neighbour_resolved "$SANDBOX_PEER_NS" "$SANDBOX_FW_IPV6" || fail "the peer cannot resolve $SANDBOX_FW_IPV6 (ND)"
ok "the peer resolved the filtered side's IPv4 (ARP) and IPv6 (ND) addresses"
# The other way round: the fw side's own requests are answered (replies cross the filter).
# Flushed again: the peer's requests taught the fw side the peer's address already.
ip -n "$SANDBOX_FW_NS" neigh flush dev "$SANDBOX_FW_IF"
in_fw ping -n -q -c 1 -W 1 "$SANDBOX_PEER_IPV4" >/dev/null 2>&1 || true
in_fw ping -n -q -c 1 -W 1 "$SANDBOX_PEER_IPV6" >/dev/null 2>&1 || true
neighbour_resolved "$SANDBOX_FW_NS" "$SANDBOX_PEER_IPV4" "$SANDBOX_FW_IF" ||
        fail "the filtered side cannot resolve $SANDBOX_PEER_IPV4: the ARP reply was dropped"
neighbour_resolved "$SANDBOX_FW_NS" "$SANDBOX_PEER_IPV6" "$SANDBOX_FW_IF" ||
        fail "the filtered side cannot resolve $SANDBOX_PEER_IPV6: the neighbour advertisement was dropped"
ok "the filtered side resolved the peer (ARP reply and neighbour advertisement passed)"
pass_rule=$(reply_id "$(change AddRule 'a{sv}' 3 action s pass protocol s udp port s 7777)")
check_probe passed udp "$SANDBOX_FW_IPV4" 7777
check_probe dropped udp "$SANDBOX_FW_IPV4" 7778
dropped=$(pf_statistic dropped-by-default)
check_gt "statistic dropped-by-default" "$dropped" 0
check_gt "statistic always-passed (ARP, ND)" "$(pf_statistic always-passed)" 0
pf_call SetDefaultAction s pass
check_eq "DefaultAction" 's "pass"' "$(pf_get_property DefaultAction)"
check_ping_passes "$SANDBOX_FW_IPV4"
check_ping_passes "$SANDBOX_FW_IPV6"

step "GetStatistics and ResetCounters"
pf_call_json GetStatistics >"$SANDBOX_DIR/statistics.json"
for key in packets passed dropped dropped-by-rule dropped-by-default malformed non-ip fragments always-passed; do
        pf_json statistic "$key" <"$SANDBOX_DIR/statistics.json" >/dev/null || fail "GetStatistics has no '$key'"
done
check_gt "statistic packets" "$(pf_statistic packets)" 0
check_gt "statistic dropped-by-rule" "$(pf_statistic dropped-by-rule)" 0
check_gt "packets of rule $ssh_rule" "$(rule_packets "$ssh_rule")" 0
generation_before=$(generation)
# A stray packet (IPv6 multicast listener reports...) may land between the reset and the
# read: three tries to see every global counter at zero.
for attempt in 1 2 3; do
        pf_call ResetCounters
        nonzero=$(pf_call_json GetStatistics | python3 -c '
import json, sys
stats = json.load(sys.stdin)["data"][0]
print(" ".join(f"{k}={v}" for k, v in stats.items() if v))')
        [ -n "$nonzero" ] || break
        echo "attempt $attempt: not zero after ResetCounters: $nonzero"
done
[ -z "$nonzero" ] || fail "GetStatistics after ResetCounters: $nonzero"
ok "every global counter is 0 after ResetCounters"
for id in $(listed_ids ListRules); do
        check_eq "packets of rule $id after ResetCounters" "t 0" "$(rule_field "$id" packets)"
        check_eq "bytes of rule $id after ResetCounters" "t 0" "$(rule_field "$id" bytes)"
done
ok "ResetCounters left Generation at $(generation) (was $generation_before)"
check_probe dropped tcp "$SANDBOX_FW_IPV4" 22
check_gt "packets of rule $ssh_rule count again" "$(rule_packets "$ssh_rule")" 0

step "RemoveRules, ListRules"
count=$(pf_get_property RuleCount | sed -n 's/^u //p')
change RemoveRules au 3 "$udp_range" "$v6_ssh" "$pass_rule" >/dev/null
check_eq "RuleCount" "u $((count - 3))" "$(pf_get_property RuleCount)"
check_probe passed udp "$SANDBOX_FW_IPV4" 5005
check_probe passed tcp "$SANDBOX_FW_IPV6" 22
check_eq "ListRules" "$ssh_rule $scripts" "$(listed_ids ListRules)"

step "DetachInterface: the rules stay, the filter goes"
pf_call DetachInterface s "$SANDBOX_FW_IF"
check_eq "Interfaces" "a(ss) 0" "$(pf_get_property Interfaces)"
check_probe passed tcp "$SANDBOX_FW_IPV4" 22
check_probe passed udp "$SANDBOX_FW_IPV4" 6001
check_eq "rule $ssh_rule is still there" 's "drop"' "$(rule_field "$ssh_rule" action)"
