"""The reaper: finds kernel containers whose owner is gone and removes them after their ``orphan_timeout``.

A kernel's owner is the server or client process that started it (or the server that adopted
it); :mod:`.leases` says whether it is alive. A container whose owner has been gone for longer
than the ``orphan-timeout`` label is removed (``docker rm -f``), which frees its GPUs (holders
are read from labels). Containers without an owner id or timeout label (made before leases
existed) are never touched, and neither is a kernel whose owner is alive, except one this process
shut down but could not remove (:mod:`.disowned`): it is due at once.

Called by ``jupyter gpu-kernels prune`` (cli/prune.py), the REST ``gpu-kernels/api/orphans``
handlers and the server's periodic reaper (server/adoption.py). Touches kernel containers
and lease volumes only; every call is blocking (callers run it in a worker thread).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import docker.errors

from .disowned import disowned_since, forget
from .leases import daemon_now, drop_stale_leases, owner_state, read_leases
from .records import KernelContainer, list_kernel_containers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Orphan:
    """A kernel container whose owner is gone."""

    record: KernelContainer
    holder: str  # the owner that is gone, "hostname:pid"
    gone_for: float  # seconds (daemon clock) since the owner's last sign of life
    timeout: float  # the kernel's orphan_timeout (0 for a disowned one: due at once)
    removed: bool = False
    disowned: bool = False  # its owner is this process, which shut it down but could not remove it

    @property
    def due(self) -> bool:
        return self.gone_for >= self.timeout

    def to_json(self) -> dict[str, Any]:
        return {
            **self.record.to_json(),
            "holder": self.holder,
            "gone_for": round(self.gone_for, 1),
            "orphan_timeout": self.timeout,
            "due": self.due,
            "removed": self.removed,
            "disowned": self.disowned,
        }


def find_orphans(client: Any, host_name: str) -> list[Orphan]:
    """The kernel containers on this daemon whose owner is gone (due or not yet)."""
    leases, now = read_leases(client), daemon_now(client)
    out = []
    for rec in list_kernel_containers(client, host_name):
        if not rec.owner_id or rec.orphan_timeout == "":
            continue  # no owner lease (an older container): never ours to judge
        alive, since, who = owner_state(rec, leases.get(rec.owner_id), now)
        disowned = disowned_since(host_name, rec.container)
        if alive and disowned is not None:  # shut down by this process, its removal failed: due now
            out.append(Orphan(rec, who, max(0.0, time.time() - disowned), 0.0, disowned=True))
            continue
        if alive:
            continue
        try:
            timeout = float(rec.orphan_timeout)
        except ValueError:
            continue
        out.append(Orphan(rec, who, max(0.0, now - since), timeout))
    return out


def reap(
    client: Any, host_name: str, dry_run: bool = False, force: bool = False, only: frozenset[str] | None = None
) -> list[Orphan]:
    """Remove the orphans that are due (``force``: every orphan; ``only``: just the orphans with these
    kernel ids, due or not, and no other); returns all orphans found."""
    out = []
    for orphan in find_orphans(client, host_name):
        removed = False
        wanted = (orphan.due or force) if only is None else orphan.record.kernel_id in only
        if not dry_run and wanted:
            try:
                client.containers.get(orphan.record.container).remove(force=True, v=True)
                removed = True
                forget(host_name, orphan.record.container)
                log.warning(
                    "reaped kernel %s on host %r (container %s, GPUs %s): its owner %s is gone",
                    orphan.record.kernel_id,
                    host_name,
                    orphan.record.container,
                    orphan.record.gpus or "none",
                    orphan.holder,
                )
            except docker.errors.NotFound:  # removed meanwhile
                forget(host_name, orphan.record.container)
            except Exception as e:  # the daemon refused: report, go on (tried again next time)
                log.info("could not remove orphaned container %s: %s", orphan.record.container, e)
        out.append(replace(orphan, removed=removed))
    if not dry_run:
        try:
            drop_stale_leases(client, {r.owner_id for r in list_kernel_containers(client, host_name)})
        except Exception:
            pass
    return out


def reap_hosts(
    hosts: Iterable[Any], dry_run: bool = False, force: bool = False, only: frozenset[str] | None = None
) -> tuple[list[Orphan], dict]:
    """:func:`reap` on every host; returns the orphans and {host name: error} for unreachable ones."""
    from ..hosts.transport import connect

    found: list[Orphan] = []
    errors: dict[str, str] = {}
    for host in hosts:
        try:
            found += reap(connect(host), host.name, dry_run=dry_run, force=force, only=only)
        except Exception as e:
            errors[host.name] = str(e) or type(e).__name__
    return found, errors
