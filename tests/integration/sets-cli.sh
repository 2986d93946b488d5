#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Named address sets through packetfilterctl, end to end with real traffic:
# set create/add/remove/import/export/list/delete, rules with from-set and
# to-set. A member of a set that a drop rule references has its pings dropped
# through the veth pair while a non-member's pass; entries added, removed,
# imported from a file (comments, CRLF, Spamhaus DROP lines, IPv4-mapped) and
# from a stdin pipe (--replace), expiring; export to a file and to stdout,
# sorted, and imported back to the same set; a bad file changes nothing and
# names its line (or is skipped with --skip-invalid); delete refused while a
# rule uses the set. Every refusal exits 1 with the message of the named error
# the daemon gives for the same call (seen through pf-call); usage errors exit 2.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

PF_CALL=${PF_CALL:-$PF_BUILD_DIR/tests/gdbus/pf-call}
[ -x "$PF_CALL" ] || sandbox_missing "pf-call not built: $PF_CALL"

# check_status EXPECTED COMMAND...: runs COMMAND, checks its exit status, keeps its
# stdout and stderr in $output.
check_status() {
        local expected=$1 status=0
        shift
        output=$("$@" 2>&1) || status=$?
        [ "$status" = "$expected" ] || fail "'$*' exited with $status, expected $expected: $output"
        ok "exit $status: $*"
}

# check_refused NAME METHOD GVARIANT_ARGS -- CTL_ARGS...: the call through pf-call is
# refused with org.example.PacketFilter1.Error.NAME, and packetfilterctl CTL_ARGS...
# exits 1 printing that error's message. Sets $message.
check_refused() {
        local name=$1 method=$2 args=$3 refusal status=0 out
        shift 4
        refusal=$("$PF_CALL" "$method" "$args" 2>&1) || status=$?
        [ "$status" = 1 ] || fail "pf-call $method $args: exit $status, expected a D-Bus error: $refusal"
        [[ $refusal == "org.example.PacketFilter1.Error.$name: "* ]] ||
                fail "$method $args: expected the error $name, got: $refusal"
        message=${refusal#*: }
        [ -n "$message" ] || fail "$method $args: $name without a message"
        status=0
        out=$(pf_ctl "$@" 2>&1) || status=$?
        [ "$status" = 1 ] || fail "packetfilterctl $*: exit $status, expected 1: $out"
        [[ $out == *"$message"* ]] || fail "packetfilterctl $*: '$out' lacks the daemon's message '$message'"
        ok "packetfilterctl $*: exit 1 with $name: $message"
}

# The entries of a set as export writes them (to stdout).
set_entries() {
        pf_ctl set export "$1"
}

# FIELD of set NAME in `packetfilterctl --json set list`.
set_field() {
        pf_ctl --json set list | python3 -c '
import json, sys
name, field = sys.argv[1], sys.argv[2]
for s in json.load(sys.stdin):
    if s["name"] == name:
        value = s[field]
        print(" ".join(str(v) for v in value) if isinstance(value, list) else value)
        sys.exit(0)
sys.exit("no set %r in set list --json" % name)' "$1" "$2"
}

sandbox_start_all
pf_ctl attach "$SANDBOX_FW_IF"
check_ping_passes "$SANDBOX_FW_IPV4"
check_ping_passes "$SANDBOX_FW_IPV6"

step "set create and set list: empty sets, their comment and default timeout"
check_eq "set list with no sets" "No sets." "$(pf_ctl set list)"
check_eq "set list --json with no sets" "[]" "$(pf_ctl --json set list)"
pf_ctl set create blocked --comment "integration test"
pf_ctl set create servers --timeout 1h
pf_ctl set list
check_eq "entries of blocked" 0 "$(set_field blocked entries)"
check_eq "comment of blocked" "integration test" "$(set_field blocked comment)"
check_eq "default-timeout of blocked" 0 "$(set_field blocked default-timeout)"
check_eq "default-timeout of servers" 3600 "$(set_field servers default-timeout)"
check_eq "rules of blocked" "" "$(set_field blocked rules)"
pf_ctl set list | grep -q '^blocked .*integration test' || fail "set list does not show blocked with its comment"
pf_ctl set list | grep -q '^servers .* 1h ' || fail "set list does not show servers' timeout 1h"
check_eq "export of an empty set" "" "$(set_entries blocked)"

step "a drop rule from-set blocked: the peer passes while it is no member"
rule=$(pf_ctl add drop from-set blocked comment "from-set test")
check_eq "rules of blocked" "$rule" "$(set_field blocked rules)"
pf_ctl list | grep -q "from-set blocked" || fail "list does not show 'from-set blocked': $(pf_ctl list)"
pf_ctl show "$rule" | grep -qx "words: drop from-set blocked comment 'from-set test'" ||
        fail "show $rule: $(pf_ctl show "$rule")"
check_ping_passes "$SANDBOX_FW_IPV4"
check_ping_passes "$SANDBOX_FW_IPV6"

step "set add: the peer's IPv4 address is a member, its pings are dropped; IPv6 passes"
check_eq "added" 1 "$(pf_ctl set add blocked "$SANDBOX_PEER_IPV4")"
# Already there: only the prefix is new.
check_eq "added with one already there" 1 "$(pf_ctl set add blocked "$SANDBOX_PEER_IPV4" 198.51.100.0/24)"
check_eq "set entries" "$(printf '%s\n' 192.0.2.2 198.51.100.0/24)" "$(set_entries blocked)"
check_ping_blocked "$SANDBOX_FW_IPV4"
check_ping_passes "$SANDBOX_FW_IPV6"
hits=$(set_field blocked hits)
check_gt "hits of blocked" "$hits" 0
check_ping_blocked "$SANDBOX_FW_IPV4"
check_gt "hits of blocked after more pings" "$(set_field blocked hits)" "$hits"
check_eq "--json set add" '{"added":0}' "$(pf_ctl --json set add blocked "$SANDBOX_PEER_IPV4")"

step "set remove: no longer a member, pings pass"
check_eq "removed" 1 "$(pf_ctl set remove blocked "$SANDBOX_PEER_IPV4" 203.0.113.9)"
check_eq "removed again" 0 "$(pf_ctl set remove blocked "$SANDBOX_PEER_IPV4")"
check_ping_passes "$SANDBOX_FW_IPV4"

step "a prefix and an IPv4-mapped address make members too"
check_eq "added" 1 "$(pf_ctl set add blocked 192.0.2.0/30)"
check_ping_blocked "$SANDBOX_FW_IPV4"
pf_ctl set remove blocked 192.0.2.0/30 >/dev/null
check_ping_passes "$SANDBOX_FW_IPV4"
check_eq "added" 1 "$(pf_ctl set add blocked "::ffff:$SANDBOX_PEER_IPV4")"
check_eq "the mapped entry, exported" "$(printf '%s\n' 192.0.2.2 198.51.100.0/24)" "$(set_entries blocked)"
check_ping_blocked "$SANDBOX_FW_IPV4"
pf_ctl set remove blocked "$SANDBOX_PEER_IPV4" >/dev/null
check_ping_passes "$SANDBOX_FW_IPV4"

step "set import FILE: comments, CRLF, Spamhaus DROP lines; the peer's IPv6 address is a member"
printf '%s\r\n' \
        '; Spamhaus DROP List 2024/01/01 - (c) 2024 The Spamhaus Project' \
        '; Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT' \
        '1.10.16.0/20 ; SBL256894' \
        '' \
        '# the peer' \
        "  $SANDBOX_PEER_IPV6	peer, IPv6" \
        '2001:db8:1::/48 # documentation' \
        '198.51.100.0/24 ; already there' \
        '1.10.16.0/20 ; twice in the file' >"$SANDBOX_DIR/drop.txt"
check_status 0 pf_ctl set import blocked "$SANDBOX_DIR/drop.txt"
check_eq "import output" "$(printf 'added: 3\nskipped: 0')" "$output"
check_eq "set entries" "$(printf '%s\n' 1.10.16.0/20 198.51.100.0/24 2001:db8::2 2001:db8:1::/48)" \
        "$(set_entries blocked)"
check_ping_blocked "$SANDBOX_FW_IPV6"
check_ping_passes "$SANDBOX_FW_IPV4"

step "set import - --replace from a stdin pipe: the set becomes exactly the piped entries"
output=$(printf '%s\n' "$SANDBOX_PEER_IPV4" '203.0.113.0/24 ; x' | pf_ctl --json set import blocked - --replace)
check_eq "import --json output" '{"added":2,"skipped":0}' "$output"
check_eq "set entries" "$(printf '%s\n' 192.0.2.2 203.0.113.0/24)" "$(set_entries blocked)"
check_ping_blocked "$SANDBOX_FW_IPV4"
check_ping_passes "$SANDBOX_FW_IPV6"

step "a bad line fails the import and changes nothing; --skip-invalid skips and counts it"
before=$(set_entries blocked)
printf '%s\n' 198.51.100.7 '# fine so far' 10.0.0.0/33 192.0.2.128/25 >"$SANDBOX_DIR/bad.txt"
check_status 1 pf_ctl set import blocked "$SANDBOX_DIR/bad.txt"
[[ $output == *"line 3"*"10.0.0.0/33"* ]] || fail "the import error does not name line 3 and its entry: $output"
ok "refused: $output"
check_status 1 pf_ctl set import blocked - --replace <"$SANDBOX_DIR/bad.txt"
[[ $output == *"line 3"* ]] || fail "the import error does not name line 3: $output"
printf '%s\n' 192.0.2.1/24 >"$SANDBOX_DIR/host-bits.txt"
check_status 1 pf_ctl set import blocked "$SANDBOX_DIR/host-bits.txt"
[[ $output == *"line 1"*"192.0.2.1/24"* ]] || fail "the import error does not name the host bits: $output"
check_eq "set entries after refused imports" "$before" "$(set_entries blocked)"
check_ping_blocked "$SANDBOX_FW_IPV4"
check_status 0 pf_ctl set import blocked "$SANDBOX_DIR/bad.txt" --skip-invalid
check_eq "import output" "$(printf 'added: 2\nskipped: 1')" "$output"
check_eq "set entries" "$(printf '%s\n' 192.0.2.2 192.0.2.128/25 198.51.100.7 203.0.113.0/24)" \
        "$(set_entries blocked)"

step "set export: to a FILE (0644) and to stdout, the same sorted text, imported back to the same set"
# (not 2001:db8::/33: it holds the peer)
pf_ctl set add blocked 2001:db8:8000::/33 10.0.0.0/8 2001:db8::1 >/dev/null
pf_ctl set export blocked "$SANDBOX_DIR/export.txt"
check_eq "mode of the export file" 644 "$(stat -c %a "$SANDBOX_DIR/export.txt")"
check_eq "export to stdout" "$(cat "$SANDBOX_DIR/export.txt")" "$(pf_ctl set export blocked -)"
check_eq "export, sorted" \
        "$(printf '%s\n' 10.0.0.0/8 192.0.2.2 192.0.2.128/25 198.51.100.7 203.0.113.0/24 2001:db8::1 2001:db8:8000::/33)" \
        "$(cat "$SANDBOX_DIR/export.txt")"
echo "stale content that is longer than an export" >"$SANDBOX_DIR/export2.txt"
pf_ctl set export blocked "$SANDBOX_DIR/export2.txt"
cmp "$SANDBOX_DIR/export.txt" "$SANDBOX_DIR/export2.txt" || fail "export over an existing file differs"
pf_ctl set create copy
pf_ctl set import copy "$SANDBOX_DIR/export.txt" >/dev/null
check_eq "copy after importing the export file" "$(cat "$SANDBOX_DIR/export.txt")" "$(set_entries copy)"
# Removing everything and importing the export gives the same set again.
: >"$SANDBOX_DIR/empty.txt"
pf_ctl set import blocked "$SANDBOX_DIR/empty.txt" --replace >/dev/null
check_eq "blocked after replacing with an empty file" "" "$(set_entries blocked)"
check_ping_passes "$SANDBOX_FW_IPV4"
pf_ctl set import blocked "$SANDBOX_DIR/export.txt" >/dev/null
check_eq "blocked after importing its export" "$(cat "$SANDBOX_DIR/export.txt")" "$(set_entries blocked)"
check_ping_blocked "$SANDBOX_FW_IPV4"

# The daemon both writes the export into the pipe and reads the import from it: it
# must do either without blocking its loop on the other.
step "set export piped into set import: one daemon on both ends of a pipe"
pf_ctl set export blocked | pf_ctl set import servers - --replace >/dev/null
check_eq "servers after importing blocked's export" "$(cat "$SANDBOX_DIR/export.txt")" "$(set_entries servers)"

step "to-set: a rule on the destination; the fw's IPv6 address in set servers"
pf_ctl set import servers "$SANDBOX_DIR/empty.txt" --replace >/dev/null
to_rule=$(pf_ctl add drop to-set servers)
check_ping_passes "$SANDBOX_FW_IPV6"
pf_ctl set add servers "$SANDBOX_FW_IPV6" >/dev/null
check_ping_blocked "$SANDBOX_FW_IPV6"
pf_ctl set remove servers "$SANDBOX_FW_IPV6" >/dev/null
check_ping_passes "$SANDBOX_FW_IPV6"

step "entries expire: set add --timeout, and a set's default timeout"
pf_ctl set remove blocked "$SANDBOX_PEER_IPV4" >/dev/null
check_ping_passes "$SANDBOX_FW_IPV4"
pf_ctl set add blocked "$SANDBOX_PEER_IPV4" --timeout 2s >/dev/null
check_ping_blocked "$SANDBOX_FW_IPV4"
sandbox_wait 15 "the entry to expire" ping_passes "$SANDBOX_FW_IPV4" 1 ||
        fail "the peer's entry added with --timeout 2s still drops after 15 s"
ok "the entry expired"
pf_ctl set create short --timeout 2
short_rule=$(pf_ctl add drop from-set short)
pf_ctl set add short "$SANDBOX_PEER_IPV6" >/dev/null
check_ping_blocked "$SANDBOX_FW_IPV6"
sandbox_wait 15 "the entry to expire" ping_passes "$SANDBOX_FW_IPV6" 1 ||
        fail "the entry of a set with --timeout 2 still drops after 15 s"
ok "the entry expired with the set's default timeout"
pf_ctl remove "$short_rule"

step "refusals: the named error's message, exit 1, nothing changed"
before=$(set_entries blocked)
check_refused SetExists CreateSet "('blocked', @a{sv} {})" -- set create blocked
check_refused InvalidSet CreateSet "('bad name!', @a{sv} {})" -- set create 'bad name!'
check_refused InvalidSet CreateSet "('x', {'comment': <'$(printf 'c%.0s' {1..300})'>})" -- \
        set create x --comment "$(printf 'c%.0s' {1..300})"
check_refused NoSuchSet DeleteSet "('nosuch',)" -- set delete nosuch
check_refused NoSuchSet AddToSet "('nosuch', ['192.0.2.9'], uint32 0)" -- set add nosuch 192.0.2.9
check_refused NoSuchSet RemoveFromSet "('nosuch', ['192.0.2.9'])" -- set remove nosuch 192.0.2.9
check_refused InvalidAddress AddToSet "('blocked', ['192.0.2.9', '300.1.1.1'], uint32 0)" -- \
        set add blocked 192.0.2.9 300.1.1.1
[[ $message == *"entries[1]"*"300.1.1.1"* ]] || fail "InvalidAddress does not name entries[1]: $message"
check_refused InvalidAddress AddToSet "('blocked', ['192.0.2.1/24'], uint32 0)" -- set add blocked 192.0.2.1/24
check_eq "set entries after refused calls" "$before" "$(set_entries blocked)"
check_status 1 pf_ctl set import nosuch "$SANDBOX_DIR/drop.txt"
check_status 1 pf_ctl set export nosuch "$SANDBOX_DIR/nosuch.txt"
[ ! -e "$SANDBOX_DIR/nosuch.txt" ] || fail "a refused export left $SANDBOX_DIR/nosuch.txt behind"
check_status 1 pf_ctl set import blocked "$SANDBOX_DIR/no-such-file"
check_status 1 pf_ctl set import blocked "$SANDBOX_DIR"
check_status 1 pf_ctl add drop from-set nosuch
[[ $output == *nosuch* ]] || fail "a rule on a missing set: the message does not name it: $output"
check_eq "set entries after refused calls" "$before" "$(set_entries blocked)"

step "usage errors exit 2 and send nothing"
for usage in "set" "set frob" "set create" "set create a b" "set add blocked" "set remove blocked" \
             "set import blocked" "set import blocked a b" "set export" "set list x" \
             "set delete blocked --replace" "set export blocked --skip-invalid" "set list --comment x" \
             "set add blocked 192.0.2.9 --timeout 1y" "add drop from-set" "add drop from-set a from-set b"; do
        status=0
        # shellcheck disable=SC2086 # each usage is words
        pf_ctl $usage </dev/null >/dev/null 2>&1 || status=$?
        check_eq "exit status of 'packetfilterctl $usage'" 2 "$status"
done
check_eq "set entries after usage errors" "$before" "$(set_entries blocked)"

step "an unprivileged user may list but not change"
sandbox_ensure_test_users
check_status 0 sandbox_run_as "$SANDBOX_TEST_USER" "$SANDBOX_DIR/bin/packetfilterctl" set list
check_status 1 sandbox_run_as "$SANDBOX_TEST_USER" "$SANDBOX_DIR/bin/packetfilterctl" --no-ask-password \
        set add blocked 198.51.100.99
name=$(pf_call_error_name --as "$SANDBOX_TEST_USER" AddToSet string:blocked array:string:198.51.100.99 uint32:0)
[[ $name =~ ^org\.freedesktop\.DBus\.Error\.(AccessDenied|InteractiveAuthorizationRequired)$ ]] ||
        fail "AddToSet as $SANDBOX_TEST_USER: expected polkit's refusal, got '$name'"
ok "AddToSet as $SANDBOX_TEST_USER: $name"
check_status 1 sandbox_run_as "$SANDBOX_TEST_USER" "$SANDBOX_DIR/bin/packetfilterctl" --no-ask-password \
        set create mine
check_eq "set entries after refused calls" "$before" "$(set_entries blocked)"

step "set delete: refused while a rule uses the set (naming the rule), done once none does"
check_refused SetInUse DeleteSet "('blocked',)" -- set delete blocked
[[ $message =~ (^|[^0-9])$rule([^0-9]|$) ]] || fail "SetInUse does not name rule $rule: $message"
pf_ctl set add blocked "$SANDBOX_PEER_IPV4" >/dev/null
check_ping_blocked "$SANDBOX_FW_IPV4"
pf_ctl remove "$rule"
check_ping_passes "$SANDBOX_FW_IPV4"
pf_ctl set delete blocked
pf_ctl remove "$to_rule"
pf_ctl set delete servers
pf_ctl set delete copy
pf_ctl set delete short
check_eq "set list after deleting every set" "No sets." "$(pf_ctl set list)"
check_refused NoSuchSet DeleteSet "('blocked',)" -- set delete blocked
check_ping_passes "$SANDBOX_FW_IPV4"
check_ping_passes "$SANDBOX_FW_IPV6"
