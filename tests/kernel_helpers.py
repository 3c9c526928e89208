"""Small helpers for tests that drive real kernels.

Also two fixtures, imported by the test modules that use them: ``jdirs`` (isolated Jupyter
dirs, cwd in ``<tmp>/work``) and ``no_leftovers`` (main daemon only, containers of this process).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import uuid
from pathlib import Path

import docker
import pytest

from jupyter_gpu_kernels import cli
from jupyter_gpu_kernels.daemon.labels import KERNEL_ID

from .support.leftovers import created_here


def install_spec(name: str, image: str, *extra: str) -> Path:
    """Install a kernelspec with the real CLI into the (test-isolated) user data dir."""
    assert cli.main(["install", name, "--image", image, "--user", *extra]) == 0
    from jupyter_client.kernelspec import KernelSpecManager

    return Path(KernelSpecManager().get_kernel_spec(name).resource_dir)


def edit_spec(name: str, **changes: object) -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    path = Path(KernelSpecManager().get_kernel_spec(name).resource_dir) / "kernel.json"
    spec = json.loads(path.read_text())
    for key, value in changes.items():
        if key == "config":
            spec["metadata"]["kernel_provisioner"]["config"].update(value)  # type: ignore[arg-type]
        else:
            spec[key] = value
    path.write_text(json.dumps(spec))


def start_kernel(name: str, **kw):
    """A started kernel of kernelspec ``name`` and a ready client: (km, kc)."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=name)
    km.start_kernel(**kw)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc


def stop_kernel(km, kc, now: bool = False) -> None:
    kc.stop_channels()
    km.shutdown_kernel(now=now)


def run_cell(kc, code: str, timeout: float = 30) -> dict:
    """Execute ``code``; return {'status', 'stdout', 'stderr', 'data', 'error'}."""
    out: dict = {"stdout": "", "stderr": "", "data": [], "error": None}

    def hook(msg):
        t, c = msg["msg_type"], msg["content"]
        if t == "stream":
            out[c["name"]] += c["text"]
        elif t in ("display_data", "execute_result"):
            out["data"].append(c["data"])
        elif t == "error":
            out["error"] = c["ename"]

    reply = kc.execute_interactive(code, output_hook=hook, timeout=timeout)
    out["status"] = reply["content"]["status"]
    return out


def iopub_ready(kc, tries: int = 15, wait: float = 2.0) -> None:
    """After a restart, wait until the client's IOPub subscription is connected again.

    ZeroMQ SUB sockets reconnect on their own, but what the kernel publishes before the
    subscription is back is lost (the "slow joiner"): through an SSH forward under load that can
    outlast ``wait_for_ready``. An empty execution whose ``idle`` status arrives proves it is back.
    """
    import queue

    for _ in range(tries):
        msg_id = kc.execute("", store_history=False)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                msg = kc.get_iopub_msg(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            if (
                msg.get("parent_header", {}).get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"].get("execution_state") == "idle"
            ):
                kc.get_shell_msg(timeout=wait)  # its execute_reply
                return
    raise AssertionError(f"IOPub never delivered a status after {tries} tries")


def our_containers(client: docker.DockerClient) -> list:
    return client.containers.list(all=True, filters={"label": KERNEL_ID}, ignore_removed=True)


def isolated_jupyter_dirs(tmp_path: Path, monkeypatch) -> None:
    for var, sub in (
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
    ):
        (tmp_path / sub).mkdir(exist_ok=True)
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "data"))
    os.environ.pop("JUPYTER_PREFER_ENV_PATH", None)


@pytest.fixture
def jdirs(tmp_path, monkeypatch):
    """Isolated Jupyter dirs under ``tmp_path``, the cwd in ``tmp_path/work``; returns ``tmp_path``."""
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


@pytest.fixture
def no_leftovers(docker_client):
    """Fail the test if it leaves kernel containers (of this process) on the main daemon."""
    before = {c.id for c in our_containers(docker_client)}
    yield
    left = [c.name for c in our_containers(docker_client) if c.id not in before and created_here(c)]
    assert not left, f"containers left behind: {left}"


def _ws_request(msg_type: str, content: dict) -> tuple[str, str]:
    msg_id = uuid.uuid4().hex
    return msg_id, json.dumps(
        {
            "header": {"msg_id": msg_id, "msg_type": msg_type, "username": "t", "session": "s", "version": "5.3"},
            "parent_header": {},
            "metadata": {},
            "channel": "shell",
            "content": content,
        }
    )


async def ws_ready(ws, timeout: float = 60, every: float = 3) -> None:
    """Until a kernel_info_reply comes back (asked again every ``every`` s), as JupyterLab does after
    connecting: a request sent before the server's channels to the kernel are up can be lost."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        msg_id, request = _ws_request("kernel_info_request", {})
        await ws.write_message(request)
        until = min(deadline, asyncio.get_running_loop().time() + every)
        while (left := until - asyncio.get_running_loop().time()) > 0:
            try:
                raw = await asyncio.wait_for(ws.read_message(), left)
            except asyncio.TimeoutError:
                break
            if raw is None:
                raise AssertionError("the kernel websocket closed before a kernel_info_reply came")
            reply = json.loads(raw)
            if reply.get("msg_type") == "kernel_info_reply" and reply.get("parent_header", {}).get("msg_id") == msg_id:
                return
        if asyncio.get_running_loop().time() >= deadline:
            raise AssertionError(f"no kernel_info_reply over the websocket within {timeout:g}s")


async def ws_execute(ws, code: str, timeout: float = 60) -> str:
    """Run ``code`` over a kernel websocket; its stdout once the reply came and the kernel is idle."""
    await ws_ready(ws, timeout)
    msg_id, request = _ws_request(
        "execute_request",
        {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False},
    )
    await ws.write_message(request)
    out, replied, idle = "", False, False
    # The reply comes on shell, the output and the idle status on IOPub: separate streams, so
    # either may reach the websocket first (idle before the reply happens, more often under load).
    while not (replied and idle):
        raw = await asyncio.wait_for(ws.read_message(), timeout)
        if raw is None:
            raise AssertionError(f"the kernel websocket closed before the execution finished (output so far: {out!r})")
        reply = json.loads(raw)
        if reply.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if reply["msg_type"] == "stream":
            out += reply["content"]["text"]
        replied = replied or reply["msg_type"] == "execute_reply"
        idle = idle or (reply["msg_type"] == "status" and reply["content"]["execution_state"] == "idle")
    return out


async def until(check, what: str, timeout: float = 180.0, pause: float = 0.3):
    """Wait (generously) for ``check()`` (sync or async) to be truthy; the deadline only keeps a
    broken run from hanging, it is not what a test measures."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(pause)
    raise AssertionError(f"never happened: {what}")


def own_daemon_host(host_name: str, base_name: str, first_index: int):
    """Body of a fixture for a fake-GPU daemon of one test alone (its own netns slot, so stopping or
    killing it disturbs no shared daemon), registered as host ``host_name``; removed even on failure."""
    from jupyter_gpu_kernels.daemon.allocator import GPUAllocator
    from jupyter_gpu_kernels.hosts import transport
    from jupyter_gpu_kernels.hosts.registry import DockerHosts

    from .support.netns_daemon import start_netns_daemon

    daemon = start_netns_daemon(base_name, fake_gpu=True, first_index=first_index)
    try:
        DockerHosts().add(host_name, daemon.url)
        GPUAllocator._instances.clear()
        yield daemon
    finally:
        try:
            transport.forget(DockerHosts().get(host_name))
        finally:
            daemon.stop()


def zmq_answers(addr: str, port: int, timeout: float = 1.5) -> bool:
    """Whether a ZeroMQ endpoint answers at ``addr:port``: a TCP connect that gets ZMTP's greeting
    (0xFF, 8 bytes, 0x7F). A plain connect is not proof: a network's gateway may accept a
    connection to any unroutable address (this test machine's does, for some ports)."""
    with socket.socket() as s:
        s.settimeout(timeout)
        if s.connect_ex((addr, port)) != 0:
            return False
        try:
            s.sendall(b"\xff" + b"\0" * 8 + b"\x7f")
            greeting = s.recv(10)
        except OSError:
            return False
    return len(greeting) >= 10 and greeting[0] == 0xFF and greeting[9] == 0x7F
