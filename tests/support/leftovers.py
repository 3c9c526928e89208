"""Find kernel containers that the provisioner left behind.

Our provisioner labels every kernel container with ``org.jupyter.gpu-kernels.kernel-id`` and
``org.jupyter.gpu-kernels.server`` = ``"<hostname>:<pid>"`` of the process that started it.

``LeftoverTracker(client)`` takes a baseline when created; ``leftovers()`` lists kernel containers
created since then that belong to this test process (server pid == ours) or to a process on this
host that no longer exists (e.g. a Jupyter server subprocess a test started). Containers of other,
still-running processes (a concurrent test session, a developer's real server) are never counted
and never removed.
"""

from __future__ import annotations

import os
import socket

KERNEL_ID_LABEL = "org.jupyter.gpu-kernels.kernel-id"
SERVER_LABEL = "org.jupyter.gpu-kernels.server"


def kernel_containers(client) -> list:
    """All containers (running or not) carrying the kernel-id label."""
    return client.containers.list(all=True, filters={"label": KERNEL_ID_LABEL})


def describe(c) -> str:
    labels = c.labels or {}
    image = (c.attrs.get("Config") or {}).get("Image", "?")
    return (
        f"{c.name} ({c.short_id}, status={c.status}, image={image}, "
        f"kernel-id={labels.get(KERNEL_ID_LABEL)}, server={labels.get(SERVER_LABEL)})"
    )


def _belongs_to_us_or_dead(c) -> bool:
    server = (c.labels or {}).get(SERVER_LABEL, "")
    host, _, pid = server.rpartition(":")
    if not pid.isdigit():
        return False  # not labelled by our provisioner in a process here: someone else's
    if host and host != socket.gethostname():
        return False
    pid = int(pid)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def created_here(c) -> bool:
    """Whether a kernel container belongs to this test process or to a dead process on this machine
    (a server a test started): only those may be counted as a test's leftovers. A developer's own
    Jupyter server on a GPU workstation, or a concurrent test session, is never counted."""
    return _belongs_to_us_or_dead(c)


class LeftoverTracker:
    def __init__(self, client):
        self.client = client
        self.baseline = {c.id for c in kernel_containers(client)}

    def leftovers(self) -> list:
        return [c for c in kernel_containers(self.client) if c.id not in self.baseline and _belongs_to_us_or_dead(c)]

    def check_and_remove(self) -> list[str]:
        """Describe and force-remove this session's leftovers; returns the descriptions."""
        found = self.leftovers()
        out = []
        for c in found:
            out.append(describe(c))
            try:
                c.remove(force=True, v=True)
            except Exception as e:  # noqa: BLE001 - report, don't mask the real finding
                out[-1] += f" [could not remove: {e}]"
        return out
