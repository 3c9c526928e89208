"""``POST gpu-kernels/api/orphans {"kernel_ids": [...]}``: one orphan removed, the others kept.

Real orphans (tests/support/orphans.py): a client process starts kernels on the main daemon and
exits without shutting them down, so their owner is gone; a long ``orphan_timeout`` keeps the
periodic reaper off them. A real in-process Jupyter server (``jp_fetch``) removes one by id; an id
that is not an orphan (unknown, or a live kernel of this server) is a 404 that removes nothing; bad
``kernel_ids`` a 400; a read-only user gets 403 and nothing is removed.
"""

from __future__ import annotations

import json

import pytest
from jupyter_server.auth import Authorizer
from tornado.httpclient import HTTPClientError

from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json, provisioner_config

from .support.orphans import container_states, orphan_maker

pytestmark = pytest.mark.docker


class ReadOnlyAuthorizer(Authorizer):
    def is_authorized(self, handler, user, action, resource) -> bool:  # type: ignore[no-untyped-def]
        return action == "read"


@pytest.fixture
def authorizer(request):
    return getattr(request, "param", None)


@pytest.fixture
def jp_server_config(authorizer):
    app = {"jpserver_extensions": {"jupyter_gpu_kernels": True}}
    if authorizer:
        app["authorizer_class"] = authorizer
    return {"ServerApp": app}


@pytest.fixture
def make_orphans(tmp_path, test_image, docker_client):
    yield from orphan_maker(tmp_path, test_image, docker_client)


async def post(jp_fetch, body, expect: int, path=("gpu-kernels", "api", "orphans"), params=None) -> dict:
    try:
        r = await jp_fetch(*path, method="POST", body=json.dumps(body), params=params)
        code, data = r.code, r.body
    except HTTPClientError as e:
        code, data = e.code, (e.response.body if e.response else b"")
    assert code == expect, (code, data)
    return json.loads(data) if data else {}


async def test_remove_one_orphan_by_id(jp_fetch, jp_serverapp, docker_client, test_image, make_orphans):
    one, two = make_orphans(2)
    listed = json.loads((await jp_fetch("gpu-kernels", "api", "orphans", params={"host": "local"})).body)
    assert {one, two} <= {o["kernel_id"] for o in listed["orphans"]}, listed

    # bad input: 400 naming the field, nothing removed
    for bad in (
        {"kernel_ids": one},
        {"kernel_ids": []},
        {"kernel_ids": [1]},
        {"kernel_ids": ["a\nb"]},
        {"kernel_ids": [one], "all": True},
    ):
        out = await post(jp_fetch, bad, 400)
        assert "kernel_ids" in out["message"], out
    # an id that is not an orphan: 404 naming it, nothing removed (not even the orphan asked for with it)
    out = await post(jp_fetch, {"kernel_ids": [one, "0000-not-a-kernel"]}, 404)
    assert "not an orphaned kernel: 0000-not-a-kernel" in out["message"], out
    # a live kernel of this server is never an orphan
    install("live", kernel_json("live", provisioner_config(image=test_image)), user=True)
    live = await jp_serverapp.kernel_manager.start_kernel(kernel_name="live")
    try:
        out = await post(jp_fetch, {"kernel_ids": [live]}, 404)
        assert live in out["message"]
        assert container_states(docker_client, [live]) == {live: "running"}
    finally:
        await jp_serverapp.kernel_manager.shutdown_kernel(live, now=True)
    assert container_states(docker_client, [one, two]) == {one: "running", two: "running"}

    out = await post(jp_fetch, {"kernel_ids": [one]}, 200, params={"host": "local"})
    rows = {o["kernel_id"]: o for o in out["orphans"]}
    assert rows[one]["removed"] and not rows[two]["removed"], rows
    assert container_states(docker_client, [one, two]) == {two: "running"}, "only the one asked for is gone"
    out = await post(jp_fetch, {"kernel_ids": [two]}, 200)
    assert container_states(docker_client, [one, two]) == {}


@pytest.mark.parametrize("authorizer", [ReadOnlyAuthorizer], indirect=True)
async def test_a_read_only_user_cannot_remove_an_orphan(jp_fetch, docker_client, make_orphans):
    (one,) = make_orphans(1)
    listed = json.loads((await jp_fetch("gpu-kernels", "api", "orphans")).body)
    assert one in {o["kernel_id"] for o in listed["orphans"]}
    await post(jp_fetch, {"kernel_ids": [one]}, 403)
    assert container_states(docker_client, [one]) == {one: "running"}
