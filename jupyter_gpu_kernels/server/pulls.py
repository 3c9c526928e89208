"""Image pulls started from the REST API: run in a worker thread, progress pollable."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import asdict, dataclass, field

from ..errors import GPUKernelsError
from ..hosts.registry import DockerHost
from ..daemon.images import check_image_ref, pull
from ..hosts.transport import connect


@dataclass
class Pull:
    id: str
    host: str
    image: str
    status: str = "running"  # running | done | failed
    message: str = ""
    log: list[str] = field(default_factory=list)
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    bytes_done: int | None = None  # download progress (daemon/images.py pull counts)
    bytes_total: int | None = None
    layers_done: int | None = None
    layers_total: int | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        data["log"] = self.log[-20:]
        return data


KEEP_PULLS = 50


class PullTracker:
    """Keeps the last pulls of this server process; one pull per (host, image) at a time."""

    def __init__(self) -> None:
        self.pulls: dict[str, Pull] = {}
        self._tasks: set[asyncio.Task] = set()

    def start(self, host: DockerHost, image: str) -> Pull:
        check_image_ref(image)
        for p in self.pulls.values():
            if p.host == host.name and p.image == image and p.status == "running":
                return p
        p = Pull(id=uuid.uuid4().hex[:12], host=host.name, image=image)
        self.pulls[p.id] = p
        finished = [k for k, v in self.pulls.items() if v.status != "running"]
        for key in finished[: max(0, len(self.pulls) - KEEP_PULLS)]:  # a long-running server keeps only the last ones
            del self.pulls[key]

        def progress(msg: str) -> None:
            p.message = msg
            p.log.append(msg)

        def counts(c: dict) -> None:
            p.bytes_done, p.bytes_total = c["bytes_done"], c["bytes_total"]
            p.layers_done, p.layers_total = c["layers_done"], c["layers_total"]

        def run() -> None:
            try:
                pull(connect(host), image, progress=progress, counts=counts)
                p.status = "done"
            except GPUKernelsError as e:
                p.status, p.error = "failed", str(e)
            except Exception as e:  # surface anything, never leave a pull "running"
                p.status, p.error = "failed", f"{type(e).__name__}: {e}"
            finally:
                p.finished = time.time()

        task = asyncio.get_running_loop().create_task(asyncio.to_thread(run))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return p

    def get(self, pull_id: str) -> Pull | None:
        return self.pulls.get(pull_id)
