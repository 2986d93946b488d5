#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Stand-in for systemd's notification socket.

  notify-listener.py SOCKET LOG

Binds an AF_UNIX datagram socket at SOCKET and appends every sd_notify()
message it receives to LOG, one assignment (READY=1, STATUS=...) per line,
until it is terminated.
"""

import os
import signal
import socket
import sys


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    path, log_path = argv[1], argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        if os.path.exists(path):
            os.unlink(path)
        sock.bind(path)
        with open(log_path, "a", buffering=1) as log:
            while True:
                message = sock.recv(65536).decode(errors="replace")
                log.write(message.rstrip("\n") + "\n")


if __name__ == "__main__":
    main(sys.argv)
