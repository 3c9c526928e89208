"""A kernel shut down while it restarts: the shutdown waits for the restart, then shuts it down.

``DELETE /api/kernels/{id}`` during a restart (the user's, or the restarter's after a death)
otherwise reaches jupyter_client's ``MultiKernelManager.shutdown_kernel`` while the kernel's
``ready`` future is pending, which raises ``InvalidStateError`` (an HTTP 500), or, between the
restart's shutdown and its new launch, races the launch, which then creates a container nobody
owns. Waiting for the restart to end (our provisioner's ``restarting``, then ``ready``) makes the
shutdown an ordinary one: the new container is removed and its GPUs freed; a restart that failed
left nothing, and the kernel is just removed from the map.

Installed by :mod:`.extension` on the server's kernel manager (an instance attribute wrapping its
``shutdown_kernel``); touches nothing else.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

WAIT_STEP = 0.05


def restart_pending(km: Any) -> bool:
    """Is ``km`` (one kernel's manager) in a restart: our provisioner's flag, or ``ready`` not done."""
    if getattr(getattr(km, "provisioner", None), "restarting", False):
        return True
    ready = getattr(km, "_ready", None)  # jupyter_client's future behind ``ready``, without creating one
    return ready is not None and not ready.done()


async def wait_for_restart(mkm: Any, kernel_id: str, log: Any) -> None:
    """Until ``kernel_id``'s restart (if one is under way) has ended, successful or not."""
    try:
        km = mkm.get_kernel(kernel_id)
    except KeyError:
        return
    if kernel_id in getattr(mkm, "_pending_kernels", {}) or not restart_pending(km):
        return  # a first start or nothing: jupyter_client handles those itself
    log.info("Kernel %s: shutdown waits for its restart to finish", kernel_id)
    while restart_pending(km):
        await asyncio.sleep(WAIT_STEP)


def wait_for_restarts_before_shutdown(mkm: Any, log: Any) -> None:
    """Make ``mkm``'s kernel shutdowns wait for a restart under way (idempotent): ``shutdown_kernel``
    (``DELETE /api/kernels/{id}``, the culler) and ``_async_shutdown_kernel``, which jupyter_client's
    ``shutdown_all`` calls for every kernel when the server stops."""
    for name in ("shutdown_kernel", "_async_shutdown_kernel"):
        original = getattr(mkm, name, None)
        if original is None or getattr(original, "waits_for_restarts", False):
            continue
        setattr(mkm, name, _waiting(mkm, original, log))


def _waiting(mkm: Any, original: Any, log: Any) -> Any:
    @functools.wraps(original)
    async def shutdown_kernel(kernel_id: str, *args: Any, **kwargs: Any) -> Any:
        await wait_for_restart(mkm, kernel_id, log)
        return await original(kernel_id, *args, **kwargs)

    shutdown_kernel.waits_for_restarts = True  # type: ignore[attr-defined]
    return shutdown_kernel
