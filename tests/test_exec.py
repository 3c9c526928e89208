"""Issue #12 (part 2): a terminal in a kernel's container.

Real kernels in real containers: ``jupyter gpu-kernels exec`` run as a subprocess on a real pty
(pexpect), piped, and for an unknown kernel; the terminal websocket through a real Jupyter server
(stdin in, stdout out, the session's processes gone once the websocket closes, refused without a
token); and ``exec`` into a kernel on the SSH test host.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys

import pexpect
import pytest
from tornado.httpclient import HTTPClientError

from jupyter_gpu_kernels.daemon.labels import KERNEL_ID

from .kernel_helpers import install_spec, isolated_jupyter_dirs, run_cell, start_kernel, stop_kernel
from .test_remote import remote, rhost  # noqa: F401  (fixtures: the SSH test host)

pytestmark = pytest.mark.docker
CLI = [sys.executable, "-m", "jupyter_gpu_kernels.cli"]
WHO = "import os; print(os.getuid(), os.getcwd())"


def exec_on_a_pty(kernel_id: str) -> tuple[str, str]:
    """Drive ``exec KERNEL_ID`` on a real pty: (uid, cwd) the shell reports; also checks resize and exit status."""
    child = pexpect.spawn(CLI[0], [*CLI[1:], "exec", kernel_id], encoding="utf-8", timeout=60, dimensions=(30, 100))
    try:
        child.expect(r"[#$] ")  # the prompt: the shell reads its terminal now (earlier input may be flushed)
        child.sendline("echo U=$(id -u) D=$(pwd) S=$(stty size)")
        child.expect(r"U=(\d+) D=(\S+) S=30 100\r\n")
        uid, cwd = child.match.group(1), child.match.group(2)
        child.setwinsize(40, 120)  # SIGWINCH → exec_resize
        child.sendline("echo R=$(stty size)")
        child.expect(r"R=40 120\r\n")
        child.sendline("exit 3")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 3
    return uid, cwd


def test_exec_pty_pipe_and_unknown_kernel(tmp_path, monkeypatch, test_image, no_leftovers):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    install_spec("ex", test_image)
    km, kc = start_kernel("ex")
    try:
        uid, cwd = run_cell(kc, WHO)["stdout"].split()
        assert exec_on_a_pty(km.kernel_id[:8]) == (uid, cwd)  # the kernel's user, in its working directory

        piped = subprocess.run(
            [*CLI, "exec", km.kernel_id, "sh"],
            input="echo hi; id -u; echo oops >&2; exit 4\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (piped.returncode, piped.stdout, piped.stderr) == (4, f"hi\n{uid}\n", "oops\n")
        with_args = subprocess.run(
            [*CLI, "exec", km.kernel_id, "--", "ls", "-d", "/etc"],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        assert (with_args.returncode, with_args.stdout) == (0, "/etc\n")
        container = km.provisioner.container_id
        top = subprocess.run(["docker", "top", container], capture_output=True, text=True).stdout
        assert "ls -d" not in top and " sh" not in top
    finally:
        stop_kernel(km, kc)
    unknown = subprocess.run(
        [*CLI, "exec", "ffffffff-none"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )
    assert unknown.returncode == 1 and unknown.stderr.startswith("error: no kernel 'ffffffff-none'")
    assert len(unknown.stderr.strip().splitlines()) == 1


def test_exec_and_commit_refuse_an_ambiguous_kernel_id(docker_client, test_image, no_leftovers):
    """An id prefix two kernel containers share is refused (AmbiguousKernelId), one line, exit 1."""
    made = [
        docker_client.containers.create(test_image, "true", labels={KERNEL_ID: f"feedbeef-{i}000-test"}) for i in (1, 2)
    ]
    try:
        for argv in (["exec", "feedbeef"], ["commit", "feedbeef", "--tag", "jgk-ambiguous:test"]):
            run = subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            assert run.returncode == 1 and run.stderr.startswith("error: kernel id 'feedbeef' is ambiguous"), run
            assert len(run.stderr.strip().splitlines()) == 1
    finally:
        for c in made:
            c.remove(force=True)


# --------------------------------------------------------------------------- websocket
@pytest.fixture
def jp_server_config(test_image):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}},
        "GPUKernelsImagePolicy": {"allowed_images": [test_image]},
    }


async def read_until(ws, pattern: str) -> str:
    """stdout messages until ``pattern`` (a regex) shows up in what came; returns it all."""
    seen = ""
    while not re.search(pattern, seen):
        message = await asyncio.wait_for(ws.read_message(), 60)
        assert message is not None, f"websocket closed; got {seen!r}"
        kind, *rest = json.loads(message)
        if kind == "stdout":
            seen += rest[0]
    return seen


async def wait_gone(docker_client, container_id: str, command: str) -> list:
    for _ in range(200):
        procs = [p[-1] for p in docker_client.containers.get(container_id).top()["Processes"]]
        if not any(command in p for p in procs):
            return procs
        await asyncio.sleep(0.1)
    return procs


async def test_terminal_websocket(jp_fetch, jp_ws_fetch, docker_client, test_image, no_leftovers):
    await jp_fetch(
        "gpu-kernels", "api", "environments", method="POST", body=json.dumps({"name": "term", "image": test_image})
    )
    kid = json.loads((await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "gpu-term"}))).body)[
        "id"
    ]
    try:
        (container,) = docker_client.containers.list(filters={"label": f"{KERNEL_ID}={kid}"})
        cid = container.id
        ws = await jp_ws_fetch("gpu-kernels", "api", "kernels", kid, "terminal")
        assert json.loads(await ws.read_message())[0] == "setup"
        ws.write_message(json.dumps(["set_size", 30, 90, 600, 900]))
        ws.write_message(json.dumps(["stdin", "echo R=$((6*7)) S=$(stty size) U=$(id -u); sleep 4242 &\r"]))
        out = await read_until(ws, r"R=42 S=30 90 U=(\d+)")
        user = container.attrs["Config"]["User"] or "0"  # the uid the kernel runs as (the server's, here)
        assert re.search(rf"U={user.split(':')[0]}\r", out), out
        procs = [p[-1] for p in docker_client.containers.get(cid).top()["Processes"]]
        assert any("sleep 4242" in p for p in procs), procs
        ws.close()
        procs = await wait_gone(docker_client, cid, "sleep 4242")
        assert not any("sleep 4242" in p or p in ("bash", "sh") for p in procs), procs

        ws = await jp_ws_fetch("gpu-kernels", "api", "kernels", kid, "terminal")
        assert json.loads(await ws.read_message())[0] == "setup"
        ws.write_message(json.dumps(["stdin", "exit\r"]))
        while (message := await asyncio.wait_for(ws.read_message(), 60)) is not None:
            if json.loads(message)[0] == "disconnect":
                break
        assert message is not None and json.loads(message) == ["disconnect", 1]

        for headers, code in (({"Authorization": "token wrong"}, 403), ({}, 404)):
            parts = ("kernels", kid if code == 403 else "00000000-none", "terminal")
            with pytest.raises(HTTPClientError) as refused:
                await jp_ws_fetch("gpu-kernels", "api", *parts, headers=headers)
            assert refused.value.code == code
    finally:
        await jp_fetch("api", "kernels", kid, method="DELETE")


# --------------------------------------------------------------------------- remote
@pytest.mark.remote
def test_exec_on_the_ssh_host(rhost, remote, test_image):  # noqa: F811
    install_spec("farx", test_image, "--host", "gpubox")
    km, kc = start_kernel("farx")
    try:
        uid, cwd = run_cell(kc, WHO)["stdout"].split()
        assert cwd == "/workspace"
        assert remote.daemon.client.containers.get(km.provisioner.container_id).status == "running"
        assert exec_on_a_pty(km.kernel_id) == (uid, cwd)
    finally:
        stop_kernel(km, kc)
