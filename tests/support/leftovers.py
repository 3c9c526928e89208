"""Find kernel containers that the provisioner left behind.

Our provisioner labels every kernel container with ``org.jupyter.gpu-kernels.kernel-id`` and
``org.jupyter.gpu-kernels.server`` = ``"<hostname>:<pid>"`` of the process that started it.

``LeftoverTracker(client)`` takes a baseline when created; ``leftovers()`` lists kernel containers
created since then that belong to this test process (server pid == ours) or to a process on this
host that no longer exists (e.g. a Jupyter server subprocess a test started). Containers of other,
still-running processes (a concurrent test session, a developer's real server) are never counted
and never removed. It also counts kernel connection-file volumes (labelled with their kernel id)
made since the baseline whose kernel has no container any more: leaked volumes.
"""

from __future__ import annotations

import os
import socket

KERNEL_ID_LABEL = "org.jupyter.gpu-kernels.kernel-id"
SERVER_LABEL = "org.jupyter.gpu-kernels.server"
KEY_VOLUME_LABEL = "org.jupyter.gpu-kernels.connection-volume"  # jupyter_gpu_kernels.daemon.plan.KEY_VOLUME_LABEL


def kernel_containers(client) -> list:
    """All containers (running or not) carrying the kernel-id label."""
    return client.containers.list(all=True, filters={"label": KERNEL_ID_LABEL}, ignore_removed=True)


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


def connection_volumes(client) -> list:
    """The kernels' connection-file volumes (anonymous, labelled with their kernel id)."""
    return client.volumes.list(filters={"label": KEY_VOLUME_LABEL})


class LeftoverTracker:
    """Kernel containers, and kernel connection-file volumes whose kernel has no container any more,
    that appeared since it was made (a removal without ``v=True`` leaks one volume per kernel)."""

    def __init__(self, client):
        self.client = client
        self.baseline = {c.id for c in kernel_containers(client)}
        self.volume_baseline = {v.name for v in connection_volumes(client)}

    def leftovers(self) -> list:
        return [c for c in kernel_containers(self.client) if c.id not in self.baseline and _belongs_to_us_or_dead(c)]

    def leftover_volumes(self) -> list:
        alive = {(c.labels or {}).get(KERNEL_ID_LABEL) for c in kernel_containers(self.client)}
        return [
            v
            for v in connection_volumes(self.client)
            if v.name not in self.volume_baseline and (v.attrs.get("Labels") or {}).get(KEY_VOLUME_LABEL) not in alive
        ]

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
        for v in self.leftover_volumes():
            out.append(
                f"connection-file volume {v.name[:12]} of kernel {(v.attrs.get('Labels') or {}).get(KEY_VOLUME_LABEL)}"
                " (its container was removed without its volume)"
            )
            try:
                v.remove(force=True)
            except Exception as e:  # noqa: BLE001
                out[-1] += f" [could not remove: {e}]"
        return out
