"""REST ``gpu-kernels/api/starting``: kernel starts of this server in progress.

A kernel being started (its image pulled, its container created) is not yet in
jupyter_server's ``/api/kernels`` nor in ``gpu-kernels/api/kernels``; this lists the records
:mod:`..kernel.progress` keeps while :class:`..kernel.launcher.KernelLauncher` works: ``phase``
(preparing, pulling, creating, starting), ``bytes_done``/``bytes_total`` and
``layers_done``/``layers_total`` of the pull (null before it reports). ``@web.authenticated`` and
``@authorized`` (read on ``kernels``) like :mod:`.handlers`, which registers it.
"""

from __future__ import annotations

from typing import Callable

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..kernel.progress import starting
from .handlers import BaseHandler


class StartingHandler(BaseHandler):
    auth_resource = "kernels"  # kernels being started: readable by those who may list kernels

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json({"starting": starting()})


def progress_routes(route: Callable[[str], str]) -> list[tuple[str, type]]:
    return [(route("starting"), StartingHandler)]
