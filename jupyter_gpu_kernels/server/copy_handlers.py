"""REST handlers for copying an image from one Docker host to another.

Exported as ``default_handlers`` for :mod:`.routes`, under ``<base_url>gpu-kernels/api/``; every
method is ``@web.authenticated`` and ``@authorized`` (write on ``gpu_kernels`` for the POST, read
for the GET), as :mod:`.base` says:

- ``POST hosts/{host}/images/copy`` ``{"image", "to"}``: the image is checked with
  ``check_image_ref`` and against the allowlist (403 otherwise); an unknown source host is 404, an
  unknown or identical target host 400; 202 with a pollable copy and its ``Location``;
- ``GET hosts/{host}/images/copies/{id}``: its status (running | done | failed), bytes sent, last
  log lines, error.

The copy itself (``docker save`` streamed into ``docker load``, in a worker thread, one per
(source, target, image)) is :class:`.copies.CopyTracker`'s, in :class:`.services.Services`.
"""

from __future__ import annotations

from tornado import web

from ..daemon.images import check_image_ref
from ..errors import HostError, SpecError
from .base import NAME, BaseHandler, authorized, route


class CopyHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, host: str) -> None:
        source = self.host_or_404(host)
        body = self.json_body()
        image = self.services.policy.check(check_image_ref(body.get("image")))
        to = body.get("to")
        if not isinstance(to, str) or not to:
            raise SpecError("to must name the target host", field="to")
        try:
            target = self.hosts.get(to)
        except HostError as e:  # the target is in the body, not the path: bad input
            raise web.HTTPError(400, str(e)) from e
        if target.name == source.name:
            raise SpecError(f"the image is already on host {source.name!r}: choose another target host", field="to")
        c = self.services.copies.start(source, target, image)
        self.location("hosts", source.name, "images", "copies", c.id)
        self.write_json(c.to_json(), status=202)


class CopyStatusHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, host: str, copy_id: str) -> None:
        c = self.services.copies.get(copy_id)
        if c is None or c.host != host:
            raise web.HTTPError(404, f"no copy {copy_id!r} from host {host!r}")
        self.write_json(c.to_json())


default_handlers = [
    (route(rf"hosts/(?P<host>{NAME})/images/copy"), CopyHandler),
    (route(rf"hosts/(?P<host>{NAME})/images/copies/(?P<copy_id>{NAME})"), CopyStatusHandler),
]
