"""The REST API through a real Jupyter server (jp_fetch) on the real daemon."""

from __future__ import annotations

import asyncio
import json
import os
import re

import pytest
import tornado.httpclient
from tornado.httpclient import HTTPClientError

from jupyter_gpu_kernels import cli
from jupyter_gpu_kernels.server.routes import handlers

pytestmark = pytest.mark.docker


@pytest.fixture
def allowed(test_image):
    return [test_image]


@pytest.fixture
def jp_server_config(allowed):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}},
        "ImagePolicy": {"allowed_images": allowed},
    }


async def call(jp_fetch, *parts, method="GET", body=None, expect=200):
    try:
        r = await jp_fetch(
            "gpu-kernels",
            "api",
            *parts,
            method=method,
            body=None if body is None else json.dumps(body),
            allow_nonstandard_methods=True,
        )
    except HTTPClientError as e:
        assert e.code == expect, (e.code, e.response.body if e.response else None)
        return json.loads(e.response.body) if e.response and e.response.body else None
    assert r.code == expect, (r.code, r.body)
    return json.loads(r.body) if r.body else None


async def test_every_route_requires_authentication(jp_fetch, jp_http_port, jp_base_url, docker_client):
    """Walk all our routes and methods without credentials: never a success."""
    client = tornado.httpclient.AsyncHTTPClient()
    checked = 0
    for pattern, handler in handlers("/"):
        path = re.sub(r"\(\?P<\w+>[^)]*\)", "x", pattern).lstrip("/")
        for method in ("GET", "POST", "PUT", "DELETE"):
            if not hasattr(handler, method.lower()) or getattr(handler, method.lower()).__qualname__.startswith(
                "RequestHandler"
            ):
                continue
            url = f"http://localhost:{jp_http_port}{jp_base_url}{path}"
            r = await client.fetch(
                url,
                method=method,
                body="{}" if method in ("POST", "PUT") else None,
                raise_error=False,
                allow_nonstandard_methods=True,
            )
            assert r.code in (401, 403), (method, url, r.code)
            checked += 1
    assert checked >= 12


async def test_hosts_and_images(jp_fetch, test_image, plain_image, docker_client):
    hosts = (await call(jp_fetch, "hosts"))["hosts"]
    local = next(h for h in hosts if h["name"] == "local")
    # the default daemon may have the NVIDIA toolkit (GPU workstations): "no GPU driver" is checked on a daemon of its own
    assert local["reachable"] and local["engine_version"] and local["gpu_driver"] in (True, False)
    await call(jp_fetch, "hosts", "nowhere", "gpus", expect=404)
    from jupyter_gpu_kernels.daemon.interpreters import forget

    # the probe cache is per process: an earlier test may have probed the plain image under its own policy
    forget(docker_client.images.get(plain_image).id)
    images = (await call(jp_fetch, "hosts", "local", "images"))["images"]
    by_tag = {t: i for i in images for t in i["tags"]}
    assert by_tag[test_image]["has_ipykernel"] is True and by_tag[test_image]["allowed"] is True
    # a disallowed image is never probed (#11): whether it has ipykernel is unknown
    assert by_tag[plain_image]["has_ipykernel"] is None and by_tag[plain_image]["allowed"] is False
    assert by_tag[test_image]["size"] > 0 and by_tag[test_image]["created"]
    inv = await call(jp_fetch, "hosts", "local", "gpus")
    assert inv["driver"] in (True, False) and inv["status"]


async def test_host_without_gpu_driver(jp_fetch, nogpu_daemon):
    from jupyter_gpu_kernels.hosts.registry import DockerHosts

    DockerHosts().add("nogpu", nogpu_daemon.url)
    inv = await call(jp_fetch, "hosts", "nogpu", "gpus")
    assert inv["driver"] is False and "no GPU driver" in inv["status"]


async def test_environment_crud_validation_and_kernel(jp_fetch, test_image, jp_root_dir, docker_client):
    env = {"name": "torch", "image": test_image, "memory": "2g", "display_name": "Torch (CPU)"}
    created = await call(jp_fetch, "environments", method="POST", body=env, expect=201)
    assert created["kernel_name"] == "gpu-torch" and created["read_only"] is False
    specs = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    assert specs["gpu-torch"]["spec"]["display_name"] == "Torch (CPU)"
    await call(
        jp_fetch, "environments", method="POST", body={"name": "one", "image": test_image, "gpus": "1"}, expect=201
    )
    await call(
        jp_fetch,
        "environments",
        method="POST",
        body={"name": "two", "image": test_image, "gpus": "device=0,2"},
        expect=201,
    )
    specs = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    assert specs["gpu-one"]["spec"]["display_name"] == "one (1 GPU · local)"
    assert specs["gpu-two"]["spec"]["display_name"] == "two (GPUs 0,2 · local)"
    for name in ("one", "two"):
        await call(jp_fetch, "environments", name, method="DELETE", expect=204)
    assert specs["gpu-torch"]["spec"]["metadata"]["kernel_provisioner"]["config"]["memory"] == "2g"

    # startable right away through the standard kernels API
    k = json.loads((await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "gpu-torch"}))).body)
    c = docker_client.containers.get(f"jupyter-kernel-{k['id']}")
    assert c.labels["org.jupyter.gpu-kernels.environment"] == "torch"
    assert c.attrs["HostConfig"]["Memory"] == 2 * 1024**3
    rows = (await call(jp_fetch, "kernels"))["kernels"]
    row = next(r for r in rows if r["kernel_id"] == k["id"])
    assert (
        row["this_server"] and row["environment"] == "torch" and row["host"] == "local" and row["image"] == test_image
    )
    await call(jp_fetch, "kernels", k["id"], method="DELETE", expect=204)
    assert not docker_client.containers.list(all=True, filters={"name": f"jupyter-kernel-{k['id']}"})
    await call(jp_fetch, "kernels", k["id"], method="DELETE", expect=404)

    updated = await call(jp_fetch, "environments", "torch", method="PUT", body={"gpus": "2", "memory": "4g"})
    assert updated["gpus"] == "2" and updated["memory"] == "4g" and updated["image"] == test_image
    assert (await call(jp_fetch, "environments", "torch"))["memory"] == "4g"

    bad = [
        ({"name": "x", "image": test_image, "gpus": "two"}, 400, "invalid GPU spec", "gpus"),
        ({"name": "x", "image": test_image, "memory": "lots"}, 400, "invalid memory limit", "memory"),
        ({"name": "x", "image": test_image, "mounts": ["/nope/nope:/d"]}, 400, "does not exist", "mounts"),
        ({"name": "Bad Name", "image": test_image}, 400, "invalid name", "name"),
        ({"name": "x", "image": "UPPER:case"}, 400, "invalid image reference", "image"),
        ({"name": "x", "image": test_image, "host": "nowhere"}, 400, "unknown Docker host", "host"),
        ({"name": "x", "image": test_image, "colour": "red"}, 400, "unknown field", None),
        ({"name": "torch", "image": test_image}, 400, "exists already", "name"),
        ({"image": test_image}, 400, "needs a name", "name"),
    ]
    for body, code, msg, field in bad:
        reply = await call(jp_fetch, "environments", method="POST", body=body, expect=code)
        assert msg in reply["message"], (body, reply)
        assert reply.get("field") == field, (body, reply)
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("gpu-kernels", "api", "environments", method="POST", body="{not json")
    assert e.value.code == 400 and b"not valid JSON" in e.value.response.body

    await call(jp_fetch, "environments", "torch", method="DELETE", expect=204)
    await call(jp_fetch, "environments", "torch", expect=404)
    specs = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    assert "gpu-torch" not in specs
    await call(jp_fetch, "environments", "torch", method="DELETE", expect=404)


async def test_allowlist_enforced_on_every_path(jp_fetch, plain_image, test_image, tmp_path, jp_serverapp):
    # REST: environment create and update, and pulls
    reply = await call(jp_fetch, "environments", method="POST", body={"name": "p", "image": plain_image}, expect=403)
    assert "not allowed" in reply["message"] and reply["field"] == "image"
    await call(jp_fetch, "environments", method="POST", body={"name": "ok", "image": test_image}, expect=201)
    await call(jp_fetch, "environments", "ok", method="PUT", body={"image": plain_image}, expect=403)
    await call(
        jp_fetch, "hosts", "local", "images", "pull", method="POST", body={"image": "evil/miner:latest"}, expect=403
    )
    # provisioner: a hand-written kernelspec naming a disallowed image
    from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json

    install("sneaky", kernel_json("sneaky", {"image": plain_image}), user=True)
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "sneaky"}))
    assert e.value.code == 403  # issue #14: our status and message, no longer "500 Unhandled error"
    assert "is not allowed" in json.loads(e.value.response.body)["message"]
    km = jp_serverapp.kernel_manager
    assert not [k for k in km.list_kernel_ids()]
    from jupyter_core.paths import jupyter_runtime_dir

    assert not [f for f in os.listdir(jupyter_runtime_dir()) if f.startswith("kernel-")], "no connection file left"
    # CLI: reads the admin config from the server's config files
    (tmp_path / "cfg").mkdir()
    cfg_file = tmp_path / "cfg" / "jupyter_server_config.json"
    cfg_file.write_text(json.dumps({"ImagePolicy": {"allowed_images": [test_image]}}))
    old = os.environ.get("JUPYTER_CONFIG_PATH")  # an admin dir: the policy is never read from the user's (#11)
    os.environ["JUPYTER_CONFIG_PATH"] = str(tmp_path / "cfg")
    try:
        # refused by policy: a runtime failure (exit 1), not a usage error
        assert cli.main(["envs", "add", "p2", "--image", plain_image]) == 1
        assert cli.main(["install", "p3", "--image", plain_image, "--user"]) == 1
        assert cli.main(["pull", plain_image]) == 1
        assert cli.main(["envs", "add", "fine", "--image", test_image]) == 0
    finally:
        if old is None:
            os.environ.pop("JUPYTER_CONFIG_PATH")
        else:
            os.environ["JUPYTER_CONFIG_PATH"] = old


@pytest.mark.parametrize("allowed", [[]])
async def test_pull_of_missing_image_fails_cleanly(jp_fetch, docker_client, allowed):
    before = {i.id for i in docker_client.images.list(all=True)}
    started = await call(
        jp_fetch,
        "hosts",
        "local",
        "images",
        "pull",
        method="POST",
        body={"image": "jupyter-gpu-kernels-test:no-such-tag"},
        expect=202,
    )
    assert started["status"] == "running"
    for _ in range(300):
        state = await call(jp_fetch, "hosts", "local", "images", "pulls", started["id"])
        if state["status"] != "running":
            break
        await asyncio.sleep(0.1)
    assert state["status"] == "failed" and "no-such-tag" in state["error"]
    assert {i.id for i in docker_client.images.list(all=True)} == before
    await call(jp_fetch, "hosts", "local", "images", "pulls", "nope", expect=404)
    reply = await call(
        jp_fetch, "hosts", "local", "images", "pull", method="POST", body={"image": "Bad Ref"}, expect=400
    )
    assert "invalid image reference" in reply["message"]
    await call(jp_fetch, "hosts", "local", "images", "pull", method="POST", body=["x"], expect=400)
