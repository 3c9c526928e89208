"""Issue #12: copy an image between Docker hosts through the REST API (``server/copy_handlers.py``).

A real Jupyter server (jp_fetch), the real local daemon as the source and the ``nogpu_daemon``
fixture (a second dockerd in its own network namespace) registered as the target host: the copy
is started (202 + Location), polled to ``done``, and the image is then on the target daemon.
Refusals: a disallowed image 403, an unknown target 400, an unknown source 404, the same host 400.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from .support.tags import remove_tags as remove

pytestmark = pytest.mark.docker
REPO = "jgk-copy-rest"


@pytest.fixture
def jp_server_config(test_image):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}},
        "GPUKernelsImagePolicy": {"allowed_images": [test_image, f"{REPO}:*"]},
    }


async def call(jp_fetch, *parts, method="GET", body=None, expect=200):
    from tornado.httpclient import HTTPClientError

    try:
        r = await jp_fetch("gpu-kernels", "api", *parts, method=method, body=None if body is None else json.dumps(body))
    except HTTPClientError as e:
        assert e.code == expect, (e.code, e.response.body if e.response else None)
        return json.loads(e.response.body)
    assert r.code == expect, (r.code, r.body)
    return r, json.loads(r.body)


@pytest.fixture
def target(nogpu_daemon):
    from jupyter_gpu_kernels.hosts.registry import DockerHosts

    DockerHosts().add("nogpu", nogpu_daemon.url)
    return nogpu_daemon


async def test_rest_copy_image_to_another_host(jp_fetch, docker_client, plain_image, target):
    ref = f"{REPO}:v1"
    docker_client.images.get(plain_image).tag(REPO, "v1")
    remove(target.client, ref)
    try:
        r, started = await call(
            jp_fetch, "hosts", "local", "images", "copy", method="POST", body={"image": ref, "to": "nogpu"}, expect=202
        )
        assert started["status"] == "running" and started["host"] == "local" and started["to"] == "nogpu"
        assert r.headers["Location"].endswith(f"gpu-kernels/api/hosts/local/images/copies/{started['id']}")
        for _ in range(600):
            state = (await call(jp_fetch, "hosts", "local", "images", "copies", started["id"]))[1]
            if state["status"] != "running":
                break
            await asyncio.sleep(0.2)
        assert state["status"] == "done", state
        assert state["error"] is None and state["bytes_done"] and state["finished"]
        assert any("copied" in line for line in state["log"]), state["log"]
        assert target.client.images.get(ref).id == docker_client.images.get(ref).id
        listed = (await call(jp_fetch, "hosts", "nogpu", "images"))[1]["images"]
        assert any(ref in i["tags"] for i in listed)
        await call(jp_fetch, "hosts", "nogpu", "images", "copies", started["id"], expect=404)  # source is "local"
        await call(jp_fetch, "hosts", "local", "images", "copies", "nope", expect=404)
    finally:
        remove(docker_client, ref)
        remove(target.client, ref)


async def test_rest_copy_of_a_missing_image_fails(jp_fetch, docker_client, target):
    ref = f"{REPO}:absent"
    remove(docker_client, ref)
    started = (
        await call(
            jp_fetch, "hosts", "local", "images", "copy", method="POST", body={"image": ref, "to": "nogpu"}, expect=202
        )
    )[1]
    for _ in range(100):
        state = (await call(jp_fetch, "hosts", "local", "images", "copies", started["id"]))[1]
        if state["status"] != "running":
            break
        await asyncio.sleep(0.1)
    assert state["status"] == "failed" and "not present on the source host" in state["error"], state


async def test_rest_copy_refusals(jp_fetch, target):
    path = ("hosts", "local", "images", "copy")
    refused = await call(jp_fetch, *path, method="POST", body={"image": "other:x", "to": "nogpu"}, expect=403)
    assert "not allowed" in refused["message"]
    await call(jp_fetch, *path, method="POST", body={"image": "Not A Ref!", "to": "nogpu"}, expect=400)
    unknown = await call(jp_fetch, *path, method="POST", body={"image": f"{REPO}:v1", "to": "nowhere"}, expect=400)
    assert "nowhere" in unknown["message"]
    await call(jp_fetch, *path, method="POST", body={"image": f"{REPO}:v1"}, expect=400)
    same = await call(jp_fetch, *path, method="POST", body={"image": f"{REPO}:v1", "to": "local"}, expect=400)
    assert "already on host 'local'" in same["message"]
    await call(
        jp_fetch,
        "hosts",
        "nowhere",
        "images",
        "copy",
        method="POST",
        body={"image": f"{REPO}:v1", "to": "nogpu"},
        expect=404,
    )
