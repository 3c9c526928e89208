"""REST ``gpu-kernels/api/orphans``: kernel containers whose owner is gone.

``GET`` lists them (every host, or ``?host=H``) with the holder that is gone, how long ago and
the kernel's ``orphan_timeout``; ``POST`` removes the due ones (``{"all": true}``: every orphan;
``{"dry_run": true}``: none) and returns the same list with ``removed`` set. Registered by
:func:`.handlers.handlers`; the decisions are :mod:`..daemon.reaper`'s, run in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..daemon.reaper import reap_hosts
from .handlers import BaseHandler


class OrphansHandler(BaseHandler):
    def _hosts(self) -> list[Any]:
        name = self.get_query_argument("host", None)
        return [self.host_or_404(name)] if name else self.hosts.all()

    async def _answer(self, dry_run: bool, force: bool) -> None:
        orphans, errors = await asyncio.to_thread(reap_hosts, self._hosts(), dry_run, force)
        self.write_json({"orphans": [o.to_json() for o in orphans], "errors": errors})

    @web.authenticated
    @authorized
    async def get(self) -> None:
        await self._answer(dry_run=True, force=False)

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        await self._answer(dry_run=bool(body.get("dry_run")), force=bool(body.get("all")))


def orphan_routes(route: Callable[[str], str]) -> list[tuple[str, type]]:
    return [(route("orphans"), OrphansHandler)]
