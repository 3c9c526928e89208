"""REST ``gpu-kernels/api/usage``: GPU-minutes per kernel, environment and user.

``GET usage?since=…[&host=H]``: GPU-minutes since ``since`` (epoch seconds, ISO 8601 or a
duration such as ``15m``; default 24 h), from :mod:`..daemon.usage`. ``@web.authenticated`` and
``@authorized`` (read on ``kernels``) as :mod:`.base` says; exported as ``default_handlers`` for
:mod:`.routes`; Docker calls run in worker threads.
"""

from __future__ import annotations

import asyncio

from tornado import web

from ..daemon.usage import hosts_usage, parse_since
from .base import BaseHandler, authorized, route


class UsageHandler(BaseHandler):
    auth_resource = "kernels"  # who used which GPUs: readable by those who may list kernels

    @web.authenticated
    @authorized
    async def get(self) -> None:
        try:
            since = parse_since(self.get_query_argument("since", ""))
        except ValueError as e:
            raise web.HTTPError(400, str(e)) from e
        name = self.get_query_argument("host", None)
        hosts = [self.host_or_404(name)] if name else self.hosts.all()
        self.write_json(await asyncio.to_thread(hosts_usage, hosts, since))


default_handlers = [(route("usage"), UsageHandler)]
