#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Drop events end to end: the XDP program samples drops into its ring buffer,
# the daemon aggregates them into PacketDropped signals. A GDBus client
# subscribed as a GUI would (pf-drop-watch) sees:
#  - a few drops by a rule: one flow, every field right, the counts adding up
#    to exactly the drops;
#  - a flood (two real sources and thousands of spoofed ones): never more
#    signals in any one second than DropSignalsPerSecond= (20 by default, then
#    5 after a Reload), and counts that add up to (nearly) every drop;
#  - DropSignalsPerSecond=0: no signal at all.
# packetfilterctl monitor --json prints one JSON object per line, exits 0 on SIGINT.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

PF_FLOOD=${PF_FLOOD:-$PF_BUILD_DIR/tests/integration/pf-flood}
PF_DROP_WATCH=${PF_DROP_WATCH:-$PF_BUILD_DIR/tests/gdbus/pf-drop-watch}
readonly SECOND_IPV4=192.0.2.3
readonly SPOOF_PREFIX=198.18.0.0/16      # benchmarking range, only ever inside our namespaces

[ -x "$PF_FLOOD" ] || sandbox_missing "pf-flood not built: $PF_FLOOD"
[ -x "$PF_DROP_WATCH" ] || sandbox_missing "pf-drop-watch not built: $PF_DROP_WATCH"

BACKGROUND_PIDS=()
background_cleanup() {
        local status=$? pid
        set +o errexit
        trap - ERR
        for pid in "${BACKGROUND_PIDS[@]}"; do
                kill -TERM "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
        done
        BACKGROUND_PIDS=()
        return "$status"
}

sandbox_start_all
trap 'background_cleanup; sandbox_cleanup' EXIT
ip -n "$SANDBOX_PEER_NS" addr add "$SECOND_IPV4/24" dev "$SANDBOX_PEER_IF"
pf_ctl attach "$SANDBOX_FW_IF"
check_ping_passes "$SANDBOX_FW_IPV4"
in_peer ping -n -q -c 1 -W 2 -I "$SECOND_IPV4" "$SANDBOX_FW_IPV4" >/dev/null || fail "no ping from $SECOND_IPV4"
FW_MAC=$(ip -n "$SANDBOX_FW_NS" -o link show "$SANDBOX_FW_IF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$FW_MAC" ] || fail "cannot read the MAC address of $SANDBOX_FW_IF"

# watch_start NAME: a subscribed pf-drop-watch writing $SANDBOX_DIR/NAME.events
watch_start() {
        local name=$1
        "$PF_DROP_WATCH" --out "$SANDBOX_DIR/$name.events" --max-seconds 60 \
                >"$SANDBOX_DIR/$name.watch.out" 2>"$SANDBOX_DIR/$name.watch.err" </dev/null &
        WATCH_PID=$!
        BACKGROUND_PIDS+=("$WATCH_PID")
        sandbox_wait 5 "pf-drop-watch to subscribe" grep -qx subscribed "$SANDBOX_DIR/$name.watch.out" ||
                fail "pf-drop-watch did not subscribe: $(cat "$SANDBOX_DIR/$name.watch.err")"
}

watch_stop() {
        kill -TERM "$WATCH_PID"
        wait "$WATCH_PID" || fail "pf-drop-watch failed: $(cat "$SANDBOX_DIR/$1.watch.err")"
}

# send_udp PORT RATE COUNT [SOURCES]: real datagrams from the peer, waits for the end.
send_udp() {
        in_peer "$PF_FLOOD" send --to "$SANDBOX_FW_IPV4" --port "$1" --from "${4:-$SANDBOX_PEER_IPV4}" \
                --rate "$2" --count "$3" --max-seconds 30 >/dev/null 2>>"$SANDBOX_DIR/send.err" ||
                fail "pf-flood send failed: $(cat "$SANDBOX_DIR/send.err")"
}

# events_check NAME ARGS...: tests/lib/drop-events-check.py on NAME.events
events_check() {
        local name=$1
        shift
        python3 "$PF_LIB_DIR/drop-events-check.py" "$SANDBOX_DIR/$name.events" "$@" ||
                fail "PacketDropped signals of '$name' (in $SANDBOX_DIR/$name.events) are not as expected"
}

step "a few drops by a rule: one flow, every field right"
drop_id=$(pf_ctl add drop proto udp port 5701)
watch_start few
send_udp 5701 100 25
sleep 2.5                               # the flow is reported within a second of its drops
watch_stop few
events_check few --exact-flow "interface=$SANDBOX_FW_IF" "source=$SANDBOX_PEER_IPV4" \
        "destination=$SANDBOX_FW_IPV4" protocol=udp port=5701 "rule=$drop_id" reason=rule --total 25
ok "25 drops of 192.0.2.2 -> 192.0.2.1 udp 5701 by rule $drop_id, in $(wc -l <"$SANDBOX_DIR/few.events") signal(s)"

step "the default action's drops say rule 0"
pf_ctl default drop
watch_start default
send_udp 5799 100 10
sleep 2.5
watch_stop default
pf_ctl default pass
events_check default --flow "source=$SANDBOX_PEER_IPV4" port=5799 rule=0 reason=default --total-of-flow 10
ok "10 drops with rule 0, reason default"

step "monitor: one line per event, exit 0 on SIGTERM"
"$PF_CTL" monitor >"$SANDBOX_DIR/monitor.txt" 2>&1 </dev/null &
monitor_pid=$!
BACKGROUND_PIDS+=("$monitor_pid")
sleep 0.5
send_udp 5701 100 5
sleep 2
kill -TERM "$monitor_pid"
wait "$monitor_pid" || fail "packetfilterctl monitor did not exit 0 on SIGTERM"
grep -q "veth-fw $SANDBOX_PEER_IPV4 -> $SANDBOX_FW_IPV4 udp 5701 rule $drop_id count 5 (rule)" "$SANDBOX_DIR/monitor.txt" ||
        fail "packetfilterctl monitor printed: $(cat "$SANDBOX_DIR/monitor.txt")"
ok "monitor: $(head -n 1 "$SANDBOX_DIR/monitor.txt")"

step "top --json prints a snapshot each second with the rule and the source"
"$PF_CTL" top --json >"$SANDBOX_DIR/top.out" 2>"$SANDBOX_DIR/top.err" </dev/null &
top_pid=$!
BACKGROUND_PIDS+=("$top_pid")
sleep 0.5
send_udp 5701 200 200
sleep 2.5
kill -INT "$top_pid"
wait "$top_pid" || fail "packetfilterctl top did not exit 0 on SIGINT: $(cat "$SANDBOX_DIR/top.err")"
python3 - "$SANDBOX_DIR/top.out" "$drop_id" "$SANDBOX_PEER_IPV4" <<'EOF' || fail "top --json: $(tail -n 2 "$SANDBOX_DIR/top.out")"
import json, sys
snapshots = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
assert len(snapshots) >= 2, f"{len(snapshots)} snapshots"
last = snapshots[-1]
assert last["rules"][0] == {"rule": sys.argv[2], "drops": 200}, last
assert last["sources"][0] == {"source": sys.argv[3], "drops": 200}, last
EOF
ok "top: rule $drop_id and $SANDBOX_PEER_IPV4 with 200 drops"

# flood_all PORT SECONDS: two real sources at 10000/s each and 8192 spoofed ones, all to PORT.
flood_all() {
        local port=$1 seconds=$2
        in_peer "$PF_FLOOD" send --to "$SANDBOX_FW_IPV4" --port "$port" --from "$SANDBOX_PEER_IPV4,$SECOND_IPV4" \
                --rate 20000 --count $((20000 * seconds)) --max-seconds $((seconds + 10)) \
                >/dev/null 2>>"$SANDBOX_DIR/send.err" </dev/null &
        BACKGROUND_PIDS+=("$!")
        local send_pid=$!
        in_peer "$PF_FLOOD" spoof --dev "$SANDBOX_PEER_IF" --dst-mac "$FW_MAC" --to "$SANDBOX_FW_IPV4" \
                --port "$port" --from "$SPOOF_PREFIX" --sources 8192 --per-source $((2 * seconds)) \
                --rate 8192 --max-seconds $((seconds + 10)) >/dev/null 2>>"$SANDBOX_DIR/spoof.err" </dev/null ||
                fail "pf-flood spoof failed: $(cat "$SANDBOX_DIR/spoof.err")"
        wait "$send_pid" || fail "pf-flood send failed: $(cat "$SANDBOX_DIR/send.err")"
}

rule_packets() {
        pf_ctl --json show "$1" | pf_json statistic packets
}

step "a flood: at most 20 signals in any second, counts adding up"
before=$(rule_packets "$drop_id")
watch_start flood
flood_all 5701 4
sleep 3
watch_stop flood
drops=$(( $(rule_packets "$drop_id") - before ))
[ "$drops" -ge 100000 ] || fail "only $drops drops in the flood"
events_check flood --max-per-second 20 --min-total $((drops * 90 / 100)) --max-total "$drops" --min-signals 5
ok "$drops drops, $(wc -l <"$SANDBOX_DIR/flood.events") signals, never more than 20 in a second"

step "monitor --json: one JSON object per line while a flood runs, exit 0 on SIGINT"
"$PF_CTL" monitor --json >"$SANDBOX_DIR/monitor.events" 2>"$SANDBOX_DIR/monitor.err" </dev/null &
monitor_pid=$!
BACKGROUND_PIDS+=("$monitor_pid")
sleep 0.5
flood_all 5701 2
sleep 2
kill -INT "$monitor_pid"
status=0
wait "$monitor_pid" || status=$?
[ "$status" = 0 ] || fail "packetfilterctl monitor exited with $status on SIGINT: $(cat "$SANDBOX_DIR/monitor.err")"
events_check monitor --json-lines --min-signals 3 \
        --flow "source=$SANDBOX_PEER_IPV4" "destination=$SANDBOX_FW_IPV4" protocol=udp port=5701 "rule=$drop_id"
ok "$(wc -l <"$SANDBOX_DIR/monitor.events") lines, each a JSON object with the event's fields"
step "DropSignalsPerSecond=5 after Reload: at most 5 a second"
printf '[Filter]\nDropSignalsPerSecond=5\n' >"$SANDBOX_DIR/packetfilterd.conf"
pf_call Reload
sleep 1.2                               # the signals of the old bound's last second
watch_start five
flood_all 5701 3
sleep 2
watch_stop five
events_check five --max-per-second 5 --min-signals 3
ok "$(wc -l <"$SANDBOX_DIR/five.events") signals, never more than 5 in a second"

step "DropSignalsPerSecond=0: no signals"
printf '[Filter]\nDropSignalsPerSecond=0\n' >"$SANDBOX_DIR/packetfilterd.conf"
pf_call Reload
watch_start none
send_udp 5701 1000 2000
sleep 1.5
watch_stop none
[ ! -s "$SANDBOX_DIR/none.events" ] || fail "signals with DropSignalsPerSecond=0: $(head -n 3 "$SANDBOX_DIR/none.events")"
ok "no PacketDropped"
