#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# packaging/networkmanager/90-packetfilter, run by hand the way NetworkManager
# runs it (arguments: interface, action; environment: CONNECTION_ID and
# friends, a bare PATH): "up" of an interface listed in Interfaces= attaches
# it in the listed mode; "up" of a connection listed in Connections= attaches
# its interface; unlisted interfaces, "down" and other actions change nothing;
# with the daemon or the tool absent it still exits 0 at once and says why.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

DISPATCHER=$PF_SOURCE_DIR/packaging/networkmanager/90-packetfilter
readonly OTHER_IF=pf-other0

[ -f "$DISPATCHER" ] || fail "no dispatcher script at $DISPATCHER"

sandbox_init
sandbox_start_bus
sandbox_start_polkitd
sandbox_start_netns
sandbox_mount_bpffs

# The daemon reads the same file: it must accept Connections= (the dispatcher's key).
# Interfaces= names only one that does not exist, so nothing is attached before
# the dispatcher asks.
cat >"$SANDBOX_DIR/packetfilterd.conf" <<EOF
[Filter]
Connections=pf-test-conn:generic
EOF
sandbox_start_daemon

# The dispatcher's own view: this file adds the Interfaces= it acts on.
DISPATCHER_CONF=$SANDBOX_DIR/dispatcher.conf
cat >"$DISPATCHER_CONF" <<EOF
# as an administrator would write it
[Filter]
DefaultAction = pass
Interfaces = pf-absent:native $SANDBOX_FW_IF:generic
; connection ids, with and without a mode
Connections=pf-test-conn:generic  pf-auto-conn
EOF

# A second interface in the fw namespace, for connection matches and unlisted names.
ip -n "$SANDBOX_FW_NS" link add "$OTHER_IF" type veth peer name pf-other1
ip -n "$SANDBOX_FW_NS" link set "$OTHER_IF" up
ip -n "$SANDBOX_FW_NS" link set pf-other1 up

# dispatch IFACE ACTION [CONNECTION_ID] [VAR=VALUE...]: runs the script with
# NetworkManager's arguments and environment (and nothing else from ours but
# the private bus); status in $dispatch_status, elapsed ms in $dispatch_ms,
# stdout and stderr in files.
dispatch() {
        local iface=$1 action=$2 id=${3:-} start
        shift 2
        [ $# -gt 0 ] && shift
        local -a env=(
                PATH=/usr/sbin:/usr/bin:/sbin:/bin
                LANG=C
                DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS"
                NM_DISPATCHER_ACTION="$action"
                DEVICE_IFACE="$iface"
                DEVICE_IP_IFACE="$iface"
                CONNECTION_UUID=5fb8a0a2-0b6c-4b39-9d4c-1b1a1d6c0001
                PACKETFILTER_CONF="$DISPATCHER_CONF"
                PACKETFILTERCTL="$PF_CTL"
        )
        if [ -n "$id" ]; then
                env+=(CONNECTION_ID="$id"
                      CONNECTION_FILENAME="/etc/NetworkManager/system-connections/$id.nmconnection"
                      CONNECTION_DBUS_PATH=/org/freedesktop/NetworkManager/Settings/1)
        fi
        env+=("$@")
        start=$(date +%s%N)
        dispatch_status=0
        env -i "${env[@]}" "$DISPATCHER" "$iface" "$action" \
                >"$SANDBOX_DIR/dispatch.out" 2>"$SANDBOX_DIR/dispatch.err" </dev/null || dispatch_status=$?
        dispatch_ms=$((($(date +%s%N) - start) / 1000000))
        sandbox_log "dispatcher $iface $action${id:+ ($id)}: status $dispatch_status in $dispatch_ms ms;" \
                "stdout: $(tr '\n' ' ' <"$SANDBOX_DIR/dispatch.out")" \
                "stderr: $(tr '\n' ' ' <"$SANDBOX_DIR/dispatch.err")"
}

check_dispatch_ok() {
        check_eq "exit status of the dispatcher script" 0 "$dispatch_status"
        [ "$dispatch_ms" -lt 5000 ] || fail "the dispatcher script took $dispatch_ms ms (NetworkManager waits for it)"
}

interfaces() {
        pf_get_property Interfaces
}

step "the script is one NetworkManager will run: root's, 0755, POSIX sh, installed by meson"
head -n 1 "$DISPATCHER" | grep -qx '#!/bin/sh' || fail "the script does not start with #!/bin/sh"
sh -n "$DISPATCHER" || fail "the script does not parse as sh"
if command -v dash >/dev/null; then
        dash -n "$DISPATCHER" || fail "the script does not parse with dash"
fi
command -v meson >/dev/null || sandbox_missing "meson, to check what meson install installs"
meson install -C "$PF_BUILD_DIR" --no-rebuild --quiet --destdir "$SANDBOX_DIR/destdir" >"$SANDBOX_DIR/install.log" 2>&1 ||
        fail "meson install failed: $(tail -n 5 "$SANDBOX_DIR/install.log")"
installed=$(find "$SANDBOX_DIR/destdir" -path '*/lib/NetworkManager/dispatcher.d/90-packetfilter')
[ -n "$installed" ] || fail "meson install did not install lib/NetworkManager/dispatcher.d/90-packetfilter"
check_eq "mode and owner of $installed" "755 root" "$(stat -c '%a %U' "$installed")"
cmp -s "$installed" "$DISPATCHER" || fail "the installed script differs from the source"
ok "installed as ${installed#"$SANDBOX_DIR/destdir"}"
check_eq "Interfaces at start" "a(ss) 0" "$(interfaces)"

step "up of an interface that is not listed, with an unlisted connection: nothing happens"
dispatch "$OTHER_IF" up "Some other connection"
check_dispatch_ok
check_eq "Interfaces" "a(ss) 0" "$(interfaces)"

step "up of $SANDBOX_FW_IF, listed as $SANDBOX_FW_IF:generic in Interfaces=: attached in generic mode"
dispatch "$SANDBOX_FW_IF" up "Wired connection 2"
check_dispatch_ok
check_eq "Interfaces" "a(ss) 1 \"$SANDBOX_FW_IF\" \"generic\"" "$(interfaces)"
grep -q "$SANDBOX_FW_IF" "$SANDBOX_DIR/dispatch.out" || fail "the script did not say what it attached"
pf_ctl block "$SANDBOX_PEER_IPV4" >/dev/null
check_ping_blocked "$SANDBOX_FW_IPV4"

step "down of $SANDBOX_FW_IF: exit 0, the filter stays"
dispatch "$SANDBOX_FW_IF" down "Wired connection 2"
check_dispatch_ok
check_eq "Interfaces" "a(ss) 1 \"$SANDBOX_FW_IF\" \"generic\"" "$(interfaces)"
check_ping_blocked "$SANDBOX_FW_IPV4"

step "other actions (pre-up, dhcp4-change, connectivity-change) of a listed connection: nothing"
for action in pre-up dhcp4-change connectivity-change vpn-up; do
        dispatch "$OTHER_IF" "$action" pf-test-conn
        check_dispatch_ok
done
check_eq "Interfaces" "a(ss) 1 \"$SANDBOX_FW_IF\" \"generic\"" "$(interfaces)"

step "up of $OTHER_IF for connection pf-test-conn, listed as pf-test-conn:generic in Connections="
dispatch "$OTHER_IF" up pf-test-conn
check_dispatch_ok
interfaces | grep -qF "\"$OTHER_IF\" \"generic\"" || fail "$OTHER_IF not attached in generic mode: $(interfaces)"
ok "Interfaces: $(interfaces)"

step "a connection listed without a mode is attached in auto mode"
pf_ctl detach "$OTHER_IF"
dispatch "$OTHER_IF" up pf-auto-conn
check_dispatch_ok
interfaces | grep -qE "\"$OTHER_IF\" \"(native|generic)\"" || fail "$OTHER_IF not attached: $(interfaces)"
ok "Interfaces: $(interfaces)"
pf_ctl detach "$OTHER_IF"

step "a connection id that only starts like a listed one does not match"
dispatch "$OTHER_IF" up pf-test-conn-2
check_dispatch_ok
interfaces | grep -qF "\"$OTHER_IF\"" && fail "$OTHER_IF attached for an unlisted connection: $(interfaces)"
ok "not attached"

step "packetfilterctl missing: exit 0 at once, says why"
dispatch "$SANDBOX_FW_IF" up "" PACKETFILTERCTL=/nonexistent/packetfilterctl
check_dispatch_ok
grep -q "not found" "$SANDBOX_DIR/dispatch.err" || fail "stderr does not say that packetfilterctl is missing"

step "the daemon is not running: exit 0 quickly, and stderr says why"
sandbox_stop_daemon
dispatch "$SANDBOX_FW_IF" up "Wired connection 2"
check_dispatch_ok
grep -q "not attached to $SANDBOX_FW_IF.*$PF_BUS_NAME" "$SANDBOX_DIR/dispatch.err" ||
        fail "stderr does not say why $SANDBOX_FW_IF was not attached (the daemon's name)"
ok "stderr: $(head -c 300 "$SANDBOX_DIR/dispatch.err")"

step "no bus at all: the same"
dispatch "$SANDBOX_FW_IF" up "" DBUS_SYSTEM_BUS_ADDRESS="unix:path=$SANDBOX_DIR/no-such-socket"
check_dispatch_ok
grep -q "not attached to $SANDBOX_FW_IF.*bus" "$SANDBOX_DIR/dispatch.err" || fail "stderr does not say why"

step "a daemon that hangs: the script gives up after PACKETFILTER_TIMEOUT"
cat >"$SANDBOX_DIR/hanging-ctl" <<'EOF'
#!/bin/sh
exec sleep 30
EOF
chmod 0755 "$SANDBOX_DIR/hanging-ctl"
dispatch "$SANDBOX_FW_IF" up "" PACKETFILTERCTL="$SANDBOX_DIR/hanging-ctl" PACKETFILTER_TIMEOUT=1
check_dispatch_ok
grep -q "did not answer" "$SANDBOX_DIR/dispatch.err" || fail "stderr does not say that packetfilterctl timed out"
