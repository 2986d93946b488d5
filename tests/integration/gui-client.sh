#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon as a desktop front-end sees it: tests/gdbus/pf-gui-client (GLib/GDBus,
# asynchronous calls, a proxy typed by dbus/org.example.PacketFilter1.xml) reads every
# property, follows PropertiesChanged and the rule signals, makes a scripted series of
# changes (AddRule, AddRules, SetRuleEnabled, RemoveRule, ReplaceRules, Block with a
# timeout that expires, bulk changes at and past the 64-signal bound, SetDefaultAction,
# Attach/DetachInterface, refused changes) and checks that each is announced exactly
# once, in order, with Generation rising by one per committed change.
source "${PF_SOURCE_DIR:-$(dirname "$(readlink -f "$0")")/../..}/tests/lib/sandbox.sh"

PF_GUI_CLIENT=${PF_GUI_CLIENT:-$PF_BUILD_DIR/tests/gdbus/pf-gui-client}
[ -x "$PF_GUI_CLIENT" ] || sandbox_missing "pf-gui-client not built: $PF_GUI_CLIENT (needs gio-2.0)"

sandbox_start_all

step "pf-gui-client against the daemon (as root, on the private bus)"
# In a sanitizer build, LeakSanitizer would abort the client at exit over GLib's
# one-time allocations (type system, main context): the daemon is what is checked.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
timeout --kill-after=5 170 "$PF_GUI_CLIENT" \
        --xml "$PF_SOURCE_DIR/dbus/$PF_INTERFACE.xml" --interface "$SANDBOX_FW_IF" ||
        fail "pf-gui-client found the daemon's signals or replies wrong (see above)"

step "the daemon is still serving, nothing left behind by the client"
check_eq "RuleCount after the client's run" "$(pf_call ListRules | cut -d" " -f2)" "$(pf_rule_count)"
check_eq "DefaultAction" 's "pass"' "$(pf_get_property DefaultAction)"
