"""The TCP ports a kernel binds in its container: chosen above the Linux ephemeral range.

Docker's embedded DNS resolver (in every container on a user-defined network, the kernel
network included) listens inside the container on 127.0.0.11 at a TCP port taken from the
container's ephemeral range (32768-60999, the default of every new network namespace).
jupyter_client chose the kernel's five ports the same way, as free ephemeral ports of the
server's machine, so about one start in a few thousand asked the kernel to bind the resolver's
port: ipykernel exited at once with "Address already in use" (a failed start, or a failed
restart). Ports from :data:`PORT_RANGE` never meet it, nor a port a process in the container
gets by binding port 0, and services rarely use them. Each is checked free on the server's
loopback, where publish mode binds the same number. Called by the provisioner's ``pre_launch``
when the kernel manager has no ports yet (a new kernel, or a restart with new ports).
"""

from __future__ import annotations

import random
import socket
from typing import Any

from ..daemon.plan import KERNEL_PORT_NAMES

PORT_RANGE = range(61000, 65536)
TRIES = 200


def free_ports(count: int, ip: str = "127.0.0.1", rng: random.Random | None = None) -> list[int]:
    """``count`` distinct ports of :data:`PORT_RANGE` free on ``ip`` (bound together, then released,
    as jupyter_client does); fewer when that many tries found no more (the caller falls back)."""
    rng = rng or random.SystemRandom()
    held: list[socket.socket] = []
    try:
        tried: set[int] = set()
        for _ in range(TRIES):
            if len(held) == count:
                break
            port = rng.choice(PORT_RANGE)  # drawn one at a time: a start needs about five
            if port in tried:
                continue
            tried.add(port)
            sock = socket.socket()
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\0" * 8)
                sock.bind((ip, port))
            except OSError:
                sock.close()
                continue
            held.append(sock)
        return [s.getsockname()[1] for s in held]
    finally:
        for sock in held:
            sock.close()


def assign_ports(km: Any) -> None:
    """Give a kernel manager without ports (tcp) ports from :data:`PORT_RANGE`; a port it already
    has (a restart keeping its ports) is kept. Ports left unset are jupyter_client's to choose."""
    if getattr(km, "transport", "tcp") != "tcp":
        return
    missing = [name for name in KERNEL_PORT_NAMES if not getattr(km, name)]
    if not missing:
        return
    if hasattr(km, "_record_random_port_names"):
        # jupyter_client notes the ports it is left to choose, and forgets exactly those for a
        # restart with new ports (cleanup_random_ports): these are as random as its own
        km._record_random_port_names()
    taken = {getattr(km, name) for name in KERNEL_PORT_NAMES} - {0, None}
    chosen = [p for p in free_ports(len(missing) + len(taken)) if p not in taken][: len(missing)]
    for name, port in zip(missing, chosen):
        setattr(km, name, port)
