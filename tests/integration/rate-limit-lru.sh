#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A flood from far more spoofed sources than the per-source bucket map holds
# (131072 sources, PF_RATE_SOURCES = 65536), through the veth pair, at a
# rate-limit rule and at a drop rule (whose drops become events for all those
# flows): the bucket map's kernel memory (fdinfo memlock, as bpftool shows it)
# does not change, its entries stay at most PF_RATE_SOURCES, and the daemon's
# resident memory grows by less than 8 MiB. A real source is still limited
# afterwards.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

PF_FLOOD=${PF_FLOOD:-$PF_BUILD_DIR/tests/integration/pf-flood}
readonly SPOOF_PREFIX=198.18.0.0/15      # 131072 addresses of the benchmarking range, only inside our namespaces
readonly SOURCES=131072
readonly LRU_SIZE=65536                   # PF_RATE_SOURCES
readonly RSS_GROWTH_MAX_KB=8192

[ -x "$PF_FLOOD" ] || sandbox_missing "pf-flood not built: $PF_FLOOD"
command -v bpftool >/dev/null || sandbox_missing "bpftool, to read the map's memory"

sandbox_start_all
pf_ctl attach "$SANDBOX_FW_IF"
check_ping_passes "$SANDBOX_FW_IPV4"
FW_MAC=$(ip -n "$SANDBOX_FW_NS" -o link show "$SANDBOX_FW_IF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$FW_MAC" ] || fail "cannot read the MAC address of $SANDBOX_FW_IF"
MAP=$(ls -d "$SANDBOX_BPFFS"/packetfilter/maps-*/pf_rate_source 2>/dev/null | head -n 1)
[ -n "$MAP" ] || fail "no pinned pf_rate_source map under $SANDBOX_BPFFS/packetfilter"

map_memory() {
        bpftool -j map show pinned "$MAP" | python3 -c 'import json, sys; print(json.load(sys.stdin)["bytes_memlock"])'
}

map_entries() {
        bpftool -j map dump pinned "$MAP" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'
}

daemon_rss_kb() {
        awk '$1 == "VmRSS:" { print $2 }' "/proc/$SANDBOX_DAEMON_PID/status"
}

spoof() {
        in_peer "$PF_FLOOD" spoof --dev "$SANDBOX_PEER_IF" --dst-mac "$FW_MAC" --to "$SANDBOX_FW_IPV4" \
                --port "$1" --from "$SPOOF_PREFIX" --sources "$SOURCES" --per-source "$2" --rate 50000 \
                --max-seconds 40 2>>"$SANDBOX_DIR/spoof.err" </dev/null | sed -n 's/^sent //p' ||
                fail "pf-flood spoof failed: $(cat "$SANDBOX_DIR/spoof.err")"
}

limit_id=$(pf_ctl add rate-limit proto udp port 5801 rate 1 burst 1)
drop_id=$(pf_ctl add drop proto udp port 5802)
# One packet first, so that the daemon has run its drop-event path once before the baseline.
in_peer "$PF_FLOOD" send --to "$SANDBOX_FW_IPV4" --port 5802 --from "$SANDBOX_PEER_IPV4" --rate 10 --count 2 \
        >/dev/null 2>&1
sleep 1.5

memory_before=$(map_memory)
rss_before=$(daemon_rss_kb)
sandbox_log "before: pf_rate_source memlock $memory_before bytes, daemon RSS $rss_before kB"

step "$SOURCES spoofed sources, twice each, at the rate-limit rule"
sent=$(spoof 5801 2)
[ "$sent" -ge $((2 * SOURCES * 99 / 100)) ] || fail "only $sent frames sent"
json=$(pf_ctl --json show "$limit_id")
packets=$(pf_json statistic packets <<<"$json")
[ "$packets" -ge $((2 * SOURCES * 99 / 100)) ] || fail "the rule matched only $packets of $sent frames"
ok "the rule matched $packets frames, rate-limited $(pf_json statistic rate-limited <<<"$json")"
entries=$(map_entries)
[ "$entries" -le "$LRU_SIZE" ] || fail "pf_rate_source holds $entries entries, more than $LRU_SIZE"
ok "pf_rate_source holds $entries entries (at most $LRU_SIZE)"

step "$SOURCES spoofed sources at a drop rule: drop events for all of them"
sent=$(spoof 5802 1)
sleep 2.5
drops=$(pf_ctl --json show "$drop_id" | pf_json statistic packets)
[ "$drops" -ge $((SOURCES * 99 / 100)) ] || fail "only $drops drops"
ok "$drops drops"

step "memory: the bucket map's is what it was, the daemon's grew by less than $((RSS_GROWTH_MAX_KB / 1024)) MiB"
memory_after=$(map_memory)
rss_after=$(daemon_rss_kb)
check_eq "pf_rate_source memlock (bytes)" "$memory_before" "$memory_after"
[ $((rss_after - rss_before)) -lt "$RSS_GROWTH_MAX_KB" ] ||
        fail "the daemon's RSS grew from $rss_before kB to $rss_after kB"
ok "daemon RSS $rss_before kB -> $rss_after kB"

step "a real source is still rate limited"
before=$(pf_ctl --json show "$limit_id" | pf_json statistic rate-limited)
in_peer "$PF_FLOOD" send --to "$SANDBOX_FW_IPV4" --port 5801 --from "$SANDBOX_PEER_IPV4" --rate 200 --count 100 \
        >/dev/null 2>&1
after=$(pf_ctl --json show "$limit_id" | pf_json statistic rate-limited)
[ $((after - before)) -ge 95 ] || fail "only $((after - before)) of 100 packets at 200/s were rate-limited (rate 1, burst 1)"
ok "$((after - before)) of 100 packets at 200/s rate-limited"
