"""REST handlers for derived ipykernel images (:mod:`jupyter_gpu_kernels.daemon.derive`).

Exported as ``default_handlers`` for :mod:`.routes`, under ``<base_url>gpu-kernels/api/``; every
method is ``@web.authenticated`` and ``@authorized`` (as :mod:`.base` says):

- ``POST hosts/{host}/images/derive`` ``{"image", "install"?}``: the BASE image is checked against
  the allowlist; 202 with a pollable job (a :class:`.builds.Build` record: ``tag`` is the base
  image, ``image_id`` the derived image once done, ``log`` the build's lines);
- ``GET hosts/{host}/images/derives/{id}``: that job;
- ``DELETE hosts/{host}/images/derive?image=IMAGE``: remove IMAGE's derived image (all of them
  without ``image``); 200 ``{"removed": [tags]}``.

Jobs run in worker threads through :class:`.builds.BuildTracker` (its own instance,
``Services.derives``);
Docker calls go through :mod:`jupyter_gpu_kernels.hosts.transport`.
"""

from __future__ import annotations

import asyncio

from tornado import web

from ..daemon.derive import derive, remove_derived
from ..daemon.images import check_image_ref
from ..errors import SpecError
from ..hosts.transport import connect
from .base import NAME, BaseHandler, authorized, route
from .builds import Build


class DeriveHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, host: str) -> None:
        h = self.host_or_404(host)
        body = self.json_body()
        ref = self.services.policy.check(check_image_ref(body.get("image")))
        install = body.get("install") or "auto"
        if install not in ("auto", "pip", "unzip"):
            raise SpecError(f"invalid install {install!r}: one of auto, pip, unzip", field="install")
        client = await asyncio.to_thread(connect, h)

        def run(b: Build) -> None:
            done = derive(client, ref, progress=b.log.append, install=install)
            b.image_id = done.image.id
            b.log.append(f"{'built' if done.built else 'already there:'} {done.tag}")

        b = self.services.derives.start(h, "", ref, run)
        self.location("hosts", h.name, "images", "derives", b.id)
        self.write_json(b.to_json(), status=202)

    @web.authenticated
    @authorized
    async def delete(self, host: str) -> None:
        h = self.host_or_404(host)
        image = self.get_argument("image", None)
        client = await asyncio.to_thread(connect, h)
        removed = await asyncio.to_thread(remove_derived, client, check_image_ref(image) if image else None)
        self.write_json({"removed": removed})


class DeriveStatusHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, host: str, derive_id: str) -> None:
        b = self.services.derives.get(derive_id)
        if b is None or b.host != host:
            raise web.HTTPError(404, f"no derive {derive_id!r} on host {host!r}")
        self.write_json(b.to_json())


default_handlers = [
    (route(rf"hosts/(?P<host>{NAME})/images/derive"), DeriveHandler),
    (route(rf"hosts/(?P<host>{NAME})/images/derives/(?P<derive_id>{NAME})"), DeriveStatusHandler),
]
