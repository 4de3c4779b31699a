#!/usr/bin/env python3
"""A stand-in for systemd's notify socket, for the integration tests.

  notify.py listen SOCKET [TIMEOUT_S]
      Bind a datagram socket at SOCKET and print every datagram on one line
      (its newlines shown as " | "), until STOPPING=1 arrives or TIMEOUT_S
      (default 120) seconds pass without one.

  notify.py order FILE NAME...
      Exit 0 if the assignments in FILE (as printed by listen), read in
      order, contain NAME... as a subsequence: `order out READY STATUS
      WATCHDOG` means a READY=, then later (or in the same datagram, after
      it) a STATUS=, then later a WATCHDOG=. Otherwise print what was seen
      and exit 1.
"""
import socket
import sys


def listen(path, timeout):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(timeout)
    try:
        while True:
            msg = s.recv(4096).decode(errors="replace")
            print(msg.replace("\n", " | "), flush=True)
            if "STOPPING=1" in msg.split("\n"):
                break
    except socket.timeout:
        pass


def order(path, want):
    seen = []
    with open(path) as f:
        for line in f:
            for field in line.rstrip("\n").split(" | "):
                seen.append(field.split("=", 1)[0])
    i = 0
    for name in seen:
        if i < len(want) and name == want[i]:
            i += 1
    if i == len(want):
        return 0
    print("expected in order: %s; missing from %s on; seen: %s"
          % (" ".join(want), want[i], " ".join(seen)))
    return 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "listen":
        listen(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 120)
    elif len(sys.argv) >= 4 and sys.argv[1] == "order":
        sys.exit(order(sys.argv[2], sys.argv[3:]))
    else:
        sys.exit(__doc__)
