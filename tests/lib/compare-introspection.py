#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Compare one D-Bus interface between two introspection documents.

  compare-introspection.py CONTRACT.xml LIVE.xml INTERFACE

Both sides are reduced to one line per member: methods with their arguments
(direction, type, name, in order), properties with type, access and their
effective EmitsChangedSignal (the property's annotation, else the interface's,
else "true" as the D-Bus specification says), signals with their arguments,
and the annotations that change behaviour (Deprecated, Method.NoReply).
Comments and documentation annotations are ignored, and so are hints a
library adds on its own (sd-bus's org.freedesktop.systemd1.*).
Exits 0 when both sides agree, 1 with a unified diff otherwise.
"""

import difflib
import sys
import xml.etree.ElementTree as ET

EMITS_CHANGED = "org.freedesktop.DBus.Property.EmitsChangedSignal"
SEMANTIC_ANNOTATIONS = {
    "org.freedesktop.DBus.Deprecated",
    "org.freedesktop.DBus.Method.NoReply",
}


def annotations(element):
    return {a.get("name"): a.get("value") for a in element.findall("annotation")}


def semantic(element):
    notes = annotations(element)
    return "".join(f" @{name}={notes[name]}" for name in sorted(notes) if name in SEMANTIC_ANNOTATIONS)


def arguments(element, default_direction):
    parts = []
    for arg in element.findall("arg"):
        direction = arg.get("direction", default_direction)
        parts.append(f"{direction} {arg.get('type')} {arg.get('name', '<unnamed>')}")
    return ", ".join(parts)


def describe(path, interface_name):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        sys.exit(f"compare-introspection: cannot parse {path}: {error}")

    interfaces = [i for i in root.iter("interface") if i.get("name") == interface_name]
    if len(interfaces) != 1:
        sys.exit(f"compare-introspection: {path} has {len(interfaces)} interfaces named {interface_name}")
    interface = interfaces[0]
    interface_emits = annotations(interface).get(EMITS_CHANGED, "true")

    lines = []
    for method in interface.findall("method"):
        lines.append(f"method {method.get('name')}({arguments(method, 'in')}){semantic(method)}")
    for prop in interface.findall("property"):
        emits = annotations(prop).get(EMITS_CHANGED, interface_emits)
        lines.append(f"property {prop.get('name')} {prop.get('type')} {prop.get('access')} "
                     f"emits-changed={emits}{semantic(prop)}")
    for signal in interface.findall("signal"):
        lines.append(f"signal {signal.get('name')}({arguments(signal, 'out')}){semantic(signal)}")
    lines.append(f"interface{semantic(interface)}")
    return sorted(lines)


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    contract_path, live_path, interface_name = argv[1:]
    contract = describe(contract_path, interface_name)
    live = describe(live_path, interface_name)
    if contract == live:
        print(f"{interface_name}: {len(contract) - 1} members, contract and daemon agree")
        return 0
    print(f"{interface_name}: the daemon's introspection differs from {contract_path}:")
    sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(
        contract, live, fromfile=f"contract ({contract_path})", tofile="daemon (live)", lineterm=""))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
