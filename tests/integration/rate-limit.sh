#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Rate-limit rules under a real flood through the veth pair: UDP at 10x the
# rule's rate for 5 s. What arrives on the filtered side (counted per source by
# pf-flood recv) is within 10 % of rate x 5 s + burst: for each source with
# "per source" (the default), for all sources together with "per rule". The
# rule's counters say the same: packets = every datagram it matched,
# rate-limited = those it dropped; GetStatistics counts rate-limited too.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

PF_FLOOD=${PF_FLOOD:-$PF_BUILD_DIR/tests/integration/pf-flood}
readonly RATE=200                       # packets per second the rules allow
readonly BURST=50
readonly SECONDS_FLOODED=5
readonly SECOND_IPV4=192.0.2.3          # a second source on the peer

[ -x "$PF_FLOOD" ] || sandbox_missing "pf-flood not built: $PF_FLOOD"

FLOOD_PIDS=()
flood_cleanup() {
        local status=$? pid
        set +o errexit
        trap - ERR
        for pid in "${FLOOD_PIDS[@]}"; do
                kill -TERM "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
        done
        FLOOD_PIDS=()
        return "$status"
}

sandbox_start_all
trap 'flood_cleanup; sandbox_cleanup' EXIT
ip -n "$SANDBOX_PEER_NS" addr add "$SECOND_IPV4/24" dev "$SANDBOX_PEER_IF"
pf_ctl attach "$SANDBOX_FW_IF"
# Neighbours resolved before the flood, so that no datagram waits for ARP.
check_ping_passes "$SANDBOX_FW_IPV4"
in_peer ping -n -q -c 1 -W 2 -I "$SECOND_IPV4" "$SANDBOX_FW_IPV4" >/dev/null || fail "no ping from $SECOND_IPV4"

# flood NAME PORT PPS_PER_SOURCE: both sources at PPS each for SECONDS_FLOODED s; the
# receiver's per-source counts land in $SANDBOX_DIR/NAME.received.
flood() {
        local name=$1 port=$2 pps=$3 dir=$SANDBOX_DIR pid
        nsenter --net="/run/netns/$SANDBOX_FW_NS" -- "$PF_FLOOD" recv --port "$port" --out "$dir/$name.received" --max-seconds 30 \
                >"$dir/$name.recv.out" 2>"$dir/$name.recv.err" </dev/null &
        FLOOD_PIDS+=("$!")
        pid=$!
        sandbox_wait 5 "the receiver to listen" grep -qx listening "$dir/$name.recv.out" ||
                fail "pf-flood recv did not start: $(cat "$dir/$name.recv.err")"
        in_peer "$PF_FLOOD" send --to "$SANDBOX_FW_IPV4" --port "$port" --from "$SANDBOX_PEER_IPV4,$SECOND_IPV4" \
                --rate $((2 * pps)) --count $((2 * pps * SECONDS_FLOODED)) --max-seconds 20 \
                >"$dir/$name.sent" 2>"$dir/$name.send.err" </dev/null ||
                fail "pf-flood send failed: $(cat "$dir/$name.send.err")"
        sandbox_log "$(cat "$dir/$name.send.err")"
        sleep 0.5
        kill -TERM "$pid"
        wait "$pid" || fail "pf-flood recv failed: $(cat "$dir/$name.recv.err")"
        FLOOD_PIDS=()
        [ -s "$dir/$name.received" ] || : >"$dir/$name.received"
}

received_from() {
        awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print 0 }' "$SANDBOX_DIR/$1.received"
}

sent_from() {
        awk -v s="$2" '$1 == s { print $2 }' "$SANDBOX_DIR/$1.sent"
}

# check_within WHAT ACTUAL EXPECTED: |ACTUAL - EXPECTED| <= 10 % of EXPECTED
check_within() {
        local what=$1 actual=$2 expected=$3
        local low=$((expected * 90 / 100)) high=$((expected * 110 / 100))
        [ "$actual" -ge "$low" ] && [ "$actual" -le "$high" ] ||
                fail "$what: $actual passed, expected $expected +/- 10 % ($low..$high)"
        ok "$what: $actual passed (expected $expected +/- 10 %)"
}

expected=$((RATE * SECONDS_FLOODED + BURST))

step "per source: each of two sources at 10x the rate for ${SECONDS_FLOODED} s"
id=$(pf_ctl add rate-limit proto udp port 5601 rate "$RATE" burst "$BURST" per source)
flood per-source 5601 $((10 * RATE))
total_sent=0 total_passed=0
for source in "$SANDBOX_PEER_IPV4" "$SECOND_IPV4"; do
        sent=$(sent_from per-source "$source")
        passed=$(received_from per-source "$source")
        [ "$sent" -ge $((10 * RATE * SECONDS_FLOODED * 95 / 100)) ] || fail "only $sent datagrams sent from $source"
        check_within "from $source (sent $sent)" "$passed" "$expected"
        total_sent=$((total_sent + sent)) total_passed=$((total_passed + passed))
done

step "the rule's counters: packets matched, rate-limited dropped"
json=$(pf_ctl --json show "$id")
packets=$(pf_json statistic packets <<<"$json")
limited=$(pf_json statistic rate-limited <<<"$json")
check_eq "rate" "$RATE" "$(pf_json statistic rate <<<"$json")"
check_eq "burst" "$BURST" "$(pf_json statistic burst <<<"$json")"
check_eq "per" "source" "$(pf_json statistic per <<<"$json")"
check_eq "packets counted = datagrams sent" "$total_sent" "$packets"
check_eq "packets - rate-limited = datagrams received" "$total_passed" "$((packets - limited))"
stat=$(pf_statistic rate-limited)
check_eq "GetStatistics rate-limited" "$limited" "$stat"
[ "$(pf_statistic dropped)" -ge "$limited" ] || fail "GetStatistics dropped does not include rate-limited"
ok "GetStatistics dropped includes the rate-limited packets"
pf_ctl list | grep -q "rate-limit" || fail "packetfilterctl list does not show the rate-limit rule"
pf_ctl list --words | grep -qx "rate-limit proto udp port 5601 rate $RATE burst $BURST" ||
        fail "list --words: $(pf_ctl list --words)"
ok "list --words: rate-limit proto udp port 5601 rate $RATE burst $BURST"

step "per rule: two sources share one bucket"
id=$(pf_ctl add rate-limit proto udp port 5602 rate "$RATE" burst "$BURST" per rule)
flood per-rule 5602 $((5 * RATE))
passed=$(( $(received_from per-rule "$SANDBOX_PEER_IPV4") + $(received_from per-rule "$SECOND_IPV4") ))
check_within "from both sources together" "$passed" "$expected"
json=$(pf_ctl --json show "$id")
check_eq "packets - rate-limited = datagrams received" "$passed" \
        "$(( $(pf_json statistic packets <<<"$json") - $(pf_json statistic rate-limited <<<"$json") ))"
ok "(how the rate splits between the sources depends on their timing: not checked)"

step "a rate-limit rule survives a restart, with its rate"
sandbox_restart_daemon
pf_ctl list --words | grep -qx "rate-limit proto udp port 5602 rate $RATE burst $BURST per rule" ||
        fail "after restart: $(pf_ctl list --words)"
ok "after restart: rate-limit proto udp port 5602 rate $RATE burst $BURST per rule"
flood after-restart 5602 $((5 * RATE))
passed=$(( $(received_from after-restart "$SANDBOX_PEER_IPV4") + $(received_from after-restart "$SECOND_IPV4") ))
check_within "per rule, after the restart" "$passed" "$expected"

step "bad rate-limit rules are refused with the field named"
for words in "rate-limit proto udp" "rate-limit rate 0" "rate-limit rate 10 burst 0" "rate-limit rate 10 per host" \
             "drop rate 10" "pass burst 3" "rate-limit rate 100000001"; do
        # shellcheck disable=SC2086
        if out=$(pf_ctl add $words 2>&1); then
                fail "'add $words' was accepted"
        fi
        grep -Eq "Invalid (rate|burst|per)" <<<"$out" || fail "'add $words': $out"
done
ok "refused, each naming rate, burst or per"
[ "$(pf_call_error_name SetDefaultAction string:rate-limit)" = org.example.PacketFilter1.Error.InvalidRule ] ||
        fail "SetDefaultAction rate-limit was not refused"
ok "SetDefaultAction rate-limit: InvalidRule"

step "GetStatistics: per-interface figures and rates while a flood runs"
in_peer "$PF_FLOOD" send --to "$SANDBOX_FW_IPV4" --port 5602 --from "$SANDBOX_PEER_IPV4" --rate 1000 --count 4000 \
        --max-seconds 10 >/dev/null 2>&1 &
sender=$!
sleep 2.6
stats=$(pf_call_json GetStatistics)
wait "$sender" || fail "pf-flood send failed"
figure() {
        pf_json statistic "$1" <<<"$stats"
}
for key in packets passed dropped rate-limited packets-per-second passed-per-second dropped-per-second \
           rate-limited-per-second; do
        [[ $(figure "$key") =~ ^[0-9]+$ ]] || fail "GetStatistics $key: '$(figure "$key")'"
        for what in "" "-per-second"; do
                case $key in *-per-second) continue ;; esac
                [[ $(figure "interface:$SANDBOX_FW_IF:$key$what") =~ ^[0-9]+$ ]] ||
                        fail "GetStatistics interface:$SANDBOX_FW_IF:$key$what missing"
        done
done
pps=$(figure "interface:$SANDBOX_FW_IF:packets-per-second")
limited_pps=$(figure "interface:$SANDBOX_FW_IF:rate-limited-per-second")
[ "$pps" -ge 700 ] && [ "$pps" -le 1300 ] || fail "interface:$SANDBOX_FW_IF:packets-per-second $pps during a 1000/s flood"
[ "$limited_pps" -ge 560 ] && [ "$limited_pps" -le 1040 ] ||
        fail "interface:$SANDBOX_FW_IF:rate-limited-per-second $limited_pps, expected about 800 (1000/s at a rate of 200)"
[ "$(figure "interface:$SANDBOX_FW_IF:rate-limited")" -le "$(figure rate-limited)" ] ||
        fail "the interface counts more rate-limited packets than the whole program"
ok "$SANDBOX_FW_IF: $pps packets/s, $limited_pps rate-limited/s; global $(figure packets-per-second) packets/s"
