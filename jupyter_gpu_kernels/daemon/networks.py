"""The Docker network kernels run on.

A dedicated bridge network (``jupyter-gpu-kernels``) instead of Docker's default bridge:

- inter-container traffic is off (``enable_icc=false``): kernels cannot reach each other's ports;
- it has an explicit subnet, so a restarted kernel gets its old address back and clients
  connected to it (JupyterLab, nbclient) keep working; on the default bridge an address
  cannot be requested.
The subnet is whatever the daemon would pick itself (learned from a short-lived probe
network), so it never collides with the host's other networks.
"""

from __future__ import annotations

import threading

import docker
import docker.errors
from docker.types import IPAMConfig, IPAMPool

from .. import forksafe
from . import labels as L

KERNEL_NETWORK = "jupyter-gpu-kernels"
_lock = threading.Lock()


def _reset_after_fork() -> None:
    """A forked child: a new lock (a parent thread may hold it)."""
    global _lock
    _lock = threading.Lock()


forksafe.register(_reset_after_fork)


def ensure_kernel_network(client: docker.DockerClient, name: str = KERNEL_NETWORK) -> docker.models.networks.Network:
    with _lock:
        try:
            return client.networks.get(name)
        except docker.errors.NotFound:
            pass
        probe = client.networks.create(f"{name}-subnet-probe-{threading.get_ident()}", driver="bridge")
        try:
            probe.reload()
            subnet = probe.attrs["IPAM"]["Config"][0]["Subnet"]
            gateway = probe.attrs["IPAM"]["Config"][0].get("Gateway")
        finally:
            probe.remove()
        try:
            return client.networks.create(
                name,
                driver="bridge",
                ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=subnet, gateway=gateway)]),
                options={"com.docker.network.bridge.enable_icc": "false"},
                labels={f"{L.PREFIX}.network": "kernels"},
            )
        except docker.errors.APIError as e:
            if e.status_code == 409:  # created by another server meanwhile
                return client.networks.get(name)
            raise


def endpoint_config(client: docker.DockerClient, ip: str | None) -> dict | None:
    return client.api.create_endpoint_config(ipv4_address=ip) if ip else None
