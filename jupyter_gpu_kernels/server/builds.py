"""Image builds and derives started from the REST API: the record and the tracker of this server's builds.

:class:`BuildTracker` (a :class:`.jobs.JobTracker`) runs a build in a worker thread and keeps the
last 50 in memory, one running build per (host, tag). :mod:`.build_handlers` starts builds with
it; :mod:`.derive_handlers` uses its own instance for derived ipykernel images (a :class:`Build`
whose ``tag`` is the base image). Both trackers live in :class:`.services.Services`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..hosts.registry import DockerHost
from .jobs import JobTracker

KEEP_BUILDS = 50


@dataclass
class Build:
    id: str
    host: str
    tag: str
    path: str
    status: str = "running"  # running | done | failed
    step: int = 0
    steps: int = 0
    log: list[str] = field(default_factory=list)
    image_id: str | None = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["log"] = self.log[-50:]
        return data


class BuildTracker(JobTracker[Build]):
    """This server process's builds; one running build per (host, tag)."""

    def __init__(self) -> None:
        super().__init__(keep=KEEP_BUILDS)
        self.builds = self.jobs

    def start(self, host: DockerHost, path: str, tag: str, run: Callable[[Build], None]) -> Build:
        same = self.running(lambda b: b.host == host.name and b.tag == tag)
        if same is not None:
            return same
        b = Build(id=uuid.uuid4().hex[:12], host=host.name, tag=tag, path=path)
        return self.launch(b, lambda: run(b))
