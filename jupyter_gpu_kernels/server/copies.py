"""Image copies between Docker hosts started from the REST API: the record and the tracker.

The copy is ``docker save`` on the source streamed into ``docker load`` on the target through this
server (:func:`jupyter_gpu_kernels.daemon.images.copy_image`, as ``jupyter gpu-kernels
copy-image``), in a worker thread (:class:`.jobs.JobTracker`, like :mod:`.pulls`); the last 50
copies are kept in memory, one running copy per (source, target, image). Started by
:mod:`.copy_handlers`; the tracker lives in :class:`.services.Services`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from ..daemon.images import copy_image
from ..hosts.registry import DockerHost
from ..hosts.transport import connect
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
