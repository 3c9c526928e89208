"""Kernels through a real Jupyter server: REST start, websocket execute, responsiveness."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json, provisioner_config

from .support.leftovers import LeftoverTracker

pytestmark = pytest.mark.docker


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}}}


@pytest.fixture
def gpu_spec(jp_environ, test_image):
    """A kernelspec using our provisioner, installed in the server's (isolated) data dir."""
    install("srv", kernel_json("Test image", provisioner_config(image=test_image)), user=True)
    return "srv"


async def _execute(ws, code: str, timeout: float = 30) -> dict:
    msg_id = uuid.uuid4().hex
    msg = {
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "t", "session": "s", "version": "5.3"},
        "parent_header": {},
        "metadata": {},
        "channel": "shell",
        "content": {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
        },
    }
    await ws.write_message(json.dumps(msg))
    out = {"stdout": "", "status": None}
    idle = False
    deadline = time.monotonic() + timeout
    # the reply comes on shell, the idle status on IOPub: either may reach the websocket first
    while time.monotonic() < deadline:
        raw = await asyncio.wait_for(ws.read_message(), timeout)
        reply = json.loads(raw)
        if reply.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if reply["msg_type"] == "stream":
            out["stdout"] += reply["content"]["text"]
        if reply["msg_type"] == "execute_reply":
            out["status"] = reply["content"]["status"]
        idle = idle or (reply["msg_type"] == "status" and reply["content"]["execution_state"] == "idle")
        if out["status"] and idle:
            return out
    raise TimeoutError(code)


async def test_start_execute_over_websocket(jp_fetch, jp_ws_fetch, gpu_spec, jp_root_dir, docker_client):
    (jp_root_dir / "sub").mkdir()
    r = await jp_fetch(
        "api",
        "sessions",
        method="POST",
        body=json.dumps({"path": "sub/nb.ipynb", "type": "notebook", "kernel": {"name": gpu_spec}}),
    )
    session = json.loads(r.body)
    kid = session["kernel"]["id"]
    try:
        c = docker_client.containers.get(f"jupyter-kernel-{kid}")
        assert c.labels["org.jupyter.gpu-kernels.kernel-id"] == kid
        assert c.labels["org.jupyter.gpu-kernels.notebook"].endswith("nb.ipynb")
        ws = await jp_ws_fetch("api", "kernels", kid, "channels")
        out = await _execute(ws, "import os; print(os.getcwd()); open('k.txt','w').write('k')")
        assert out["status"] == "ok"
        assert out["stdout"].strip() == str(jp_root_dir / "sub")
        assert (jp_root_dir / "sub" / "k.txt").read_text() == "k"
        ws.close()
    finally:
        await jp_fetch("api", "sessions", session["id"], method="DELETE")
    for _ in range(50):
        if not docker_client.containers.list(all=True, filters={"name": f"jupyter-kernel-{kid}"}):
            break
        await asyncio.sleep(0.1)
    assert not docker_client.containers.list(all=True, filters={"name": f"jupyter-kernel-{kid}"})


async def test_server_answers_while_kernels_start(jp_fetch, gpu_spec, docker_client):
    """Docker calls run off the event loop: status requests keep flowing during three starts."""
    latencies: list[float] = []
    done = asyncio.Event()
    mine = LeftoverTracker(docker_client)  # only this test's containers (other sessions share the daemon)

    async def ping():
        while not done.is_set():
            t0 = time.monotonic()
            await jp_fetch("api", "status")
            latencies.append(time.monotonic() - t0)
            await asyncio.sleep(0.02)

    pinger = asyncio.create_task(ping())
    t0 = time.monotonic()
    replies = await asyncio.gather(
        *(jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": gpu_spec})) for _ in range(3))
    )
    start_time = time.monotonic() - t0
    done.set()
    await pinger
    ids = [json.loads(r.body)["id"] for r in replies]
    try:
        assert len(set(ids)) == 3
        # the pinger ran all along: many answers, none stuck behind a container start
        assert len(latencies) >= 5, (len(latencies), start_time)
        assert max(latencies) < max(0.5, start_time / 2), (max(latencies), start_time)
    finally:
        for kid in ids:
            await jp_fetch("api", "kernels", kid, method="DELETE")
    assert not mine.leftovers()


# ------------------------------------------------------------------ the kernel spec manager and Settings
async def test_environments_are_kernelspecs_of_our_manager(jp_fetch, jp_serverapp, test_image):
    """jp_serverapp does not read the package's config.d file: the extension puts our manager in place."""
    from jupyter_gpu_kernels.environments import GPUKernelSpecManager
    from jupyter_gpu_kernels.settings import Settings

    ksm = jp_serverapp.kernel_spec_manager
    assert isinstance(ksm, GPUKernelSpecManager) and ksm.wrapped is None
    assert jp_serverapp.kernel_manager.kernel_spec_manager is ksm
    assert jp_serverapp.web_app.settings["kernel_spec_manager"] is ksm
    settings = Settings.for_parent(jp_serverapp.kernel_manager)
    assert settings is jp_serverapp.web_app.settings["gpu_kernels_settings"]
    assert ksm.environments is settings.environments
    settings.environments.create("listed", {"image": test_image, "memory": "1g"})
    specs = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    config = specs["gpu-listed"]["spec"]["metadata"]["kernel_provisioner"]["config"]
    assert config == {"image": test_image, "host": "local", "gpus": "none", "memory": "1g", "environment": "listed"}


class OtherKernelSpecManager(KernelSpecManager):
    """Stands for a kernel spec manager class another package configured."""


def _config_with(ksm_class: str) -> dict:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}, "kernel_spec_manager_class": ksm_class}}


@pytest.mark.parametrize("jp_server_config", [_config_with(f"{__name__}.OtherKernelSpecManager")])
def test_another_configured_class_is_wrapped(jp_serverapp, test_image):
    from jupyter_gpu_kernels.environments import GPUKernelSpecManager

    ksm = jp_serverapp.kernel_spec_manager
    assert isinstance(ksm, GPUKernelSpecManager) and isinstance(ksm.wrapped, OtherKernelSpecManager)
    assert jp_serverapp.kernel_manager.kernel_spec_manager is ksm
    # (the warning it logs is checked in test_settings.py)
    ksm.environments.create("wrapped", {"image": test_image})
    assert "gpu-wrapped" in ksm.get_all_specs() and "gpu-wrapped" in ksm.find_kernel_specs()
    assert ksm.get_kernel_spec("gpu-wrapped").metadata["kernel_provisioner"]["config"]["image"] == test_image


@pytest.mark.parametrize("jp_server_config", [_config_with("jupyter_gpu_kernels.environments.GPUKernelSpecManager")])
def test_the_config_d_setting_is_used_as_is(jp_serverapp):
    from jupyter_gpu_kernels.environments import GPUKernelSpecManager

    assert type(jp_serverapp.kernel_spec_manager) is GPUKernelSpecManager
    assert jp_serverapp.kernel_spec_manager.wrapped is None


def test_the_package_config_d_file_sets_our_class():
    from pathlib import Path

    from jupyter_gpu_kernels.environments import CLASS_PATH

    path = Path(__file__).parent.parent / "jupyter_gpu_kernels/_data/jupyter_server_config.d/jupyter_gpu_kernels.json"
    server = json.loads(path.read_text())["ServerApp"]
    assert server["kernel_spec_manager_class"] == CLASS_PATH and server["jpserver_extensions"]["jupyter_gpu_kernels"]
