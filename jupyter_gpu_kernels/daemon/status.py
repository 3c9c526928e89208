"""Host status, GPU inventory and the kernel list as plain data (shared by the CLI and the REST API)."""

from __future__ import annotations

from typing import Any

from ..errors import GPUKernelsError
from ..hosts.registry import DockerHost
from ..hosts.transport import connect, daemon_endpoint
from .allocator import GPUAllocator
from .inventory import Inventory
from .records import list_kernel_containers


def gpu_inventory(host: DockerHost, max_age: float = 5.0) -> Inventory:
    """Inventory with holders; an unreachable host raises HostError."""
    client = connect(host)
    return GPUAllocator.for_host(host).inventory(client, max_age=max_age)


def host_status(host: DockerHost, with_gpus: bool = True) -> dict[str, Any]:
    """Reachability, engine version, GPU driver and count; errors are data, not exceptions."""
    status: dict[str, Any] = {
        "name": host.name,
        "url": host.url,
        "local": host.is_local,
        "reachable": False,
        "engine_version": None,
        "api_version": None,
        "gpu_driver": None,
        "gpu_count": None,
        "error": None,
    }
    try:
        client = connect(host)
        version = client.version()
        status.update(
            reachable=True,
            engine_version=version.get("Version"),
            api_version=version.get("ApiVersion"),
            daemon=daemon_endpoint(host),
        )  # ssh://: the remote socket found, and how
        if with_gpus:
            inv = GPUAllocator.for_host(host).devices(client)
            status.update(gpu_driver=inv.driver, gpu_count=len(inv.gpus), gpu_status=inv.status)
    except GPUKernelsError as e:
        status["error"] = str(e)
    except Exception as e:  # a status report must not fail
        status["error"] = f"{type(e).__name__}: {e}"
    return status


def kernel_rows(hosts: list[DockerHost], sessions: dict[str, dict], own: set[str]) -> list[dict[str, Any]]:
    """Our kernel containers on every reachable host, merged with a server's sessions (REST and CLI).

    ``sessions`` maps kernel id → the server's session model (for the notebook path); ``own`` is
    the set of kernel ids the calling server manages. Unreachable hosts are skipped here; the
    REST handler lists its own kernels on them separately.
    """
    rows = []
    for host in hosts:
        try:
            records = list_kernel_containers(connect(host), host.name)
        except Exception:
            continue
        for rec in records:
            session = sessions.get(rec.kernel_id, {})
            rows.append(
                {
                    "kernel_id": rec.kernel_id,
                    "container": rec.container,
                    "host": host.name,
                    "image": rec.image,
                    "environment": rec.environment,
                    "gpus": rec.gpus,
                    "notebook": session.get("path") or rec.notebook,
                    "session_id": session.get("id"),
                    "started": rec.started,
                    "state": rec.state,
                    "server": rec.server,
                    "this_server": rec.kernel_id in own,
                }
            )
    return rows
