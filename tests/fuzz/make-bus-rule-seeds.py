#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes the seed corpus of fuzz-bus-rule (corpus/bus-rule/) in the recipe
# format that fuzz-bus-rule.c reads; the key and type tables below must match
# key_names[] and value_types[] there. Run it after changing either.
import os
import struct
import sys

KEYS = ["action", "source", "destination", "protocol", "port", "source-port", "icmp-type",
        "vlan", "interface", "priority", "enabled", "comment", "group", "timeout",
        "id", "packets", "bytes", "created", "expires", "Action"]
TYPES = ["s", "u", "i", "b", "y", "n", "q", "x", "t", "d", "o", "g", "as", "a{sv}", "(su)", "v", "ay"]
NEXT_RULE = b"\xff"


def string(s):
    """A length (one byte below 0xf0, else two: 0xf0 + high, low), then the bytes."""
    b = s.encode() if isinstance(s, str) else s
    if len(b) < 0xf0:
        return bytes([len(b)]) + b
    return bytes([0xf0 + (len(b) >> 8), len(b) & 0xff]) + b


def entry(key, type_, value):
    """key: a known name or ('raw', text); value: the encoded value bytes, or a Python value."""
    if isinstance(key, tuple):
        out = bytes([31]) + string(key[1])  # 31 % 32 >= len(KEYS): a raw key
    else:
        out = bytes([KEYS.index(key)])
    out += bytes([TYPES.index(type_)])
    if type_ in ("s", "v"):
        out += string(value)
    elif type_ == "u":
        out += struct.pack("<I", value)
    elif type_ == "i":
        out += struct.pack("<i", value)
    elif type_ in ("b", "y"):
        out += bytes([value])
    elif type_ in ("t", "x"):
        out += struct.pack("<Q", value)
    elif type_ == "as":
        out += bytes([len(value)]) + b"".join(string(v) for v in value)
    elif type_ == "(su)":
        out += string(value[0]) + struct.pack("<I", value[1])
    elif type_ == "a{sv}":
        out += bytes([value])
    elif type_ == "ay":
        out += bytes([len(value)]) + value
    return out


def rule(*entries):
    return b"".join(entry(*e) for e in entries)


ONE = b"\x00"   # AddRule: one a{sv}
MANY = b"\x01"  # AddRules: aa{sv}

SEEDS = {
    "block-ipv4": ONE + rule(("action", "s", "drop"), ("source", "s", "192.0.2.0/24")),
    "block-ipv6-timeout": ONE + rule(("action", "s", "drop"), ("source", "s", "2001:db8::/64"),
                                     ("timeout", "u", 3600)),
    "ssh-scanners": ONE + rule(("action", "s", "drop"), ("source", "s", "192.0.2.0/24"), ("protocol", "s", "tcp"),
                               ("port", "s", "22"), ("comment", "s", "ssh scanners"), ("group", "s", "fail2ban")),
    "every-key": ONE + rule(("action", "s", "pass"), ("source", "s", "198.51.100.0/24"),
                            ("destination", "s", "192.0.2.1"), ("protocol", "s", "udp"),
                            ("source-port", "s", "1024-65535"), ("port", "s", "8000-8100"),
                            ("vlan", "u", 42), ("interface", "s", "eth0"), ("priority", "i", -10),
                            ("enabled", "b", 0), ("comment", "s", "all of it"), ("group", "s", "web"),
                            ("timeout", "u", 60)),
    "icmpv6-type": ONE + rule(("action", "s", "drop"), ("protocol", "s", "icmpv6"), ("icmp-type", "u", 128)),
    "protocol-number": ONE + rule(("action", "s", "drop"), ("protocol", "s", "47")),
    "bad-wrong-type": ONE + rule(("action", "s", "drop"), ("vlan", "s", "7")),
    "bad-unknown-key": ONE + rule(("action", "s", "drop"), (("raw", "colour"), "s", "red")),
    "bad-read-only-key": ONE + rule(("action", "s", "drop"), ("id", "u", 5)),
    "bad-key-twice": ONE + rule(("action", "s", "drop"), ("action", "s", "pass")),
    "bad-no-action": ONE + rule(("source", "s", "192.0.2.1")),
    "bad-host-bits": ONE + rule(("action", "s", "drop"), ("source", "s", "192.0.2.1/24")),
    "bad-port-without-protocol": ONE + rule(("action", "s", "drop"), ("port", "s", "22")),
    "bad-container-value": ONE + rule(("action", "as", ["drop"]), ("source", "(su)", ("192.0.2.1", 1))),
    "bad-nested-variant": ONE + rule(("action", "v", "drop")),
    "bad-comment-too-long": ONE + rule(("action", "s", "drop"), ("comment", "s", "x" * 257)),
    "comment-longest": ONE + rule(("action", "s", "drop"), ("protocol", "s", "tcp"), ("comment", "s", "y" * 256)),
    "many-two-rules": MANY + rule(("action", "s", "drop"), ("source", "s", "192.0.2.1")) + NEXT_RULE +
    rule(("action", "s", "pass"), ("protocol", "s", "tcp"), ("port", "s", "443")),
    "many-second-bad": MANY + rule(("action", "s", "drop"), ("source", "s", "192.0.2.1")) + NEXT_RULE +
    rule(("action", "s", "drop"), ("vlan", "u", 5000)),
    "many-empty-dicts": MANY + NEXT_RULE + NEXT_RULE,
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "bus-rule")
    if len(sys.argv) > 1:
        out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {out}")


if __name__ == "__main__":
    main()
