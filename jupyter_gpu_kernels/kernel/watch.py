"""Watching one kernel's container after launch: poll, signal, remove, and the faults in between.

Used by :class:`.provisioner.GPUDockerProvisioner` for ``poll``/``send_signal``/``cleanup``;
runs every Docker call in a worker thread through the given :class:`~..daemon.backend.KernelBackend`
(by default :class:`~..daemon.containers.ContainerOps`).
It keeps what the REST kernel list and the restarter need to know about faults:

- ``host_error``: the host cannot be reached now (the kernel's state is unknown, not "dead");
- ``last_death``: why the container died when nobody asked it to (OOM-killed at its memory
  limit, killed by a signal, exit code, the Docker daemon restarted: daemon/restarts.py), recorded
  and logged the first time ``poll`` sees it;
- ``stopping``: a shutdown or restart is under way, so a death is expected (not recorded) and
  an unreachable host no longer blocks the shutdown (the container is left for the reaper).
- ``reserved``: on a restart the old container is renamed ``…-old`` before it is stopped
  (:meth:`begin_stop`) and kept through ``cleanup``: it holds the kernel's GPUs until the
  launcher has created its successor under the allocation lock and removes it (or, when the
  restart fails, :meth:`release` does), so no other kernel can take them in between.
- ``restarting``: a restart is under way, from its first hook until the new launch ended (either
  way); a shutdown asked for meanwhile waits for it (server/shutdowns.py) instead of racing it.
- a container that died by itself keeps its GPUs while its owner lives (daemon/allocator.py), so
  when the restarter gives up, :func:`free_when_restarts_give_up` removes it (its GPUs are free).

Touches only the kernel's container and the transport's port forwards for this kernel.
"""

from __future__ import annotations

import asyncio
from typing import Any

import docker.errors

from ..daemon import restarts
from ..daemon.backend import KernelBackend
from ..daemon.disowned import disown
from ..errors import GPUKernelsError
from ..hosts import transport
from ..hosts.registry import DockerHost

UNREACHABLE = (GPUKernelsError, docker.errors.DockerException, OSError)
GONE_EXIT_CODE = -1  # what poll reports for a container we can no longer see or reach during shutdown


class ContainerWatch:
    """Poll/signal/remove for one kernel's container, explaining deaths and surviving host outages."""

    def __init__(self, kernel_id: str, ops: KernelBackend, log: Any) -> None:
        self.kernel_id = kernel_id
        self.ops = ops
        self.log = log
        self.host_error: str | None = None
        self.last_death: dict[str, Any] | None = None
        self.stopping = False
        self._explained: str | None = None  # the container id whose death was recorded
        self.reserved: str | None = None  # the container id kept as a restart's reservation
        self.outage = False  # the host was unreachable since the container was last seen running
        self.restarting = False
        self._gave_up: set[int] = set()  # the kernel managers told to free the GPUs when restarts give up

    async def _get(self, host: DockerHost, container_id: str) -> Any:
        client = await asyncio.to_thread(transport.connect, host)
        return await asyncio.to_thread(self.ops.get, client, container_id)

    def _unreachable(self, host: DockerHost, e: BaseException) -> None:
        if self.host_error is None:
            self.log.warning(
                "kernel %s: host %s is unreachable, its state is unknown: %s", self.kernel_id, host.name, e
            )
        self.host_error = f"host {host.name!r} is unreachable: {e}"
        self.outage = True

    async def poll(self, host: DockerHost, container_id: str) -> int | None:
        """None while the container runs (or its host cannot say), else its exit code."""
        try:
            container = await self._get(host, container_id)
        except docker.errors.NotFound:
            self._died(
                container_id,
                {
                    "reason": "the container disappeared (removed outside this server)",
                    "exit_code": None,
                    "oom_killed": False,
                    "memory_limit": None,
                    "at": None,
                },
            )
            return 0
        except UNREACHABLE as e:
            self._unreachable(host, e)
            if self.stopping:  # shutting down: do not wait for a host that is gone
                return GONE_EXIT_CODE
            return None
        if self.host_error is not None:
            self.log.info("kernel %s: host %s is reachable again", self.kernel_id, host.name)
            self.host_error = None
        code = self.ops.state(container)
        if code is None:
            self.outage = False
        elif self._explained != container_id and not self.stopping:
            self._died(container_id, await self._why(host, container))
        return code

    async def _why(self, host: DockerHost, container: Any) -> dict[str, Any]:
        """``ops.death``, with "the Docker daemon restarted" when its event log says so (or, when the
        log cannot tell, when the daemon was unreachable since the container was last seen running)."""
        death = await asyncio.to_thread(self.ops.death, container)
        if death.get("oom_killed"):
            return death
        try:
            client = await asyncio.to_thread(transport.connect, host)
            restarted = await asyncio.to_thread(self.ops.daemon_restarted, client, container)
        except UNREACHABLE as e:
            self.log.debug("kernel %s: cannot tell whether the daemon restarted: %s", self.kernel_id, e)
            restarted = None
        return restarts.explained(death) if (self.outage if restarted is None else restarted) else death

    def free_when_restarts_give_up(self, km: Any, cleanup: Any) -> None:
        """Once per kernel manager ``km``: when its restarter gives up (``dead``), run ``cleanup()``
        (a coroutine function removing the dead container, which holds its GPUs until then)."""
        if km is None or id(km) in self._gave_up or not hasattr(km, "add_restart_callback"):
            return
        self._gave_up.add(id(km))
        tasks: set[asyncio.Task] = set()

        def gave_up() -> None:
            self.log.warning(
                "kernel %s: the restarter gave up; its container is removed, its GPUs freed", self.kernel_id
            )
            task = asyncio.get_running_loop().create_task(cleanup())
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        km.add_restart_callback(gave_up, "dead")

    def _died(self, container_id: str, death: dict[str, Any]) -> None:
        if self._explained == container_id or self.stopping:
            return
        self._explained = container_id
        self.last_death = death
        self.log.warning(
            "kernel %s: %s; the kernel restarter (when on) will restart it", self.kernel_id, death["reason"]
        )

    async def begin_stop(self, host: DockerHost | None, container_id: str | None, restart: bool) -> None:
        """A shutdown or restart begins (its death is expected); a restart reserves the old container."""
        self.stopping = True
        self.restarting = self.restarting or restart
        if not restart or host is None or container_id is None or self.reserved == container_id:
            return
        try:
            await asyncio.to_thread(self.ops.reserve, await self._get(host, container_id))
            self.reserved = container_id
        except UNREACHABLE as e:  # no reservation: the restart competes for its GPUs like a new start
            self.log.warning("kernel %s: could not reserve its container for the restart: %s", self.kernel_id, e)

    async def release(self, host: DockerHost | None, container_id: str | None) -> None:
        """A restart failed: remove its reserved old container (the kernel is dead, its GPUs are free)."""
        if host is None or container_id is None or self.reserved != container_id:
            return
        self.reserved = None
        try:
            client = await asyncio.to_thread(transport.connect, host)
            await asyncio.to_thread(self.ops.release, client, container_id)
        except UNREACHABLE as e:
            self.log.warning(
                "kernel %s: could not remove its old container %s (%s); it is left for the reaper",
                self.kernel_id,
                container_id[:12],
                e,
            )

    async def signal(self, host: DockerHost, container_id: str, signum: int) -> bool:
        """Deliver ``signum``; False when the host cannot be reached (logged, not raised)."""
        try:
            container = await self._get(host, container_id)
            await asyncio.to_thread(self.ops.signal, container, signum)
        except docker.errors.NotFound:
            return True
        except UNREACHABLE as e:
            self._unreachable(host, e)
            self.log.warning("kernel %s: could not send signal %d: %s", self.kernel_id, signum, self.host_error)
            return False
        return True

    async def remove(self, host: DockerHost, container_id: str, keep_reserved: bool = False) -> None:
        """Remove the container and the kernel's forwards; an unreachable host is logged, never raised
        (the container is left to be reaped when the host is back). ``keep_reserved`` (a restart's
        cleanup) reserves the container (when no earlier hook did: ``restart_kernel(now=True)`` kills
        without saying it is a restart) and keeps it: the launcher removes it once its successor exists."""
        if keep_reserved:
            await self.begin_stop(host, container_id, restart=True)
        try:
            if not (keep_reserved and self.reserved == container_id):
                await asyncio.to_thread(self.ops.remove, await self._get(host, container_id))
        except docker.errors.NotFound:
            pass
        except UNREACHABLE as e:
            disown(host.name, container_id)  # the reaper removes it once the daemon answers
            self.log.warning(
                "kernel %s: could not remove its container %s on host %s (%s); it is left for the reaper",
                self.kernel_id,
                container_id[:12],
                host.name,
                e,
            )
        try:
            await asyncio.to_thread(transport.cancel_forwards, host, self.kernel_id)
        except Exception as e:  # never let cleanup fail on a dead host
            self.log.warning("kernel %s: could not cancel port forwards: %s", self.kernel_id, e)
