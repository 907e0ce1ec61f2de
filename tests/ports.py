"""Free loopback ports for test servers, safe when pytest-xdist runs several workers at once.

A port is found by binding and closing, then bound again by the server: between the two, another process
asking the kernel for any port could be given the same one. Alone, pytest only races itself, which it
does not do. Under xdist each worker takes ports from a range of its own, below the kernel's ephemeral
range (which servers binding port 0 and outgoing connections draw from), so no two workers, and
nothing else on the machine that asks for "any port", can pick the same port."""

from __future__ import annotations

import itertools
import os
import socket

# Below Linux's default ephemeral range (32768-60999), above the well-known and registered busy ones.
_FIRST = 20000
_PER_WORKER = 2000
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_next = itertools.count()


def free_port() -> int:
    """A loopback TCP port nothing listens on now (and, under xdist, that no other worker will pick)."""
    if not _worker.startswith("gw"):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    first = _FIRST + int(_worker.removeprefix("gw")) * _PER_WORKER
    for _ in range(_PER_WORKER):
        port = first + next(_next) % _PER_WORKER
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # still in use (a server of an earlier test, or another program)
            return port
    raise RuntimeError(f"no free port left in {first}-{first + _PER_WORKER - 1}")
