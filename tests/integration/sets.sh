#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Named sets through the D-Bus API (GDBus caller pf-call, which passes file
# descriptors): CreateSet, AddToSet, a drop rule on source-set dropping real
# pings from a member and passing a non-member; ImportSet of every format from
# a file and from a pipe, bad lines (the set unchanged), skip-invalid,
# duplicates, overlapping prefixes, IPv4-mapped IPv6, an empty file, a
# generated 1,000,000-line file; replace flipping members atomically;
# ExportSet round trip; entry timeouts; DeleteSet refused while in use; sets
# surviving a restart; named errors.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

GEN_PREFIXES=${PF_GEN_PREFIXES:-$PF_BUILD_DIR/bench/gen-prefixes}
[ -x "$GEN_PREFIXES" ] || sandbox_missing "bench/gen-prefixes (build it)"

sandbox_start_all

# Two more sources on the peer: .3 will be a member, .4 never is.
MEMBER=192.0.2.3
OTHER=192.0.2.4
in_peer ip addr add "$MEMBER/24" dev "$SANDBOX_PEER_IF"
in_peer ip addr add "$OTHER/24" dev "$SANDBOX_PEER_IF"

call() { "$PF_CALL" "$@"; }

# ping_from SRC: all 3 echoes from SRC to the filtered side come back
ping_from() {
        local _
        for _ in 1 2; do
                in_peer ping -n -q -c 3 -i 0.2 -W 2 -I "$1" "$SANDBOX_FW_IPV4" 2>&1 | grep -q " 3 received" && return 0
        done
        return 1
}
check_from_passes() { ping_from "$1" || fail "pings from $1 do not pass"; ok "pings from $1 pass"; }
check_from_dropped() {
        local status=0
        in_peer ping -n -q -c 3 -i 0.2 -W 1 -I "$1" "$SANDBOX_FW_IPV4" >/dev/null 2>&1 || status=$?
        [ "$status" = 1 ] || fail "pings from $1 are not dropped"
        ok "pings from $1 are dropped"
}

# check_error NAME-SUFFIX TEXT-RE METHOD ARGS...: the call fails with that error and message
check_error() {
        local name=$1 re=$2 out
        shift 2
        out=$(call "$@") && fail "$1 succeeded: $out"
        [[ $out == "org.example.PacketFilter1.Error.$name: "* ]] || [[ $name == org.* && $out == "$name: "* ]] ||
                fail "$1: expected error $name, got: $out"
        [[ $out =~ $re ]] || fail "$1: the message does not say '$re': $out"
        ok "$1 -> $name ($out)"
}

entries_of() {
        call ListSets | python3 -c '
import re, sys
text = sys.stdin.read()
m = re.search(r"\x27name\x27: <\x27%s\x27>, \x27entries\x27: <uint32 (\d+)>" % sys.argv[1], text)
print(m.group(1) if m else "none")' "$1"
}

pf_call AttachInterface ss "$SANDBOX_FW_IF" generic

step "CreateSet, AddToSet, a rule on source-set drops a member and passes a non-member"
check_eq "CreateSet" "()" "$(call CreateSet "('blocklist', {'comment': <'test list'>})")"
check_eq "AddToSet" "(uint32 2,)" "$(call AddToSet "('blocklist', ['$MEMBER', '203.0.113.0/24'], uint32 0)")"
check_eq "AddToSet again (nothing new)" "(uint32 0,)" "$(call AddToSet "('blocklist', ['$MEMBER'], uint32 0)")"
reply=$(call AddRule "({'action': <'drop'>, 'source-set': <'blocklist'>},)")
[[ $reply =~ ^\(uint32\ ([0-9]+),\)$ ]] || fail "AddRule replied '$reply'"
rule=${BASH_REMATCH[1]}
check_from_dropped "$MEMBER"
check_from_passes "$OTHER"
check_from_passes "$SANDBOX_PEER_IPV4"
call GetRule "(uint32 $rule,)" | grep -q "'source-set': <'blocklist'>" || fail "GetRule does not show source-set"
ok "GetRule shows source-set"
list=$(call ListSets)
[[ $list == *"'entries': <uint32 2>"* && $list == *"'comment': <'test list'>"* && $list == *"'rules': <[uint32 $rule]>"* ]] ||
        fail "ListSets: $list"
[[ $list =~ \'hits\':\ \<uint64\ ([0-9]+)\> ]] && [ "${BASH_REMATCH[1]}" -ge 3 ] || fail "ListSets hits < 3: $list"
ok "ListSets: entries, comment, rules, hits ${BASH_REMATCH[1]}"

step "RemoveFromSet: the member passes again"
check_eq "RemoveFromSet" "(uint32 1,)" "$(call RemoveFromSet "('blocklist', ['$MEMBER', '198.51.100.1'])")"
check_from_passes "$MEMBER"

step "destination-set: a rule on the destination"
call CreateSet "('servers', @a{sv} {})" >/dev/null
call AddToSet "('servers', ['$SANDBOX_FW_IPV4/32'], uint32 0)" >/dev/null
reply=$(call AddRule "({'action': <'drop'>, 'destination-set': <'servers'>, 'protocol': <'icmp'>},)")
[[ $reply =~ ^\(uint32\ ([0-9]+),\)$ ]] || fail "AddRule replied '$reply'"
dst_rule=${BASH_REMATCH[1]}
check_from_dropped "$OTHER"
call RemoveRule "(uint32 $dst_rule,)" >/dev/null
check_from_passes "$OTHER"

step "ImportSet: every format, from a file"
cat >"$SANDBOX_DIR/feed.txt" <<EOF
; Spamhaus DROP List 2026/11/25 - (c) 2026 The Spamhaus Project
; Last-Modified: Wed, 25 Nov 2026 00:00:00 GMT

1.10.16.0/20 ; SBL256894
# a comment line
   $MEMBER   # member, with blanks around
203.0.113.0/24	tab separated trailing words
203.0.113.128/25
2001:db8:ffff::/48 ; IPv6
::ffff:198.51.100.9
198.51.100.9
1.10.16.0/20
EOF
printf '10.9.8.0/24\r\n' >>"$SANDBOX_DIR/feed.txt"
check_eq "ImportSet feed.txt" "(uint32 6, uint32 0)" \
        "$(call --fd "$SANDBOX_DIR/feed.txt" ImportSet "('blocklist', handle 0, @a{sv} {})")"
check_eq "entries after the import" 7 "$(entries_of blocklist)"
check_from_dropped "$MEMBER"
call --fd-out "$SANDBOX_DIR/export.txt" ExportSet "('blocklist', handle 0)" >/dev/null
expected="1.10.16.0/20
10.9.8.0/24
192.0.2.3
198.51.100.9
203.0.113.0/24
203.0.113.128/25
2001:db8:ffff::/48"
check_eq "ExportSet" "$expected" "$(cat "$SANDBOX_DIR/export.txt")"

step "ImportSet: a bad line changes nothing; skip-invalid skips and counts"
printf '192.0.2.77\n10.0.0.0/33\n198.51.100.200\n' >"$SANDBOX_DIR/bad.txt"
check_error InvalidSetFile "line 2: '10.0.0.0/33'" --fd "$SANDBOX_DIR/bad.txt" ImportSet "('blocklist', handle 0, @a{sv} {})"
check_eq "entries after the refused import" 7 "$(entries_of blocklist)"
printf '192.0.2.1/24\n' >"$SANDBOX_DIR/hostbits.txt"
check_error InvalidSetFile "line 1: .*host bits" --fd "$SANDBOX_DIR/hostbits.txt" ImportSet "('blocklist', handle 0, @a{sv} {})"
check_eq "ImportSet skip-invalid" "(uint32 2, uint32 1)" \
        "$(call --fd "$SANDBOX_DIR/bad.txt" ImportSet "('blocklist', handle 0, {'skip-invalid': <true>})")"
check_eq "entries" 9 "$(entries_of blocklist)"
: >"$SANDBOX_DIR/empty.txt"
check_eq "ImportSet of an empty file" "(uint32 0, uint32 0)" \
        "$(call --fd "$SANDBOX_DIR/empty.txt" ImportSet "('blocklist', handle 0, @a{sv} {})")"

step "ImportSet from a pipe"
check_eq "ImportSet from a pipe" "(uint32 1, uint32 0)" \
        "$( (sleep 0.5; echo 198.51.100.50; sleep 0.5; echo "$MEMBER") | call --fd /dev/stdin ImportSet "('blocklist', handle 0, @a{sv} {})")"
check_eq "entries" 10 "$(entries_of blocklist)"

step "ImportSet replace: the set becomes the file, in one change"
printf '%s\n' "$OTHER" 203.0.113.7 >"$SANDBOX_DIR/new.txt"
check_eq "ImportSet replace" "(uint32 2, uint32 0)" \
        "$(call --fd "$SANDBOX_DIR/new.txt" ImportSet "('blocklist', handle 0, {'replace': <true>})")"
check_eq "entries" 2 "$(entries_of blocklist)"
check_from_dropped "$OTHER"
check_from_passes "$MEMBER"

step "ImportSet of a generated 1,000,000-line file, replacing the set"
"$GEN_PREFIXES" -n 1000000 -s 7 -o "$SANDBOX_DIR/million.txt"
echo "$MEMBER" >>"$SANDBOX_DIR/million.txt"
start=$(date +%s%N)
reply=$(call --fd "$SANDBOX_DIR/million.txt" ImportSet "('blocklist', handle 0, {'replace': <true>})")
took=$(( ($(date +%s%N) - start) / 1000000 ))
[[ $reply =~ ^\(uint32\ ([0-9]+),\ uint32\ 0\)$ ]] || fail "ImportSet of a million lines: $reply"
ok "ImportSet of 1,000,001 lines: $reply in ${took} ms"
check_eq "entries" 1000001 "$(entries_of blocklist)"
check_from_dropped "$MEMBER"
check_from_passes "$OTHER"

step "the set survives a restart"
sandbox_restart_daemon
check_eq "entries after the restart" 1000001 "$(entries_of blocklist)"
check_from_dropped "$MEMBER"
check_from_passes "$OTHER"
check_eq "replace by a small set" "(uint32 0, uint32 0)" \
        "$(echo "$MEMBER" | call --fd /dev/stdin ImportSet "('blocklist', handle 0, {'replace': <true>})")"
check_eq "entries" 1 "$(entries_of blocklist)"

step "entry timeouts: an entry added for 2 s lifts by itself"
call CreateSet "('bans', {'default-timeout': <uint32 2>})" >/dev/null
call AddToSet "('bans', ['$OTHER'], uint32 0)" >/dev/null
reply=$(call AddRule "({'action': <'drop'>, 'source-set': <'bans'>},)")
[[ $reply =~ ^\(uint32\ ([0-9]+),\)$ ]] || fail "AddRule replied '$reply'"
bans_rule=${BASH_REMATCH[1]}
check_from_dropped "$OTHER"
sleep 2.5
check_eq "entries of bans after 2.5 s" 0 "$(entries_of bans)"
check_from_passes "$OTHER"

step "DeleteSet is refused while a rule uses the set"
check_error SetInUse "rule $bans_rule" DeleteSet "('bans',)"
call RemoveRule "(uint32 $bans_rule,)" >/dev/null
check_eq "DeleteSet" "()" "$(call DeleteSet "('bans',)")"
[ ! -e "$SANDBOX_DIR/state/sets/bans.set" ] || fail "the set's file stayed"

step "errors name the field and change nothing"
check_error NoSuchSet "'nope'" AddToSet "('nope', ['192.0.2.9'], uint32 0)"
check_error SetExists "'blocklist'" CreateSet "('blocklist', @a{sv} {})"
check_error InvalidSet "name" CreateSet "('-bad', @a{sv} {})"
check_error InvalidSet "unknown key 'colour'" CreateSet "('x', {'colour': <'red'>})"
check_error InvalidSet "default-timeout: the value must be of type 'u'" CreateSet "('x', {'default-timeout': <'1h'>})"
check_error InvalidAddress "entries\\[1\\]: '300.1.1.1'" AddToSet "('blocklist', ['192.0.2.9', '300.1.1.1'], uint32 0)"
check_eq "entries after the refused AddToSet" 1 "$(entries_of blocklist)"
check_error InvalidRule "source-set: there is no set named 'nope'" AddRule "({'action': <'drop'>, 'source-set': <'nope'>},)"
check_error org.freedesktop.DBus.Error.InvalidArgs "unknown key 'append'" \
        --fd "$SANDBOX_DIR/empty.txt" ImportSet "('blocklist', handle 0, {'append': <true>})"

step "unprivileged callers are refused"
sandbox_ensure_test_users
out=$(sandbox_run_as pf-test-user "$PF_CALL" AddToSet "('blocklist', ['192.0.2.9'], uint32 0)") && fail "unprivileged AddToSet succeeded"
[[ $out == org.freedesktop.DBus.Error.* ]] || fail "unprivileged AddToSet: $out"
ok "unprivileged AddToSet refused ($out)"
sandbox_run_as pf-test-user "$PF_CALL" ListSets >/dev/null || fail "ListSets is not open to all"
ok "ListSets is open to all"
out=$(sandbox_run_as pf-test-admin "$PF_CALL" AddToSet "('blocklist', ['192.0.2.9'], uint32 0)") || fail "a granted user's AddToSet failed: $out"
check_eq "a granted user's AddToSet" "(uint32 1,)" "$out"
