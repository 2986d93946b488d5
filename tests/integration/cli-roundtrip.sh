#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# packetfilterctl over the whole rule API. A varied set of rules goes in through
# `add` (every word, odd comments, ranges, IPv6); every line `list --words` prints
# goes back through `add` and through `replace GROUP FILE` (into another group) and
# gives identical rules (ListRules dictionaries compared minus id, created and
# counters; expiries to the second); replace from a file and from stdin, and its
# errors naming the line with nothing changed; show, enable/disable, default,
# reset-counters with real traffic; --json output parses; exit codes 0/1/2; and -H
# with every command (ssh replaced by a stand-in that runs systemd-stdio-bridge).
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

# The rules, as ListRules dictionaries without what changes when a rule is made again.
rules_py() {
        python3 "$SANDBOX_DIR/rules.py" "$@"
}

# ListRules (all, or one group) through busctl: the daemon's own view, not the CLI's.
list_rules() {
        if [ $# -gt 0 ]; then
                pf_call_json ListRulesInGroup s "$1"
        else
                pf_call_json ListRules
        fi
}

generation() {
        pf_get_property Generation | sed -n 's/^t //p'
}

# check_status EXPECTED COMMAND...: runs COMMAND, checks its exit status, keeps its output
# in $output (stdout and stderr).
check_status() {
        local expected=$1 status=0
        shift
        output=$("$@" 2>&1) || status=$?
        [ "$status" = "$expected" ] || fail "'${*:2}' exited with $status, expected $expected: $output"
        ok "exit $status: ${*:2}"
}

# check_unchanged WHAT SNAPSHOT: the rules are still exactly those of SNAPSHOT.
check_unchanged() {
        list_rules >"$SANDBOX_DIR/now.json"
        rules_py same-ids "$2" "$SANDBOX_DIR/now.json" || fail "$1: the rules changed"
        ok "$1: nothing changed"
}

sandbox_start_all

cat >"$SANDBOX_DIR/rules.py" <<'EOF'
import json, sys

VOLATILE = {"id", "created", "packets", "bytes", "expires", "rate-limited"}


def unwrap(value):
    """Strip busctl's {"type", "data"} wrappers, recursively."""
    if isinstance(value, dict):
        if set(value) == {"type", "data"} and isinstance(value["type"], str):
            return unwrap(value["data"])
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def load(path):
    document = unwrap(json.load(open(path)))
    return document[0] if document and isinstance(document[0], list) else document


def fail(message):
    print(f"rules.py: {message}", file=sys.stderr)
    sys.exit(1)


command = sys.argv[1]
if command == "compare":
    # compare OLD NEW [GROUP]: NEW holds the same rules as OLD in the same order
    # (moved to GROUP if given), minus ids, times and counters; an expiry may only have
    # moved later by the seconds the round trip took.
    old, new = load(sys.argv[2]), load(sys.argv[3])
    group = sys.argv[4] if len(sys.argv) > 4 else None
    if len(old) != len(new):
        fail(f"{len(old)} rules before, {len(new)} after")
    for a, b in zip(old, new):
        a_fixed = {k: v for k, v in a.items() if k not in VOLATILE}
        b_fixed = {k: v for k, v in b.items() if k not in VOLATILE}
        if group:
            a_fixed["group"] = group
        if a_fixed != b_fixed:
            fail(f"rule {a['id']} came back different:\n  {json.dumps(a_fixed)}\n  {json.dumps(b_fixed)}")
        if (a["expires"] == 0) != (b["expires"] == 0):
            fail(f"rule {a['id']}: expires {a['expires']} came back as {b['expires']}")
        if a["expires"] and not -1_000_000 <= b["expires"] - a["expires"] <= 30_000_000:
            fail(f"rule {a['id']}: expires {a['expires']} came back as {b['expires']}")
    print(f"{len(old)} rules identical")
elif command == "same-ids":
    # same-ids OLD NEW: exactly the same rules (ids included), ignoring counters.
    strip = lambda rules: [{k: v for k, v in r.items() if k not in ("packets", "bytes", "rate-limited")} for r in rules]
    if strip(load(sys.argv[2])) != strip(load(sys.argv[3])):
        fail("the rules differ")
elif command == "ids":
    print(" ".join(str(rule["id"]) for rule in load(sys.argv[2])))
elif command == "find":
    # find FILE KEY VALUE: the ids of the rules whose KEY is VALUE (compared as text)
    print(" ".join(str(r["id"]) for r in load(sys.argv[2]) if str(r.get(sys.argv[3])) == sys.argv[4]))
elif command == "count":
    print(len(load(sys.argv[2])))
elif command == "field":
    # field FILE ID KEY: one value of one rule, "absent" if the rule lacks it
    rule = [r for r in load(sys.argv[2]) if r["id"] == int(sys.argv[3])]
    if not rule:
        fail(f"no rule {sys.argv[3]}")
    value = rule[0].get(sys.argv[4], "absent")
    print(json.dumps(value) if isinstance(value, bool) else value)
else:
    fail(f"unknown command {command}")
EOF

step "add a varied set of rules with packetfilterctl add (the shell splits the words)"
# One rule per line, quoted for the shell: every word, ranges, IPv6, comments with
# quotes, blanks, shell characters, leading dashes and non-ASCII text.
cat >"$SANDBOX_DIR/varied.words" <<'EOF'
drop from 192.0.2.0/24 proto tcp port 22 timeout 1h comment "ssh scanners"
pass to 2001:db8::/64 proto udp sport 1024-65535 port 8000-8100 priority -5
drop from 2001:db8::2 to 2001:db8::1 proto icmpv6 icmp-type 128 comment 'it'\''s "quoted" $HOME `x` \ # ; & | *'
drop proto icmp icmp-type 8 vlan 10 on veth-fw priority 2147483647 disabled
pass proto sctp port 9 group web comment "  blanks  around  "
drop proto 47 group web priority -2147483648 comment --json
drop from 198.51.100.0/24 to 192.0.2.1 proto tcp sport 0-1023 port 443 comment 'ünïcødé ☃'
pass from ::/0 timeout 2d3h comment -5
drop to 192.0.2.1 vlan 4095 comment '#not a comment'
drop from 203.0.113.7
drop priority 100 comment a=b disabled
pass from 2001:db8::/32 to 2001:db8:1::/48 proto tcp port 80-80 on veth-fw group web.v6 timeout 90
rate-limit proto udp port 53 rate 100 burst 20 per source
rate-limit from 198.51.100.0/24 rate 5 per rule comment "a whole network, one bucket"
rate-limit proto tcp port 22 rate 1
EOF
n_varied=0
while IFS= read -r line; do
        eval "pf_ctl add $line" >/dev/null || fail "packetfilterctl add $line"
        n_varied=$((n_varied + 1))
done <"$SANDBOX_DIR/varied.words"
id=$(pf_ctl block 192.0.2.77)
ok "block 192.0.2.77: rule $id"
n_rules=$((n_varied + 1))
check_eq "RuleCount" "$n_rules" "$(pf_rule_count)"
pf_ctl list
list_rules >"$SANDBOX_DIR/original.json"
check_eq "rules listed by ListRules" "$n_rules" "$(rules_py count "$SANDBOX_DIR/original.json")"
# A spot check that the words meant what they say, through the shell, add and the daemon.
quoted_id=$(rules_py find "$SANDBOX_DIR/original.json" icmp-type 128)
check_eq "comment of rule $quoted_id" "it's \"quoted\" \$HOME \`x\` \\ # ; & | *" \
        "$(rules_py field "$SANDBOX_DIR/original.json" "$quoted_id" comment)"

step "list --words: one line per rule, each one add takes"
pf_ctl list --words | tee "$SANDBOX_DIR/all.words"
check_eq "lines of list --words" "$n_rules" "$(wc -l <"$SANDBOX_DIR/all.words")"

step "remove every rule (remove ID... in one call), add the words back: identical rules"
# shellcheck disable=SC2046 # one argument per id
pf_ctl remove $(rules_py ids "$SANDBOX_DIR/original.json")
check_eq "RuleCount after remove" 0 "$(pf_rule_count)"
while IFS= read -r line; do
        eval "pf_ctl add $line" >/dev/null || fail "packetfilterctl add $line (a line list --words printed)"
done <"$SANDBOX_DIR/all.words"
list_rules >"$SANDBOX_DIR/readded.json"
rules_py compare "$SANDBOX_DIR/original.json" "$SANDBOX_DIR/readded.json"
ok "every rule list --words printed came back identical through add"
pf_ctl list --words >"$SANDBOX_DIR/all-again.words"
# Timeouts count down between the two listings: compare the rest of the words.
sed -E 's/ timeout [0-9dhms]+//' "$SANDBOX_DIR/all.words" >"$SANDBOX_DIR/a"
sed -E 's/ timeout [0-9dhms]+//' "$SANDBOX_DIR/all-again.words" >"$SANDBOX_DIR/b"
diff "$SANDBOX_DIR/a" "$SANDBOX_DIR/b" || fail "list --words changed across the round trip"
ok "list --words prints the same words again"

step "replace GROUP FILE: the default group's words, from a file, into group 'copy'"
# The default group is left out of the words, so the rules join the group replaced.
list_rules default >"$SANDBOX_DIR/default.json"
pf_ctl list --group default --words >"$SANDBOX_DIR/default.words"
check_eq "rules of group default" "$(rules_py count "$SANDBOX_DIR/default.json")" \
        "$(wc -l <"$SANDBOX_DIR/default.words")"
ids=$(pf_ctl replace copy "$SANDBOX_DIR/default.words")
check_eq "ids printed by replace" "$(rules_py count "$SANDBOX_DIR/default.json")" "$(wc -w <<<"$ids")"
list_rules copy >"$SANDBOX_DIR/copy.json"
rules_py compare "$SANDBOX_DIR/default.json" "$SANDBOX_DIR/copy.json" copy
ok "group copy holds the default group's rules"
pf_ctl list --group copy

step "replace GROUP -: from stdin, comments and blank lines, only that group changes"
list_rules web >"$SANDBOX_DIR/web-before.json"
list_rules default >"$SANDBOX_DIR/default-before.json"
ids=$(pf_ctl replace web - <<'EOF'
# the web group, rewritten
pass proto tcp port 80 comment "http"   # a trailing comment

	pass proto tcp port 443 priority -1 comment 'https, "tls"'
drop from 2001:db8::/64 proto udp port 8000-8100 group web
EOF
)
check_eq "rules replace printed ids for" 3 "$(wc -w <<<"$ids")"
list_rules web >"$SANDBOX_DIR/web.json"
check_eq "rules in group web" 3 "$(rules_py count "$SANDBOX_DIR/web.json")"
pf_ctl list --group web
[ "$(pf_ctl list --group web --words)" = "$(printf '%s\n' \
        "pass proto tcp port 443 priority -1 group web comment 'https, \"tls\"'" \
        "pass proto tcp port 80 group web comment http" \
        "drop from 2001:db8::/64 proto udp port 8000-8100 group web")" ] ||
        fail "group web holds other rules: $(pf_ctl list --group web --words)"
ok "group web holds exactly the rules of stdin"
list_rules default >"$SANDBOX_DIR/default-after.json"
rules_py same-ids "$SANDBOX_DIR/default-before.json" "$SANDBOX_DIR/default-after.json" ||
        fail "replacing group web changed group default"
ok "group default untouched"

step "replace errors: a bad line is a usage error naming it, a refused rule names its line; nothing changes"
list_rules >"$SANDBOX_DIR/before-errors.json"
generation_before=$(generation)
printf 'pass proto tcp port 80\n\n# fine so far\ndrop from 192.0.2.1 frm x\n' >"$SANDBOX_DIR/bad.words"
check_status 2 pf_ctl replace web "$SANDBOX_DIR/bad.words"
[[ $output == *"bad.words:4:"*"Unknown word 'frm'"* ]] || fail "the message does not name line 4 and the word: $output"
ok "says: $output"
check_status 2 pf_ctl replace web - <<<"drop comment 'unterminated"
[[ $output == *"stdin:1:"*quote* ]] || fail "the message does not name stdin:1 and the quote: $output"
check_status 2 pf_ctl replace web - <<<$'pass\npass port 1 port 2'
[[ $output == *"stdin:2:"*"'port' is given twice"* ]] || fail "unexpected message: $output"
check_status 1 pf_ctl replace web - <<<$'pass proto tcp port 80\n\npass proto udp port 99999'
[[ $output == *"stdin:3:"*99999* ]] || fail "the daemon's refusal is not mapped to line 3: $output"
ok "says: $output"
check_status 1 pf_ctl replace web - <<<$'pass proto tcp port 80 group other'
[[ $output == *"stdin:1:"*other* ]] || fail "a rule of another group is not refused on its line: $output"
check_status 1 pf_ctl replace web "$SANDBOX_DIR/no-such-file"
check_status 2 pf_ctl replace web
check_eq "Generation after failed replaces" "$generation_before" "$(generation)"
check_unchanged "after failed replaces" "$SANDBOX_DIR/before-errors.json"

step "show ID: key: value lines, and the words add takes"
id=$(pf_ctl add drop from 192.0.2.0/25 to 192.0.2.1 proto udp sport 53 port 1-1024 priority 7 \
        group show timeout 1h30m comment "shown: 'this'")
pf_ctl show "$id" | tee "$SANDBOX_DIR/show.txt"
for expected in "id: $id" "action: drop" "source: 192.0.2.0/25" "destination: 192.0.2.1" "protocol: udp" \
        "source-port: 53" "port: 1-1024" "priority: 7" "enabled: yes" "group: show" \
        "comment: shown: 'this'" "packets: 0"; do
        grep -qxF "$expected" "$SANDBOX_DIR/show.txt" || fail "show lacks the line '$expected'"
done
grep -q '^expires: .*(in 1h 30m)$' "$SANDBOX_DIR/show.txt" || fail "show: expiry not as expected"
# The timeout counts down between the two: compare the rest.
check_eq "show's words" "$(pf_ctl list --group show --words | sed -E 's/ timeout [0-9dhms]+//')" \
        "$(sed -n 's/^words: //p' "$SANDBOX_DIR/show.txt" | sed -E 's/ timeout [0-9dhms]+//')"
ok "show prints every key"
pf_ctl --json show "$id" | python3 -m json.tool >/dev/null || fail "show --json is not JSON"
python3 -c '
import json, sys
rule = json.loads(sys.argv[1])
assert rule["id"] == int(sys.argv[2]) and rule["comment"] == sys.argv[3] and rule["priority"] == 7 \
        and rule["enabled"] is True and rule["group"] == "show" and rule["port"] == "1-1024", rule
' "$(pf_ctl --json show "$id")" "$id" "shown: 'this'" || fail "show --json does not carry the rule"
ok "show --json carries the rule"

step "disable and enable"
pf_ctl disable "$id"
list_rules show >"$SANDBOX_DIR/show.json"
check_eq "enabled after disable" false "$(rules_py field "$SANDBOX_DIR/show.json" "$id" enabled)"
pf_ctl list --group show --words | grep -q ' disabled$' || fail "list --words does not say disabled"
pf_ctl show "$id" | grep -qx 'enabled: no' || fail "show does not say enabled: no"
pf_ctl enable "$id"
list_rules show >"$SANDBOX_DIR/show.json"
check_eq "enabled after enable" true "$(rules_py field "$SANDBOX_DIR/show.json" "$id" enabled)"
check_status 1 pf_ctl disable 999999
[[ $output == *999999* ]] || fail "the message does not name the id: $output"
check_status 2 pf_ctl enable nope
check_status 2 pf_ctl enable 0

step "default: show and set the default action"
check_eq "default" pass "$(pf_ctl default)"
pf_ctl default drop
check_eq "DefaultAction" 's "drop"' "$(pf_get_property DefaultAction)"
check_eq "default" drop "$(pf_ctl default)"
check_eq "default --json" drop "$(pf_ctl --json default | python3 -c 'import json,sys; print(json.load(sys.stdin)["default-action"])')"
check_status 1 pf_ctl default frob
[[ $output == *frob* ]] || fail "the message does not name the action: $output"
check_status 2 pf_ctl default drop pass
pf_ctl default pass
check_eq "DefaultAction" 's "pass"' "$(pf_get_property DefaultAction)"

step "reset-counters: a rule counts real pings, then reads 0"
pf_ctl attach "$SANDBOX_FW_IF"
id=$(pf_ctl add drop from "$SANDBOX_PEER_IPV4" proto icmp priority -100 group ping comment "count pings")
check_ping_blocked "$SANDBOX_FW_IPV4"
packets=$(pf_ctl --json show "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
check_gt "packets of rule $id" "$packets" 0
pf_ctl list --group ping
pf_ctl reset-counters
packets=$(pf_ctl --json show "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
check_eq "packets of rule $id after reset-counters" 0 "$packets"
check_eq "dropped (global) after reset-counters" 0 "$(pf_statistic dropped-by-rule)"
pf_ctl remove "$id"
check_ping_passes "$SANDBOX_FW_IPV4"

step "--json on every read command parses"
for command in "list" "list --group web" "show $(rules_py ids "$SANDBOX_DIR/web.json" | cut -d' ' -f1)" \
               "stats" "status" "default"; do
        # shellcheck disable=SC2086 # the words are meant to split
        pf_ctl --json $command | python3 -m json.tool >/dev/null || fail "'--json $command' is not JSON"
        # shellcheck disable=SC2086
        pf_ctl $command --json | python3 -m json.tool >/dev/null || fail "'$command --json' is not JSON"
        ok "--json $command parses"
done
check_eq "rules in list --json" "$(pf_rule_count)" \
        "$(pf_ctl --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
pf_ctl --json add pass comment json | python3 -c 'import json,sys; assert json.load(sys.stdin)["id"] > 0' ||
        fail "add --json does not print {\"id\": N}"
pf_ctl --json replace json - <<<"pass comment json" |
        python3 -c 'import json,sys; assert len(json.load(sys.stdin)["ids"]) == 1' ||
        fail "replace --json does not print {\"ids\": [...]}"

step "exit codes: 0 success, 1 refused by the daemon, 2 usage (nothing sent)"
list_rules >"$SANDBOX_DIR/before-usage.json"
generation_before=$(generation)
check_status 0 pf_ctl list
check_status 0 pf_ctl list --words --group nobody
check_status 1 pf_ctl add drop from 192.0.2.1/33
[[ $output == *192.0.2.1/33* ]] || fail "the daemon's message is not printed: $output"
check_status 1 pf_ctl add drop port 22
check_status 1 pf_ctl add dorp
check_status 1 pf_ctl add drop vlan 5000
check_status 1 pf_ctl add drop comment "$(printf 'x%.0s' {1..300})"
check_status 1 pf_ctl remove 999999
check_status 1 pf_ctl remove "$(rules_py ids "$SANDBOX_DIR/web.json" | cut -d' ' -f1)" 999999
check_status 1 pf_ctl show 999999
check_status 1 pf_ctl list --group 'no/such group'
for usage in "add" "add from 192.0.2.1" "add drop frm 192.0.2.1" "add drop from" "add drop port 1 port 2" \
             "add drop vlan ten" "add drop priority 1x" "add drop timeout 1y" "add drop disabled yes" \
             "remove" "remove abc" "remove 1 -2" "show" "show 1 2" "enable" "disable x" \
             "list --mode native" "list --words --json" "list extra" "default a b" "reset-counters now" \
             "replace web" "frobnicate" "list --group"; do
        status=0
        # shellcheck disable=SC2086 # the words are meant to split
        pf_ctl $usage >/dev/null 2>&1 || status=$?
        check_eq "exit status of 'packetfilterctl $usage'" 2 "$status"
done
check_eq "Generation after refusals and usage errors" "$generation_before" "$(generation)"
check_unchanged "after refusals and usage errors" "$SANDBOX_DIR/before-usage.json"
# Words may start with '-' once add has its first word; options go before it.
id=$(pf_ctl --no-ask-password add drop priority -7 comment --words)
check_eq "priority of a rule added with 'priority -7'" -7 "$(pf_ctl --json show "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["priority"])')"
check_eq "its comment" --words "$(pf_ctl --json show "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["comment"])')"

step "-H HOST with every command (ssh stand-in: systemd-stdio-bridge to the private bus)"
command -v systemd-stdio-bridge >/dev/null || sandbox_missing "systemd-stdio-bridge (package systemd)"
mkdir -p "$SANDBOX_DIR/fake-ssh"
cat >"$SANDBOX_DIR/fake-ssh/ssh" <<'EOF'
#!/bin/sh
# sd-bus runs: ssh -xT [-p PORT] -- [USER@]HOST systemd-stdio-bridge [...]
echo "$*" >>"${0%/*}/calls"
case " $* " in
*" -- pf-admin@pf-remote.invalid systemd-stdio-bridge"*) ;;
*) echo "fake ssh: unexpected arguments: $*" >&2; exit 255 ;;
esac
exec systemd-stdio-bridge --bus-path="$DBUS_SYSTEM_BUS_ADDRESS"
EOF
chmod +x "$SANDBOX_DIR/fake-ssh/ssh"
remote() {
        PATH="$SANDBOX_DIR/fake-ssh:$PATH" pf_ctl -H pf-admin@pf-remote.invalid "$@"
}
remote status
remote --json status | python3 -m json.tool >/dev/null
id=$(remote add drop from 192.0.2.99 group remote comment "over ssh")
check_eq "rule added over -H, seen locally" "over ssh" \
        "$(pf_ctl --json show "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["comment"])')"
remote list --group remote
check_eq "list --words over -H" "drop from 192.0.2.99 group remote comment 'over ssh'" \
        "$(remote list --group remote --words)"
remote --json list >/dev/null
remote show "$id" | grep -qx "comment: over ssh" || fail "show over -H"
remote disable "$id"
remote enable "$id"
remote stats >/dev/null
remote default drop
check_eq "default over -H" drop "$(remote default)"
remote default pass
remote reset-counters
remote replace remote - <<<"pass proto tcp port 8080 comment 'replaced over ssh'" >/dev/null
check_eq "group remote after replace over -H" "pass proto tcp port 8080 group remote comment 'replaced over ssh'" \
        "$(pf_ctl list --group remote --words)"
remote remove "$(pf_ctl --json list --group remote | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
id=$(remote block 192.0.2.98 --timeout 10m)
check_eq "unblock over -H" 1 "$(remote unblock 192.0.2.98)"
remote detach "$SANDBOX_FW_IF"
remote attach "$SANDBOX_FW_IF" --mode generic
check_status 1 remote show 999999
check_status 2 remote add drop frm x
calls=$(wc -l <"$SANDBOX_DIR/fake-ssh/calls")
check_eq "connections made through ssh (a usage error makes none)" 21 "$calls"
