"""Image pulls started from the REST API: run in a worker thread, progress pollable."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ..daemon.images import check_image_ref, pull
from ..hosts.registry import DockerHost
from ..hosts.transport import connect
from .jobs import ImageJob, JobTracker


@dataclass
class Pull(ImageJob):
    """A pull; ``bytes_*`` is the download progress (daemon/images.py pull counts)."""

    layers_done: int | None = None
    layers_total: int | None = None


KEEP_PULLS = 50


class PullTracker(JobTracker[Pull]):
    """Keeps the last pulls of this server process; one pull per (host, image) at a time."""

    def __init__(self) -> None:
        super().__init__(keep=KEEP_PULLS)
        self.pulls = self.jobs

    def start(self, host: DockerHost, image: str) -> Pull:
        check_image_ref(image)
        same = self.running(lambda p: p.host == host.name and p.image == image)
        if same is not None:
            return same
        p = Pull(id=uuid.uuid4().hex[:12], host=host.name, image=image)

        def progress(msg: str) -> None:
            p.message = msg
            p.log.append(msg)

        def counts(c: dict) -> None:
            p.bytes_done, p.bytes_total = c["bytes_done"], c["bytes_total"]
            p.layers_done, p.layers_total = c["layers_done"], c["layers_total"]

        return self.launch(p, lambda: pull(connect(host), image, progress=progress, counts=counts))
