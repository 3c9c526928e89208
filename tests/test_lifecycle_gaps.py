"""Two lifecycle gaps of issue #14, end to end: real dockerd (the fake-GPU netns daemon), real
servers and kernels.

- ``DELETE /api/kernels/{id}`` while the kernel's restart is still launching (its container's
  start is slowed by an entrypoint that sleeps) succeeds: it waits for the restart and shuts the
  kernel down; no container is left and its GPU is free (it used to answer 500 from jupyter_client);
- a kernel whose container dies by itself keeps its GPU before the restarter notices: a rival
  asking for that very GPU meanwhile is refused naming the kernel, and the restarted kernel has
  its GPU back; when the restarter gives up, the dead container goes and the GPU is free.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from jupyter_client.ioloop import AsyncIOLoopKernelManager
from jupyter_client.manager import AsyncKernelManager
from tornado.httpclient import HTTPClientError
from traitlets.config import Config

from jupyter_gpu_kernels.daemon.allocator import GPUAllocator
from jupyter_gpu_kernels.errors import GPUUnavailableError
from jupyter_gpu_kernels.hosts.registry import DockerHosts
from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json, provisioner_config

from .kernel_helpers import our_containers, until
from .support.leftovers import LeftoverTracker

pytestmark = [pytest.mark.docker, pytest.mark.gpu_fake]

SLOW_START = ["/bin/sh", "-c", 'sleep 6; exec "$@"', "slow-start"]  # the kernel starts 6 s after its container


@pytest.fixture
def jp_server_config(test_image):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}},
        "ImagePolicy": {"allowed_images": [test_image]},
    }


@pytest.fixture
def fakegpu(jp_environ, fake_gpu_daemon):
    """The fake-GPU daemon as host 'fakegpu'; no kernel container of this test left on it."""
    DockerHosts().add("fakegpu", fake_gpu_daemon.url)
    GPUAllocator._instances.clear()
    mine = LeftoverTracker(fake_gpu_daemon.client)
    yield fake_gpu_daemon
    left = mine.check_and_remove()
    assert not left, f"left behind: {left}"


def spec(name: str, entrypoint: list[str] | None = None, **config) -> str:
    cfg = provisioner_config(**config)
    if entrypoint is not None:
        cfg["entrypoint"] = entrypoint
    install(name, kernel_json(name, cfg), user=True)
    return name


async def call(jp_fetch, *parts, method="GET", body=None) -> tuple[int, bytes]:
    try:
        r = await jp_fetch(
            *parts,
            method=method,
            body=None if body is None else json.dumps(body),
            allow_nonstandard_methods=True,
            request_timeout=300,
        )
        return r.code, r.body
    except HTTPClientError as e:
        return e.code, (e.response.body if e.response else b"")


def holders_of(daemon, gpu: str) -> list[str]:
    inv = GPUAllocator.for_host(DockerHosts().get("fakegpu")).inventory(daemon.client, daemon.test_image)
    return [h.kernel_id for g in inv.gpus if gpu in g.ids for h in g.holders]


def kernel_containers_of(daemon, kid: str) -> list:
    return [c for c in our_containers(daemon.client) if c.labels.get("org.jupyter.gpu-kernels.kernel-id") == kid]


async def test_delete_during_a_slow_restart_shuts_the_kernel_down(jp_fetch, jp_serverapp, fakegpu, test_image):
    spec("slow", SLOW_START, image=test_image, host="fakegpu", gpus="1")
    code, body = await call(jp_fetch, "api", "kernels", method="POST", body={"name": "slow"})
    assert code == 201, (code, body)
    kid = json.loads(body)["id"]
    km = jp_serverapp.kernel_manager.get_kernel(kid)
    first, gpu = km.provisioner.container_id, km.provisioner.gpu_ids[0]

    restart = asyncio.ensure_future(call(jp_fetch, "api", "kernels", kid, "restart", method="POST"))
    # the restart's new container exists and is sleeping in its entrypoint: the launch is under way
    await until(
        lambda: any(c.id != first and c.name == f"jupyter-kernel-{kid}" for c in kernel_containers_of(fakegpu, kid)),
        "the restart's new container",
    )
    assert not restart.done()
    code, body = await call(jp_fetch, "api", "kernels", kid, method="DELETE")
    assert code == 204, (code, body)
    code, body = await restart
    assert code != 500, body  # the restart finished (200) or saw the kernel gone (404)
    assert not kernel_containers_of(fakegpu, kid)
    assert kid not in holders_of(fakegpu, gpu)
    code, _ = await call(jp_fetch, "api", "kernels", kid)
    assert code == 404


async def test_server_stop_during_a_slow_restart_removes_the_new_container(jp_fetch, jp_serverapp, fakegpu, test_image):
    """The server stopping (``shutdown_all``) while a restart launches waits for it, so the restart's
    new container is shut down too, not left to the reaper with its GPU."""
    spec("slowstop", SLOW_START, image=test_image, host="fakegpu", gpus="1")
    code, body = await call(jp_fetch, "api", "kernels", method="POST", body={"name": "slowstop"})
    assert code == 201, (code, body)
    kid = json.loads(body)["id"]
    mkm = jp_serverapp.kernel_manager
    km = mkm.get_kernel(kid)
    first, gpu = km.provisioner.container_id, km.provisioner.gpu_ids[0]

    restart = asyncio.ensure_future(call(jp_fetch, "api", "kernels", kid, "restart", method="POST"))
    try:
        await until(
            lambda: any(
                c.id != first and c.name == f"jupyter-kernel-{kid}" for c in kernel_containers_of(fakegpu, kid)
            ),
            "the restart's new container",
        )
        assert not restart.done()
        await mkm.shutdown_all(now=True)  # what the server does when it stops
    finally:
        await asyncio.gather(restart, return_exceptions=True)  # never leave it running into the next test
    assert not kernel_containers_of(fakegpu, kid)
    assert kid not in holders_of(fakegpu, gpu)
    assert kid not in mkm.list_kernel_ids()


async def test_a_dead_kernels_gpu_is_not_taken_before_its_restart(fakegpu, test_image):
    daemon = fakegpu
    spec("victim", image=test_image, host="fakegpu", gpus="1")
    km = AsyncIOLoopKernelManager(kernel_name="victim")
    await km.start_kernel()
    try:
        prov = km.provisioner
        first, gpu = prov.container_id, prov.gpu_ids[0]
        spec("rival", image=test_image, host="fakegpu", gpus=f"device={gpu}")
        daemon.client.containers.get(first).kill()  # it dies by itself; nobody polls it yet
        await until(lambda: daemon.client.containers.get(first).status == "exited", "the container exited")

        rival = AsyncKernelManager(kernel_name="rival")
        with pytest.raises(GPUUnavailableError) as refused:
            await rival.start_kernel()
        assert km.kernel_id[:8] in str(refused.value), refused.value  # the holder is named
        assert not [
            c
            for c in our_containers(daemon.client)
            if c.labels.get("org.jupyter.gpu-kernels.kernel-id") == rival.kernel_id
        ]

        km.start_restarter()
        await until(lambda: prov.container_id not in (None, first) and km.is_alive(), "the restarted kernel")
        # the restarter's start_kernel may still be finishing (post_start_kernel): a shutdown_kernel now
        # would race it for jupyter_client's _ready future (InvalidStateError, seen once in CI)
        await km.ready
        assert prov.gpu_ids == [gpu]
        assert "SIGKILL" in prov.last_death["reason"], prov.last_death
        assert holders_of(daemon, gpu) == [km.kernel_id]
    finally:
        km.stop_restarter()
        await km.shutdown_kernel(now=True)
    assert not kernel_containers_of(daemon, km.kernel_id)
    assert holders_of(daemon, gpu) == []


async def test_the_gpu_is_freed_when_the_restarter_gives_up(fakegpu, test_image):
    daemon = fakegpu
    spec("doomed", image=test_image, host="fakegpu", gpus="1")
    km = AsyncIOLoopKernelManager(kernel_name="doomed", config=Config({"KernelRestarter": {"restart_limit": 0}}))
    await km.start_kernel()
    dead: list[int] = []
    try:
        km.start_restarter()
        km.add_restart_callback(lambda: dead.append(1), "dead")
        prov = km.provisioner
        first, gpu = prov.container_id, prov.gpu_ids[0]
        daemon.client.containers.get(first).kill()
        await until(lambda: dead, "the restarter gives up")
        await until(lambda: not kernel_containers_of(daemon, km.kernel_id), "the dead container is removed")
        assert holders_of(daemon, gpu) == []
    finally:
        km.stop_restarter()
        await km.shutdown_kernel(now=True)
    assert not kernel_containers_of(daemon, km.kernel_id)
