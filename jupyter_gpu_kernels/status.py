"""Host status and GPU inventory as plain data (shared by the CLI and the REST API)."""

from __future__ import annotations

from typing import Any

from .devices import GPUAllocator, Inventory
from .errors import GPUKernelsError
from .hosts import DockerHost
from .transport import connect


def gpu_inventory(host: DockerHost, max_age: float = 5.0) -> Inventory:
    """Inventory with holders; an unreachable host raises HostError."""
    client = connect(host)
    return GPUAllocator.for_host(host).inventory(client, max_age=max_age)


def host_status(host: DockerHost, with_gpus: bool = True) -> dict[str, Any]:
    """Reachability, engine version, GPU driver and count; errors are data, not exceptions."""
    status: dict[str, Any] = {
        "name": host.name, "url": host.url, "local": host.is_local, "reachable": False,
        "engine_version": None, "api_version": None, "gpu_driver": None, "gpu_count": None, "error": None,
    }
    try:
        client = connect(host)
        version = client.version()
        status.update(reachable=True, engine_version=version.get("Version"), api_version=version.get("ApiVersion"))
        if with_gpus:
            inv = GPUAllocator.for_host(host).devices(client)
            status.update(gpu_driver=inv.driver, gpu_count=len(inv.gpus), gpu_status=inv.status)
    except GPUKernelsError as e:
        status["error"] = str(e)
    except Exception as e:  # a status report must not fail
        status["error"] = f"{type(e).__name__}: {e}"
    return status
