"""REST handler: recreate the environment a notebook ran in, from its metadata.

``POST <base_url>gpu-kernels/api/environments/from-notebook``
``{"path": <notebook path relative to the server root>, "pin_digest"?: bool, "confirm"?: bool,
"name"?: str, "host"?: str}``:

- ``confirm`` false (the default): 200 with the review (``{"name", "environment", "review", "exists",
  "created": false}``); the definition is already validated by the store, so a refused image, host or
  mount is a 400/403 here, before anything is created;
- ``confirm`` true: the store creates it (201, ``"created": true`` and the new environment).

A path outside the server root is 403, a missing notebook 404. The logic is
:mod:`jupyter_gpu_kernels.environments.from_notebook`, shared with ``envs from-notebook``.
``@web.authenticated`` and ``@authorized`` (write on ``gpu_kernels``) as :mod:`.base` says;
exported as ``default_handlers`` for :mod:`.routes` (before ``environments/{name}``).
"""

from __future__ import annotations

import asyncio
import os

from tornado import web

from ..environments import EnvironmentNotFound, build_environment
from ..environments.from_notebook import definition, read_notebook, review_lines
from ..errors import SpecError
from .base import BaseHandler, authorized, route


def notebook_path(root: str, path: object) -> str:
    """``path`` (relative to the server root) as a real file inside ``root``: 403 outside, 404 missing."""
    if not isinstance(path, str) or not path.strip():
        raise SpecError("'path' must be the notebook's path relative to the server root", field="path")
    real_root = os.path.realpath(root)
    full = os.path.realpath(os.path.join(real_root, path.strip().lstrip("/")))
    if os.path.commonpath([real_root, full]) != real_root:
        raise web.HTTPError(403, f"notebook {path!r} is outside the server root")
    if not os.path.isfile(full):
        raise web.HTTPError(404, f"no notebook {path!r} under the server root")
    return full


def optional_str(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise SpecError(f"{key} must be a string", field=key)
    return value or None


class FromNotebookHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        root = self.settings.get("server_root_dir") or os.getcwd()
        full = notebook_path(root, body.get("path"))
        nb = await asyncio.to_thread(read_notebook, full)
        name, data = definition(
            nb,
            str(body["path"]),
            name=optional_str(body, "name"),
            host=optional_str(body, "host"),
            pin_digest=bool(body.get("pin_digest")),
        )
        review = review_lines(name, data)
        if body.get("confirm"):
            env = await asyncio.to_thread(self.environments.create, name, data)  # validates; the policy applies
            self.write_json(
                {"name": env.name, "environment": env.to_json(), "review": review, "exists": True, "created": True},
                status=201,
            )
            return
        await asyncio.to_thread(self.environments.validate, build_environment(name, data, "user"))
        self.write_json(
            {"name": name, "environment": data, "review": review, "exists": self.exists(name), "created": False}
        )

    def exists(self, name: str) -> bool:
        try:
            self.environments.get(name)
            return True
        except EnvironmentNotFound:
            return False


default_handlers = [(route("environments/from-notebook"), FromNotebookHandler)]
