"""Multi-user topology: a user's Jupyter server without Docker starts GPU kernels on an admin-run kernel gateway.

End to end with real processes: ``jupyter kernelgateway`` (this package's kernel spec
manager and provisioner, admin config with a host on the fake-GPU daemon, an environment
and an image allowlist), and a user ``jupyter server --gateway-url`` whose ``DOCKER_HOST``
points at a socket that does not exist. Everything goes through the USER server's REST
API and websocket; the container is checked on the gateway's daemon. Also: in gateway mode
the extension uses jupyter_server's ``GatewayKernelSpecManager`` (not ours, despite the
config.d setting) and its REST API says the gateway manages GPU kernels.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
import websocket

from jupyter_gpu_kernels.daemon.labels import GPUS, KERNEL_ID
from jupyter_gpu_kernels.environments import CLASS_PATH
from tests.support.gateway import start_gateway, start_user_server

ENV_NAME = "a100"


def _admin_config(fake_gpu_daemon, test_image: str) -> dict:
    return {
        "GPUKernelsHosts": {"hosts": {"gpubox": {"url": fake_gpu_daemon.url}}},
        "GPUKernelsEnvironments": {
            "environments": {
                ENV_NAME: {
                    "image": test_image,
                    "host": "gpubox",
                    "gpus": "1",
                    "description": "one fake A100 on the gateway's daemon",
                },
            }
        },
        "GPUKernelsImagePolicy": {"allowed_images": [test_image]},
        # as docs/security.md recommends: kernels run as the image's user (the gateway runs as root
        # here) and see none of the gateway machine's files (no server root to mount on a gateway)
        "GPUDockerProvisioner": {"user": "image", "mount_root": False},
    }


def _remove_kernels_of(client, pid: int) -> None:
    """Containers the gateway process started (whatever happened to the test)."""
    for c in client.containers.list(all=True, filters={"label": KERNEL_ID}):
        if c.labels.get("org.jupyter.gpu-kernels.server", "").endswith(f":{pid}"):
            c.remove(force=True, v=True)


@pytest.fixture
def topology(tmp_path, fake_gpu_daemon, test_image):
    """(gateway, user server), both started and answering; stopped and cleaned up afterwards."""
    gateway = start_gateway(tmp_path, _admin_config(fake_gpu_daemon, test_image), token=uuid.uuid4().hex)
    user = None
    try:
        gateway.wait_ready("/api/kernelspecs")
        user = start_user_server(tmp_path, gateway, token=uuid.uuid4().hex)
        user.wait_ready("/api/status")
        yield gateway, user
    finally:
        if user is not None:
            user.stop()
        gateway.stop()
        _remove_kernels_of(fake_gpu_daemon.client, gateway.proc.pid)


def _execute(ws: websocket.WebSocket, code: str) -> str:
    """Run ``code`` over a kernel websocket (JSON protocol); its stdout once the kernel is idle again."""
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "u",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                },
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
        )
    )
    stdout, status, idle = "", None, False
    # the reply comes on shell, the idle status on IOPub: either may reach the websocket first
    while status is None or not idle:
        reply = json.loads(ws.recv())  # the socket's timeout bounds each wait
        if reply.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = reply["msg_type"], reply["content"]
        if kind == "stream" and content["name"] == "stdout":
            stdout += content["text"]
        elif kind == "error":
            raise AssertionError(f"{content['ename']}: {content['evalue']}")
        elif kind == "execute_reply":
            status = content["status"]
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
    assert status == "ok", status
    return stdout


def _wait_gone(client, kernel_id: str, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while True:
        left = client.containers.list(all=True, filters={"label": f"{KERNEL_ID}={kernel_id}"})
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@pytest.mark.docker
@pytest.mark.gpu_fake
def test_user_server_without_docker_runs_a_gpu_kernel_on_the_gateway(topology, fake_gpu_daemon):
    gateway, user = topology
    api = user.url + "/api"
    # the user's server cannot reach Docker, and its own REST API says so plainly
    r = requests.get(user.url + "/gpu-kernels/api/hosts", headers=user.headers(), timeout=10)
    assert r.status_code == 409 and gateway.url in r.json()["message"], r.text
    r = requests.post(
        user.url + "/gpu-kernels/api/environments",
        headers=user.headers(),
        timeout=10,
        json={"name": "mine", "image": "anything", "mounts": ["/:/host"]},
    )
    assert r.status_code == 409 and r.json()["reason"] == "gateway", r.text

    specs = requests.get(api + "/kernelspecs", headers=user.headers(), timeout=30).json()["kernelspecs"]
    kernel_name = f"gpu-{ENV_NAME}"
    assert kernel_name in specs, sorted(specs)
    config = specs[kernel_name]["spec"]["metadata"]["kernel_provisioner"]["config"]
    assert config["host"] == "gpubox" and config["gpus"] == "1", config

    r = requests.post(api + "/kernels", headers=user.headers(), json={"name": kernel_name}, timeout=150)
    assert r.status_code == 201, (r.status_code, r.text, gateway.log_text())
    kernel_id = r.json()["id"]
    try:
        (container,) = fake_gpu_daemon.client.containers.list(filters={"label": f"{KERNEL_ID}={kernel_id}"})
        assert container.labels[GPUS], container.labels  # one fake GPU allocated on the gateway's daemon
        assert not [m for m in container.attrs["Mounts"] if m["Type"] == "bind"], container.attrs["Mounts"]
        ws = websocket.create_connection(
            f"ws://{user.url.split('://', 1)[1]}/api/kernels/{kernel_id}/channels",
            header=[f"Authorization: token {user.token}"],
            timeout=60,
        )
        try:
            assert _execute(ws, "print(1+1)").strip() == "2"
            gpus = _execute(
                ws,
                "import subprocess; print(subprocess.run(['nvidia-smi', '-L'], capture_output=True, text=True).stdout)",
            )
            assert gpus.count("GPU-") == 1 and container.labels[GPUS] in gpus, gpus
        finally:
            ws.close()
    finally:
        r = requests.delete(f"{api}/kernels/{kernel_id}", headers=user.headers(), timeout=60)
    assert r.status_code == 204, r.text
    assert not _wait_gone(fake_gpu_daemon.client, kernel_id)
    assert requests.get(api + "/kernels", headers=user.headers(), timeout=30).json() == []


# ------------------------------------------------------------------ gateway mode inside the user's server
@pytest.fixture
def jp_server_config():
    from jupyter_server.gateway.gateway_client import GatewayClient

    # GatewayClient is a singleton: one left by an earlier server of this pytest process (no url)
    # would be reused and the server would not be in gateway mode; clear it before and after
    GatewayClient.clear_instance()
    # what the package's config.d file sets, plus --gateway-url (nothing listens on the discard port)
    yield {
        "ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}, "kernel_spec_manager_class": CLASS_PATH},
        "GatewayClient": {"url": "http://127.0.0.1:9"},
    }
    GatewayClient.clear_instance()


def test_gateway_mode_uses_the_gateway_kernelspec_manager(jp_serverapp):
    from jupyter_server.gateway.managers import GatewayKernelSpecManager, GatewayMappingKernelManager

    from jupyter_gpu_kernels.environments import GPUKernelSpecManager

    ksm = jp_serverapp.kernel_spec_manager
    assert isinstance(ksm, GatewayKernelSpecManager) and not isinstance(ksm, GPUKernelSpecManager)
    assert isinstance(jp_serverapp.kernel_manager, GatewayMappingKernelManager)
    assert jp_serverapp.kernel_manager.kernel_spec_manager is ksm
    assert jp_serverapp.web_app.settings["kernel_spec_manager"] is ksm
    assert "gpu_kernels_settings" not in jp_serverapp.web_app.settings


async def test_gateway_mode_rest_api_says_the_gateway_manages_gpu_kernels(jp_fetch):
    from tornado.httpclient import HTTPClientError

    for path, method, body in (("hosts", "GET", None), ("environments", "POST", "{}"), ("kernels/abc", "DELETE", None)):
        with pytest.raises(HTTPClientError) as e:
            await jp_fetch("gpu-kernels", "api", *path.split("/"), method=method, body=body)
        assert e.value.code == 409
        reply = json.loads(e.value.response.body)
        assert reply["gateway_url"] == "http://127.0.0.1:9" and "managed by the gateway" in reply["message"]
