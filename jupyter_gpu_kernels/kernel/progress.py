"""Kernel starts in progress in this process: phase (preparing, pulling, preparing ipykernel, creating, starting) and pull bytes.

A kernel being started is not in jupyter_server's ``/api/kernels`` yet, so the launcher
(:mod:`.launcher`) records what it is doing here, keyed by kernel id, and the REST route
``GET gpu-kernels/api/starting`` (:mod:`..server.progress_handlers`) lists the records. A record
exists from the start of :meth:`.launcher.KernelLauncher.launch` until the kernel is ready or the
start failed. Thread-safe: the pull reports from a worker thread.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .. import forksafe

# "preparing ipykernel": a derived image with ipykernel is being built for the image (daemon/derive.py)
PHASES = ("preparing", "pulling", "preparing ipykernel", "creating", "starting")

_lock = threading.Lock()
_records: dict[str, dict[str, Any]] = {}


def _reset_after_fork() -> None:
    """A forked child: a new lock (a parent thread may hold it)."""
    global _lock
    _lock = threading.Lock()


forksafe.register(_reset_after_fork)


def begin(kernel_id: str, host: str, image: str, environment: str = "", notebook: str = "") -> None:
    """A start of ``kernel_id`` began (phase "preparing")."""
    with _lock:
        _records[kernel_id] = {
            "kernel_id": kernel_id,
            "host": host,
            "image": image,
            "environment": environment,
            "notebook": notebook,
            "phase": "preparing",
            "since": time.time(),
            "message": "",
            "bytes_done": None,
            "bytes_total": None,
            "layers_done": None,
            "layers_total": None,
        }


def update(kernel_id: str, **fields: Any) -> None:
    """Change some fields of a start's record (no-op when the start already ended)."""
    with _lock:
        record = _records.get(kernel_id)
        if record is not None:
            record.update(fields)


def finish(kernel_id: str) -> None:
    """The start ended (ready or failed): forget it."""
    with _lock:
        _records.pop(kernel_id, None)


def starting() -> list[dict[str, Any]]:
    """Copies of the records of the starts in progress, oldest first."""
    with _lock:
        return sorted((dict(r) for r in _records.values()), key=lambda r: r["since"])


def pull_reporter(kernel_id: str) -> Any:
    """A ``bytes_progress`` callback for :func:`..daemon.images.pull` that updates the record."""

    def report(counts: dict[str, int]) -> None:
        update(kernel_id, phase="pulling", **counts)

    return report
