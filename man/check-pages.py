#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks that the man pages (and docs/dbus-api.md) name everything the code has.

Each page is written by hand; this test fails when the code grows an option,
a command, a rule word, a config key or a D-Bus member that a page does not
mention, and when groff warns about a generated page.

  check-pages.py SOURCE_DIR PACKETFILTERD PACKETFILTERCTL [GENERATED_PAGE...]
"""
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

source_dir, daemon, ctl = sys.argv[1:4]
generated = sys.argv[4:]
problems = []


def read(*path):
    with open(os.path.join(source_dir, *path), encoding="utf-8") as f:
        return f.read()


def need(page_name, text, items, pattern):
    """Each item must match pattern (a format with {}) somewhere in text."""
    for item in items:
        if not re.search(pattern.format(re.escape(item)), text, re.MULTILINE):
            problems.append(f"{page_name} does not document '{item}'")


def help_text(program):
    result = subprocess.run([program, "--help"], capture_output=True, text=True, check=True)
    return result.stdout


# packetfilterd(8): every option of --help.
daemon_page = read("man", "packetfilterd.8.scd")
need("packetfilterd.8", daemon_page, re.findall(r"(--[a-z-]+)", help_text(daemon)), r"\*{}\*")

# packetfilterctl(8): every command, option and rule word of --help.
ctl_page = read("man", "packetfilterctl.8.scd")
ctl_help = help_text(ctl)
commands_part = ctl_help.split("Commands:", 1)[1].split("Options:", 1)[0]
commands = re.findall(r"^  ([a-z][a-z-]*)", commands_part, re.MULTILINE)
if not commands:
    problems.append("no commands found in packetfilterctl --help")
need("packetfilterctl.8", ctl_page, commands, r"^\*{}\*")
need("packetfilterctl.8", ctl_page, sorted(set(re.findall(r"(--[a-z][a-z-]+)", ctl_help))), r"\*{}\*")
grammar = re.search(r"ACTION (\[.*?)\n\s*ACTION is", ctl_help, re.DOTALL)
if grammar:
    words = re.findall(r"\[([a-z-]+)", grammar.group(1))
    need("packetfilterctl.8", ctl_page, words, r"^\*{}\*")

# packetfilterd.conf(5): every key the config parser knows.
conf_page = read("man", "packetfilterd.conf.5.scd")
keys = re.findall(r'streq\(key, "([A-Za-z]+)"\)', read("daemon", "config-file.c"))
if not keys:
    problems.append("no keys found in daemon/config-file.c")
need("packetfilterd.conf.5", conf_page, keys, r"^\*{}=")

# org.example.PacketFilter1(5) and docs/dbus-api.md: every member of the
# contract, and every rule key the daemon reads.
iface_page = read("man", "org.example.PacketFilter1.5.scd")
api_doc = read("docs", "dbus-api.md")
root = ET.fromstring(read("dbus", "org.example.PacketFilter1.xml"))
members = [(e.tag, e.get("name")) for e in root.iter() if e.tag in ("method", "property", "signal")]
if not members:
    problems.append("no members found in dbus/org.example.PacketFilter1.xml")
for kind, name in members:
    need("org.example.PacketFilter1.5", iface_page, [name], r"^\*{}\*")
    heading = r"^### {}\(" if kind == "method" else r"`{}`"
    need("docs/dbus-api.md", api_doc, [name], heading)
rule_keys = re.findall(r'^\s*\{ "([a-z-]+)",\s+KEY_', read("daemon", "bus-rule.c"), re.MULTILINE)
if not rule_keys:
    problems.append("no rule keys found in daemon/bus-rule.c")
need("org.example.PacketFilter1.5", iface_page, rule_keys, r"\*{}\* [a-z]")
need("docs/dbus-api.md", api_doc, rule_keys, r"^\| `{}` \|")

# groff has nothing to say about the generated pages.
man = shutil.which("man")
for page in generated:
    if not man:
        print(f"man not found: not linting {page}")
        continue
    result = subprocess.run([man, "--warnings", "-E", "UTF-8", "-l", page],
                            capture_output=True, text=True, env=dict(os.environ, MANWIDTH="80", MANPAGER="cat"))
    if result.returncode != 0 or result.stderr.strip():
        problems.append(f"{os.path.basename(page)}: man --warnings: {result.stderr.strip() or result.returncode}")

for p in problems:
    print(p)
print(f"{len(problems)} problem(s)")
sys.exit(1 if problems else 0)
