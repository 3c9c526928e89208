"""Why a kernel died, when its Docker daemon was killed (issue #14), against a real dockerd.

A dedicated fake-GPU daemon (its own netns slot, so the session's daemons are not disturbed)
runs a GPU kernel with nobody polling it (no restarter). Its dockerd is SIGKILLed (an OOM kill,
a crash, ``systemctl kill -s KILL docker``) and started again on the same state: at its start it
kills the containers it finds still running (exit 137) and logs their ``die``, so its event log
alone says "SIGKILL". ``last_death`` must still say that the Docker daemon restarted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from jupyter_client.manager import AsyncKernelManager

from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json, provisioner_config

from .kernel_helpers import our_containers, own_daemon_host

pytestmark = [pytest.mark.docker, pytest.mark.gpu_fake]


@pytest.fixture
def killable_daemon(jp_environ):
    """A fake-GPU daemon of this test alone, registered as host 'die'; removed even on failure."""
    from tests.support.netns_daemon import read_pidfile

    for daemon in own_daemon_host("die", "dockerd-die", 8):
        daemon.dockerd_pid = lambda d=daemon: d.proc.pid if d.proc is not None else read_pidfile(d.pidfile)
        yield daemon


def sigkill_dockerd(daemon) -> None:
    """SIGKILL only dockerd (its containers keep running for now) and reap it."""
    pid = daemon.dockerd_pid()
    os.kill(pid, signal.SIGKILL)
    if daemon.proc is not None:
        daemon.proc.wait(timeout=30)
        daemon.proc = None
    else:
        deadline = time.monotonic() + 30
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.1)


async def test_a_sigkilled_daemons_restart_is_the_reason_not_sigkill(killable_daemon):
    daemon = killable_daemon
    cfg = provisioner_config(image=daemon.test_image, host="die", gpus="1")
    install("die-gpu", kernel_json("die-gpu", cfg), user=True)
    km = AsyncKernelManager(kernel_name="die-gpu")  # no restarter: nobody polls while it is down
    await km.start_kernel()
    try:
        prov = km.provisioner
        assert await prov.poll() is None
        sigkill_dockerd(daemon)
        daemon.start_dockerd()
        code = None
        for _ in range(100):
            code = await prov.poll()
            if code is not None:
                break
            await asyncio.sleep(0.3)
        assert code is not None, "the container never read as dead after the daemon's restart"
        assert "Docker daemon restarted" in prov.last_death["reason"], prov.last_death
        assert prov.last_death.get("daemon_restarted") is True
    finally:
        await km.shutdown_kernel(now=True)
    assert not our_containers(daemon.client)
