#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Pick values out of packetfilter's JSON for shell tests.

Reads, on stdin, either `busctl --json=short call ...` output (values wrapped as
{"type": SIGNATURE, "data": VALUE}) or `packetfilterctl --json ...` output, and
looks for rules (objects with a "source") or statistics wherever they sit.

  pfjson.py rule-field ADDRESS FIELD   FIELD of the rule whose source is ADDRESS
                                       (compared as networks: 192.0.2.2 == 192.0.2.2/32)
  pfjson.py rule-sources               the rules' sources, one per line
  pfjson.py rule-count                 how many rules
  pfjson.py statistic KEY              the first value named KEY
  pfjson.py check                      only checks that stdin is valid JSON

Exits 1 with a message on stderr when the value is not there.
"""

import ipaddress
import json
import sys


def unwrap(value):
    """Strip busctl's {"type", "data"} wrappers, recursively."""
    if isinstance(value, dict):
        if set(value) == {"type", "data"} and isinstance(value["type"], str):
            return unwrap(value["data"])
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def walk(value):
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def rules(document):
    return [item for item in walk(document) if isinstance(item, dict) and "source" in item]


def normalize(address):
    try:
        return str(ipaddress.ip_network(str(address), strict=False))
    except ValueError:
        return str(address)


def die(message):
    print(f"pfjson: {message}", file=sys.stderr)
    sys.exit(1)


def main(argv):
    if len(argv) < 2:
        die(__doc__)
    text = sys.stdin.read()
    try:
        document = unwrap(json.loads(text))
    except json.JSONDecodeError as error:
        die(f"not JSON ({error}): {text[:200]!r}")

    command = argv[1]
    if command == "check":
        return
    if command == "rule-count":
        print(len(rules(document)))
    elif command == "rule-sources":
        for rule in rules(document):
            print(normalize(rule["source"]))
    elif command == "rule-field" and len(argv) == 4:
        address, field = normalize(argv[2]), argv[3]
        matching = [rule for rule in rules(document) if normalize(rule["source"]) == address]
        if not matching:
            die(f"no rule with source {address} in {json.dumps(document)[:500]}")
        if field not in matching[0]:
            die(f"rule for {address} has no field {field!r}: {json.dumps(matching[0])}")
        print(matching[0][field])
    elif command == "statistic" and len(argv) == 3:
        for item in walk(document):
            if isinstance(item, dict) and argv[2] in item:
                print(item[argv[2]])
                return
        die(f"no statistic {argv[2]!r} in {json.dumps(document)[:500]}")
    else:
        die(__doc__)


if __name__ == "__main__":
    main(sys.argv)
