"""A restart keeps its reservations (issue #14), against real daemons with real competitors.

The competitor strikes at the worst moment: a :class:`ContainerOps` subclass (the provisioner's
``container_ops_class``) runs it from ``connection_mode``, which the launcher calls on a restart
after ``cleanup`` removed (before: the GPU was free then) the old container and before the new
one is created.

- a rival kernel, started in another process on the fake-GPU daemon while kernel A restarts, is
  refused with A named as the holder; A comes back on the same GPU and runs a cell;
- a foreign container that takes A's address during its restart: A comes back on a fresh address
  and a cell runs through the kernel manager (whose connection info follows the provisioner's).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from jupyter_client.manager import KernelManager

from jupyter_gpu_kernels.daemon.allocator import GPUAllocator
from jupyter_gpu_kernels.daemon.containers import ContainerOps
from jupyter_gpu_kernels.daemon.networks import KERNEL_NETWORK, endpoint_config
from jupyter_gpu_kernels.hosts.registry import DockerHosts
from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json, provisioner_config

from .kernel_helpers import our_containers, run_cell

pytestmark = pytest.mark.docker

RIVAL = """
from jupyter_client.manager import KernelManager
km = KernelManager(kernel_name="rival")
try:
    km.start_kernel()
except Exception as e:
    print("REFUSED", e)
else:
    print("STARTED", km.provisioner.gpu_ids)
    km.shutdown_kernel(now=True)
"""


class RestartHook(ContainerOps):
    """Runs ``strike(client)`` once, on the second launch of the kernel (its restart)."""

    launches = 0
    strike = None
    outcome: list = []

    def connection_mode(self, client, host, requested):
        type(self).launches += 1
        if type(self).launches == 2 and type(self).strike is not None:
            type(self).outcome.append(type(self).strike(client))
        return super().connection_mode(client, host, requested)


def spec(name: str, hook: bool = True, **config) -> str:
    cfg = provisioner_config(**config)
    if hook:
        cfg["container_ops_class"] = f"{__name__}.RestartHook"
    install(name, kernel_json(name, cfg), user=True)
    return name


@pytest.fixture
def hook():
    RestartHook.launches, RestartHook.strike, RestartHook.outcome = 0, None, []
    yield RestartHook
    RestartHook.strike = None


def cell(km: KernelManager, code: str) -> dict:
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        return run_cell(kc, code)
    finally:
        kc.stop_channels()


@pytest.mark.gpu_fake
def test_a_rival_cannot_take_the_gpu_of_a_restarting_kernel(jp_environ, fake_gpu_daemon, test_image, hook):
    DockerHosts().add("fakegpu", fake_gpu_daemon.url)
    GPUAllocator._instances.clear()
    spec("holder", image=test_image, host="fakegpu", gpus="1")

    def rival(client):  # another process (another server's allocation, its own daemon mutex)
        run = subprocess.run(
            [sys.executable, "-c", RIVAL],
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(os.environ),
            close_fds=True,
        )
        return run.stdout + run.stderr

    km = KernelManager(kernel_name="holder")
    km.start_kernel()
    try:
        gpus = km.provisioner.gpu_ids
        assert len(gpus) == 1
        spec("rival", hook=False, image=test_image, host="fakegpu", gpus=f"device={gpus[0]}")  # A's very GPU
        hook.strike = rival
        km.restart_kernel(now=True)
        assert hook.outcome, "the rival never ran"
        said = hook.outcome[0]
        assert "REFUSED" in said and km.kernel_id[:8] in said, said
        assert km.provisioner.gpu_ids == gpus
        assert cell(km, "print('still mine')")["stdout"] == "still mine\n"
        names = [c.name for c in our_containers(fake_gpu_daemon.client)]
        assert names == [f"jupyter-kernel-{km.kernel_id}"], names  # the reserved old one is gone
    finally:
        km.shutdown_kernel(now=True)
    assert not our_containers(fake_gpu_daemon.client)


def test_a_restart_whose_address_was_taken_comes_back_on_a_fresh_one(jp_environ, test_image, docker_client, hook):
    spec("addr", image=test_image)
    squatters: list = []

    def squat(client):  # a foreign container takes the kernel's old address on the kernel network
        c = client.containers.create(
            test_image,
            ["sleep", "1000"],
            name=f"jgk-test-squatter-{uuid.uuid4().hex[:8]}",
            network=KERNEL_NETWORK,
            networking_config={KERNEL_NETWORK: endpoint_config(client, old_ip)},
        )
        squatters.append(c)
        c.start()
        c.reload()
        return ContainerOps.network_ip(c, KERNEL_NETWORK)

    km = KernelManager(kernel_name="addr")
    km.start_kernel()
    try:
        if km.provisioner.result.mode != "direct":
            pytest.skip("the kernel is not reached at its container's address here")
        old_ip = km.provisioner.container_ip
        hook.strike = squat
        km.restart_kernel(now=True)
        assert hook.outcome == [old_ip], hook.outcome  # the squatter got it
        new_ip = km.provisioner.container_ip
        assert new_ip and new_ip != old_ip
        assert km.get_connection_info()["ip"] == new_ip  # the kernel manager follows the provisioner
        assert cell(km, "print('moved')")["stdout"] == "moved\n"
    finally:
        km.shutdown_kernel(now=True)
        for c in squatters:
            c.remove(force=True)
    assert not our_containers(docker_client)
