#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A corrupt state file is never half-applied: with state.json truncated,
# replaced by garbage, emptied, or valid JSON of the wrong shape, the daemon
# still starts, says in its log that the file was bad, moves it aside
# (state.json.corrupt-*, byte for byte what it found), and runs with the last
# good state: the rules from before are listed and enforced on real traffic.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

sandbox_start_all
STATE_DIR=$SANDBOX_DIR/state
STATE_FILE=$STATE_DIR/state.json

step "attach and block the peer's IPv4, then its IPv6 address, then one more address (three saves)"
pf_ctl attach "$SANDBOX_FW_IF"
pf_ctl block "$SANDBOX_PEER_IPV4" >/dev/null
pf_ctl block "$SANDBOX_PEER_IPV6" >/dev/null
pf_ctl block 192.0.2.200 >/dev/null
check_ping_blocked "$SANDBOX_FW_IPV4"
check_ping_blocked "$SANDBOX_FW_IPV6"
id_v4=$(pf_rule_field "$SANDBOX_PEER_IPV4" id)
id_v6=$(pf_rule_field "$SANDBOX_PEER_IPV6" id)
sandbox_stop_daemon
[ -s "$STATE_FILE" ] || fail "no state file at $STATE_FILE after three changes"
cp "$STATE_FILE" "$SANDBOX_DIR/good-state.json"
ls -l "$STATE_DIR"

# The daemon's log since its last start.
log_since_start() {
        awk '/^----- packetfilterd starting at/ { text = "" } { text = text $0 "\n" } END { printf "%s", text }' \
                "$SANDBOX_DIR/daemon.log"
}

corrupt_files() {
        find "$STATE_DIR" -maxdepth 1 -name 'state.json.corrupt-*' | sort
}

# corrupt_case NAME: state.json already holds the bad content (a copy in $SANDBOX_DIR/bad-NAME).
check_corrupt_case() {
        local name=$1 before after new_file count
        before=$(corrupt_files)
        sandbox_start_daemon

        log_since_start | grep -iE 'state.*(corrupt|invalid|damaged|bad)|(corrupt|invalid|damaged|bad).*state' >&2 ||
                fail "$name: the daemon's log does not say that the state file was bad"
        ok "$name: the log says so"

        after=$(corrupt_files)
        new_file=$(comm -13 <(echo "$before") <(echo "$after") | head -n 1)
        [ -n "$new_file" ] || fail "$name: the bad file was not moved aside (state.json.corrupt-*)"
        cmp -s "$new_file" "$SANDBOX_DIR/bad-$name" || fail "$name: $new_file is not the bad file as it was"
        ok "$name: the bad file was moved aside to $(basename "$new_file")"

        check_eq "$name: id of the block on $SANDBOX_PEER_IPV4" "$id_v4" "$(pf_rule_field "$SANDBOX_PEER_IPV4" id)"
        check_eq "$name: id of the block on $SANDBOX_PEER_IPV6" "$id_v6" "$(pf_rule_field "$SANDBOX_PEER_IPV6" id)"
        count=$(pf_rule_count)
        # The last good state is the last save or the one before it: both hold these two blocks.
        [ "$count" = 2 ] || [ "$count" = 3 ] || fail "$name: RuleCount is $count, expected the 2 or 3 rules saved before"
        ok "$name: RuleCount = $count"
        check_ping_blocked "$SANDBOX_FW_IPV4" 2
        check_ping_blocked "$SANDBOX_FW_IPV6" 2
        sandbox_stop_daemon
}

# Each case starts from the good file, so one case's recovery cannot help the next.
corrupt_with() {
        local name=$1
        cp "$SANDBOX_DIR/bad-$name" "$STATE_FILE"
        step "state.json $name: the daemon starts with the last good state"
}

size=$(stat -c %s "$SANDBOX_DIR/good-state.json")
head -c $((size / 2)) "$SANDBOX_DIR/good-state.json" >"$SANDBOX_DIR/bad-truncated"
corrupt_with truncated
check_corrupt_case truncated

printf '\x00\xffnot json at all {{{ \x7f\x80\n' >"$SANDBOX_DIR/bad-garbage"
head -c 2000 /dev/zero | tr '\0' '\377' >>"$SANDBOX_DIR/bad-garbage"
corrupt_with garbage
check_corrupt_case garbage

: >"$SANDBOX_DIR/bad-empty"
corrupt_with empty
check_corrupt_case empty

# Valid JSON, wrong content: the first rule's source is not an address.
python3 - "$SANDBOX_DIR/good-state.json" >"$SANDBOX_DIR/bad-wrong-shape" <<'EOF'
import json, sys
state = json.load(open(sys.argv[1]))
state["rules"][0]["source"] = "not-an-address"
json.dump(state, sys.stdout)
EOF
corrupt_with wrong-shape
check_corrupt_case wrong-shape

step "a start after the recovery still has the last good state (the recovery is itself on disk)"
sandbox_start_daemon
check_eq "id of the block on $SANDBOX_PEER_IPV4" "$id_v4" "$(pf_rule_field "$SANDBOX_PEER_IPV4" id)"
check_eq "id of the block on $SANDBOX_PEER_IPV6" "$id_v6" "$(pf_rule_field "$SANDBOX_PEER_IPV6" id)"
check_ping_blocked "$SANDBOX_FW_IPV4" 2

step "and changes are saved and restored normally again"
check_eq "Unblock($SANDBOX_PEER_IPV4)" "u 1" "$(pf_call Unblock s "$SANDBOX_PEER_IPV4")"
sandbox_restart_daemon
pf_rule_field "$SANDBOX_PEER_IPV4" id >/dev/null 2>&1 && fail "the Unblock did not persist"
check_eq "id of the block on $SANDBOX_PEER_IPV6" "$id_v6" "$(pf_rule_field "$SANDBOX_PEER_IPV6" id)"
check_ping_passes "$SANDBOX_FW_IPV4"
check_ping_blocked "$SANDBOX_FW_IPV6"
