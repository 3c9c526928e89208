"""What every REST handler under ``<base_url>gpu-kernels/api/`` shares: :class:`BaseHandler`, :func:`route`.

Every handler module (``*_handlers.py``, :mod:`.orphans`, :mod:`.terminal`) imports this one and
exports its routes as ``default_handlers`` (as jupyter_server's services do); :mod:`.routes`
gathers them and :mod:`.extension` adds them. Every method is ``@web.authenticated`` (re-exported
here as :data:`authenticated`) and ``@authorized`` (read for GET, write for the others, on
``gpu_kernels`` or ``kernels``) and (for unsafe methods) XSRF-checked by jupyter_server's own
mechanisms; inputs are validated with a 400 whose message says what is wrong; unknown hosts,
environments, pulls and kernels give 404. The server's state is reached through one property,
:attr:`BaseHandler.services` (:mod:`.services`). Docker calls run in worker threads so the server
never blocks.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..environments import Environments
from ..errors import HostError, http_reply
from ..hosts.registry import DockerHosts
from .services import Services, services_of

NAMESPACE = "gpu-kernels/api"
AUTH_RESOURCE = "gpu_kernels"  # hosts, images, pulls, environments; kernels use jupyter_server's "kernels"
NAME = r"[^/]+"  # one path segment: a host, environment, kernel or job id
authenticated = web.authenticated
__all__ = ["AUTH_RESOURCE", "NAME", "NAMESPACE", "BaseHandler", "authenticated", "authorized", "route"]


def route(path: str) -> str:
    """The route of ``path`` under ``/gpu-kernels/api/`` (:mod:`.routes` puts the base URL in front)."""
    return url_path_join("/", NAMESPACE, path)


class BaseHandler(APIHandler):
    """JSON in and out; our errors become 400/403/404/409 with a message that says what is wrong.

    Every method is ``@web.authenticated`` then ``@authorized``: the server's Authorizer is asked
    for ``read`` (GET) or ``write`` (POST/PUT/DELETE) on :attr:`auth_resource`, as jupyter_server's
    own handlers do, so a read-only user (e.g. JupyterHub ``read`` scopes) gets 403 on changes."""

    auth_resource = AUTH_RESOURCE

    @property
    def services(self) -> Services:
        """The server's state (settings, policy, hosts, environments, job trackers, culler)."""
        return services_of(self.settings)

    @property
    def hosts(self) -> DockerHosts:
        return self.services.hosts

    @property
    def environments(self) -> Environments:
        return self.services.environments

    def location(self, *parts: str) -> None:
        """Set the ``Location`` header to ``<base_url>gpu-kernels/api/<parts…>``."""
        self.set_header("Location", url_path_join(self.base_url, NAMESPACE, *parts))

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data))  # APIHandler.finish sets Content-Type: application/json

    def json_body(self) -> dict:
        """The body as a JSON object (APIHandler.get_json_body); 400 naming the problem otherwise."""
        try:
            data = self.get_json_body()
        except UnicodeDecodeError as e:
            raise web.HTTPError(400, f"request body is not UTF-8 text: {e}") from e
        except web.HTTPError as e:
            raise web.HTTPError(400, f"request body is not valid JSON: {e.__cause__}") from e
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise web.HTTPError(400, f"request body must be a JSON object, not {type(data).__name__}")
        return data

    async def session_paths(self) -> dict[str, str]:
        sm = self.settings.get("session_manager")
        if sm is None:
            return {}
        return {s["kernel"]["id"]: s["path"] for s in await sm.list_sessions() if s.get("kernel")}

    def host_or_404(self, name: str):  # type: ignore[no-untyped-def]
        try:
            return self.hosts.get(name)
        except HostError as e:
            raise web.HTTPError(404, str(e)) from e

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        # errors.http_reply: the status of the error's class, {message, field?}; reason: tornado's
        status_code, body = http_reply(exc, status_code) if exc else (status_code, {"message": self._reason})
        self.set_status(status_code)
        body["reason"] = self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))
