# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# A throw-away world for packetfilterd, sourced by every integration test and
# by scripts/demo:
#
#   - a private system bus (a copy of the host's system.conf with its own socket
#     and the project's bus policy), exported as DBUS_SYSTEM_BUS_ADDRESS;
#   - the real polkitd, in a private mount namespace where our own folders are
#     bound over /usr/share/polkit-1/actions and /etc/polkit-1/rules.d;
#   - two network namespaces joined by a veth pair: "fw" (192.0.2.1,
#     2001:db8::1) where the daemon runs and filters, "peer" (192.0.2.2,
#     2001:db8::2) that sends the traffic;
#   - a bpffs of our own, so pins never touch /sys/fs/bpf;
#   - packetfilterd itself, run inside the fw namespace.
#
# Everything lives under one work folder and is torn down on exit, pass or fail
# (the daemon's, polkitd's and the bus's logs are printed on failure). A sandbox
# left behind by a killed run is reaped by the next sandbox_init.
#
# Environment:
#   PF_SOURCE_DIR     source tree (default: two levels above this file)
#   PF_BUILD_DIR      build tree (default: $PF_SOURCE_DIR/build)
#   PF_DAEMON         packetfilterd (default: $PF_BUILD_DIR/daemon/packetfilterd)
#   PF_CTL            packetfilterctl (default: $PF_BUILD_DIR/cli/packetfilterctl)
#   PF_ALLOW_SKIP=1   a missing prerequisite exits 77 (skip) instead of 1 (fail)
#   PF_KEEP_SANDBOX=1 leave the work folder behind (processes, namespaces and
#                     mounts are still removed), for post-mortems
#
# Variables a test may set before sandbox_start_polkitd (or sandbox_start_all):
#   SANDBOX_POLKIT_RULES  an array of extra polkit .rules files, copied beside
#                         the sandbox's own rule (polkitd reads them in file
#                         name order; the sandbox's is 50-packetfilter-test.rules)
#
# Usage in a test:
#   source "$PF_SOURCE_DIR/tests/lib/sandbox.sh"
#   sandbox_start_all            # or the sandbox_start_* steps one by one
#   pf_ctl attach "$SANDBOX_FW_IF"
#   check_ping_passes "$SANDBOX_FW_IPV4"

set -o errexit -o nounset -o pipefail -o errtrace

PF_SOURCE_DIR=${PF_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PF_BUILD_DIR=${PF_BUILD_DIR:-$PF_SOURCE_DIR/build}
PF_DAEMON=${PF_DAEMON:-$PF_BUILD_DIR/daemon/packetfilterd}
PF_CTL=${PF_CTL:-$PF_BUILD_DIR/cli/packetfilterctl}
PF_POLKITD=${PF_POLKITD:-/usr/lib/polkit-1/polkitd}
PF_LIB_DIR=$PF_SOURCE_DIR/tests/lib

readonly PF_BUS_NAME=org.example.PacketFilter
readonly PF_OBJECT_PATH=/org/example/PacketFilter
readonly PF_INTERFACE=org.example.PacketFilter1

readonly SANDBOX_TEST_USER=pf-test-user
readonly SANDBOX_TEST_ADMIN=pf-test-admin
readonly SANDBOX_TEST_ADMIN_GROUP=pf-test-admins

readonly SANDBOX_FW_IF=veth-fw
readonly SANDBOX_PEER_IF=veth-peer
readonly SANDBOX_FW_IPV4=192.0.2.1
readonly SANDBOX_PEER_IPV4=192.0.2.2
readonly SANDBOX_FW_IPV6=2001:db8::1
readonly SANDBOX_PEER_IPV6=2001:db8::2

SANDBOX_DIR=
SANDBOX_FW_NS=
SANDBOX_PEER_NS=
SANDBOX_BPFFS=
SANDBOX_DAEMON_PID=
SANDBOX_STEP=0
[ -n "${SANDBOX_POLKIT_RULES+set}" ] || SANDBOX_POLKIT_RULES=()

# ---------------------------------------------------------------------------
# Messages and outcomes

sandbox_log() {
        printf '[%s] %s\n' "$(date +%T.%3N)" "$*"
}

# A numbered step, so a failure log reads as a story.
step() {
        SANDBOX_STEP=$((SANDBOX_STEP + 1))
        printf '\n[%s] === %d. %s\n' "$(date +%T.%3N)" "$SANDBOX_STEP" "$*"
}

ok() {
        sandbox_log "ok: $*"
}

fail() {
        printf 'FAIL: %s\n' "$*" >&2
        exit 1
}

# A prerequisite of the test itself is missing: that is a failure (a suite
# that silently skips proves nothing), unless the caller allows skips.
sandbox_missing() {
        if [ "${PF_ALLOW_SKIP:-0}" = 1 ]; then
                printf 'SKIP: missing prerequisite: %s\n' "$*" >&2
                exit 77
        fi
        printf 'FAIL: missing prerequisite: %s (set PF_ALLOW_SKIP=1 to skip instead)\n' "$*" >&2
        exit 1
}

# ---------------------------------------------------------------------------
# Processes. Each one we start is recorded as "pid starttime" in a file of the
# work folder, so that a teardown (ours or a later reaper's) only ever signals
# that very process, never a recycled pid.

sandbox__starttime() {
        local stat
        stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
        stat=${stat##*) }
        local -a fields
        read -r -a fields <<<"$stat"
        # Field 22 of /proc/PID/stat; fields[0] is field 3.
        echo "${fields[19]}"
}

# True while the process is alive; a zombie counts as gone.
sandbox__alive() {
        local stat
        stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
        stat=${stat##*) }
        [ "${stat:0:1}" != Z ]
}

sandbox__record_pid() {
        local pid=$1 file=$2 starttime
        starttime=$(sandbox__starttime "$pid") || starttime=0
        echo "$pid $starttime" >"$file"
}

# The pid recorded in FILE, if that very process is still alive.
sandbox__recorded_pid() {
        local file=$1 pid starttime
        [ -f "$file" ] || return 1
        read -r pid starttime <"$file" || return 1
        sandbox__alive "$pid" || return 1
        [ "$(sandbox__starttime "$pid" 2>/dev/null)" = "$starttime" ] || return 1
        echo "$pid"
}

# Waits up to TIMEOUT seconds for the process to be gone.
sandbox__wait_gone() {
        local pid=$1 timeout=$2 deadline
        deadline=$(($(date +%s%N) + timeout * 1000000000))
        while sandbox__alive "$pid"; do
                [ "$(date +%s%N)" -lt "$deadline" ] || return 1
                sleep 0.05
        done
}

# SIGTERM the processes recorded in the given pid files, wait for them together
# (bounded), then SIGKILL whatever is left.
sandbox__kill_recorded() {
        local file pid
        local -a pids=()
        for file in "$@"; do
                pid=$(sandbox__recorded_pid "$file") || continue
                kill -TERM "$pid" 2>/dev/null || true
                pids+=("$pid")
        done
        for pid in "${pids[@]}"; do
                if ! sandbox__wait_gone "$pid" 5; then
                        echo "sandbox: pid $pid ignored SIGTERM for 5 s, killing it" >&2
                        kill -KILL "$pid" 2>/dev/null || true
                        sandbox__wait_gone "$pid" 5 || echo "sandbox: pid $pid survived SIGKILL" >&2
                fi
                # Reap our own children so no zombie is left; not ours: no-op.
                wait "$pid" 2>/dev/null || true
        done
}

# ---------------------------------------------------------------------------
# Setup and teardown

sandbox__teardown() {
        local dir=$1 ns mnt

        # The daemon first (it pins into the bpffs and sits in the netns),
        # polkitd next (its mount namespace holds copies of mounts).
        sandbox__kill_recorded "$dir/daemon.pid"
        sandbox__kill_recorded "$dir/polkitd.pid"

        if [ -f "$dir/mounts" ]; then
                while read -r mnt; do
                        [ -n "$mnt" ] || continue
                        if mountpoint -q "$mnt"; then
                                umount "$mnt" 2>/dev/null || umount -l "$mnt" ||
                                        echo "sandbox: cannot unmount $mnt" >&2
                        fi
                done <"$dir/mounts"
        fi
        if [ -f "$dir/netns" ]; then
                while read -r ns; do
                        [ -n "$ns" ] || continue
                        if [ -e "/run/netns/$ns" ]; then
                                ip netns delete "$ns" || echo "sandbox: cannot delete netns $ns" >&2
                        fi
                done <"$dir/netns"
        fi

        sandbox__kill_recorded "$dir/bus.pid" "$dir/notify.pid"
}

sandbox__print_log() {
        local file=$1 title=$2 lines=${3:-200}
        [ -s "$file" ] || return 0
        printf '\n----- %s (%s, last %d lines) -----\n' "$title" "$file" "$lines" >&2
        tail -n "$lines" "$file" >&2
        printf -- '----- end of %s -----\n' "$title" >&2
}

# Tears the sandbox down now (processes, mounts, namespaces, work folder).
sandbox_teardown() {
        [ -n "$SANDBOX_DIR" ] && [ -d "$SANDBOX_DIR" ] || return 0
        sandbox__teardown "$SANDBOX_DIR"
        if [ "${PF_KEEP_SANDBOX:-0}" = 1 ]; then
                echo "sandbox: kept $SANDBOX_DIR" >&2
        else
                rm -rf --one-file-system "$SANDBOX_DIR"
        fi
        SANDBOX_DIR=
        SANDBOX_DAEMON_PID=
}

# The EXIT trap: on failure print the logs, then tear down, keeping the status.
sandbox_cleanup() {
        local status=$?
        trap - EXIT ERR INT TERM
        set +o errexit
        if [ -n "$SANDBOX_DIR" ] && [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
                sandbox__print_log "$SANDBOX_DIR/daemon.log" "packetfilterd log" 300
                sandbox__print_log "$SANDBOX_DIR/polkitd.log" "polkitd log" 60
                sandbox__print_log "$SANDBOX_DIR/bus.log" "dbus-daemon log" 30
                sandbox__print_log "$SANDBOX_DIR/notify.log" "sd_notify messages since the last start" 20
        fi
        sandbox_teardown
        exit "$status"
}

sandbox__on_error() {
        local status=$? line=$1 command=$2
        printf 'FAIL: %s:%s: "%s" exited with status %d\n' \
                "$(basename "${BASH_SOURCE[1]:-$0}")" "$line" "$command" "$status" >&2
}

# Sandboxes whose owner died without tearing down (SIGKILL, power cut in CI)
# are reaped here, so a rerun never trips over their namespaces or mounts.
sandbox__reap_stale() {
        local dir
        for dir in "${TMPDIR:-/tmp}"/packetfilter-sandbox.*; do
                [ -d "$dir" ] && [ -f "$dir/owner.pid" ] || continue
                sandbox__recorded_pid "$dir/owner.pid" >/dev/null && continue
                echo "sandbox: reaping $dir, left behind by a run that died" >&2
                sandbox__teardown "$dir" || true
                rm -rf --one-file-system "$dir"
        done
}

sandbox__require_commands() {
        local command
        for command in "$@"; do
                command -v "$command" >/dev/null || sandbox_missing "command '$command' not found"
        done
}

# Checks prerequisites, creates the work folder and installs the teardown.
sandbox_init() {
        [ "$(id -u)" = 0 ] || sandbox_missing "must run as root (network namespaces, bpffs, polkitd)"
        sandbox__require_commands dbus-daemon dbus-send busctl ip nsenter unshare setpriv \
                ping python3 mount umount mountpoint flock
        [ -x "$PF_POLKITD" ] || sandbox_missing "polkitd not found at $PF_POLKITD (Debian package polkitd)"
        [ -x "$PF_DAEMON" ] || sandbox_missing "packetfilterd not built: $PF_DAEMON"
        [ -x "$PF_CTL" ] || sandbox_missing "packetfilterctl not built: $PF_CTL"

        umask 022
        sandbox__reap_stale

        SANDBOX_DIR=$(mktemp -d "${TMPDIR:-/tmp}/packetfilter-sandbox.XXXXXX")
        # mktemp makes 0700: polkitd and the test users must reach the bus socket.
        chmod 0755 "$SANDBOX_DIR"
        sandbox__record_pid "$BASHPID" "$SANDBOX_DIR/owner.pid"
        trap sandbox_cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        trap 'sandbox__on_error "$LINENO" "$BASH_COMMAND"' ERR

        # Unique per run, and short: interface names are limited to 15 bytes.
        local id=${SANDBOX_DIR##*.}
        SANDBOX_FW_NS=pf-$id-fw
        SANDBOX_PEER_NS=pf-$id-peer
        sandbox_log "sandbox in $SANDBOX_DIR"
}

# The private system bus. Changes to the copy of system.conf: our own socket;
# no pidfile, fork, syslog or user switch; no activation of the host's services
# (servicehelper, standard_system_servicedirs); every includedir absolute (a
# relative one resolves against the copy's folder, and then polkitd may not own
# its name); and one more includedir with the project's policy.
sandbox_start_bus() {
        local bus_dir=$SANDBOX_DIR/bus
        mkdir -p "$bus_dir/system.d"
        cp "$PF_SOURCE_DIR/dbus/org.example.PacketFilter.conf" "$bus_dir/system.d/"
        sed -e '/<pidfile>/d' -e '/<fork\/>/d' -e '/<syslog\/>/d' -e '/<user>/d' \
            -e '/<servicehelper>/d' -e '/<standard_system_servicedirs\/>/d' \
            -e "s|<listen>.*</listen>|<listen>unix:path=$bus_dir/socket</listen>|" \
            -e 's|<includedir>\([^/<][^<]*\)</includedir>|<includedir>/usr/share/dbus-1/\1</includedir>|' \
            -e "s|</busconfig>|  <includedir>$bus_dir/system.d</includedir>\n</busconfig>|" \
            /usr/share/dbus-1/system.conf >"$bus_dir/system.conf"

        dbus-daemon --config-file="$bus_dir/system.conf" --nofork \
                --print-address=3 3>"$bus_dir/address" >>"$SANDBOX_DIR/bus.log" 2>&1 &
        sandbox__record_pid "$!" "$SANDBOX_DIR/bus.pid"

        export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$bus_dir/socket
        sandbox_wait 10 "the private bus to answer" \
                busctl --system --timeout=1 status org.freedesktop.DBus ||
                fail "dbus-daemon did not start (see $SANDBOX_DIR/bus.log)"
        sandbox_log "private system bus at $DBUS_SYSTEM_BUS_ADDRESS"
}

sandbox_name_has_owner() {
        busctl --system --timeout=2 call org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus NameHasOwner s "$1" 2>/dev/null | grep -qx 'b true'
}

sandbox__name_released() {
        ! sandbox_name_has_owner "$1"
}

sandbox_name_owner_pid() {
        busctl --system --timeout=2 call org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus GetConnectionUnixProcessID s "$1" 2>/dev/null | sed -n 's/^u //p'
}

# polkitd reads actions only from /usr/share/polkit-1/actions and rules from
# /etc/polkit-1/rules.d: bind our folders over them in a mount namespace of its
# own, so the host's polkit configuration is never touched. "slave" keeps
# unmounts made outside (netns, bpffs) propagating into that namespace.
sandbox_start_polkitd() {
        local polkit_dir=$SANDBOX_DIR/polkit
        [ -d /usr/share/polkit-1/actions ] && [ -d /etc/polkit-1/rules.d ] ||
                sandbox_missing "polkit folders /usr/share/polkit-1/actions and /etc/polkit-1/rules.d"
        mkdir -p "$polkit_dir/actions" "$polkit_dir/rules.d"
        cp "$PF_SOURCE_DIR"/polkit/*.policy "$polkit_dir/actions/"
        # Lets the test admins' group do everything the project's actions guard
        # (a prefix, so actions added later are covered too).
        cat >"$polkit_dir/rules.d/50-packetfilter-test.rules" <<EOF
// Written by tests/lib/sandbox.sh for the sandbox's polkitd only.
polkit.addRule(function(action, subject) {
        if (action.id.indexOf("org.example.packetfilter.") == 0 &&
            subject.isInGroup("$SANDBOX_TEST_ADMIN_GROUP")) {
                return polkit.Result.YES;
        }
});
EOF
        local rules
        for rules in "${SANDBOX_POLKIT_RULES[@]}"; do
                cp "$rules" "$polkit_dir/rules.d/" || fail "cannot copy polkit rules $rules"
        done

        unshare --mount --propagation slave -- sh -c '
                mount --bind "$1" /usr/share/polkit-1/actions &&
                mount --bind "$2" /etc/polkit-1/rules.d &&
                exec "$3"' sh "$polkit_dir/actions" "$polkit_dir/rules.d" "$PF_POLKITD" \
                >>"$SANDBOX_DIR/polkitd.log" 2>&1 </dev/null &
        sandbox__record_pid "$!" "$SANDBOX_DIR/polkitd.pid"

        sandbox_wait 15 "polkitd to own org.freedesktop.PolicyKit1" \
                sandbox_name_has_owner org.freedesktop.PolicyKit1 ||
                fail "polkitd did not appear on the bus (see $SANDBOX_DIR/polkitd.log)"
        sandbox_log "polkitd running (pid $(sandbox__recorded_pid "$SANDBOX_DIR/polkitd.pid"))"
}

# Stops polkitd (SIGTERM, then SIGKILL) and waits until its bus name is gone:
# from then on every check the daemon starts fails, and it must deny.
sandbox_stop_polkitd() {
        sandbox__kill_recorded "$SANDBOX_DIR/polkitd.pid"
        rm -f "$SANDBOX_DIR/polkitd.pid"
        sandbox_wait 5 "org.freedesktop.PolicyKit1 to be released" \
                sandbox__name_released org.freedesktop.PolicyKit1 ||
                fail "org.freedesktop.PolicyKit1 still owned after polkitd was stopped"
        sandbox_log "polkitd stopped"
}

# Two namespaces and a veth pair made inside them (the host's namespace never
# sees an interface). IPv6 without DAD so addresses are usable at once.
sandbox_start_netns() {
        ip netns add "$SANDBOX_FW_NS" 2>"$SANDBOX_DIR/netns.err" ||
                sandbox_missing "network namespaces: $(cat "$SANDBOX_DIR/netns.err")"
        echo "$SANDBOX_FW_NS" >>"$SANDBOX_DIR/netns"
        ip netns add "$SANDBOX_PEER_NS"
        echo "$SANDBOX_PEER_NS" >>"$SANDBOX_DIR/netns"

        ip -n "$SANDBOX_FW_NS" link add "$SANDBOX_FW_IF" type veth \
                peer name "$SANDBOX_PEER_IF" netns "$SANDBOX_PEER_NS" ||
                sandbox_missing "veth interfaces (module veth)"
        ip -n "$SANDBOX_FW_NS" addr add "$SANDBOX_FW_IPV4/24" dev "$SANDBOX_FW_IF"
        ip -n "$SANDBOX_FW_NS" addr add "$SANDBOX_FW_IPV6/64" dev "$SANDBOX_FW_IF" nodad
        ip -n "$SANDBOX_PEER_NS" addr add "$SANDBOX_PEER_IPV4/24" dev "$SANDBOX_PEER_IF"
        ip -n "$SANDBOX_PEER_NS" addr add "$SANDBOX_PEER_IPV6/64" dev "$SANDBOX_PEER_IF" nodad
        local ns
        for ns in "$SANDBOX_FW_NS" "$SANDBOX_PEER_NS"; do
                ip -n "$ns" link set lo up
        done
        ip -n "$SANDBOX_FW_NS" link set "$SANDBOX_FW_IF" up
        ip -n "$SANDBOX_PEER_NS" link set "$SANDBOX_PEER_IF" up
        sandbox_log "netns $SANDBOX_FW_NS ($SANDBOX_FW_IF $SANDBOX_FW_IPV4 $SANDBOX_FW_IPV6)" \
                "<-> $SANDBOX_PEER_NS ($SANDBOX_PEER_IF $SANDBOX_PEER_IPV4 $SANDBOX_PEER_IPV6)"
}

# A bpffs of our own (mounted from outside any netns: one mounted inside
# "ip netns exec" dies with that mount namespace). Shared, so that copies made
# by mount namespaces started later follow our unmount.
sandbox_mount_bpffs() {
        SANDBOX_BPFFS=$SANDBOX_DIR/bpffs
        mkdir -p "$SANDBOX_BPFFS"
        mount -t bpf bpf "$SANDBOX_BPFFS" 2>"$SANDBOX_DIR/bpffs.err" ||
                sandbox_missing "bpffs: $(cat "$SANDBOX_DIR/bpffs.err")"
        echo "$SANDBOX_BPFFS" >>"$SANDBOX_DIR/mounts"
        mount --make-shared "$SANDBOX_BPFFS"
        sandbox_log "bpffs at $SANDBOX_BPFFS"
}

# A stand-in for systemd's notification socket, kept across daemon restarts:
# every sd_notify() message lands, one assignment per line, in notify.log.
sandbox__start_notify_listener() {
        sandbox__recorded_pid "$SANDBOX_DIR/notify.pid" >/dev/null && return 0
        python3 "$PF_LIB_DIR/notify-listener.py" "$SANDBOX_DIR/notify.sock" "$SANDBOX_DIR/notify.log" \
                >>"$SANDBOX_DIR/notify.err" 2>&1 </dev/null &
        sandbox__record_pid "$!" "$SANDBOX_DIR/notify.pid"
        sandbox_wait 5 "the notification socket" test -S "$SANDBOX_DIR/notify.sock" ||
                fail "notify-listener.py did not start: $(cat "$SANDBOX_DIR/notify.err")"
}

# Starts packetfilterd in the fw namespace (same mount namespace as ours, so
# it sees the bpffs) with NOTIFY_SOCKET set, and waits until it both owns its
# bus name and has sent READY=1 (in that order: READY=1 means saved state is
# applied and the name is owned). Its config file ($SANDBOX_DIR/packetfilterd.conf)
# is absent unless a test writes it first. Extra arguments go to the daemon.
sandbox_start_daemon() {
        local pid ready=no
        mkdir -p "$SANDBOX_DIR/state"
        sandbox__start_notify_listener
        : >"$SANDBOX_DIR/notify.log"
        printf -- '----- packetfilterd starting at %s -----\n' "$(date +%T.%3N)" >>"$SANDBOX_DIR/daemon.log"
        # The environment systemd gives it: the unit's Environment= lines.
        local unit_env
        mapfile -t unit_env < <(sed -n 's/^Environment=//p' "$PF_SOURCE_DIR/packaging/packetfilterd.service.in")
        env "${unit_env[@]}" NOTIFY_SOCKET="$SANDBOX_DIR/notify.sock" nsenter --net="/run/netns/$SANDBOX_FW_NS" -- "$PF_DAEMON" \
                --state-dir "$SANDBOX_DIR/state" \
                --bpffs-dir "$SANDBOX_BPFFS/packetfilter" \
                --config "$SANDBOX_DIR/packetfilterd.conf" \
                --log-level debug "$@" \
                >>"$SANDBOX_DIR/daemon.log" 2>&1 </dev/null &
        pid=$!
        sandbox__record_pid "$pid" "$SANDBOX_DIR/daemon.pid"
        SANDBOX_DAEMON_PID=$pid

        local deadline=$(($(date +%s) + 20))
        while :; do
                # READY=1 first, then the owner: a daemon that owns the name
                # before notifying can never fail this; one that notifies too
                # early is caught unless it wins the race to the name.
                grep -qx READY=1 "$SANDBOX_DIR/notify.log" && ready=yes
                if [ "$(sandbox_name_owner_pid "$PF_BUS_NAME")" = "$pid" ]; then
                        [ "$ready" = yes ] && break
                elif [ "$ready" = yes ]; then
                        fail "packetfilterd sent READY=1 before owning $PF_BUS_NAME"
                fi
                if ! sandbox__alive "$pid"; then
                        local status=0
                        wait "$pid" || status=$?
                        fail "packetfilterd exited with status $status during startup"
                fi
                [ "$(date +%s)" -lt "$deadline" ] ||
                        fail "packetfilterd (pid $pid) did not own $PF_BUS_NAME and send READY=1 within 20 s (notify.log: $(tr '\n' ' ' <"$SANDBOX_DIR/notify.log"))"
                sleep 0.05
        done
        sandbox_log "packetfilterd running (pid $pid), owns $PF_BUS_NAME, sent READY=1"
}

# SIGTERM must stop the daemon cleanly: exit status 0 within 10 s, name gone.
sandbox_stop_daemon() {
        local pid status=0
        pid=$(sandbox__recorded_pid "$SANDBOX_DIR/daemon.pid") || fail "packetfilterd is not running"
        kill -TERM "$pid"
        sandbox__wait_gone "$pid" 10 || fail "packetfilterd (pid $pid) still running 10 s after SIGTERM"
        wait "$pid" || status=$?
        rm -f "$SANDBOX_DIR/daemon.pid"
        SANDBOX_DAEMON_PID=
        [ "$status" = 0 ] || fail "packetfilterd exited with status $status on SIGTERM"
        sandbox_wait 5 "$PF_BUS_NAME to be released" sandbox__name_released "$PF_BUS_NAME" ||
                fail "$PF_BUS_NAME still owned after packetfilterd exited"
        sandbox_log "packetfilterd stopped cleanly"
}

sandbox_restart_daemon() {
        sandbox_stop_daemon
        sandbox_start_daemon "$@"
}

# Everything most tests need, in the order that keeps mounts out of polkitd's
# namespace: bus, polkitd, namespaces, bpffs, daemon.
sandbox_start_all() {
        sandbox_init
        sandbox_start_bus
        sandbox_start_polkitd
        sandbox_start_netns
        sandbox_mount_bpffs
        sandbox_start_daemon
}

# ---------------------------------------------------------------------------
# Test users

# pf-test-user (no rights) and pf-test-admin (in pf-test-admins, which the
# sandbox's polkit rule grants). System users without home or shell, created
# once per machine, under a lock so that parallel runs don't race.
sandbox_ensure_test_users() {
        sandbox__require_commands useradd groupadd usermod getent
        local lock_dir=/run/lock
        [ -d "$lock_dir" ] || lock_dir=/tmp
        (
                flock --timeout 30 9 || fail "cannot lock $lock_dir/packetfilter-test-users.lock"
                getent group "$SANDBOX_TEST_ADMIN_GROUP" >/dev/null ||
                        groupadd --system "$SANDBOX_TEST_ADMIN_GROUP"
                local user
                for user in "$SANDBOX_TEST_USER" "$SANDBOX_TEST_ADMIN"; do
                        getent passwd "$user" >/dev/null ||
                                useradd --system --user-group --no-create-home \
                                        --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
                done
                id -nG "$SANDBOX_TEST_ADMIN" | tr ' ' '\n' | grep -qx "$SANDBOX_TEST_ADMIN_GROUP" ||
                        usermod --append --groups "$SANDBOX_TEST_ADMIN_GROUP" "$SANDBOX_TEST_ADMIN"
        ) 9>"$lock_dir/packetfilter-test-users.lock"
        if id -nG "$SANDBOX_TEST_USER" | tr ' ' '\n' | grep -qx "$SANDBOX_TEST_ADMIN_GROUP"; then
                fail "$SANDBOX_TEST_USER must not be in $SANDBOX_TEST_ADMIN_GROUP"
        fi
        # A copy the test users can surely execute (the build tree may sit in a
        # folder they cannot enter).
        mkdir -p "$SANDBOX_DIR/bin"
        install -m 0755 "$PF_CTL" "$SANDBOX_DIR/bin/packetfilterctl"
}

# sandbox_ensure_user USER: one more system user without rights (no home, no
# shell), created once per machine under the same lock as the test users.
sandbox_ensure_user() {
        local user=$1 lock_dir=/run/lock
        sandbox__require_commands useradd getent
        [ -d "$lock_dir" ] || lock_dir=/tmp
        (
                flock --timeout 30 9 || fail "cannot lock $lock_dir/packetfilter-test-users.lock"
                getent passwd "$user" >/dev/null ||
                        useradd --system --user-group --no-create-home \
                                --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
        ) 9>"$lock_dir/packetfilter-test-users.lock"
        if id -nG "$user" | tr ' ' '\n' | grep -qx "$SANDBOX_TEST_ADMIN_GROUP"; then
                fail "$user must not be in $SANDBOX_TEST_ADMIN_GROUP"
        fi
}

# Runs a command as USER with its groups, no capabilities, the private bus.
sandbox_run_as() {
        local user=$1
        shift
        setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups --inh-caps=-all -- \
                env HOME=/ DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" "$@"
}

# ---------------------------------------------------------------------------
# Helpers for tests

# sandbox_wait TIMEOUT_SEC WHAT COMMAND...: retries COMMAND every 0.1 s until it
# succeeds (returns 0) or TIMEOUT_SEC pass (returns 1, saying what it waited for).
sandbox_wait() {
        local timeout=$1 what=$2
        shift 2
        local deadline=$(($(date +%s%N) + timeout * 1000000000))
        until "$@" >/dev/null 2>&1; do
                if [ "$(date +%s%N)" -ge "$deadline" ]; then
                        echo "sandbox: gave up after ${timeout} s waiting for $what" >&2
                        return 1
                fi
                sleep 0.1
        done
}

in_fw() {
        nsenter --net="/run/netns/$SANDBOX_FW_NS" -- "$@"
}

in_peer() {
        nsenter --net="/run/netns/$SANDBOX_PEER_NS" -- "$@"
}

# The CLI, as root, on the private bus.
pf_ctl() {
        "$PF_CTL" "$@"
}

# busctl on the daemon's object: pf_busctl call|get-property|introspect ...
pf_call() {
        local method=$1
        shift
        busctl --system --timeout=30 call "$PF_BUS_NAME" "$PF_OBJECT_PATH" "$PF_INTERFACE" "$method" "$@"
}

pf_call_json() {
        local method=$1
        shift
        busctl --system --timeout=30 --json=short call "$PF_BUS_NAME" "$PF_OBJECT_PATH" "$PF_INTERFACE" "$method" "$@"
}

pf_get_property() {
        busctl --system --timeout=30 get-property "$PF_BUS_NAME" "$PF_OBJECT_PATH" "$PF_INTERFACE" "$1"
}

# pf_call_error_name [--as USER] METHOD ARG...: calls METHOD with dbus-send
# typed arguments (string:x uint32:0), as root or as USER, and prints the D-Bus
# error name it failed with, or "ok". dbus-send, unlike busctl, shows the name,
# and does not ask for interactive authorization.
pf_call_error_name() {
        local -a as=()
        if [ "$1" = --as ]; then
                as=(sandbox_run_as "$2")
                shift 2
        fi
        local method=$1 output
        shift
        if output=$("${as[@]}" dbus-send --system --print-reply --reply-timeout=30000 \
                        --dest="$PF_BUS_NAME" "$PF_OBJECT_PATH" "$PF_INTERFACE.$method" "$@" 2>&1); then
                echo ok
        else
                sed -n 's/^Error \([^:]*\):.*/\1/p' <<<"$output" | head -n 1
        fi
}

pf_json() {
        python3 "$PF_LIB_DIR/pfjson.py" "$@"
}

# The value of FIELD of the rule whose source is ADDRESS (either busctl's or
# the CLI's --json ListRules output on stdin); fails when there is no such rule.
pf_rule_field() {
        local address=$1 field=$2
        pf_call_json ListRules | pf_json rule-field "$address" "$field"
}

pf_rule_count() {
        pf_get_property RuleCount | sed -n 's/^u //p'
}

pf_statistic() {
        pf_call_json GetStatistics | pf_json statistic "$1"
}

# ---------------------------------------------------------------------------
# Traffic: ICMP echo from the peer to the filtered side.

# All of COUNT pings come back (retried once: a neighbour entry may still be
# settling after a block was lifted).
ping_passes() {
        local address=$1 count=${2:-3} _
        for _ in 1 2; do
                if in_peer ping -n -q -c "$count" -i 0.2 -W 2 "$address" 2>&1 |
                        grep -q " $count received"; then
                        return 0
                fi
        done
        return 1
}

# None of COUNT pings comes back.
ping_blocked() {
        local address=$1 count=${2:-3} status=0
        in_peer ping -n -q -c "$count" -i 0.2 -W 1 "$address" >/dev/null 2>&1 || status=$?
        [ "$status" = 1 ]
}

check_ping_passes() {
        ping_passes "$1" "${2:-3}" || fail "pings from the peer to $1 do not all pass"
        ok "pings from the peer to $1 pass"
}

check_ping_blocked() {
        ping_blocked "$1" "${2:-3}" || fail "pings from the peer to $1 are not blocked"
        ok "pings from the peer to $1 are dropped"
}

check_eq() {
        local what=$1 expected=$2 actual=$3
        [ "$actual" = "$expected" ] || fail "$what: expected '$expected', got '$actual'"
        ok "$what = $actual"
}

# check_gt WHAT A B: A > B (integers)
check_gt() {
        local what=$1 a=$2 b=$3
        [ "$a" -gt "$b" ] || fail "$what: expected $a > $b"
        ok "$what: $a > $b"
}
