"""REST ``gpu-kernels/api/hosts…``: the hosts, their GPUs and images, and image pulls.

- ``GET hosts``: every configured host's status (reachable, engine, GPU driver), with its source;
- ``GET hosts/{host}/gpus``: the host's GPU inventory and holders (this server's notebooks by path);
- ``GET hosts/{host}/images[?detect=0]``: its images, whether each has ipykernel (allowed images
  only are probed), is allowed, and whether the host's driver can run its CUDA;
- ``POST hosts/{host}/images/pull`` ``{"image"}``: checked against the allowlist; 202 with a
  pollable pull (:mod:`.pulls`); ``GET hosts/{host}/images/pulls/{id}``: its progress.

``@web.authenticated`` and ``@authorized`` (on ``gpu_kernels``) as :mod:`.base` says; exported as
``default_handlers`` for :mod:`.routes`. Docker calls run in worker threads.
"""

from __future__ import annotations

import asyncio

from tornado import web

from ..daemon.images import check_image_ref
from .base import NAME, BaseHandler, authorized, route


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
        paths = await self.session_paths()
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
        images = await asyncio.to_thread(
            list_images, client, self.get_query_argument("detect", "1") != "0", self.services.policy.allows
        )  # probe allowed images only
        if any(i.get("cuda_requirement") for i in images):  # CUDA images: can this host's driver run them?
            from ..daemon.allocator import GPUAllocator
            from ..daemon.images import add_cuda_status

            inventory = await asyncio.to_thread(GPUAllocator.for_host(h).devices, client)
            add_cuda_status(images, h.name, inventory)
        policy = self.services.policy
        for image in images:
            image["allowed"] = (
                any(policy.allows(t) for t in image["tags"]) if image["tags"] else not policy.allowed_images
            )
        self.write_json({"host": h.name, "images": images})


class PullHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, host: str) -> None:
        h = self.host_or_404(host)
        image = self.json_body().get("image")
        self.services.policy.check(check_image_ref(image))
        p = self.services.pulls.start(h, image)
        self.location("hosts", h.name, "images", "pulls", p.id)
        self.write_json(p.to_json(), status=202)


class PullStatusHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, host: str, pull_id: str) -> None:
        p = self.services.pulls.get(pull_id)
        if p is None or p.host != host:
            raise web.HTTPError(404, f"no pull {pull_id!r} on host {host!r}")
        self.write_json(p.to_json())


default_handlers = [
    (route("hosts"), HostsHandler),
    (route(rf"hosts/(?P<host>{NAME})/gpus"), HostGPUsHandler),
    (route(rf"hosts/(?P<host>{NAME})/images"), HostImagesHandler),
    (route(rf"hosts/(?P<host>{NAME})/images/pull"), PullHandler),
    (route(rf"hosts/(?P<host>{NAME})/images/pulls/(?P<pull_id>{NAME})"), PullStatusHandler),
]
