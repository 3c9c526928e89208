"""Owner loss, for real: a ``jupyter server`` subprocess with a GPU kernel on the fake-GPU daemon is
SIGKILLed; a restarted server adopts the kernel (listed, runs a cell, shuts down, GPU freed); with
no restart, ``prune`` removes the container and the GPU is free; a client process that exits without
shutdown leaves a container that ``prune`` reaps; ``prune --dry-run`` removes nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from jupyter_client.session import Session
from tornado.websocket import websocket_connect

from jupyter_gpu_kernels.daemon import labels as L
from jupyter_gpu_kernels.kernel.kernelspecs import kernel_json, provisioner_config

from .support.servers import api_json, free_port, stop_process

pytestmark = [pytest.mark.docker, pytest.mark.gpu_fake]


@dataclass
class Site:
    """Isolated Jupyter dirs with a host 'fakegpu' and a kernelspec 'gpuk' (one fake GPU)."""

    env: dict
    root: Path
    port: int
    token: str
    log: Path
    proc: subprocess.Popen | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "jupyter_gpu_kernels.cli.app", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def api(self, path: str, method: str = "GET", body: dict | None = None):
        return api_json(f"http://127.0.0.1:{self.port}", self.token, path, method, body, timeout=60)

    def start_server(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jupyter_server", "--allow-root"],
                env=self.env,
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for _ in range(360):
            if self.proc.poll() is not None:
                pytest.fail(f"jupyter server exited:\n{self.log.read_text()[-3000:]}", pytrace=False)
            try:
                self.api("/api/status")
                return
            except OSError:
                time.sleep(0.25)
        pytest.fail(f"jupyter server did not answer:\n{self.log.read_text()[-3000:]}", pytrace=False)

    def kill_server(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


@pytest.fixture
def site(tmp_path, fake_gpu_daemon, docker_daemon):
    dirs = {n: tmp_path / n for n in ("config", "data", "runtime", "root", "home")}
    for d in dirs.values():
        d.mkdir()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "HOME": str(dirs["home"]),
        "DOCKER_HOST": docker_daemon.url,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("JUPYTER_PATH", None)
    s = Site(env, dirs["root"], free_port(), uuid.uuid4().hex, tmp_path / "server.log")
    (dirs["config"] / "jupyter_server_config.py").write_text(
        f"c.ServerApp.ip = '127.0.0.1'\nc.ServerApp.port = {s.port}\nc.ServerApp.port_retries = 0\n"
        f"c.IdentityProvider.token = {s.token!r}\nc.ServerApp.root_dir = {str(s.root)!r}\n"
        "c.ServerApp.open_browser = False\n"
        "c.ServerApp.jpserver_extensions = {'jupyter_gpu_kernels': True}\n"
    )
    assert s.cli("hosts", "add", "fakegpu", fake_gpu_daemon.url).returncode == 0
    yield s
    if s.proc is not None:
        stop_process(s.proc, grace=30)
    for c in fake_gpu_daemon.client.containers.list(all=True, filters={"label": L.KERNEL_ID}):
        if c.labels.get(L.KERNEL_ID) in s.__dict__.get("kernels", ()):
            c.remove(force=True, v=True)


def add_spec(site: Site, image: str, orphan_timeout: float) -> None:
    cfg = provisioner_config(image=image, gpus=1, host="fakegpu")
    cfg["orphan_timeout"] = orphan_timeout
    d = Path(site.env["JUPYTER_DATA_DIR"]) / "kernels" / "gpuk"
    d.mkdir(parents=True)
    (d / "kernel.json").write_text(json.dumps(kernel_json("gpuk", cfg)))


def container_of(client, kernel_id: str):
    found = client.containers.list(all=True, filters={"label": f"{L.KERNEL_ID}={kernel_id}"})
    return found[0] if found else None


def until(check, what: str, tries: int = 400, pause: float = 0.25):
    for _ in range(tries):
        value = check()
        if value:
            return value
        time.sleep(pause)
    pytest.fail(f"never happened: {what}", pytrace=False)


async def run_cell_over_ws(site: Site, kernel_id: str, code: str) -> str:
    ws = await websocket_connect(f"ws://127.0.0.1:{site.port}/api/kernels/{kernel_id}/channels?token={site.token}")
    session = Session()
    msg = session.msg(
        "execute_request",
        {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False},
    )
    msg["channel"] = "shell"
    ws.write_message(json.dumps(msg, default=str))
    out, replied, idle = "", False, False
    while not (replied and idle):  # shell and iopub are separate streams: the reply may come before the output
        reply = json.loads(await asyncio.wait_for(ws.read_message(), 60))
        if reply.get("parent_header", {}).get("msg_id") != msg["header"]["msg_id"]:
            continue
        if reply["msg_type"] == "stream":
            out += reply["content"]["text"]
        replied = replied or reply["msg_type"] == "execute_reply"
        idle = idle or (reply["msg_type"] == "status" and reply["content"]["execution_state"] == "idle")
    ws.close()
    return out


def test_restarted_server_adopts_its_gpu_kernel(site, fake_gpu_daemon):
    add_spec(site, fake_gpu_daemon.test_image, orphan_timeout=120)
    site.start_server()
    kernel_id = site.api("/api/kernels", "POST", {"name": "gpuk"})["id"]
    site.kernels = [kernel_id]
    assert asyncio.run(run_cell_over_ws(site, kernel_id, "x = 41")) == ""
    site.kill_server()
    container = container_of(fake_gpu_daemon.client, kernel_id)
    assert container is not None and container.status == "running"
    gpu = container.labels[L.GPUS]

    site.start_server()  # same root dir, port and runtime dir: the same server, restarted
    until(lambda: kernel_id in [k["id"] for k in site.api("/api/kernels")], "the kernel listed again")
    assert asyncio.run(run_cell_over_ws(site, kernel_id, "print(x + 1)")) == "42\n"  # the same kernel process
    orphans = site.api("/gpu-kernels/api/orphans?host=fakegpu")["orphans"]
    assert kernel_id not in [o["kernel_id"] for o in orphans]  # the new server holds the lease

    site.api(f"/api/kernels/{kernel_id}", "DELETE")
    assert container_of(fake_gpu_daemon.client, kernel_id) is None
    held = json.loads(site.cli("gpus", "--host", "fakegpu", "--json").stdout)
    assert not [h for g in held["gpus"] for h in g["holders"] if h["kernel_id"] == kernel_id], held
    assert gpu  # it did hold one


def test_killed_server_kernel_is_pruned_and_its_gpu_freed(site, fake_gpu_daemon):
    add_spec(site, fake_gpu_daemon.test_image, orphan_timeout=2)
    site.start_server()
    kernel_id = site.api("/api/kernels", "POST", {"name": "gpuk"})["id"]
    site.kernels = [kernel_id]
    # while the owner lives, nothing is an orphan
    listed = json.loads(site.cli("prune", "--dry-run", "--host", "fakegpu", "--json").stdout)
    assert kernel_id not in [o["kernel_id"] for o in listed["orphans"]]
    site.kill_server()

    def due():
        rows = json.loads(site.cli("prune", "--dry-run", "--host", "fakegpu", "--json").stdout)["orphans"]
        return [o for o in rows if o["kernel_id"] == kernel_id and o["due"]]

    row = until(due, "the kernel listed as a due orphan", tries=120, pause=0.5)[0]
    assert row["holder"].endswith(f":{site.proc.pid}") and not row["removed"]
    assert container_of(fake_gpu_daemon.client, kernel_id) is not None  # --dry-run removed nothing
    result = site.cli("prune", "--host", "fakegpu")
    assert result.returncode == 0 and "removed" in result.stdout, result
    assert container_of(fake_gpu_daemon.client, kernel_id) is None
    held = json.loads(site.cli("gpus", "--host", "fakegpu", "--json").stdout)
    assert not [h for g in held["gpus"] for h in g["holders"] if h["kernel_id"] == kernel_id]


CLIENT = """
import os, sys
from jupyter_client.manager import KernelManager
km = KernelManager(kernel_name="gpuk")
km.start_kernel()
print(km.kernel_id, flush=True)
os._exit(0)  # no shutdown: the process just ends
"""


def test_client_process_exit_leaves_an_orphan_that_is_reaped(site, fake_gpu_daemon):
    add_spec(site, fake_gpu_daemon.test_image, orphan_timeout=0)
    proc = subprocess.run([sys.executable, "-c", CLIENT], env=site.env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    kernel_id = proc.stdout.strip().splitlines()[-1]
    site.kernels = [kernel_id]
    assert container_of(fake_gpu_daemon.client, kernel_id).status == "running"
    result = site.cli("prune", "--host", "fakegpu", "--json")
    rows = [o for o in json.loads(result.stdout)["orphans"] if o["kernel_id"] == kernel_id]
    assert rows and rows[0]["removed"], result.stdout
    assert container_of(fake_gpu_daemon.client, kernel_id) is None
