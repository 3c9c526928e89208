"""REST ``gpu-kernels/api/environments…``: list, create, read, update and delete environments.

- ``GET environments``, ``POST environments`` ``{"name", …}`` (201 with ``Location``);
- ``GET|PUT|DELETE environments/{name}``: an unknown one is 404, an admin one 403 to change.

The store (:class:`jupyter_gpu_kernels.environments.GPUKernelsEnvironments`) validates every
definition. ``@web.authenticated`` and ``@authorized`` (on ``gpu_kernels``) as :mod:`.base` says;
exported as ``default_handlers`` for :mod:`.routes` (after ``environments/from-notebook``, which
``environments/{name}`` would otherwise match).
"""

from __future__ import annotations

import asyncio

from tornado import web

from ..errors import SpecError
from .base import NAME, BaseHandler, authorized, route


class EnvironmentsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json({"environments": [e.to_json() for e in self.environments.all()]})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        data = self.json_body()
        name = data.pop("name", None)
        if not name:
            raise SpecError("an environment needs a name", field="name")
        env = await asyncio.to_thread(self.environments.create, name, data)
        self.location("environments", env.name)
        self.write_json(env.to_json(), status=201)


class EnvironmentHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.write_json(self.environments.get(name).to_json())

    @web.authenticated
    @authorized
    async def put(self, name: str) -> None:
        data = self.json_body()
        if data.get("name", name) != name:
            raise SpecError("renaming is not supported: create a new environment and delete this one", field="name")
        env = await asyncio.to_thread(self.environments.update, name, data)
        self.write_json(env.to_json())

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self.environments.delete, name)
        self.set_status(204)
        self.finish()


default_handlers = [
    (route("environments"), EnvironmentsHandler),
    (route(rf"environments/(?P<name>{NAME})"), EnvironmentHandler),
]
