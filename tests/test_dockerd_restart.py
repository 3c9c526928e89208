"""A kernel survives a restart of its Docker daemon (issue #14), against a real dockerd.

A dedicated fake-GPU daemon (its own netns; restarting it must not disturb the session's
``fake_gpu_daemon`` or the main daemon) runs a GPU kernel under jupyter_client's restarter, as a
Jupyter server runs it. Its dockerd is stopped (SIGTERM: it stops its containers, as ``systemctl
restart docker`` does) and started again on the same state. While it is down the kernel's state is
unknown (``host_error``) and the restarter waits; once it answers, the container is exited, the
restarter restarts the kernel on the same GPU, a cell runs, and ``last_death`` says that the Docker
daemon restarted.
"""

from __future__ import annotations

import logging

import pytest
from jupyter_client.ioloop import AsyncIOLoopKernelManager

from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json, provisioner_config

from .kernel_helpers import our_containers, own_daemon_host, until

pytestmark = [pytest.mark.docker, pytest.mark.gpu_fake]


@pytest.fixture
def restartable_daemon(jp_environ):
    """A fake-GPU daemon of this test alone, registered as host 'rst'; removed even on failure."""
    yield from own_daemon_host("rst", "dockerd-rst", 7)


async def cell(km, code: str) -> str:
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
        out: list[str] = []
        reply = await kc.execute_interactive(
            code,
            timeout=30,
            output_hook=lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None,
        )
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(out)
    finally:
        kc.stop_channels()


def diagnose(daemon, km) -> str:
    """The client's connection info, the kernel's containers and the new one's log, for a failure report."""
    lines = [f"client connection info: { {k: v for k, v in km.get_connection_info().items() if k != 'key'} }"]
    for c in our_containers(daemon.client):
        ip = (c.attrs.get("NetworkSettings") or {}).get("Networks") or {}
        lines.append(
            f"container {c.name} {c.short_id} {c.status} exit={c.attrs['State'].get('ExitCode')} "
            f"ips={ {n: v.get('IPAddress') for n, v in ip.items()} }"
        )
        lines.append(c.logs(tail=30).decode(errors="replace"))
    return "\n".join(lines)


async def test_kernel_is_restarted_on_its_gpus_after_its_daemon_restarts(restartable_daemon, caplog):
    caplog.set_level(logging.DEBUG)  # the restarter's and the provisioner's INFO lines explain a failure
    daemon = restartable_daemon
    cfg = provisioner_config(image=daemon.test_image, host="rst", gpus="1")
    install("rst-gpu", kernel_json("rst-gpu", cfg), user=True)
    km = AsyncIOLoopKernelManager(kernel_name="rst-gpu")
    await km.start_kernel()
    restarts: list[int] = []
    km.add_restart_callback(lambda: restarts.append(1), "restart")
    km.start_restarter()
    try:
        prov = km.provisioner
        first, gpus = prov.container_id, list(prov.gpu_ids)
        assert len(gpus) == 1
        assert await cell(km, "print('before')") == "before\n"

        daemon.stop_dockerd()
        assert await prov.poll() is None and prov.host_error  # unknown, not dead: the restarter waits
        assert not restarts
        daemon.start_dockerd()

        async def back():
            # the restart must have finished, not only created its container: a client made from
            # km's connection info before the restart wrote its (possibly new) ports talks to none
            return (
                restarts
                and prov.container_id not in (None, first)
                and not prov.restarting
                and km.ready.done()
                and await km.is_alive()
            )

        await until(back, "the restarter brings the kernel back after the daemon restart")
        assert prov.gpu_ids == gpus
        assert "Docker daemon restarted" in prov.last_death["reason"], prov.last_death
        assert prov.host_error is None
        try:
            assert await cell(km, "print('after')") == "after\n"
        except BaseException:
            print(diagnose(daemon, km))  # what the client was given against what the kernel runs with
            raise
        names = [c.name for c in our_containers(daemon.client)]
        assert names == [f"jupyter-kernel-{km.kernel_id}"], names  # the old container is gone
    finally:
        km.stop_restarter()
        await km.shutdown_kernel(now=True)
    assert not our_containers(daemon.client)
