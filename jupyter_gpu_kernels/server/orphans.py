"""REST ``gpu-kernels/api/orphans``: kernel containers whose owner is gone.

``GET`` lists them (every host, or ``?host=H``) with the holder that is gone, how long ago and
the kernel's ``orphan_timeout``; ``POST`` removes the due ones (``{"all": true}``: every orphan;
``{"kernel_ids": [...]}``: just those orphans, due or not — 404 naming any id that is not an
orphan, before anything is removed, so a live kernel is never touched; ``{"dry_run": true}``:
none) and returns the same list with ``removed`` set. Exported as
``default_handlers`` for :mod:`.routes`; the decisions are :mod:`..daemon.reaper`'s, run in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tornado import web

from ..daemon.reaper import reap_hosts
from .base import BaseHandler, authorized, route


class OrphansHandler(BaseHandler):
    def _hosts(self) -> list[Any]:
        name = self.get_query_argument("host", None)
        return [self.host_or_404(name)] if name else self.hosts.all()

    async def _answer(self, dry_run: bool, force: bool, only: frozenset[str] | None = None) -> None:
        hosts = self._hosts()
        if only is not None:
            found, unreachable = await asyncio.to_thread(reap_hosts, hosts, True)
            missing = sorted(only - {o.record.kernel_id for o in found})
            if missing:
                raise web.HTTPError(
                    404,
                    f"not an orphaned kernel: {', '.join(missing)} (its owner is alive, "
                    "it is gone already, or it is on another host)"
                    + "".join(f"; host {h} unreachable: {e}" for h, e in unreachable.items()),
                )
        orphans, errors = await asyncio.to_thread(reap_hosts, hosts, dry_run, force, only)
        self.write_json({"orphans": [o.to_json() for o in orphans], "errors": errors})

    @web.authenticated
    @authorized
    async def get(self) -> None:
        await self._answer(dry_run=True, force=False)

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        await self._answer(dry_run=bool(body.get("dry_run")), force=bool(body.get("all")), only=kernel_ids(body))


def kernel_ids(body: dict) -> frozenset[str] | None:
    """``kernel_ids`` of a POST: None when absent, else a non-empty list of kernel ids (400 otherwise)."""
    if "kernel_ids" not in body:
        return None
    ids = body["kernel_ids"]
    if (
        not isinstance(ids, list)
        or not ids
        or not all(isinstance(i, str) and 0 < len(i) <= 128 and i.isprintable() and i.strip() == i for i in ids)
    ):
        raise web.HTTPError(400, "kernel_ids must be a non-empty list of kernel ids (strings)")
    if body.get("all"):
        raise web.HTTPError(400, "give either kernel_ids or all, not both")
    return frozenset(ids)


default_handlers = [(route("orphans"), OrphansHandler)]
