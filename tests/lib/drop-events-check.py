#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Check PacketDropped events, one JSON object per line (pf-drop-watch's output,
or packetfilterctl monitor --json with --json-lines).

  drop-events-check.py FILE [--json-lines] [--exact-flow K=V...] [--flow K=V...]
                       [--total N] [--total-of-flow N] [--min-total N] [--max-total N]
                       [--max-per-second N] [--min-signals N]

Every event must have the documented keys with their types. --exact-flow: every
event has these values; --flow: at least one has them (--total-of-flow sums the
counts of those). --max-per-second: never more than N events received within one
calendar second, nor within any 0.9 s window (by pf-drop-watch's "received").
Exits 1 saying what is wrong.
"""

import json
import sys

TYPES = {"time": int, "interface": str, "source": str, "destination": str, "protocol": str,
         "port": int, "rule": int, "count": int, "reason": str}


def die(message):
    print(f"drop-events-check: {message}", file=sys.stderr)
    sys.exit(1)


def matches(event, wanted):
    return all(str(event.get(key)) == value for key, value in wanted.items())


def main(argv):
    path, options = argv[1], argv[2:]
    wanted_all, wanted_one, limits = {}, {}, {}
    json_lines = False
    target = None
    for option in options:
        if option == "--json-lines":
            json_lines = True
        elif option in ("--exact-flow", "--flow"):
            target = wanted_all if option == "--exact-flow" else wanted_one
        elif option.startswith("--"):
            target = option[2:]
            limits[target] = None
        elif isinstance(target, dict):
            key, _, value = option.partition("=")
            target[key] = value
        elif isinstance(target, str):
            limits[target] = int(option)
            target = None
        else:
            die(f"unexpected argument {option!r}")

    events = []
    for number, line in enumerate(open(path), 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as error:
            die(f"line {number} is not JSON ({error}): {line!r}")
        if not isinstance(event, dict):
            die(f"line {number} is not an object: {line!r}")
        for key, kind in TYPES.items():
            if not isinstance(event.get(key), kind):
                die(f"line {number}: {key!r} is missing or not {kind.__name__}: {line!r}")
        if event["count"] < 1:
            die(f"line {number}: count {event['count']}")
        if event["time"] < 1600000000 * 10**6:
            die(f"line {number}: time {event['time']} is not µs since the epoch")
        if not json_lines and not isinstance(event.get("received"), int):
            die(f"line {number}: no 'received' time")
        events.append(event)

    total = sum(event["count"] for event in events)
    for event in events:
        if not matches(event, wanted_all):
            die(f"an event of another flow than {wanted_all}: {event}")
    flow = [event for event in events if matches(event, wanted_one)]
    if wanted_one and not flow:
        die(f"no event with {wanted_one} among {len(events)}: {events[:5]}")
    checks = {
        "total": lambda n: total == n,
        "total-of-flow": lambda n: sum(event["count"] for event in flow) == n,
        "min-total": lambda n: total >= n,
        "max-total": lambda n: total <= n,
        "min-signals": lambda n: len(events) >= n,
    }
    for name, check in checks.items():
        if name in limits and not check(limits[name]):
            die(f"{name} {limits[name]}: {len(events)} events, total count {total}, "
                f"flow total {sum(event['count'] for event in flow)}")
    if "max-per-second" in limits:
        bound = limits["max-per-second"]
        received = sorted(event["received"] for event in events)
        seconds = {}
        for when in received:
            seconds[when // 10**6] = seconds.get(when // 10**6, 0) + 1
        if seconds and max(seconds.values()) > bound:
            die(f"more than {bound} signals in a second: {sorted(seconds.items())}")
        for i, start in enumerate(received):
            inside = sum(1 for when in received[i:] if when < start + 900000)
            if inside > bound:
                die(f"{inside} signals within 0.9 s from {start}")
    print(f"{len(events)} events, total count {total}, busiest second "
          f"{max(seconds.values()) if 'max-per-second' in limits and seconds else '-'}")


if __name__ == "__main__":
    main(sys.argv)
