"""Kernels through a real Jupyter server: REST start, websocket execute, responsiveness."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest

from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json, provisioner_config

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
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False},
    }
    await ws.write_message(json.dumps(msg))
    out = {"stdout": "", "status": None}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = await asyncio.wait_for(ws.read_message(), timeout)
        reply = json.loads(raw)
        if reply.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if reply["msg_type"] == "stream":
            out["stdout"] += reply["content"]["text"]
        if reply["msg_type"] == "execute_reply":
            out["status"] = reply["content"]["status"]
        if out["status"] and reply["msg_type"] == "status" and reply["content"]["execution_state"] == "idle":
            return out
        if out["status"] and out["stdout"]:
            return out
    raise TimeoutError(code)


async def test_start_execute_over_websocket(jp_fetch, jp_ws_fetch, gpu_spec, jp_root_dir, docker_client):
    (jp_root_dir / "sub").mkdir()
    r = await jp_fetch("api", "sessions", method="POST",
                       body=json.dumps({"path": "sub/nb.ipynb", "type": "notebook", "kernel": {"name": gpu_spec}}))
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
    assert not docker_client.containers.list(all=True, filters={"label": "org.jupyter.gpu-kernels.kernel-id"})
