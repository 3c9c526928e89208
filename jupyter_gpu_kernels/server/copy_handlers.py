"""REST handlers for copying an image from one Docker host to another, and the tracker of those copies.

Registered by :func:`jupyter_gpu_kernels.server.handlers.handlers` (``copy_routes``), under
``<base_url>gpu-kernels/api/``; every method is ``@web.authenticated`` and ``@authorized`` (write
on ``gpu_kernels`` for the POST, read for the GET), as in :mod:`.handlers`:

- ``POST hosts/{host}/images/copy`` ``{"image", "to"}``: the image is checked with
  ``check_image_ref`` and against the allowlist (403 otherwise); an unknown source host is 404, an
  unknown or identical target host 400; 202 with a pollable copy and its ``Location``;
- ``GET hosts/{host}/images/copies/{id}``: its status (running | done | failed), bytes sent, last
  log lines, error.

The copy is ``docker save`` on the source streamed into ``docker load`` on the target through this
server (:func:`jupyter_gpu_kernels.daemon.images.copy_image`, as ``jupyter gpu-kernels
copy-image``), in a worker thread (:class:`.jobs.JobTracker`, like :mod:`.pulls`); the last 50
copies are kept in memory, one running copy per (source, target, image).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Callable

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..daemon.images import check_image_ref, copy_image
from ..errors import HostError, SpecError
from ..hosts.registry import DockerHost
from ..hosts.transport import connect
from .handlers import NAMESPACE, BaseHandler
from .jobs import ImageJob, JobTracker

KEEP_COPIES = 50


@dataclass
class Copy(ImageJob):
    """A copy from ``host`` (the source) to ``to``."""

    to: str = ""


class CopyTracker(JobTracker[Copy]):
    """The last copies of this server process; one copy per (source, target, image) at a time."""

    def __init__(self) -> None:
        super().__init__(keep=KEEP_COPIES)

    def start(self, source: DockerHost, target: DockerHost, image: str) -> Copy:
        same = self.running(lambda c: (c.host, c.to, c.image) == (source.name, target.name, image))
        if same is not None:
            return same
        c = Copy(id=uuid.uuid4().hex[:12], host=source.name, to=target.name, image=image)
        last = [0.0]

        def progress(done: int, total: int | None) -> None:
            c.bytes_done, c.bytes_total = done, total
            if time.monotonic() - last[0] >= 1:  # a log line a second, not one per chunk
                last[0] = time.monotonic()
                c.message = f"sent {done / 1e6:.1f}" + (f"/{total / 1e6:.1f}" if total else "") + " MB"
                c.log.append(c.message)

        def work() -> None:
            c.log.append(f"copying {image} from {source.name} to {target.name}")
            copy_image(connect(source), connect(target), image, progress=progress)
            c.message = f"copied {image} to {target.name}"
            c.log.append(c.message)

        return self.launch(c, work)


class CopiesMixin:
    settings: dict

    @property
    def copies(self) -> CopyTracker:
        return self.settings.setdefault("gpu_kernels_copies", CopyTracker())


class CopyHandler(CopiesMixin, BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, host: str) -> None:
        source = self.host_or_404(host)
        body = self.json_body()
        image = self.settings["gpu_kernels_policy"].check(check_image_ref(body.get("image")))
        to = body.get("to")
        if not isinstance(to, str) or not to:
            raise SpecError("to must name the target host", field="to")
        try:
            target = self.hosts.get(to)
        except HostError as e:  # the target is in the body, not the path: bad input
            raise web.HTTPError(400, str(e)) from e
        if target.name == source.name:
            raise SpecError(f"the image is already on host {source.name!r}: choose another target host", field="to")
        c = self.copies.start(source, target, image)
        self.set_header("Location", url_path_join(self.base_url, NAMESPACE, "hosts", source.name, "images", "copies",
                                                  c.id))
        self.write_json(c.to_json(), status=202)


class CopyStatusHandler(CopiesMixin, BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, host: str, copy_id: str) -> None:
        c = self.copies.get(copy_id)
        if c is None or c.host != host:
            raise web.HTTPError(404, f"no copy {copy_id!r} from host {host!r}")
        self.write_json(c.to_json())


def copy_routes(route: Callable[[str], str], name: str) -> list[tuple[str, type]]:
    """Our routes, for :func:`.handlers.handlers` (``route`` joins the base URL and namespace)."""
    return [
        (route(rf"hosts/(?P<host>{name})/images/copy"), CopyHandler),
        (route(rf"hosts/(?P<host>{name})/images/copies/(?P<copy_id>{name})"), CopyStatusHandler),
    ]
