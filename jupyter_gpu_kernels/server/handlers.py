"""REST API under ``<base_url>gpu-kernels/api/``.

Every handler is ``@web.authenticated``, ``@authorized`` (read for GET, write for the
others, on ``gpu_kernels`` or ``kernels``) and (for unsafe methods) XSRF-checked by
jupyter_server's own mechanisms; inputs are validated with a 400 whose message
says what is wrong; unknown hosts, environments, pulls and kernels give 404.
Docker calls run in worker threads so the server never blocks.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..environments import Environments
from ..errors import HostError, SpecError, http_reply
from ..hosts.registry import DockerHosts
from ..daemon.status import kernel_rows
from ..daemon.usage import running_gpu_minutes
from .pulls import PullTracker

NAMESPACE = "gpu-kernels/api"
AUTH_RESOURCE = "gpu_kernels"  # hosts, images, pulls, environments; kernels use jupyter_server's "kernels"


class BaseHandler(APIHandler):
    """JSON in and out; our errors become 400/403/404/409 with a message that says what is wrong.

    Every method is ``@web.authenticated`` then ``@authorized``: the server's Authorizer is asked
    for ``read`` (GET) or ``write`` (POST/PUT/DELETE) on :attr:`auth_resource`, as jupyter_server's
    own handlers do, so a read-only user (e.g. JupyterHub ``read`` scopes) gets 403 on changes."""

    auth_resource = AUTH_RESOURCE

    @property
    def hosts(self) -> DockerHosts:
        return self.settings["gpu_kernels_hosts"]

    @property
    def environments(self) -> Environments:
        return self.settings["gpu_kernels_environments"]

    @property
    def pulls(self) -> PullTracker:
        return self.settings["gpu_kernels_pulls"]

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data))  # APIHandler.finish sets Content-Type: application/json

    def json_body(self) -> dict:
        """The body as a JSON object (APIHandler.get_json_body); 400 naming the problem otherwise."""
        try:
            data = self.get_json_body()
        except UnicodeDecodeError as e:
            raise web.HTTPError(400, f"request body is not UTF-8 text: {e}") from e
        except web.HTTPError as e:
            raise web.HTTPError(400, f"request body is not valid JSON: {e.__cause__}") from e
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise web.HTTPError(400, f"request body must be a JSON object, not {type(data).__name__}")
        return data

    async def _session_paths(self) -> dict[str, str]:
        sm = self.settings.get("session_manager")
        if sm is None:
            return {}
        return {s["kernel"]["id"]: s["path"] for s in await sm.list_sessions() if s.get("kernel")}

    def host_or_404(self, name: str):  # type: ignore[no-untyped-def]
        try:
            return self.hosts.get(name)
        except HostError as e:
            raise web.HTTPError(404, str(e)) from e

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        # errors.http_reply: the status of the error's class, {message, field?}; reason: tornado's
        status_code, body = http_reply(exc, status_code) if exc else (status_code, {"message": self._reason})
        self.set_status(status_code)
        body["reason"] = self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class HostsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        from ..daemon.status import host_status

        hosts = self.hosts.all()
        statuses = await asyncio.gather(*(asyncio.to_thread(host_status, h) for h in hosts))
        for h, s in zip(hosts, statuses):
            s["source"] = h.source
            s["description"] = h.description
        self.write_json({"hosts": statuses})


class HostGPUsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, host: str) -> None:
        from ..daemon.status import gpu_inventory

        h = self.host_or_404(host)
        inv = await asyncio.to_thread(gpu_inventory, h)
        data = inv.to_json()
        paths = await self._session_paths()
        for gpu in data["gpus"]:
            for holder in gpu["holders"]:  # this server knows its notebooks by their relative path
                holder["notebook"] = paths.get(holder["kernel_id"], holder["notebook"])
        self.write_json(data)


class HostImagesHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, host: str) -> None:
        from ..daemon.images import list_images
        from ..hosts.transport import connect

        h = self.host_or_404(host)
        client = await asyncio.to_thread(connect, h)
        images = await asyncio.to_thread(list_images, client, self.get_query_argument("detect", "1") != "0",
                                         self.settings["gpu_kernels_policy"].allows)  # probe allowed images only
        if any(i.get("cuda_requirement") for i in images):  # CUDA images: can this host's driver run them?
            from ..daemon.allocator import GPUAllocator
            from ..daemon.images import add_cuda_status

            inventory = await asyncio.to_thread(GPUAllocator.for_host(h).devices, client)
            add_cuda_status(images, h.name, inventory)
        policy = self.settings["gpu_kernels_policy"]
        for image in images:
            image["allowed"] = any(policy.allows(t) for t in image["tags"]) if image["tags"] else not policy.allowed_images
        self.write_json({"host": h.name, "images": images})


class PullHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, host: str) -> None:
        h = self.host_or_404(host)
        image = self.json_body().get("image")
        from ..daemon.images import check_image_ref

        self.settings["gpu_kernels_policy"].check(check_image_ref(image))
        p = self.pulls.start(h, image)
        self.set_header("Location", url_path_join(self.base_url, NAMESPACE, "hosts", h.name, "images", "pulls", p.id))
        self.write_json(p.to_json(), status=202)


class PullStatusHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, host: str, pull_id: str) -> None:
        p = self.pulls.get(pull_id)
        if p is None or p.host != host:
            raise web.HTTPError(404, f"no pull {pull_id!r} on host {host!r}")
        self.write_json(p.to_json())


class EnvironmentsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json({"environments": [e.to_json() for e in self.environments.all()]})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        data = self.json_body()
        name = data.pop("name", None)
        if not name:
            raise SpecError("an environment needs a name", field="name")
        env = await asyncio.to_thread(self.environments.create, name, data)
        self.set_header("Location", url_path_join(self.base_url, NAMESPACE, "environments", env.name))
        self.write_json(env.to_json(), status=201)


class EnvironmentHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.write_json(self.environments.get(name).to_json())

    @web.authenticated
    @authorized
    async def put(self, name: str) -> None:
        data = self.json_body()
        if data.get("name", name) != name:
            raise SpecError("renaming is not supported: create a new environment and delete this one", field="name")
        env = await asyncio.to_thread(self.environments.update, name, data)
        self.write_json(env.to_json())

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self.environments.delete, name)
        self.set_status(204)
        self.finish()


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
            rows.append({
                "kernel_id": kid, "container": (prov.container_id or "")[:12], "host": prov.host,
                "image": prov.image, "environment": prov.environment, "gpus": ",".join(prov.gpu_ids),
                "notebook": sessions.get(kid, {}).get("path", ""), "session_id": sessions.get(kid, {}).get("id"),
                "started": "", "state": "unreachable", "server": "", "this_server": True,
                "error": prov.host_error or f"host {prov.host!r} is unreachable",
            })
        for row in rows:
            if row["this_server"]:
                kernel = self.kernel_manager.get_kernel(row["kernel_id"])
                row["execution_state"] = "dead" if row["state"] == "dead" else getattr(kernel, "execution_state", None)
                row["last_death"] = getattr(getattr(kernel, "provisioner", None), "last_death", None)
            running = row.get("state") == "running"  # GPU-minutes of its current container (daemon/usage.py)
            row["gpu_minutes"] = running_gpu_minutes(row.get("started", ""), row.get("gpus", "")) if running else 0.0
            culler = self.settings.get("gpu_kernels_culler")
            row["cull_at"] = culler.cull_at(row["kernel_id"]) if culler is not None and row["this_server"] else None
        self.write_json({"kernels": rows})


def dead_row(kernel_id: str, prov: Any, session: dict) -> dict[str, Any]:
    """A kernel of this server whose (re)start failed: no container, reported dead with the reason."""
    return {
        "kernel_id": kernel_id, "container": "", "host": prov.host, "image": prov.image,
        "environment": prov.environment, "gpus": "", "notebook": session.get("path", ""),
        "session_id": session.get("id"), "started": "", "state": "dead", "server": "", "this_server": True,
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


def handlers(base_url: str) -> list[tuple[str, type]]:
    from .build_handlers import build_routes  # here, not at the top: it imports this module
    from .copy_handlers import copy_routes  # the same
    from .derive_handlers import derive_routes  # the same
    from .orphans import orphan_routes  # the same
    from .usage_handlers import usage_routes  # the same
    from .terminal import KernelTerminalHandler
    from .progress_handlers import progress_routes  # the same
    from .notebook_handlers import FromNotebookHandler  # the same

    def route(path: str) -> str:
        return url_path_join(base_url, NAMESPACE, path)

    name = r"[^/]+"
    return [
        (route("hosts"), HostsHandler),
        (route(rf"hosts/(?P<host>{name})/gpus"), HostGPUsHandler),
        (route(rf"hosts/(?P<host>{name})/images"), HostImagesHandler),
        (route(rf"hosts/(?P<host>{name})/images/pull"), PullHandler),
        (route(rf"hosts/(?P<host>{name})/images/pulls/(?P<pull_id>{name})"), PullStatusHandler),
        (route("environments"), EnvironmentsHandler),
        (route("environments/from-notebook"), FromNotebookHandler),  # before environments/{name}
        (route(rf"environments/(?P<name>{name})"), EnvironmentHandler),
        (route("kernels"), KernelsHandler),
        (route(rf"kernels/(?P<kernel_id>{name})"), KernelHandler),
        (route(rf"kernels/(?P<kernel_id>{name})/terminal"), KernelTerminalHandler),
        *build_routes(route, name),
        *copy_routes(route, name),
        *derive_routes(route, name),
        *orphan_routes(route),
        *usage_routes(route, name),
        *progress_routes(route),
    ]
