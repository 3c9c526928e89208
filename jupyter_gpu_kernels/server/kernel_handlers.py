"""REST ``gpu-kernels/api/kernels…``: the container kernels on the configured hosts, and this server's.

- ``GET kernels``: every kernel container on every host (from its labels, :mod:`..daemon.status`),
  with this server's notebooks, execution state, last death, GPU-minutes and cull time; this
  server's kernels on an unreachable host, or whose restart failed, are listed as such;
- ``DELETE kernels/{id}``: shut down a kernel of this server (404 otherwise);
- ``GET kernels/{id}/logs?tail=N``: the last N lines (default 200, at most 10000) of the
  container's stdout/stderr, for kernels this server manages only (404 otherwise).

``@web.authenticated`` and ``@authorized`` on ``kernels`` (the same resource as jupyter_server's
``/api/kernels``), as :mod:`.base` says; exported as ``default_handlers`` for :mod:`.routes`.
Docker calls run in worker threads.
"""

from __future__ import annotations

import asyncio
from typing import Any

import docker.errors
from tornado import web

from ..daemon.status import kernel_rows
from ..daemon.usage import running_gpu_minutes
from ..hosts.transport import connect
from .base import NAME, BaseHandler, authorized, route

MAX_TAIL = 10000


class KernelsHandler(BaseHandler):
    auth_resource = "kernels"  # the same resource as jupyter_server's /api/kernels

    @web.authenticated
    @authorized
    async def get(self) -> None:
        sm = self.settings.get("session_manager")
        sessions = {}
        if sm is not None:
            for s in await sm.list_sessions():
                if s.get("kernel"):
                    sessions[s["kernel"]["id"]] = s
        own = set(self.kernel_manager.list_kernel_ids())
        rows = await asyncio.to_thread(kernel_rows, self.hosts.all(), sessions, own)
        seen = {row["kernel_id"] for row in rows}
        for kid in own - seen:
            # our kernels on a host we cannot reach: listed as such, never silently dropped
            prov = getattr(self.kernel_manager.get_kernel(kid), "provisioner", None)
            if getattr(prov, "launch_error", None):
                rows.append(dead_row(kid, prov, sessions.get(kid, {})))  # a restart that failed: dead
                continue
            if getattr(prov, "container_id", None) is None:
                continue  # not one of our container kernels
            rows.append(
                {
                    "kernel_id": kid,
                    "container": (prov.container_id or "")[:12],
                    "host": prov.host,
                    "image": prov.image,
                    "environment": prov.environment,
                    "gpus": ",".join(prov.gpu_ids),
                    "notebook": sessions.get(kid, {}).get("path", ""),
                    "session_id": sessions.get(kid, {}).get("id"),
                    "started": "",
                    "state": "unreachable",
                    "server": "",
                    "this_server": True,
                    "error": prov.host_error or f"host {prov.host!r} is unreachable",
                }
            )
        for row in rows:
            if row["this_server"]:
                kernel = self.kernel_manager.get_kernel(row["kernel_id"])
                row["execution_state"] = "dead" if row["state"] == "dead" else getattr(kernel, "execution_state", None)
                row["last_death"] = getattr(getattr(kernel, "provisioner", None), "last_death", None)
            running = row.get("state") == "running"  # GPU-minutes of its current container (daemon/usage.py)
            row["gpu_minutes"] = running_gpu_minutes(row.get("started", ""), row.get("gpus", "")) if running else 0.0
            culler = self.services.culler
            row["cull_at"] = culler.cull_at(row["kernel_id"]) if culler is not None and row["this_server"] else None
        self.write_json({"kernels": rows})


def dead_row(kernel_id: str, prov: Any, session: dict) -> dict[str, Any]:
    """A kernel of this server whose (re)start failed: no container, reported dead with the reason."""
    return {
        "kernel_id": kernel_id,
        "container": "",
        "host": prov.host,
        "image": prov.image,
        "environment": prov.environment,
        "gpus": "",
        "notebook": session.get("path", ""),
        "session_id": session.get("id"),
        "started": "",
        "state": "dead",
        "server": "",
        "this_server": True,
        "error": prov.launch_error,
    }


class KernelHandler(BaseHandler):
    auth_resource = "kernels"  # deleting a kernel: "write" on kernels, as DELETE /api/kernels/<id>

    @web.authenticated
    @authorized
    async def delete(self, kernel_id: str) -> None:
        if kernel_id not in self.kernel_manager.list_kernel_ids():
            raise web.HTTPError(404, f"no kernel {kernel_id!r} on this server")
        await self.kernel_manager.shutdown_kernel(kernel_id)
        self.set_status(204)
        self.finish()


def container_logs(host: Any, container_id: str, tail: int) -> str:
    client = connect(host)
    raw = client.containers.get(container_id).logs(stdout=True, stderr=True, tail=tail)
    return raw.decode("utf-8", "replace")


class KernelLogsHandler(BaseHandler):
    auth_resource = "kernels"  # the kernel's own output: read on kernels, as GET /api/kernels/<id>

    @web.authenticated
    @authorized
    async def get(self, kernel_id: str) -> None:
        tail_text = self.get_query_argument("tail", "200")
        if not tail_text.isascii() or not tail_text.isdigit() or not 0 < int(tail_text) <= MAX_TAIL:
            raise web.HTTPError(400, f"tail must be a whole number from 1 to {MAX_TAIL}, not {tail_text!r}")
        if kernel_id not in self.kernel_manager.list_kernel_ids():
            raise web.HTTPError(404, f"no kernel {kernel_id!r} on this server")
        prov = getattr(self.kernel_manager.get_kernel(kernel_id), "provisioner", None)
        container_id = getattr(prov, "container_id", None)
        if container_id is None:
            raise web.HTTPError(404, f"kernel {kernel_id!r} has no container now")
        host = self.host_or_404(prov.host)
        try:
            text = await asyncio.to_thread(container_logs, host, container_id, int(tail_text))
        except docker.errors.NotFound as e:
            raise web.HTTPError(404, f"kernel {kernel_id!r}: its container is gone") from e
        self.write_json({"kernel_id": kernel_id, "container": container_id[:12], "tail": int(tail_text), "logs": text})


default_handlers = [
    (route("kernels"), KernelsHandler),
    (route(rf"kernels/(?P<kernel_id>{NAME})"), KernelHandler),
    (route(rf"kernels/(?P<kernel_id>{NAME})/logs"), KernelLogsHandler),
]
