"""Resource-level authorization (issue #11): every REST handler is ``@authorized``.

A real Jupyter server runs with a read-only Authorizer (``ServerApp.authorizer_class``), as a
JupyterHub user with only read scopes has: reads work, and every write (environments, pulls,
kernel shutdown) is a 403 that changes nothing. The Authorizer records what it was asked, so the
test also checks the resources our handlers name (``gpu_kernels``, ``kernels``).
"""

from __future__ import annotations

import json

import pytest
from jupyter_server.auth import Authorizer
from tornado.httpclient import HTTPClientError

pytestmark = pytest.mark.docker

IMAGE = "python:3.12"


class ReadOnlyAuthorizer(Authorizer):
    """Allows ``read`` on every resource and nothing else; remembers each question."""

    asked: list[tuple[str, str]] = []

    def is_authorized(self, handler, user, action, resource) -> bool:  # type: ignore[no-untyped-def]
        ReadOnlyAuthorizer.asked.append((action, resource))
        return action == "read"


@pytest.fixture
def jp_server_config():
    ReadOnlyAuthorizer.asked = []
    return {"ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}, "authorizer_class": ReadOnlyAuthorizer}}


async def _code(jp_fetch, *parts, method="GET", body=None) -> int:
    try:
        r = await jp_fetch(
            "gpu-kernels",
            "api",
            *parts,
            method=method,
            body=None if body is None else json.dumps(body),
            allow_nonstandard_methods=True,
        )
        return r.code
    except HTTPClientError as e:
        return e.code


async def test_read_only_user_can_read_but_not_change(jp_fetch, jp_serverapp):
    app = jp_serverapp.web_app.settings
    store = app["gpu_kernels"].environments
    store.create("mine", {"image": IMAGE})  # as the owner made it earlier
    km = jp_serverapp.kernel_manager
    kernel_id = await km.start_kernel(kernel_name="python3")
    try:
        for parts in (("hosts",), ("environments",), ("environments", "mine"), ("kernels",)):
            assert await _code(jp_fetch, *parts) == 200, parts
        writes = [
            (("environments",), "POST", {"name": "new", "image": IMAGE}),
            (("environments", "mine"), "PUT", {"memory": "1g"}),
            (("environments", "mine"), "DELETE", None),
            (("hosts", "local", "images", "pull"), "POST", {"image": IMAGE}),
            (("kernels", kernel_id), "DELETE", None),
        ]
        for parts, method, body in writes:
            assert await _code(jp_fetch, *parts, method=method, body=body) == 403, (method, parts)
        assert [e.name for e in store.all()] == ["mine"] and store.get("mine").memory == ""
        assert kernel_id in km.list_kernel_ids()  # not shut down
        assert not app["gpu_kernels"].pulls.pulls, "no pull was started"
    finally:
        await km.shutdown_kernel(kernel_id, now=True)
    asked = set(ReadOnlyAuthorizer.asked)
    assert {("read", "gpu_kernels"), ("write", "gpu_kernels"), ("read", "kernels"), ("write", "kernels")} <= asked
