"""REST handlers for derived ipykernel images (:mod:`jupyter_gpu_kernels.daemon.derive`).

Registered by :func:`jupyter_gpu_kernels.server.handlers.handlers` (``derive_routes``), under
``<base_url>gpu-kernels/api/``; every method is ``@web.authenticated`` and ``@authorized``:

- ``POST hosts/{host}/images/derive`` ``{"image", "install"?}``: the BASE image is checked against
  the allowlist; 202 with a pollable job (a :class:`.build_handlers.Build` record: ``tag`` is the base
  image, ``image_id`` the derived image once done, ``log`` the build's lines);
- ``GET hosts/{host}/images/derives/{id}``: that job;
- ``DELETE hosts/{host}/images/derive?image=IMAGE``: remove IMAGE's derived image (all of them
  without ``image``); 200 ``{"removed": [tags]}``.

Jobs run in worker threads through :class:`.build_handlers.BuildTracker` (its own instance);
Docker calls go through :mod:`jupyter_gpu_kernels.hosts.transport`.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..daemon.derive import derive, remove_derived
from ..daemon.images import check_image_ref
from ..errors import SpecError
from ..hosts.transport import connect
from .build_handlers import Build, BuildTracker
from .handlers import NAMESPACE, BaseHandler


class DerivesMixin:
    settings: dict

    @property
    def derives(self) -> BuildTracker:
        return self.settings.setdefault("gpu_kernels_derives", BuildTracker())


class DeriveHandler(DerivesMixin, BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, host: str) -> None:
        h = self.host_or_404(host)
        body = self.json_body()
        ref = self.settings["gpu_kernels_policy"].check(check_image_ref(body.get("image")))
        install = body.get("install") or "auto"
        if install not in ("auto", "pip", "unzip"):
            raise SpecError(f"invalid install {install!r}: one of auto, pip, unzip", field="install")
        client = await asyncio.to_thread(connect, h)

        def run(b: Build) -> None:
            done = derive(client, ref, progress=b.log.append, install=install)
            b.image_id = done.image.id
            b.log.append(f"{'built' if done.built else 'already there:'} {done.tag}")

        b = self.derives.start(h, "", ref, run)
        self.set_header("Location", url_path_join(self.base_url, NAMESPACE, "hosts", h.name, "images", "derives", b.id))
        self.write_json(b.to_json(), status=202)

    @web.authenticated
    @authorized
    async def delete(self, host: str) -> None:
        h = self.host_or_404(host)
        image = self.get_argument("image", None)
        client = await asyncio.to_thread(connect, h)
        removed = await asyncio.to_thread(remove_derived, client, check_image_ref(image) if image else None)
        self.write_json({"removed": removed})


class DeriveStatusHandler(DerivesMixin, BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, host: str, derive_id: str) -> None:
        b = self.derives.get(derive_id)
        if b is None or b.host != host:
            raise web.HTTPError(404, f"no derive {derive_id!r} on host {host!r}")
        self.write_json(b.to_json())


def derive_routes(route: Callable[[str], str], name: str) -> list[tuple[str, type]]:
    """Our routes, for :func:`.handlers.handlers` (``route`` joins the base URL and namespace)."""
    return [
        (route(rf"hosts/(?P<host>{name})/images/derive"), DeriveHandler),
        (route(rf"hosts/(?P<host>{name})/images/derives/(?P<derive_id>{name})"), DeriveStatusHandler),
    ]
