"""Restarting a kernel on an SSH host: the local forwarded ports and the container's own ports.

In tunnel mode the kernel manager's connection info holds the LOCAL forwarded ports (127.0.0.1 on
this machine), not the ports the kernel binds in its container. A restart must keep the local ports
(connected clients reconnect by themselves) and give the new container its own ports again: before,
the local numbers were copied into the new container's connection file, so the two sets got mixed
on every restart.
"""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from jupyter_client.manager import KernelManager

from jupyter_gpu_kernels.daemon.plan import connection_file_path

from .kernel_helpers import install_spec, iopub_ready, our_containers, run_cell
from .test_remote import remote, rhost  # noqa: F401  (the simulated SSH host and its admin host entry)

pytestmark = [pytest.mark.docker, pytest.mark.remote]


def _ports(info: dict) -> dict[str, int]:
    return {k: int(v) for k, v in info.items() if k.endswith("_port")}


def _container_file_ports(remote, km) -> dict[str, int]:  # noqa: F811
    """The ports in the connection file the kernel read inside its container."""
    c = remote.daemon.client.containers.get(km.provisioner.container_id)
    stream, _ = c.get_archive(connection_file_path(km.kernel_id))
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.getmembers()[0]
        return _ports(json.load(tar.extractfile(member)))


def test_restarts_keep_local_ports_and_the_containers_own_ports(rhost, remote, test_image):  # noqa: F811
    install_spec("far", test_image, "--host", "gpubox")
    km = KernelManager(kernel_name="far")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)
        assert km.provisioner.result.mode == "tunnel"
        local, inside = _ports(km.get_connection_info()), km.provisioner.container_ports
        assert _container_file_ports(remote, km) == inside
        assert km.provisioner.result.ports == local
        for i in range(2):  # restart twice: a second restart must not see the first one's mix either
            km.restart_kernel(now=True)
            kc.wait_for_ready(timeout=60)
            iopub_ready(kc)
            assert run_cell(kc, f"print({i}*2)")["stdout"] == f"{i * 2}\n"
            assert _ports(km.get_connection_info()) == local, "the client keeps its local forwarded ports"
            assert km.provisioner.container_ports == inside, "the new container binds its own ports again"
            assert _container_file_ports(remote, km) == inside

        # new ports asked for: the container binds the newly chosen ones; the local forwards stay
        km.restart_kernel(now=True, newports=True)
        kc.wait_for_ready(timeout=60)
        iopub_ready(kc)
        assert _ports(km.get_connection_info()) == local
        fresh = km.provisioner.container_ports
        assert _container_file_ports(remote, km) == fresh
        assert len(set(fresh.values())) == len(fresh)
        assert run_cell(kc, "print('new')")["stdout"] == "new\n"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert not our_containers(remote.daemon.client)
