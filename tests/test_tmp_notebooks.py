"""Notebooks in /tmp: a server whose root dir is /tmp starts kernels (issue #20).

The notebook directory is mounted at its own path in the container, and the kernel's connection
directory used to be ``/tmp/.jupyter-gpu-kernels``, so every kernel of such a server was refused
("mount target /tmp would cover the kernel connection directory"). It is now at the container's top
level (``daemon/plan.py`` CONNECTION_DIR), which no notebook directory covers.

A real Jupyter server (``jp_fetch``) on the main daemon, root dir /tmp, kernels as uid 1000: two
kernels started through REST each write a file in their notebook directory (/tmp itself, and a
directory in it), and the files are on the host. A kernel sees its own connection file only, not the
other kernel's, and not the server's runtime dir (under /tmp here: masked, ``kernel/boundary.py``),
which holds every kernel's connection file with its key. Nothing of the kernels' runtime
directories lands in the host's /tmp. A server rooted in ``/`` is still refused (no mount may
target a container's /), with a message saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_gpu_kernels.daemon.plan import (
    CONNECTION_DIR,
    KEY_DIR,
    connection_file_path,
    earlier_connection_file_paths,
    is_runtime_path,
)
from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json

from .kernel_helpers import ws_execute
from .test_policy import nothing_left

pytestmark = pytest.mark.docker
SPEC = "tmpnb"


@pytest.fixture
def jp_root_dir(request):
    return Path(getattr(request, "param", "/tmp"))


@pytest.fixture
def jp_server_config(jp_system_config_path, test_image):
    (jp_system_config_path / "jupyter_server_config.json").write_text(
        json.dumps({"KernelPolicy": {"allowed_images": [test_image], "allow_root_user": False}})
    )
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}},
        "GPUDockerProvisioner": {"user": "1000:1000"},
    }


@pytest.fixture
def scratch():
    """A notebook directory in /tmp (writable by the kernel's uid 1000), and the name prefix of the
    files the kernels write; both removed afterwards."""
    name = f"jgk-tmpnb-{uuid.uuid4().hex[:12]}"
    d = Path("/tmp") / name
    d.mkdir(mode=0o777)
    os.chmod(d, 0o777)
    yield name
    shutil.rmtree(d, ignore_errors=True)
    Path(f"/tmp/{name}-b.txt").unlink(missing_ok=True)


async def post(jp_fetch, body: dict, expect: int) -> dict:
    try:
        r = await jp_fetch("api", "kernels", method="POST", body=json.dumps(body))
        code, data = r.code, r.body
    except HTTPClientError as e:
        code, data = e.code, (e.response.body if e.response else b"")
    assert code == expect, (code, data)
    return json.loads(data)


PROBE = """
import json, os
def can_read(p):
    try:
        open(p).read()
        return True
    except OSError:
        return False
def listing(p):
    try:
        return sorted(os.listdir(p))
    except OSError as e:
        return type(e).__name__
open({name!r}, "w").write("from the kernel")
print(json.dumps({{"cwd": os.getcwd(), "run": sorted(os.listdir({key_dir!r})),
                  "own": can_read({own!r}), "other": can_read({other!r}) or os.path.exists({other!r}),
                  "runtime": listing({runtime!r})}}))
"""


async def probe(jp_ws_fetch, kernel_id: str, other_id: str, name: str, runtime: str) -> dict:
    ws = await jp_ws_fetch("api", "kernels", kernel_id, "channels")
    try:
        code = PROBE.format(
            name=name,
            key_dir=KEY_DIR,
            own=connection_file_path(kernel_id),
            other=connection_file_path(other_id),
            runtime=runtime,
        )
        return json.loads((await ws_execute(ws, code)).strip().splitlines()[-1])
    finally:
        ws.close()


async def test_server_rooted_in_tmp_runs_kernels(
    jp_fetch, jp_ws_fetch, jp_serverapp, jp_runtime_dir, test_image, docker_client, kernel_leftovers, scratch
):
    install(SPEC, kernel_json(SPEC, {"image": test_image}), user=True)
    sub = await post(jp_fetch, {"name": SPEC, "path": f"{scratch}/a.ipynb"}, 201)  # cwd /tmp/<scratch>
    top = None
    try:
        top = await post(jp_fetch, {"name": SPEC, "path": "b.ipynb"}, 201)  # cwd /tmp itself
        a = await probe(jp_ws_fetch, sub["id"], top["id"], "written-a.txt", str(jp_runtime_dir))
        b = await probe(jp_ws_fetch, top["id"], sub["id"], f"{scratch}-b.txt", str(jp_runtime_dir))
    finally:
        for kernel in (sub, top):
            if kernel:
                await jp_fetch("api", "kernels", kernel["id"], method="DELETE")
    assert a["cwd"] == f"/tmp/{scratch}" and b["cwd"] == "/tmp", (a, b)
    assert Path(f"/tmp/{scratch}/written-a.txt").read_text() == "from the kernel"
    assert Path(f"/tmp/{scratch}-b.txt").read_text() == "from the kernel"
    for mine, _other, seen in ((sub, top, a), (top, sub, b)):
        assert seen["own"] and seen["run"] == [f"kernel-{mine['id']}.json"], seen
        assert not seen["other"], "a kernel does not see another kernel's connection file"
        assert seen["runtime"] in ([], "PermissionError"), (
            f"the server's runtime dir (every kernel's key) is masked: {seen}"
        )
        for path in (connection_file_path(mine["id"]), *earlier_connection_file_paths(mine["id"])):
            assert not os.path.exists(path), f"{path}: the kernel's runtime files stay in its container"
    nothing_left(jp_serverapp, docker_client, kernel_leftovers, jp_runtime_dir)


@pytest.mark.parametrize("jp_root_dir", ["/"], indirect=True)
async def test_server_rooted_in_slash_is_refused(
    jp_fetch, jp_serverapp, jp_runtime_dir, test_image, docker_client, kernel_leftovers
):
    """Docker cannot mount onto a container's /, and / would hide the container's own files."""
    install(SPEC, kernel_json(SPEC, {"image": test_image}), user=True)
    out = await post(jp_fetch, {"name": SPEC}, 403)
    assert "mount target / would replace the container's whole filesystem" in out["message"], out
    nothing_left(jp_serverapp, docker_client, kernel_leftovers, jp_runtime_dir)


def test_earlier_runtime_paths_are_still_known():
    """Containers of earlier versions (connection dir under /tmp): adoption finds their connection file,
    and a commit counts their runtime files apart and refuses a key file in their layer."""
    assert earlier_connection_file_paths("k") == (
        "/tmp/.jupyter-gpu-kernels/run/kernel-k.json",
        "/tmp/.jupyter-gpu-kernels/kernel-k.json",
    )
    assert is_runtime_path("/tmp/.jupyter-gpu-kernels/kernel-k.json") and is_runtime_path(f"{CONNECTION_DIR}/home")
    assert not is_runtime_path("/tmp/.jupyter-gpu-kernels-x") and not is_runtime_path("/tmp/state.txt")
