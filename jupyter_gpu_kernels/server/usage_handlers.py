"""REST ``gpu-kernels/api/usage`` (GPU-minutes) and ``gpu-kernels/api/kernels/{id}/logs``.

``GET usage?since=…[&host=H]``: GPU-minutes per kernel, environment and user since ``since``
(epoch seconds, ISO 8601 or a duration such as ``15m``; default 24 h), from
:mod:`..daemon.usage`. ``GET kernels/{id}/logs?tail=N``: the last N lines (default 200, at most
10000) of the container's stdout/stderr, for kernels this server manages only (404 otherwise).
Both are ``@web.authenticated`` and ``@authorized`` (read) like every handler of
:mod:`.handlers`, which registers them; Docker calls run in worker threads.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import docker.errors
from jupyter_server.auth.decorator import authorized
from tornado import web

from ..daemon.usage import hosts_usage, parse_since
from ..hosts.transport import connect
from .handlers import BaseHandler

MAX_TAIL = 10000


class UsageHandler(BaseHandler):
    auth_resource = "kernels"  # who used which GPUs: readable by those who may list kernels

    @web.authenticated
    @authorized
    async def get(self) -> None:
        try:
            since = parse_since(self.get_query_argument("since", ""))
        except ValueError as e:
            raise web.HTTPError(400, str(e)) from e
        name = self.get_query_argument("host", None)
        hosts = [self.host_or_404(name)] if name else self.hosts.all()
        self.write_json(await asyncio.to_thread(hosts_usage, hosts, since))


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
        self.write_json({"kernel_id": kernel_id, "container": container_id[:12], "tail": int(tail_text),
                         "logs": text})


def usage_routes(route: Callable[[str], str], name: str) -> list[tuple[str, type]]:
    return [
        (route("usage"), UsageHandler),
        (route(rf"kernels/(?P<kernel_id>{name})/logs"), KernelLogsHandler),
    ]
