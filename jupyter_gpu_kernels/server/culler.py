"""Idle culling of container kernels, GPU kernels separately from CPU ones (``c.GPUKernelsCuller.*``).

Started by the server extension (:mod:`.extension`) once the event loop runs; the REST rows
(:mod:`.kernel_handlers`) read :meth:`GPUKernelsCuller.cull_at`. Every ``interval`` seconds it looks at
the kernels of the server's kernel manager whose provisioner is ours (it has ``gpu_ids``):
a kernel that is not busy and whose ``last_activity`` is older than its timeout
(``gpu_idle_timeout`` when it holds GPUs, ``cpu_idle_timeout`` otherwise; 0 = never) is shut
down through the kernel manager, like jupyter_server's own culler. ``warning_seconds`` before
that, the kernel is warned once: a log line and ``cull_at`` on its REST row (which the sidebar
can show); a kernel no round saw inside that window is warned first and culled that much later. Anything sent to the kernel would count as activity (jupyter_server records every
iopub message), so nothing is. Touches only the kernel manager.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import Any

from traitlets import Float
from traitlets.config import LoggingConfigurable


class GPUKernelsCuller(LoggingConfigurable):
    """Shuts down container kernels idle for too long; GPU kernels and CPU kernels have their own timeouts."""

    gpu_idle_timeout = Float(
        0.0,
        config=True,
        help="Seconds a kernel holding GPUs may be idle before it is shut down (its GPUs come back). 0: never.",
    )
    cpu_idle_timeout = Float(
        0.0, config=True, help="Seconds a container kernel without GPUs may be idle before it is shut down. 0: never."
    )
    warning_seconds = Float(60.0, config=True, help="How long before culling the notebook is warned.")
    interval = Float(30.0, config=True, help="Seconds between two checks.")

    def __init__(self, kernel_manager: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kernel_manager = kernel_manager
        self._warned: dict[str, float] = {}  # kernel id → when it will be culled
        self._task: asyncio.Task | None = None

    @property
    def enabled(self) -> bool:
        return self.gpu_idle_timeout > 0 or self.cpu_idle_timeout > 0

    def start(self) -> None:
        if self.enabled and self._task is None and self.kernel_manager is not None:
            self.log.info(
                "GPU kernels culler: GPU kernels after %gs idle, CPU kernels after %gs (0: never)",
                self.gpu_idle_timeout,
                self.cpu_idle_timeout,
            )
            self._task = asyncio.ensure_future(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def cull_at(self, kernel_id: str) -> str | None:
        """When a warned kernel will be culled (ISO 8601, UTC), for its REST row."""
        at = self._warned.get(kernel_id)
        return datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="seconds") if at else None

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:  # one bad round must not end culling
                self.log.exception("GPU kernels culler: check failed")
            await asyncio.sleep(self.interval)

    def timeout_for(self, kernel: Any) -> float:
        prov = getattr(kernel, "provisioner", None)
        if prov is None or not hasattr(prov, "gpu_ids"):
            return 0.0  # not one of our container kernels: jupyter_server's own culler's business
        return self.gpu_idle_timeout if prov.gpu_ids else self.cpu_idle_timeout

    async def check(self, now: float | None = None) -> list[str]:
        """One round: warn and cull; returns the ids of the kernels shut down."""
        culled = []
        now = time.time() if now is None else now
        for kid in list(self.kernel_manager.list_kernel_ids()):
            try:
                kernel = self.kernel_manager.get_kernel(kid)
            except KeyError:
                continue
            timeout = self.timeout_for(kernel)
            last = getattr(kernel, "last_activity", None)
            if timeout <= 0 or last is None or getattr(kernel, "execution_state", "") == "busy":
                self._warned.pop(kid, None)
                continue
            due = last.timestamp() + timeout
            if kid in self._warned and self._warned[kid] < due - 1:
                self._warned.pop(kid)  # active again since the warning
            if kid not in self._warned and self.warning_seconds > 0 and now >= due - self.warning_seconds:
                # never culled unwarned: when no round fell inside the warning window (an ``interval``
                # longer than ``warning_seconds``, a busy server), warn now and cull that much later
                self._warned[kid] = due if now < due else now + self.warning_seconds
                await self._warn(kid, kernel, self._warned[kid] - now)
            elif now >= self._warned.get(kid, due):
                await self._cull(kid, kernel, now - last.timestamp())
                culled.append(kid)
        return culled

    async def _warn(self, kid: str, kernel: Any, left: float) -> None:
        gpus = ",".join(getattr(kernel.provisioner, "gpu_ids", []) or [])
        self.log.warning(
            "kernel %s: idle, will be shut down in %.0fs%s unless it is used",
            kid,
            left,
            f" to free GPU(s) {gpus}" if gpus else "",
        )

    async def _cull(self, kid: str, kernel: Any, idle: float) -> None:
        self._warned.pop(kid, None)
        self.log.warning("kernel %s: shut down after %.0fs idle (GPU kernels culler)", kid, idle)
        await self.kernel_manager.shutdown_kernel(kid)
