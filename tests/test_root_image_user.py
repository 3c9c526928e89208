"""``user: image`` with an image whose USER is root: refused before anything is created, unless the
admin policy allows root (``KernelPolicy.allow_root_user``).

A real Jupyter server (``jp_fetch``) on the main daemon; the policy comes from a system config dir
of the test. Images: the test image (USER 1000, as every test image and shape), and two root
variants of it committed by the test (``USER root``, ``USER 0:0``; they run kernels as root).
"""

from __future__ import annotations

import json
import os
import socket

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_gpu_kernels.daemon import labels as L
from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json
from jupyter_gpu_kernels.kernel.planning import is_root_user

from .kernel_helpers import ws_execute
from .support.image import with_users
from .support.tags import remove_tags

pytestmark = pytest.mark.docker
ROOT_REPO = "jgk-test-root-user"
ROOT_USERS = {"root": f"{ROOT_REPO}:root", "0:0": f"{ROOT_REPO}:uid0"}


def test_root_users():
    assert all(is_root_user(u) for u in ("", None, "0", "root", "0:0", "root:root", "0:100", " 0 "))
    assert not any(is_root_user(u) for u in ("1000", "jovyan", "1000:0", "nobody", "10"))


@pytest.fixture(scope="module")
def root_images(docker_client, test_image):
    """{USER: tag}: the test image with that USER (everything else the same)."""
    yield with_users(docker_client, test_image, ROOT_USERS)
    remove_tags(docker_client, *ROOT_USERS.values())


@pytest.fixture(params=[False, True], ids=["root-refused", "root-allowed"])
def allow_root(request):
    return request.param


@pytest.fixture
def jp_server_config(jp_system_config_path, test_image, root_images, allow_root):
    (jp_system_config_path / "jupyter_server_config.json").write_text(
        json.dumps(
            {"KernelPolicy": {"allowed_images": [test_image, *root_images.values()], "allow_root_user": allow_root}}
        )
    )
    return {"ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}}}


async def start(jp_fetch, name: str, image: str, expect: int) -> dict:
    spec = kernel_json(name, {})
    spec["metadata"]["kernel_provisioner"] = {
        "provisioner_name": "gpu-docker-provisioner",
        "config": {"image": image, "user": "image"},
    }
    install(name, spec, user=True)
    try:
        r = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": name}))
        code, body = r.code, r.body
    except HTTPClientError as e:
        code, body = e.code, (e.response.body if e.response else b"")
    assert code == expect, (code, body)
    return json.loads(body)


def ours(kernel_leftovers, client) -> list:
    me = f"{socket.gethostname()}:{os.getpid()}"
    return [c for c in kernel_leftovers(client) if (c.labels or {}).get(L.SERVER) == me]


async def test_user_image_with_a_root_user(
    jp_fetch,
    jp_ws_fetch,
    jp_serverapp,
    docker_client,
    kernel_leftovers,
    jp_runtime_dir,
    root_images,
    test_image,
    allow_root,
):
    if not allow_root:
        for user, image in root_images.items():
            out = await start(jp_fetch, "rootimg", image, 403)
            msg = out["message"]
            assert f"image {image!r} runs as root (USER {user})" in msg and "KernelPolicy.allow_root_user" in msg, msg
            assert "set `user` to a non-root uid" in msg and "allow_root_user = True" in msg, msg
            assert not jp_serverapp.kernel_manager.list_kernel_ids()
            assert not ours(kernel_leftovers, docker_client), "no container"
            assert not [f for f in os.listdir(jp_runtime_dir) if f.startswith("kernel-")], "no connection file"
    # a non-root USER is fine whatever the policy; a root one only when the policy allows it
    runs = [(test_image, "1000")] + ([(root_images["root"], "0")] if allow_root else [])
    for image, uid in runs:
        kernel = await start(jp_fetch, f"img{uid}", image, 201)
        try:
            ws = await jp_ws_fetch("api", "kernels", kernel["id"], "channels")
            assert (await ws_execute(ws, "import os; print(os.getuid())")).strip() == uid
            ws.close()
        finally:
            await jp_fetch("api", "kernels", kernel["id"], method="DELETE")
    assert not ours(kernel_leftovers, docker_client)
