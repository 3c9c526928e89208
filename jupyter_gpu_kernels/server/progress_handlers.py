"""REST ``gpu-kernels/api/starting``: kernel starts of this server in progress.

A kernel being started (its image pulled, its container created) is not yet in
jupyter_server's ``/api/kernels`` nor in ``gpu-kernels/api/kernels``; this lists the records
:mod:`..kernel.progress` keeps while :class:`..kernel.launcher.KernelLauncher` works: ``phase``
(preparing, pulling, creating, starting), ``bytes_done``/``bytes_total`` and
``layers_done``/``layers_total`` of the pull (null before it reports). ``@web.authenticated`` and
``@authorized`` (read on ``kernels``) as :mod:`.base` says; exported as ``default_handlers`` for
:mod:`.routes`.
"""

from __future__ import annotations

from tornado import web

from ..kernel.progress import starting
from .base import BaseHandler, authorized, route


class StartingHandler(BaseHandler):
    auth_resource = "kernels"  # kernels being started: readable by those who may list kernels

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json({"starting": starting()})


default_handlers = [(route("starting"), StartingHandler)]
