"""Background jobs of this server process (pulls, builds, derives): run in a worker thread, pollable.

A job is a dataclass with ``id``, ``host``, ``status`` (running | done | failed), ``error`` and
``finished``; :class:`JobTracker` keeps the last ones in memory, returns the running job a new
request duplicates, and runs the work so that a job never stays "running". Used by
:mod:`.pulls` and :mod:`.build_handlers` (whose tracker :mod:`.derive_handlers` reuses).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from ..errors import GPUKernelsError


@dataclass
class ImageJob:
    """The record of a background job on an image (a pull, a copy): what its REST status route returns."""

    id: str
    host: str
    image: str
    status: str = "running"  # running | done | failed
    message: str = ""
    log: list[str] = field(default_factory=list)
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    bytes_done: int | None = None  # transfer progress
    bytes_total: int | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["log"] = self.log[-20:]
        return data


class Job(Protocol):
    id: str
    status: str
    error: str | None
    finished: float | None


J = TypeVar("J", bound=Job)


class JobTracker(Generic[J]):
    """The last ``keep`` jobs of this server process, by id."""

    def __init__(self, keep: int = 50) -> None:
        self.jobs: dict[str, J] = {}
        self.keep = keep
        self._tasks: set[asyncio.Task] = set()

    def running(self, same: Callable[[J], bool]) -> J | None:
        """The running job ``same`` matches, if any (one job per key at a time)."""
        for job in self.jobs.values():
            if same(job) and job.status == "running":
                return job
        return None

    def launch(self, job: J, work: Callable[[], None]) -> J:
        """Keep ``job`` (dropping the oldest finished ones) and run ``work`` in a worker thread."""
        self.jobs[job.id] = job
        finished = [k for k, v in self.jobs.items() if v.status != "running"]
        for key in finished[: max(0, len(self.jobs) - self.keep)]:  # a long-running server keeps only the last ones
            del self.jobs[key]

        def run() -> None:
            try:
                work()
                job.status = "done"
            except GPUKernelsError as e:
                job.status, job.error = "failed", str(e)
            except Exception as e:  # surface anything, never leave a job "running"
                job.status, job.error = "failed", f"{type(e).__name__}: {e}"
            finally:
                job.finished = time.time()

        task = asyncio.get_running_loop().create_task(asyncio.to_thread(run))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def get(self, job_id: str) -> J | None:
        return self.jobs.get(job_id)
