"""REST API under ``<base_url>gpu-kernels/api/``. Every handler is authenticated (and
XSRF-checked for unsafe methods) by jupyter_server's own mechanisms."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from .errors import GPUKernelsError, HostError, SpecError
from .hosts import DockerHosts

NAMESPACE = "gpu-kernels/api"


class BaseHandler(APIHandler):
    """JSON in and out; our errors become 400/404 with a message saying what is wrong."""

    @property
    def hosts(self) -> DockerHosts:
        return self.settings["gpu_kernels_hosts"]

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def json_body(self) -> dict:
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError as e:
            raise web.HTTPError(400, f"request body is not valid JSON: {e}") from e
        if not isinstance(data, dict):
            raise web.HTTPError(400, "request body must be a JSON object")
        return data

    def host_or_404(self, name: str):  # type: ignore[no-untyped-def]
        try:
            return self.hosts.get(name)
        except HostError as e:
            raise web.HTTPError(404, str(e)) from e

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, SpecError):
            status_code = 400
        elif isinstance(exc, GPUKernelsError):
            status_code = 409 if status_code == 500 else status_code
        self.set_status(status_code)
        message = getattr(exc, "log_message", None) or (str(exc) if exc else self._reason)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message, "reason": self._reason}))


class HostsHandler(BaseHandler):
    @web.authenticated
    async def get(self) -> None:
        from .status import host_status

        hosts = self.hosts.all()
        statuses = await asyncio.gather(*(asyncio.to_thread(host_status, h) for h in hosts))
        for h, s in zip(hosts, statuses):
            s["source"] = h.source
            s["description"] = h.description
        self.write_json({"hosts": statuses})


class HostGPUsHandler(BaseHandler):
    @web.authenticated
    async def get(self, host: str) -> None:
        from .status import gpu_inventory

        h = self.host_or_404(host)
        try:
            inv = await asyncio.to_thread(gpu_inventory, h)
        except HostError as e:
            raise web.HTTPError(503, str(e)) from e
        self.write_json(inv.to_json())


def handlers(base_url: str) -> list[tuple[str, type]]:
    def route(path: str) -> str:
        return url_path_join(base_url, NAMESPACE, path)

    return [
        (route("hosts"), HostsHandler),
        (route(r"hosts/(?P<host>[^/]+)/gpus"), HostGPUsHandler),
    ]
