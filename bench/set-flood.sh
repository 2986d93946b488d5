#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# set-flood: named address sets (issue 7) end to end, side by side in one run,
# in a sandbox of its own (tests/lib/sandbox.sh: private bus, polkitd, veth
# pair in two netns, own bpffs, the real daemon):
#
#   none   no filter on the receiving veth: the reference;
#   nft    nftables: a netdev table with an ingress chain on the receiving veth,
#          two interval sets (ipv4_addr, ipv6_addr) holding the same prefixes,
#          "ip saddr @s4 counter name c4 drop" (c6 for ip6); the
#          `nft -f` load of N prefixes is timed;
#   xdp0   our daemon attached, no rule: the floor of our XDP path;
#   ours   CreateSet + ImportSet through the bus (the file passed as an fd,
#          timed end to end by the client), the rule `drop source-set NAME`;
#          daemon RSS before/after and the memory of its BPF maps;
#   replace ImportSet(replace=true) of another 1M list, timed, while a flood
#          from an address in both lists runs: 0 of its datagrams may arrive.
#
# For each case and set size (1 and 1,000,000 prefixes by default) a sender in
# the peer namespace (bench/set-flood-sender, AF_PACKET) blasts frames from
# random sources (a fraction of them members of the set) as fast as one CPU
# can; everything the receiving side does for a frame runs on that CPU too (veth),
# so the CPU's busy time per frame is the cost of one frame, and the difference
# against "none" (or "xdp0") measured in the same run is the filter's own cost.
# Each flood runs PF_SET_BENCH_REPEAT times; the median is reported. The frames'
# destination MAC is not the receiver's: the stack drops them right after the
# filters (PACKET_OTHERHOST), so the common part stays small.
#
# Run by hand as root (`bench/set-flood.sh` from a built tree) or as meson
# benchmark `sets`. Environment (besides sandbox.sh's PF_*):
#   PF_GEN_PREFIXES, PF_SET_FLOOD_SENDER, PF_CALL, PF_FLOOD   the helpers (default: in PF_BUILD_DIR)
#   PF_SET_BENCH_CASES    cases to run (default "none nft xdp0 ours replace")
#   PF_SET_BENCH_SIZES    set sizes (default "1 1000000")
#   PF_SET_BENCH_FRAMES   frames per flood (default 2000000)
#   PF_SET_BENCH_REPEAT   floods per figure (default 3; the median is kept)
#   PF_SET_BENCH_MEMBERS  member fractions of the sources (default "0 0.5")
#   PF_SET_BENCH_SEED     seed of the lists and sources (default 1)
#   PF_SET_BENCH_OUT      also write every record (one JSON object per line) to this file
# Exit status: 0 done (timings are reported, never judged), 1 a failure: a
# missing prerequisite, a call that failed, a counter that disagrees with what
# was sent, or a datagram from the address in both sets that arrived during the replace.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/..}/tests/lib/sandbox.sh"

PF_GEN_PREFIXES=${PF_GEN_PREFIXES:-$PF_BUILD_DIR/bench/gen-prefixes}
PF_SET_FLOOD_SENDER=${PF_SET_FLOOD_SENDER:-$PF_BUILD_DIR/bench/set-flood-sender}
PF_CALL=${PF_CALL:-$PF_BUILD_DIR/tests/gdbus/pf-call}
PF_FLOOD=${PF_FLOOD:-$PF_BUILD_DIR/tests/integration/pf-flood}
CASES=${PF_SET_BENCH_CASES:-none nft xdp0 ours replace}
SIZES=${PF_SET_BENCH_SIZES:-1 1000000}
FRAMES=${PF_SET_BENCH_FRAMES:-2000000}
REPEAT=${PF_SET_BENCH_REPEAT:-3}
MEMBER_FRACTIONS=${PF_SET_BENCH_MEMBERS:-0 0.5}
SEED=${PF_SET_BENCH_SEED:-1}
N_SOURCES=1048576                       # more distinct sources than any cache holds
readonly SET_NAME=bench
readonly BOTH_IPV4=192.0.2.77           # in both lists of the replace case, on purpose
readonly BOTH_IPV6=2001:db8::77
readonly ALLOWED_IPV4=192.0.2.3         # in no list: shows the replace flood really flowed
readonly ALLOWED_IPV6=2001:db8::3
readonly FLOOD_PORT=5556
readonly FLOOD_RATE=20000

for tool in "$PF_GEN_PREFIXES" "$PF_SET_FLOOD_SENDER" "$PF_CALL" "$PF_FLOOD"; do
        [ -x "$tool" ] || sandbox_missing "not built: $tool"
done
case " $CASES " in *" nft "*) command -v nft >/dev/null || sandbox_missing "nft (package nftables)" ;; esac
case " $CASES " in *" ours "* | *" replace "* | *" xdp0 "*)
        command -v bpftool >/dev/null || sandbox_missing "bpftool" ;; esac

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
BENCH_DIR=$SANDBOX_DIR/bench
mkdir -p "$BENCH_DIR"
RECORDS=$BENCH_DIR/records.jsonl
: >"$RECORDS"

# record KEY=VALUE...: one JSON object per line (numbers stay numbers).
record() {
        python3 -c '
import json, sys
o = {}
for kv in sys.argv[1:]:
    k, v = kv.split("=", 1)
    try:
        o[k] = int(v)
    except ValueError:
        try:
            o[k] = float(v)
        except ValueError:
            o[k] = v
print(json.dumps(o))' "$@" >>"$RECORDS"
}

now_ns() {
        date +%s%N
}

seconds_since() {
        python3 -c "import sys; print('%.3f' % ((int(sys.argv[2]) - int(sys.argv[1])) / 1e9))" "$1" "$(now_ns)"
}

ours_call() {
        local output
        output=$("$PF_CALL" "$@" 2>&1) || fail "pf-call $*: $output"
        printf '%s\n' "$output"
}

statistic() {
        pf_statistic "$1"
}

# ---------------------------------------------------------------------------
# The lists and the sources

step "generate the lists (seed $SEED) and the sources"
generate() {
        local start
        start=$(now_ns)
        "$PF_GEN_PREFIXES" "$@"
        sandbox_log "gen-prefixes $*: $(seconds_since "$start") s"
}
for n in $SIZES; do
        generate --count "$n" --seed "$SEED" --part 0/2 --output "$BENCH_DIR/list-$n.txt"
        for fraction in $MEMBER_FRACTIONS; do
                generate --count "$n" --seed "$SEED" --part 0/2 --sources "$N_SOURCES" --members "$fraction" \
                        --output "$BENCH_DIR/sources-$n-$fraction.txt"
        done
done
LARGEST=$(tr ' ' '\n' <<<"$SIZES" | sort -n | tail -n 1)
case " $CASES " in *" replace "*)
        # Two disjoint lists (different parts and seeds), plus the two addresses both must hold.
        generate --count "$LARGEST" --seed "$((SEED + 100))" --part 1/2 --format spamhaus \
                --output "$BENCH_DIR/list-b.txt"
        for list in "$BENCH_DIR/list-$LARGEST.txt" "$BENCH_DIR/list-b.txt"; do
                { cat "$list"; printf '%s\n%s\n' "$BOTH_IPV4" "$BOTH_IPV6"; } >"$list.both"
        done
        generate --count "$LARGEST" --seed "$((SEED + 100))" --part 1/2 --sources "$N_SOURCES" --members 0.5 \
                --output "$BENCH_DIR/sources-b.txt"
        ;;
esac

# ---------------------------------------------------------------------------
# Floods and their cost

link_counter() {
        # link_counter NS IF FIELD(rx_packets|tx_packets|rx_dropped|tx_dropped)
        nsenter --net="/run/netns/$1" -- cat "/sys/class/net/$2/statistics/$3" 2>/dev/null ||
                nsenter --net="/run/netns/$1" -- awk -v i="$2:" -v f="$3" '
                        $1 == i { print (f == "rx_packets" ? $3 : f == "tx_packets" ? $11 : f == "rx_dropped" ? $5 : $13) }' /proc/net/dev
}

# The filter's own counters, "SEEN DROPPED" (- where it has none), for the case running.
COUNTERS_FN=counters_none
counters_none() {
        echo "- -"
}

# Named counters: listing them does not make nft fetch the sets' elements (listing
# the chain does, which takes a minute at 1M prefixes).
counters_nft() {
        local dropped
        dropped=$(in_fw nft list counters table netdev pfbench |
                awk '{ for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1) } END { print s + 0 }')
        echo "- $dropped"
}

counters_ours() {
        echo "$(statistic packets) $(statistic dropped-by-rule)"
}

# flood CASE SIZE FRACTION: REPEAT floods; records each, prints the median ns per frame.
flood() {
        local case=$1 size=$2 fraction=$3 sources=$BENCH_DIR/sources-$2-$3.txt
        local i out before after seen dropped sent busy ns
        local -a values=()
        [ "$case" != none ] && [ "$case" != xdp0 ] || sources=$BENCH_DIR/sources-$LARGEST-$fraction.txt
        for i in $(seq 1 "$REPEAT"); do
                before=$($COUNTERS_FN)
                local rx_before tx_before
                rx_before=$(link_counter "$SANDBOX_FW_NS" "$SANDBOX_FW_IF" rx_packets)
                tx_before=$(link_counter "$SANDBOX_PEER_NS" "$SANDBOX_PEER_IF" tx_packets)
                out=$(in_peer "$PF_SET_FLOOD_SENDER" --ifname "$SANDBOX_PEER_IF" --sources "$sources" \
                        --count "$FRAMES" --max-seconds 60 --dst4 "$SANDBOX_FW_IPV4" --dst6 "$SANDBOX_FW_IPV6") ||
                        fail "set-flood-sender failed"
                after=$($COUNTERS_FN)
                local rx tx
                rx=$(($(link_counter "$SANDBOX_FW_NS" "$SANDBOX_FW_IF" rx_packets) - rx_before))
                tx=$(($(link_counter "$SANDBOX_PEER_NS" "$SANDBOX_PEER_IF" tx_packets) - tx_before))
                eval "$(tr ' ' '\n' <<<"$out" | sed -n 's/^\(sent\|failed\|seconds\|cpu_busy_s\|cpu_softirq_s\|self_user_s\|self_sys_s\)=\(.*\)$/local f_\1=\2/p')"
                seen=-
                dropped=-
                if [ "${before%% *}" != - ]; then
                        seen=$(( ${after%% *} - ${before%% *} ))
                fi
                if [ "${before##* }" != - ]; then
                        dropped=$(( ${after##* } - ${before##* } ))
                fi
                ns=$(python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) * 1e9 / int(sys.argv[2])))" \
                        "$f_cpu_busy_s" "$f_sent")
                values+=("$ns")
                record kind=flood case="$case" size="$size" members="$fraction" round="$i" sent="$f_sent" \
                        failed="$f_failed" seconds="$f_seconds" cpu_busy_s="$f_cpu_busy_s" \
                        cpu_softirq_s="$f_cpu_softirq_s" self_user_s="$f_self_user_s" self_sys_s="$f_self_sys_s" \
                        peer_tx="$tx" fw_rx="$rx" filter_seen="$seen" filter_dropped="$dropped" ns_per_frame="$ns"
                sandbox_log >&2 "$case size $size members $fraction round $i: sent $f_sent in $f_seconds s" \
                        "($(python3 -c "import sys; print('%.2f' % (int(sys.argv[1]) / float(sys.argv[2]) / 1e6))" \
                        "$f_sent" "$f_seconds") Mpps), CPU busy $f_cpu_busy_s s (softirq $f_cpu_softirq_s s)" \
                        "= $ns ns/frame; peer tx $tx, fw rx $rx; filter saw $seen, dropped $dropped"
                # The filter must have dropped the members it was sent, and nothing else.
                if [ "$dropped" != - ]; then
                        local expected=0
                        [ "$case" = xdp0 ] ||
                                expected=$(python3 -c "import sys; print(round(int(sys.argv[1]) * float(sys.argv[2])))" \
                                        "$tx" "$fraction")
                        python3 -c "import sys; e, d, n = map(int, sys.argv[1:]); sys.exit(abs(e - d) > max(n // 200, 50))" \
                                "$expected" "$dropped" "$tx" ||
                                fail "$case size $size members $fraction: the filter dropped $dropped of $tx frames, expected about $expected"
                fi
                if [ "$seen" != - ]; then
                        [ "$seen" -ge "$tx" ] || [ "$seen" -ge $((tx * 99 / 100)) ] ||
                                fail "$case: the filter saw $seen frames of $tx sent"
                fi
        done
        printf '%s\n' "${values[@]}" | sort -n | sed -n "$(( (REPEAT + 1) / 2 ))p"
}

flood_all() {
        local case=$1 size=$2 fraction median
        for fraction in $MEMBER_FRACTIONS; do
                median=$(flood "$case" "$size" "$fraction")
                record kind=median case="$case" size="$size" members="$fraction" ns_per_frame="$median"
                ok "$case, $size prefixes, members $fraction: median $median ns per frame (CPU busy / frames)"
        done
}

daemon_memory() {
        local pid=$SANDBOX_DAEMON_PID
        awk '/^VmRSS:/ { rss = $2 } /^VmHWM:/ { hwm = $2 } END { printf "%d %d\n", rss, hwm }' "/proc/$pid/status"
}

# Bytes of all BPF maps the daemon holds (memlock in /proc/PID/fdinfo, each map once).
daemon_map_bytes() {
        local pid=$SANDBOX_DAEMON_PID
        awk 'function flush() { if (id != "" && !(id in seen)) { seen[id] = 1; s += m } id = ""; m = 0 }
             FNR == 1 { flush() } /^map_id:/ { id = $2 } /^memlock:/ { m = $2 } END { flush(); print s + 0 }' \
                /proc/"$pid"/fdinfo/* 2>/dev/null
}

# ---------------------------------------------------------------------------
# The cases

case_none() {
        step "none: no filter on $SANDBOX_FW_IF (the reference)"
        COUNTERS_FN=counters_none
        flood_all none -
}

nft_file() {
        # nft_file LIST OUT: the table, with the list's prefixes split by family.
        awk -v dev="$SANDBOX_FW_IF" '
                { sub(/[ \t].*/, ""); if ($0 == "" || $0 ~ /^[#;]/) next; if (index($0, ":")) v6[n6++] = $0; else v4[n4++] = $0 }
                function elements(v, n,   i) {
                        if (n == 0) return
                        printf "\t\telements = {\n"
                        for (i = 0; i < n; i++) printf "\t\t\t%s%s\n", v[i], (i + 1 < n ? "," : "")
                        printf "\t\t}\n"
                }
                END {
                        print "table netdev pfbench {"
                        print "\tcounter c4 {\n\t}\n\tcounter c6 {\n\t}"
                        print "\tset s4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge"; elements(v4, n4); print "\t}"
                        print "\tset s6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\tauto-merge"; elements(v6, n6); print "\t}"
                        print "\tchain in {"
                        printf "\t\ttype filter hook ingress device \"%s\" priority 0; policy accept;\n", dev
                        print "\t\tip saddr @s4 counter name c4 drop"
                        print "\t\tip6 saddr @s6 counter name c6 drop"
                        print "\t}"
                        print "}"
                }' "$1" >"$2"
}

case_nft() {
        local n start load_s delete_s mem_before mem_after
        for n in $SIZES; do
                step "nft: netdev ingress on $SANDBOX_FW_IF, interval sets with $n prefixes"
                nft_file "$BENCH_DIR/list-$n.txt" "$BENCH_DIR/nft-$n.nft"
                mem_before=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
                start=$(now_ns)
                in_fw nft -f "$BENCH_DIR/nft-$n.nft" || fail "nft -f of $n prefixes failed"
                load_s=$(seconds_since "$start")
                mem_after=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
                record kind=load case=nft size="$n" seconds="$load_s" mem_available_drop_kib=$((mem_before - mem_after))
                ok "nft -f with $n prefixes: $load_s s (MemAvailable dropped by $(( (mem_before - mem_after) / 1024 )) MiB)"
                COUNTERS_FN=counters_nft
                flood_all nft "$n"
                start=$(now_ns)
                in_fw nft delete table netdev pfbench
                delete_s=$(seconds_since "$start")
                record kind=delete case=nft size="$n" seconds="$delete_s"
                ok "nft delete table with $n prefixes: $delete_s s"
        done
}

case_xdp0() {
        step "xdp0: our daemon attached to $SANDBOX_FW_IF, no rule (the floor of our XDP path)"
        pf_ctl attach "$SANDBOX_FW_IF"
        COUNTERS_FN=counters_ours
        flood_all xdp0 -
}

case_ours() {
        local n reply start import_s rss_before rss_after maps_before maps_after rule added
        pf_ctl attach "$SANDBOX_FW_IF" >/dev/null 2>&1 || true
        for n in $SIZES; do
                step "ours: CreateSet + ImportSet of $n prefixes through the bus, rule 'drop source-set $SET_NAME'"
                read -r rss_before _ <<<"$(daemon_memory)"
                maps_before=$(daemon_map_bytes)
                ours_call CreateSet "('$SET_NAME', @a{sv} {})" >/dev/null
                start=$(now_ns)
                reply=$("$PF_CALL" --time --fd "$BENCH_DIR/list-$n.txt" ImportSet \
                        "('$SET_NAME', handle 0, @a{sv} {})" 2>"$BENCH_DIR/import.err") ||
                        fail "ImportSet of $n prefixes: $reply $(cat "$BENCH_DIR/import.err")"
                import_s=$(seconds_since "$start")
                local call_s
                call_s=$(sed -n 's/^pf-call: ImportSet took \([0-9.]*\) s$/\1/p' "$BENCH_DIR/import.err")
                # (uint32 ADDED, uint32 SKIPPED)
                added=$(sed -n 's/^(uint32 \([0-9]*\), uint32 \([0-9]*\))$/\1/p' <<<"$reply")
                check_eq "ImportSet of $n prefixes: added" "$n" "$added"
                read -r rss_after hwm_after <<<"$(daemon_memory)"
                maps_after=$(daemon_map_bytes)
                record kind=load case=ours size="$n" seconds="$call_s" process_seconds="$import_s" \
                        rss_before_kib="$rss_before" rss_after_kib="$rss_after" hwm_after_kib="$hwm_after" \
                        maps_before_bytes="$maps_before" maps_after_bytes="$maps_after"
                ok "ImportSet of $n prefixes: the call $call_s s (pf-call process $import_s s);" \
                        "daemon RSS $((rss_before / 1024)) -> $((rss_after / 1024)) MiB (peak $((hwm_after / 1024)) MiB);" \
                        "maps $((maps_before / 1048576)) -> $((maps_after / 1048576)) MiB"
                rule=$(ours_call AddRule "({'action': <'drop'>, 'source-set': <'$SET_NAME'>},)" |
                        sed -n 's/^(uint32 \([0-9]*\),)$/\1/p')
                [ -n "$rule" ] || fail "AddRule with source-set $SET_NAME returned no id"
                COUNTERS_FN=counters_ours
                flood_all ours "$n"
                ours_call RemoveRule "(uint32 $rule,)" >/dev/null
                ours_call DeleteSet "('$SET_NAME',)" >/dev/null
        done
}

# The replace flood: pf-flood UDP from the address in both lists (and from one in
# neither), counted by source at a receiver in the fw namespace.
setup_replace_addresses() {
        local fw_mac peer_mac address
        ip -n "$SANDBOX_PEER_NS" addr add "$BOTH_IPV4/24" dev "$SANDBOX_PEER_IF"
        ip -n "$SANDBOX_PEER_NS" addr add "$ALLOWED_IPV4/24" dev "$SANDBOX_PEER_IF"
        ip -n "$SANDBOX_PEER_NS" addr add "$BOTH_IPV6/64" dev "$SANDBOX_PEER_IF" nodad
        ip -n "$SANDBOX_PEER_NS" addr add "$ALLOWED_IPV6/64" dev "$SANDBOX_PEER_IF" nodad
        fw_mac=$(ip -n "$SANDBOX_FW_NS" -o link show "$SANDBOX_FW_IF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
        peer_mac=$(ip -n "$SANDBOX_PEER_NS" -o link show "$SANDBOX_PEER_IF" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
        for address in "$SANDBOX_FW_IPV4" "$SANDBOX_FW_IPV6"; do
                ip -n "$SANDBOX_PEER_NS" neigh replace "$address" lladdr "$fw_mac" dev "$SANDBOX_PEER_IF" nud permanent
        done
        for address in "$BOTH_IPV4" "$ALLOWED_IPV4" "$BOTH_IPV6" "$ALLOWED_IPV6"; do
                ip -n "$SANDBOX_FW_NS" neigh replace "$address" lladdr "$peer_mac" dev "$SANDBOX_FW_IF" nud permanent
        done
}

replace_flood_start() {
        local dir=$BENCH_DIR/replace-flood
        mkdir -p "$dir"
        # nsenter execs the program: the pid below is pf-flood's own, so SIGTERM reaches it
        # (in_fw/in_peer are shell functions, and '&' would give the subshell's pid).
        nsenter --net="/run/netns/$SANDBOX_FW_NS" -- "$PF_FLOOD" recv --port "$FLOOD_PORT" --out "$dir/received" --max-seconds 120 \
                >"$dir/recv.out" 2>"$dir/recv.err" </dev/null &
        FLOOD_PIDS+=("$!")
        REPLACE_RECV_PID=$!
        sandbox_wait 5 "the receiver to listen" grep -qx listening "$dir/recv.out" ||
                fail "pf-flood recv did not start: $(cat "$dir/recv.err")"
        nsenter --net="/run/netns/$SANDBOX_PEER_NS" -- "$PF_FLOOD" send --to "$SANDBOX_FW_IPV4" --port "$FLOOD_PORT" --from "$BOTH_IPV4,$ALLOWED_IPV4" \
                --rate "$FLOOD_RATE" --count $((FLOOD_RATE * 120)) --max-seconds 120 \
                >"$dir/sent4" 2>"$dir/send4.err" </dev/null &
        FLOOD_PIDS+=("$!")
        REPLACE_SEND4_PID=$!
        nsenter --net="/run/netns/$SANDBOX_PEER_NS" -- "$PF_FLOOD" send --to "$SANDBOX_FW_IPV6" --port "$FLOOD_PORT" --from "$BOTH_IPV6,$ALLOWED_IPV6" \
                --rate "$FLOOD_RATE" --count $((FLOOD_RATE * 120)) --max-seconds 120 \
                >"$dir/sent6" 2>"$dir/send6.err" </dev/null &
        FLOOD_PIDS+=("$!")
        REPLACE_SEND6_PID=$!
        sleep 0.5
}

replace_flood_stop() {
        local dir=$BENCH_DIR/replace-flood pid
        sleep 0.5
        for pid in "$REPLACE_SEND4_PID" "$REPLACE_SEND6_PID"; do
                kill -TERM "$pid" 2>/dev/null || true
                wait "$pid" || fail "pf-flood send failed: $(cat "$dir"/send*.err)"
        done
        sleep 0.3
        kill -TERM "$REPLACE_RECV_PID" 2>/dev/null || true
        wait "$REPLACE_RECV_PID" || fail "pf-flood recv failed: $(cat "$dir/recv.err")"
        FLOOD_PIDS=()
}

replace_count() {
        local count
        count=$(awk -v a="$2" '$1 == a { print $2 }' "$BENCH_DIR/replace-flood/$1")
        echo "${count:-0}"
}

case_replace() {
        local reply start call_s process_s rule entries rss_before rss_after hwm_after
        step "replace: a set of $LARGEST (+2) prefixes replaced by a disjoint $LARGEST (+2) during a flood from $BOTH_IPV4 and $BOTH_IPV6 (in both)"
        pf_ctl attach "$SANDBOX_FW_IF" >/dev/null 2>&1 || true
        setup_replace_addresses
        ours_call CreateSet "('$SET_NAME', @a{sv} {})" >/dev/null
        "$PF_CALL" --fd "$BENCH_DIR/list-$LARGEST.txt.both" ImportSet "('$SET_NAME', handle 0, @a{sv} {})" >/dev/null ||
                fail "ImportSet of the first list failed"
        rule=$(ours_call AddRule "({'action': <'drop'>, 'source-set': <'$SET_NAME'>},)" |
                sed -n 's/^(uint32 \([0-9]*\),)$/\1/p')
        [ -n "$rule" ] || fail "AddRule with source-set $SET_NAME returned no id"
        read -r rss_before _ <<<"$(daemon_memory)"

        replace_flood_start
        start=$(now_ns)
        reply=$("$PF_CALL" --time --fd "$BENCH_DIR/list-b.txt.both" ImportSet \
                "('$SET_NAME', handle 0, {'replace': <true>})" 2>"$BENCH_DIR/replace.err") ||
                fail "ImportSet(replace) failed: $reply $(cat "$BENCH_DIR/replace.err")"
        process_s=$(seconds_since "$start")
        replace_flood_stop
        call_s=$(sed -n 's/^pf-call: ImportSet took \([0-9.]*\) s$/\1/p' "$BENCH_DIR/replace.err")
        read -r rss_after hwm_after <<<"$(daemon_memory)"
        record kind=replace case=ours size="$LARGEST" seconds="$call_s" process_seconds="$process_s" \
                reply="$reply" rss_before_kib="$rss_before" rss_after_kib="$rss_after" hwm_after_kib="$hwm_after" \
                maps_bytes="$(daemon_map_bytes)" \
                both4_sent="$(replace_count sent4 "$BOTH_IPV4")" both4_received="$(replace_count received "$BOTH_IPV4")" \
                both6_sent="$(replace_count sent6 "$BOTH_IPV6")" both6_received="$(replace_count received "$BOTH_IPV6")"
        ok "ImportSet(replace) of $LARGEST by $LARGEST: the call $call_s s (process $process_s s), reply $reply;" \
                "daemon RSS $((rss_before / 1024)) -> $((rss_after / 1024)) MiB, peak $((hwm_after / 1024)) MiB"

        local address family sent received
        for family in 4 6; do
                if [ "$family" = 4 ]; then address=$BOTH_IPV4; else address=$BOTH_IPV6; fi
                sent=$(replace_count "sent$family" "$address")
                [ "$sent" -gt 0 ] || fail "replace: nothing was sent from $address"
                check_eq "replace: datagrams from $address (in both sets) that arrived during the replace (of $sent sent)" \
                        0 "$(replace_count received "$address")"
                if [ "$family" = 4 ]; then address=$ALLOWED_IPV4; else address=$ALLOWED_IPV6; fi
                sent=$(replace_count "sent$family" "$address")
                received=$(replace_count received "$address")
                [ "$received" -ge $((sent * 9 / 10)) ] ||
                        fail "replace: only $received of $sent datagrams from $address (in no set) arrived: the flood did not flow"
                ok "replace: $received of $sent datagrams from $address (in no set) arrived"
        done
        entries=$(pf_call_json ListSets | python3 -c '
import json, sys
for s in json.load(sys.stdin)["data"][0]:
    if s["name"]["data"] == sys.argv[1]:
        print(s["entries"]["data"])' "$SET_NAME")
        check_eq "entries after the replace" $((LARGEST + 2)) "$entries"
        # The new list is enforced (and the old one no more): members of B are dropped.
        COUNTERS_FN=counters_ours
        local before after tx_before tx
        before=$(statistic dropped-by-rule)
        tx_before=$(link_counter "$SANDBOX_PEER_NS" "$SANDBOX_PEER_IF" tx_packets)
        in_peer "$PF_SET_FLOOD_SENDER" --ifname "$SANDBOX_PEER_IF" --sources "$BENCH_DIR/sources-b.txt" \
                --count 200000 --max-seconds 30 >/dev/null || fail "set-flood-sender failed"
        tx=$(($(link_counter "$SANDBOX_PEER_NS" "$SANDBOX_PEER_IF" tx_packets) - tx_before))
        after=$(statistic dropped-by-rule)
        python3 -c "import sys; d, t = map(int, sys.argv[1:]); sys.exit(abs(d - t / 2) > t / 100)" \
                $((after - before)) "$tx" ||
                fail "after the replace, $((after - before)) of $tx frames (half of them members of the new list) were dropped"
        ok "after the replace: $((after - before)) of $tx frames dropped (half are members of the new list)"
        ours_call RemoveRule "(uint32 $rule,)" >/dev/null
        ours_call DeleteSet "('$SET_NAME',)" >/dev/null
}

for c in $CASES; do
        case $c in
        none) case_none ;;
        nft) case_nft ;;
        xdp0) case_xdp0 ;;
        ours) case_ours ;;
        replace) case_replace ;;
        *) fail "unknown case '$c' in PF_SET_BENCH_CASES" ;;
        esac
done

# ---------------------------------------------------------------------------
# The table

step "results"
[ -z "${PF_SET_BENCH_OUT:-}" ] || cp "$RECORDS" "$PF_SET_BENCH_OUT"
python3 - "$RECORDS" "$FRAMES" "$REPEAT" <<'EOF'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
frames, repeat = sys.argv[2], sys.argv[3]
med = {(r["case"], str(r["size"]), str(r["members"])): r["ns_per_frame"] for r in records if r["kind"] == "median"}
members = sorted({k[2] for k in med}, key=float)
print("\nSETS: per-frame cost on the flooding CPU (sender + receiver; CPU busy time / frames), "
      "median of %s floods of %s frames;" % (repeat, frames))
print("  sources: 1,048,576 random addresses, a fraction of them members of the set; net = minus 'none'")
print("%-8s %9s | " % ("case", "prefixes") + " | ".join("members %-4s  ns   net" % m for m in members))
def fmt(case, size):
    cells = []
    for m in members:
        v = med.get((case, size, m))
        ref = med.get(("none", "-", m))
        if v is None:
            cells.append("%23s" % "-")
        else:
            cells.append("%15.1f %7s" % (v, "%.1f" % (v - ref) if ref is not None else "-"))
    return " | ".join(cells)
for case, size in sorted({(k[0], k[1]) for k in med}, key=lambda x: (["none", "xdp0", "nft", "ours"].index(x[0]) if x[0] in ["none", "xdp0", "nft", "ours"] else 9, -1 if x[1] == "-" else int(x[1]))):
    print("%-8s %9s | %s" % (case, size, fmt(case, size)))
def ratio(a, b, m):
    ref = med.get(("none", "-", m))
    if a not in med or b not in med or ref is None:
        return None
    na, nb = med[a] - ref, med[b] - ref
    return na / nb if nb > 0 else None
sizes = sorted({int(k[1]) for k in med if k[1] != "-"})
if len(sizes) >= 2:
    lo, hi = str(sizes[0]), str(sizes[-1])
    print("\nRATIOS (net of 'none', same run)")
    for m in members:
        for what, a, b in (("ours %s / ours %s" % (hi, lo), ("ours", hi, m), ("ours", lo, m)),
                           ("nft %s / nft %s" % (hi, lo), ("nft", hi, m), ("nft", lo, m)),
                           ("ours %s / nft %s" % (hi, hi), ("ours", hi, m), ("nft", hi, m))):
            r = ratio(a, b, m)
            print("  members %-4s %-28s %s" % (m, what, "%.2f" % r if r is not None else "n/a"))
print("\nLOADS AND MEMORY")
for r in records:
    if r["kind"] in ("load", "replace", "delete"):
        extra = ""
        if "rss_after_kib" in r:
            extra = ", daemon RSS %.0f -> %.0f MiB (peak %.0f MiB)" % (r["rss_before_kib"] / 1024, r["rss_after_kib"] / 1024, r["hwm_after_kib"] / 1024)
        if "maps_after_bytes" in r:
            extra += ", BPF maps %.1f -> %.1f MiB" % (r["maps_before_bytes"] / 2**20, r["maps_after_bytes"] / 2**20)
        if "mem_available_drop_kib" in r:
            extra += ", MemAvailable -%.0f MiB" % (r["mem_available_drop_kib"] / 1024)
        if r["kind"] == "replace":
            extra += ", from the address in both: %s/%s (v4) and %s/%s (v6) arrived/sent" % (
                r["both4_received"], r["both4_sent"], r["both6_received"], r["both6_sent"])
        print("  %-7s %-5s %9s prefixes: %s s%s" % (r["kind"], r["case"], r["size"], r["seconds"], extra))
EOF
