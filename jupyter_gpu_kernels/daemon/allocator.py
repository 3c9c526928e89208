"""``GPUAllocator``: the daemon-facing half of GPU allocation for one Docker host.

It gathers the inputs (the host's device list, cached for a few seconds, and its kernel
containers as :class:`~jupyter_gpu_kernels.daemon.records.KernelContainer` records, read fresh
every time), hands them to the pure :func:`~jupyter_gpu_kernels.daemon.gpu_choice.choose_gpus`
and returns its result. :meth:`GPUAllocator.lock` serializes allocation from reading the holders
until the new container (with its GPU labels) exists: a thread lock within this process and a
mutex on the daemon itself (a never-started container with a fixed name) across servers.

A kernel container that died by itself (not shut down: a shutdown removes it) keeps holding its
GPUs while its owner process lives (:func:`dead_but_owned`): its kernel is about to be restarted
on them, and in the seconds before the restarter notices no competitor may take them. The
restarter giving up, a shutdown or the owner's death (then the reaper) frees them; so does a
shutdown whose removal of the container failed (:mod:`.disowned`).

Called by the kernel launcher/provisioner (``for_host``, ``lock``, ``allocate``), by
:mod:`~jupyter_gpu_kernels.daemon.status` and the CLI doctor (``inventory``, ``devices``).
It may read the daemon's containers and create/remove the mutex and probe containers.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import docker
import docker.errors

from .. import forksafe
from ..errors import GPUUnavailableError
from ..hosts.registry import DockerHost
from ..specs.gpus import GPURequest
from . import labels as L
from .disowned import disowned_since
from .gpu_choice import LIVE_STATES, attach_holders, choose_gpus
from .inventory import Inventory, discover
from .leases import daemon_now, owner_state, read_leases
from .records import KernelContainer, list_kernel_containers

CACHE_SECONDS = 5.0


class GPUAllocator:
    """Inventory cache and allocation for one host. One instance per host name per process."""

    _instances: dict[str, GPUAllocator] = {}
    _guard = threading.Lock()

    def __init__(self, host: DockerHost) -> None:
        self.host = host
        self._tlock = threading.Lock()
        self._cached: Inventory | None = None
        self.probe_image: str | None = None

    @classmethod
    def for_host(cls, host: DockerHost) -> GPUAllocator:
        with cls._guard:
            inst = cls._instances.get(host.name)
            if inst is None or inst.host.url != host.url:
                inst = cls._instances[host.name] = cls(host)
            inst.host = host
            return inst

    @contextlib.asynccontextmanager
    async def lock(self, client: docker.DockerClient | None = None, image: str | None = None) -> Any:
        """Held from allocation until the container (with its GPU labels) exists: no two kernels collide.

        Within this process a thread lock serializes kernel managers of any event loop or thread
        (polled, so a cancelled waiter never ends up holding it). With ``client`` and ``image``,
        a mutex on the daemon itself (a container name, which the daemon keeps unique) also
        serializes other Jupyter servers allocating on the same daemon."""
        while not self._tlock.acquire(blocking=False):
            await asyncio.sleep(0.005)
        mutex = None
        try:
            if client is not None and image:
                mutex = await asyncio.to_thread(acquire_daemon_mutex, client, image, self.host.name)
            yield
        finally:
            if mutex is not None:
                await asyncio.to_thread(release_daemon_mutex, mutex)
            self._tlock.release()

    def devices(
        self, client: docker.DockerClient, image: str | None = None, max_age: float = CACHE_SECONDS
    ) -> Inventory:
        """The host's GPUs without holders (cached for ``max_age`` seconds)."""
        cached = self._cached
        if cached is not None and time.time() - cached.checked < max_age:
            return cached
        if image:
            self.probe_image = image
        inv = discover(self.host, client, self.probe_image)
        inv.checked = time.time()
        self._cached = inv
        return inv

    def holders(self, client: docker.DockerClient) -> list[KernelContainer]:
        """Every kernel container on the daemon as a record (read fresh; which ones hold GPUs is
        gpu_choice's call), a dead one of a live owner marked as holding them (:func:`dead_but_owned`)."""
        return dead_but_owned(client, list_kernel_containers(client, self.host.name))

    def inventory(
        self, client: docker.DockerClient, image: str | None = None, max_age: float = CACHE_SECONDS
    ) -> Inventory:
        """Devices plus their current holders (holders are always read fresh from the daemon)."""
        return attach_holders(self.devices(client, image, max_age), self.holders(client))

    def allocate(
        self,
        client: docker.DockerClient,
        request: GPURequest,
        kernel_id: str,
        shared: bool = False,
        previous: list[str] | None = None,
        image: str | None = None,
    ) -> list[str]:
        """Concrete device ids for ``request``; call with :meth:`lock` held until the container exists."""
        if request.kind == "none":
            return []
        devices = self.devices(client, image)
        return choose_gpus(devices, self.holders(client), request, kernel_id, shared, previous)


def dead_but_owned(client: docker.DockerClient, records: list[KernelContainer]) -> list[KernelContainer]:
    """``records``, where a stopped kernel container with GPUs whose owner (the server or client
    that started it, daemon/leases.py) is alive counts as reserved: it died by itself, and its
    kernel's restart will want those GPUs back. Older containers without owner labels hold nothing."""
    dead = [
        r
        for r in records
        if r.state
        and r.state not in LIVE_STATES
        and not r.reserved
        and r.gpus
        and r.owner_id
        and disowned_since(r.host, r.container) is None
    ]  # shut down by us, its removal failed: not reserved
    if not dead:
        return records
    leases, now = read_leases(client), daemon_now(client)
    owned = {r.container for r in dead if owner_state(r, leases.get(r.owner_id), now)[0]}
    return [replace(r, reserved=True) if r.container in owned else r for r in records]


MUTEX_NAME = "jupyter-gpu-kernels-gpu-allocation"
MUTEX_STALE_SECONDS = 60.0
MUTEX_WAIT_SECONDS = 30.0


def _created_age(container: Any) -> float:
    created = str(container.attrs.get("Created", ""))
    try:  # e.g. 2026-11-23T17:20:01.123456789Z: keep microseconds
        head, _, frac = created.rstrip("Z").partition(".")
        stamp = datetime.fromisoformat(head).replace(tzinfo=timezone.utc).timestamp() + float(f"0.{frac or 0}"[:8])
    except ValueError:
        return 0.0
    return time.time() - stamp


def acquire_daemon_mutex(client: docker.DockerClient, image: str, host_name: str) -> Any:
    """Create the (never started) mutex container; a name conflict means another server holds it."""
    deadline = time.monotonic() + MUTEX_WAIT_SECONDS
    while True:
        try:
            return client.containers.create(
                image,
                command=["true"],
                entrypoint=[],
                name=MUTEX_NAME,
                network_mode="none",
                labels={f"{L.PREFIX}.mutex": "gpu-allocation"},
            )
        except docker.errors.APIError as e:
            if e.status_code != 409:
                raise
        try:
            holder = client.containers.get(MUTEX_NAME)
            if _created_age(holder) > MUTEX_STALE_SECONDS:  # its server died while allocating
                holder.remove(force=True)
                continue
        except docker.errors.NotFound:
            continue
        if time.monotonic() > deadline:
            raise GPUUnavailableError(
                f"another Jupyter server has been allocating GPUs on host {host_name!r} for "
                f"{MUTEX_WAIT_SECONDS:.0f}s; try again in a moment"
            )
        time.sleep(0.02)


def release_daemon_mutex(mutex: Any) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        mutex.remove(force=True)


def _reset_after_fork() -> None:
    """A forked child: a lock held by a parent thread would never be released here; no allocators
    (theirs hold the parent's locks and inventory caches)."""
    GPUAllocator._guard = threading.Lock()
    GPUAllocator._instances = {}


forksafe.register(_reset_after_fork)
