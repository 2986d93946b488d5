#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The introspection XML in dbus/ is the API contract: the daemon must export
# exactly that interface (methods and argument names, types and directions;
# properties with type, access and change signalling; signals).
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

sandbox_start_all

step "compare dbus/$PF_INTERFACE.xml with the daemon's live introspection"
busctl --system introspect --xml-interface "$PF_BUS_NAME" "$PF_OBJECT_PATH" >"$SANDBOX_DIR/live.xml"
python3 "$PF_LIB_DIR/compare-introspection.py" \
        "$PF_SOURCE_DIR/dbus/$PF_INTERFACE.xml" "$SANDBOX_DIR/live.xml" "$PF_INTERFACE" ||
        fail "the daemon does not export what dbus/$PF_INTERFACE.xml says"

step "the standard interfaces are there too"
for interface in org.freedesktop.DBus.Properties org.freedesktop.DBus.Introspectable org.freedesktop.DBus.Peer; do
        grep -q "<interface name=\"$interface\">" "$SANDBOX_DIR/live.xml" || fail "$interface missing"
done
ok "Properties, Introspectable and Peer"

step "Version is the project's version"
version=$(pf_get_property Version)
[[ $version =~ ^s\ \"[0-9]+\.[0-9]+ ]] || fail "Version is '$version'"
ok "Version: $version"
