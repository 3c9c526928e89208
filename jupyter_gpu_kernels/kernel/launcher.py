"""Executing a launch plan: image → GPUs → container → forwarded ports → heartbeat.

Called by :meth:`..kernel.provisioner.GPUDockerProvisioner.launch_kernel`. It composes the
daemon-side pieces (image pull policy, the host's GPU allocator, the container operations,
the kernel network, the transport's port forwarding) in that order and returns a
:class:`~..daemon.plan.LaunchResult`. On any failure it removes what it created (container,
forwards) before re-raising; the provisioner removes the connection file. Every blocking
call runs in a worker thread (:func:`asyncio.to_thread`), so the server's event loop never
blocks.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlparse

import docker.errors
import zmq
import zmq.asyncio

from ..daemon.allocator import GPUAllocator
from ..daemon.backend import KernelBackend
from ..daemon.derive import derive, needs_ipykernel
from ..daemon.images import ensure_image, require_cuda
from ..daemon.interpreters import entrypoint_hint, with_interpreter
from ..daemon.networks import KERNEL_NETWORK, ensure_kernel_network
from ..daemon.plan import KERNEL_PORT_NAMES, LaunchPlan, LaunchResult, Placement
from ..errors import KernelLaunchError, KernelNotReadyError
from ..hosts import transport
from ..hosts.registry import DockerHost
from . import progress
from .planning import settle_image_user

HEARTBEAT_POLL_MS = 250
STATE_CHECK_SECONDS = 0.5


async def _thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(fn, *args, **kwargs)


class KernelLauncher:
    """Launches one kernel's container on one host with the given container operations."""

    check_cuda = True  # the image's NVIDIA_REQUIRE_CUDA against the host driver, before creating anything

    def __init__(self, host: DockerHost, ops: KernelBackend, log: Any) -> None:
        self.host = host
        self.ops = ops
        self.log = log

    async def prepare(self, plan: LaunchPlan) -> tuple[Any, str, LaunchPlan, str]:
        """Connect, make sure the image is there (pull time is not launch time), find its Python
        (refusing an image that cannot run a kernel before anything is created), pick the mode.
        Returns the client, the mode, the plan with the image's interpreter, and the ENTRYPOINT hint
        for a kernel that exits or never answers."""
        client = await _thread(transport.connect, self.host)
        image = await _thread(
            ensure_image,
            client,
            plan.image,
            plan.pull_policy,
            host_name=self.host.name,
            progress=self.log.info,
            counts=progress.pull_reporter(plan.kernel_id),
        )
        plan = settle_image_user(plan, image.attrs)  # a root USER: another user, or refused before creating
        if plan.find_python and plan.derive_ipykernel:
            derived = await _thread(self._derived, client, plan, image)
            if derived.id != image.id:  # keep the plan's own reference (a digest pin) when nothing was derived
                image = derived
                plan = replace(plan, image=(image.tags or [image.id])[0])
        plan = await _thread(with_interpreter, client, plan, image)
        if plan.gpus.wants_gpu and self.check_cuda:  # an image the driver cannot run: refused before creating
            inventory = await _thread(GPUAllocator.for_host(self.host).devices, client, plan.image)
            require_cuda(image.attrs, plan.image, self.host.name, inventory, plan.env)
        mode = await _thread(self.ops.connection_mode, client, self.host, plan.connection_mode)
        return client, mode, plan, entrypoint_hint(image.attrs, plan.entrypoint)

    def _derived(self, client: Any, plan: LaunchPlan, image: Any) -> Any:
        """The image to run: ``image``, or its derived ipykernel image when it has Python but no
        ipykernel (built on first use; phase "preparing ipykernel" while it is built)."""
        if needs_ipykernel(client, image) is None:
            return image

        def report(line: str) -> None:
            self.log.info("kernel %s: %s", plan.kernel_id, line)
            progress.update(plan.kernel_id, phase="preparing ipykernel", message=line[:200])

        return derive(client, plan.image, progress=report, image=image).image

    async def launch(self, plan: LaunchPlan, info: dict, previous: LaunchResult | None) -> LaunchResult:
        """Create, copy in, start and wait; ``previous`` (a restart) keeps GPUs, address and ports.
        While it runs, :mod:`.progress` has a record of the start (REST ``starting``)."""
        record = plan.record
        progress.begin(plan.kernel_id, self.host.name, plan.image, record.environment, record.notebook)
        try:
            return await self._launch(plan, info, previous)
        finally:
            progress.finish(plan.kernel_id)

    async def _launch(self, plan: LaunchPlan, info: dict, previous: LaunchResult | None) -> LaunchResult:
        client, mode, plan, hint = await self.prepare(plan)
        ports = {name: int(info[name]) for name in KERNEL_PORT_NAMES if info.get(name)}
        if previous is not None and previous.mode == mode:  # a restart: the container's own ports again
            ports = previous.kernel_ports(ports)
        kernel_info = {**info, **ports}  # the container's connection file: its own ports, never the server's
        container = None
        try:
            progress.update(plan.kernel_id, phase="creating")
            container, placement = await self._create(client, plan, mode, ports, previous)
            progress.update(plan.kernel_id, phase="starting")
            await _thread(self.ops.copy_in, container, plan, kernel_info)
            await _thread(self.ops.start, container, plan, self.host)
            address, reached = self.ops.address(container, plan, placement, ports)
            container_ip = self.ops.network_ip(container, plan.network)
            if mode == "tunnel":
                address, reached = await _thread(
                    transport.forward_ports,
                    self.host,
                    plan.kernel_id,
                    address,
                    reached,
                    previous.reusable_ports if previous else None,
                )
            elif mode == "remote-publish":
                address = urlparse(self.host.resolved_url).hostname or address
            result = LaunchResult(
                container_id=container.id,
                host=self.host.name,
                mode=mode,
                address=address,
                ports=reached,
                container_ip=container_ip,
                container_ports=dict(ports),
                gpu_ids=placement.gpu_ids,
            )
            await self.wait_ready(container, plan, result, info)
        except KernelLaunchError as e:
            if container is not None:
                await _thread(self.ops.remove, container)
            await _thread(transport.cancel_forwards, self.host, plan.kernel_id)
            if hint and isinstance(e, KernelNotReadyError):
                raise KernelNotReadyError(f"{e}{hint}") from e
            raise
        except BaseException:
            if container is not None:
                await _thread(self.ops.remove, container)
            await _thread(transport.cancel_forwards, self.host, plan.kernel_id)
            raise
        self.log.info(
            "kernel %s: container %s on host %s (image %s, gpus %s) at %s",
            plan.kernel_id,
            container.short_id,
            self.host.name,
            plan.image,
            ",".join(result.gpu_ids) or ("all" if plan.gpus.kind == "all" else "none"),
            address,
        )
        return result

    async def _create(
        self, client: Any, plan: LaunchPlan, mode: str, ports: dict[str, int], previous: LaunchResult | None
    ) -> tuple[Any, Placement]:
        """Pick GPUs and create the container under the host's allocation lock."""
        allocator = GPUAllocator.for_host(self.host)
        async with allocator.lock(client, plan.image if plan.gpus.wants_gpu else None):
            gpu_ids: list[str] = []
            if plan.gpus.wants_gpu:
                gpu_ids = await _thread(
                    allocator.allocate,
                    client,
                    plan.gpus,
                    plan.kernel_id,
                    plan.gpu_sharing,
                    list(previous.gpu_ids) if previous and previous.gpu_ids else None,
                    plan.image,
                )
            placement = Placement(
                mode=mode,
                gpu_ids=tuple(gpu_ids),
                publish_address=plan.publish_address if mode == "remote-publish" else "127.0.0.1",
                host_ports=previous.reusable_ports if previous and mode == "remote-publish" else {},
                ip=previous.container_ip if previous else None,
            )
            if plan.network == KERNEL_NETWORK:
                await _thread(ensure_kernel_network, client)
            started = datetime.now(timezone.utc).isoformat(timespec="seconds")
            container = await _thread(self.ops.create, client, plan, placement, ports, started)
            if previous is not None and previous.container_id != container.id:
                # a restart: its reserved old container (kernel/watch.py) held the GPUs until now
                await _thread(self.ops.release, client, previous.container_id)
        return container, placement

    async def wait_ready(self, container: Any, plan: LaunchPlan, result: LaunchResult, info: dict) -> None:
        """Ready = the kernel echoes a heartbeat; a container that exits first is explained."""
        deadline = time.monotonic() + plan.launch_timeout
        next_check = 0.0
        while True:
            if await self._heartbeat(result.address, result.ports["hb_port"], info.get("curve_publickey")):
                return
            now = time.monotonic()
            if now >= next_check:
                next_check = now + STATE_CHECK_SECONDS
                try:
                    await _thread(container.reload)
                except docker.errors.NotFound:
                    raise KernelLaunchError(
                        f"kernel container {container.short_id} was removed (by someone else) before it was ready"
                    ) from None
                if container.status not in ("created", "running"):
                    raise KernelNotReadyError(
                        await _thread(self.ops.explain, container, plan.image, "exited before it was ready")
                    )
            if now > deadline:
                raise KernelNotReadyError(
                    await _thread(
                        self.ops.explain,
                        container,
                        plan.image,
                        f"did not answer within launch_timeout={plan.launch_timeout:g}s",
                    )
                )

    @staticmethod
    async def _heartbeat(address: str, port: int, server_key: Any) -> bool:
        """One heartbeat round trip (CurveZMQ when the kernel has a key), bounded by a short poll."""
        sock = zmq.asyncio.Context.instance().socket(zmq.REQ)
        sock.linger = 0
        if server_key:
            pub, sec = zmq.curve_keypair()
            sock.curve_serverkey = server_key.encode() if isinstance(server_key, str) else server_key
            sock.curve_publickey, sock.curve_secretkey = pub, sec
        try:
            sock.connect(f"tcp://{address}:{port}")
            await sock.send(b"ready?")
            if await sock.poll(HEARTBEAT_POLL_MS):
                await sock.recv()
                return True
            return False
        finally:
            sock.close(0)
