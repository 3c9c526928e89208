"""An environment's ``entrypoint`` (REST, CLI, the sidebar's form) reaches its kernels' containers
(real dockerd, real kernel, through the server): ``[]`` clears an ENTRYPOINT that ignores the kernel
command (the ``bad-entrypoint`` shape of tests/support/image.py)."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from .kernel_helpers import our_containers, run_cell
from .support.image import ensure_shape_image

pytestmark = pytest.mark.docker


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}}}


@pytest.fixture(scope="module")
def shapes(docker_client, test_image):
    return {"bad-entrypoint": ensure_shape_image(docker_client, "bad-entrypoint")}


async def test_environment_entrypoint_clears_the_images_through_the_server(
    jp_fetch, jp_serverapp, jp_environ, shapes, docker_client
):
    """An environment's ``entrypoint: []`` (REST create) reaches its kernelspec and the container: the
    bad-entrypoint image, whose ENTRYPOINT ignores the kernel command, runs a kernel; PUT back to null
    restores the image's ENTRYPOINT (the start then fails with the explanation)."""
    body = {"name": "badep-env", "image": shapes["bad-entrypoint"], "entrypoint": []}
    r = await jp_fetch("gpu-kernels", "api", "environments", method="POST", body=json.dumps(body))
    assert json.loads(r.body)["entrypoint"] == []
    r = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "gpu-badep-env"}))
    kid = json.loads(r.body)["id"]
    try:
        container = next(c for c in our_containers(docker_client) if kid in json.dumps(c.labels))
        assert container.attrs["Config"]["Entrypoint"] in (None, [])
        kc = jp_serverapp.kernel_manager.get_kernel(kid).blocking_client()  # the kernel is in its container
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=30)
            assert run_cell(kc, "print(6*7)")["stdout"] == "42\n"
        finally:
            kc.stop_channels()
    finally:
        await jp_fetch("api", "kernels", kid, method="DELETE")
    r = await jp_fetch(
        "gpu-kernels", "api", "environments", "badep-env", method="PUT", body=json.dumps({"entrypoint": None})
    )
    assert json.loads(r.body)["entrypoint"] is None
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "gpu-badep-env"}))
    assert "entrypoint: []" in e.value.response.body.decode()
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(
            "gpu-kernels", "api", "environments", "badep-env", method="PUT", body=json.dumps({"entrypoint": "sh -c"})
        )
    assert e.value.code == 400 and json.loads(e.value.response.body)["field"] == "entrypoint"
    await jp_fetch("gpu-kernels", "api", "environments", "badep-env", method="DELETE")
