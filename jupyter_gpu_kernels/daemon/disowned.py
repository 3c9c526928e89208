"""Kernel containers this process shut down but could not remove (their daemon was unreachable,
or refused the removal): it no longer owns them.

Without this, such a container counts as owned by a live process: the reaper leaves it running,
and the allocator keeps a stopped one's GPUs reserved (:func:`.allocator.dead_but_owned`), until
this process exits, however long the daemon has been back. So the reaper (:func:`.reaper.find_orphans`)
lists a disowned container of this process as an orphan due at once, and the allocator does not
reserve its GPUs. An entry ends when the container is gone.

Process-wide: a server's kernels share it, and the server's periodic reaper (every
``REAP_INTERVAL``) removes such containers once their daemon answers. Other processes see the
container as owned by a live process until then, or until this process exits (then it is an
orphan like any other). Called by the kernel's container watch (``disown``), the reaper and the
allocator; touches nothing on the daemon.
"""

from __future__ import annotations

import threading
import time

from .. import forksafe

_lock = threading.Lock()
_since: dict[tuple[str, str], float] = {}  # (host name, short container id) -> when it was disowned (time.time())


def _reset_after_fork() -> None:
    """A forked child: a new lock (a parent thread may hold it)."""
    global _lock
    _lock = threading.Lock()


forksafe.register(_reset_after_fork)


def _key(host_name: str, container_id: str) -> tuple[str, str]:
    return host_name, container_id[:12]  # records carry the short id, the provisioner the full one


def disown(host_name: str, container_id: str) -> None:
    """This process shut the kernel down, and its container could not be removed."""
    with _lock:
        _since.setdefault(_key(host_name, container_id), time.time())


def disowned_since(host_name: str, container_id: str) -> float | None:
    """When ``container_id`` on ``host_name`` was disowned (time.time()), None when it was not."""
    with _lock:
        return _since.get(_key(host_name, container_id))


def forget(host_name: str, container_id: str) -> None:
    """The container is gone (removed by the reaper, or by anyone)."""
    with _lock:
        _since.pop(_key(host_name, container_id), None)
