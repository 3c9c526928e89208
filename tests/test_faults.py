"""Kernel lifecycle under faults (issue #14), end to end: real dockerd, real kernels, real servers.

- start errors reach ``POST /api/kernels`` callers with our status and message;
- an OOM-killed kernel's death is recorded (REST row ``last_death``) and the restarter restarts it;
- signals reach the kernel's process group;
- restarts with new ports work (also the restarter's, for a kernel killed in its first second);
- a restart that cannot get its GPU back leaves a kernel reported dead, and no container;
- shutdown while the kernel's host is unreachable succeeds; the container it could not remove is
  reaped by this process once the host is back, and reserves no GPU meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid

import pytest
from jupyter_client.ioloop import AsyncIOLoopKernelManager
from jupyter_client.manager import KernelManager
from tornado.httpclient import HTTPClientError

from jupyter_gpu_kernels.daemon import labels as L
from jupyter_gpu_kernels.daemon.allocator import GPUAllocator
from jupyter_gpu_kernels.daemon.reaper import reap_hosts
from jupyter_gpu_kernels.daemon.records import KernelContainer
from jupyter_gpu_kernels.hosts import transport
from jupyter_gpu_kernels.hosts.registry import DockerHosts
from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json, provisioner_config

from .kernel_helpers import our_containers, run_cell, ws_execute
from .support.leftovers import LeftoverTracker

pytestmark = pytest.mark.docker

CRASH_ARGV = ["python", "-c", "import sys; print('boom: kernel cannot start', file=sys.stderr); sys.exit(3)"]


@pytest.fixture
def jp_server_config(test_image):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}},
        "ImagePolicy": {"allowed_images": [test_image]},
    }


def spec(name: str, argv: list[str] | None = None, **config) -> str:
    cfg = provisioner_config(**{k: v for k, v in config.items() if k not in ("argv", "remote_workspace")})
    cfg.update({k: v for k, v in config.items() if k in ("argv", "remote_workspace")})
    install(name, kernel_json(name, cfg, argv=argv), user=True)
    return name


async def rest(jp_fetch, *parts, method="GET", body=None, expect=200):
    """(status, JSON body) of one call; asserts the status."""
    try:
        r = await jp_fetch(
            *parts, method=method, body=None if body is None else json.dumps(body), allow_nonstandard_methods=True
        )
        code, data = r.code, r.body
    except HTTPClientError as e:
        code, data = e.code, (e.response.body if e.response else b"")
    assert code == expect, (code, data)
    return json.loads(data) if data else None


async def rows(jp_fetch) -> dict[str, dict]:
    return {r["kernel_id"]: r for r in (await rest(jp_fetch, "gpu-kernels", "api", "kernels"))["kernels"]}


async def until(check, what: str, tries: int = 240, pause: float = 0.5):
    """Poll ``check`` (a coroutine function) until it returns something truthy."""
    for _ in range(tries):
        value = await check()
        if value:
            return value
        await asyncio.sleep(pause)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
def fakegpu(jp_environ, fake_gpu_daemon):
    """The fake-GPU daemon as host 'fakegpu' of the server under test; no kernel container left."""
    DockerHosts().add("fakegpu", fake_gpu_daemon.url)
    GPUAllocator._instances.clear()
    mine = LeftoverTracker(fake_gpu_daemon.client)  # only the containers this test creates count
    yield fake_gpu_daemon
    left = mine.check_and_remove()
    assert not left, f"left behind: {left}"


# ------------------------------------------------------------------ start errors over REST
@pytest.mark.gpu_fake
async def test_start_errors_reach_rest_callers(
    jp_fetch, jp_runtime_dir, fakegpu, test_image, plain_image, docker_client
):
    spec("gpu0", image=test_image, host="fakegpu", gpus="device=0")
    spec("refused", image=plain_image)
    spec("crash", argv=CRASH_ARGV, image=test_image)
    on_fakegpu, on_main = LeftoverTracker(fakegpu.client), LeftoverTracker(docker_client)
    holder = await rest(jp_fetch, "api", "kernels", method="POST", body={"name": "gpu0"}, expect=201)
    try:
        before = set(p.name for p in jp_runtime_dir.glob("kernel-*.json"))
        err = await rest(jp_fetch, "api", "kernels", method="POST", body={"name": "gpu0"}, expect=409)
        assert "in use by kernel" in err["message"] and holder["id"][:8] in err["message"], err
        assert err["reason"] and "\n" not in err["reason"]

        err = await rest(jp_fetch, "api", "kernels", method="POST", body={"name": "refused"}, expect=403)
        assert plain_image in err["message"] and "allow" in err["message"], err

        err = await rest(jp_fetch, "api", "kernels", method="POST", body={"name": "crash"}, expect=500)
        assert "exited before it was ready" in err["message"] and "exit code 3" in err["message"], err
        assert "boom: kernel cannot start" in err["message"], err

        # nothing left behind: one kernel listed, one container, no extra connection file
        listed = await rest(jp_fetch, "api", "kernels")
        assert [k["id"] for k in listed] == [holder["id"]]
        assert [c.name for c in on_fakegpu.leftovers()] == [f"jupyter-kernel-{holder['id']}"]
        assert not on_main.leftovers()
        assert set(p.name for p in jp_runtime_dir.glob("kernel-*.json")) == before
    finally:
        await rest(jp_fetch, "api", "kernels", holder["id"], method="DELETE", expect=204)


# ------------------------------------------------------------------ OOM explained, restart happens
async def test_oom_death_is_recorded_and_the_kernel_restarted(jp_fetch, jp_ws_fetch, test_image, docker_client):
    spec("small", image=test_image, memory="200m")
    mine = LeftoverTracker(docker_client)  # other sessions may run kernels on this daemon
    kid = (await rest(jp_fetch, "api", "kernels", method="POST", body={"name": "small"}, expect=201))["id"]
    try:
        first = (await rows(jp_fetch))[kid]["container"]
        ws = await jp_ws_fetch("api", "kernels", kid, "channels")
        assert (await ws_execute(ws, "print('ok')")).strip() == "ok"
        await ws.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": uuid.uuid4().hex,
                        "msg_type": "execute_request",
                        "username": "t",
                        "session": "s",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "content": {
                        "code": "x = b'\\x01' * (1 << 30)",
                        "silent": False,
                        "store_history": False,
                        "user_expressions": {},
                        "allow_stdin": False,
                    },
                }
            )
        )

        async def died():
            return (await rows(jp_fetch)).get(kid, {}).get("last_death")

        death = await until(died, "the OOM kill is recorded")
        assert death["oom_killed"] is True and death["exit_code"] == 137, death
        assert death["memory_limit"] == 200 * 1024 * 1024
        assert "OOM-killed at its 200 MiB memory limit" in death["reason"]

        async def restarted():
            row = (await rows(jp_fetch)).get(kid, {})
            return row.get("state") == "running" and row.get("container") not in ("", first)

        await until(restarted, "the restarter starts a new container")
        ws.close()
        ws = await jp_ws_fetch("api", "kernels", kid, "channels")
        assert (await ws_execute(ws, "print(6 * 7)")).strip() == "42"
        assert (await rows(jp_fetch))[kid]["last_death"]["oom_killed"] is True  # still says why it restarted
        ws.close()
    finally:
        await rest(jp_fetch, "api", "kernels", kid, method="DELETE", expect=204)
    assert not mine.leftovers()


# ------------------------------------------------------------------ signals to the process group
def test_interrupt_reaches_the_kernels_subprocesses(jp_environ, test_image, docker_client):
    spec("sig", image=test_image)
    mine = LeftoverTracker(docker_client)
    km = KernelManager(kernel_name="sig")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        r = run_cell(kc, "import subprocess; child = subprocess.Popen(['sleep', '1000']); print(child.pid)")
        assert r["status"] == "ok" and int(r["stdout"])
        msg_id = kc.execute("import time; time.sleep(60)")
        time.sleep(1.0)  # let the cell start sleeping (not a timed assertion)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=20)
        assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["ename"] == "KeyboardInterrupt"
        r = run_cell(kc, "print(child.wait(timeout=10))")
        assert r["stdout"].strip() == "-2", r  # the child got SIGINT too (killpg semantics)
        r = run_cell(kc, "child = subprocess.Popen(['sleep', '1000']); print('started')")
        km.signal_kernel(2)
        assert run_cell(kc, "print(child.wait(timeout=10))")["stdout"].strip() == "-2"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert not mine.leftovers()


# ------------------------------------------------------------------ restarts with new ports
def test_restart_with_new_ports(jp_environ, test_image, docker_client):
    spec("ports", image=test_image)
    mine = LeftoverTracker(docker_client)
    km = KernelManager(kernel_name="ports")
    km.start_kernel()
    try:
        old = km.get_connection_info()
        km.restart_kernel(now=True, newports=True)
        new = km.get_connection_info()
        assert new["shell_port"] != old["shell_port"] and new["ip"] == km.provisioner.result.address
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        assert run_cell(kc, "print('new ports')")["stdout"] == "new ports\n"
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=True)
    assert not mine.leftovers()


async def test_kernel_killed_in_its_first_second_is_restarted(jp_environ, test_image, docker_client):
    spec("young", image=test_image)
    mine = LeftoverTracker(docker_client)
    km = AsyncIOLoopKernelManager(kernel_name="young")
    await km.start_kernel()
    restarts = []
    km.add_restart_callback(lambda: restarts.append(1), "restart")
    km.start_restarter()
    try:
        first = km.provisioner.container_id
        docker_client.containers.get(first).kill()  # right after it answered its first heartbeat

        async def back():
            return km.provisioner.container_id not in (None, first) and await km.is_alive()

        await until(back, "the restarter brings the kernel back")
        assert restarts and "SIGKILL" in km.provisioner.last_death["reason"]
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=60)
        out = []
        reply = await kc.execute_interactive(
            "print('alive again')",
            timeout=30,
            output_hook=lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None,
        )
        assert reply["content"]["status"] == "ok" and "".join(out) == "alive again\n"
        kc.stop_channels()
    finally:
        km.stop_restarter()
        await km.shutdown_kernel(now=True)
    assert not mine.leftovers()


# ------------------------------------------------------------------ a restart that cannot complete
@pytest.mark.gpu_fake
async def test_restart_that_loses_its_gpu_is_reported_dead(jp_fetch, jp_serverapp, fakegpu, test_image):
    spec("one", image=test_image, host="fakegpu", gpus="1")
    kid = (await rest(jp_fetch, "api", "kernels", method="POST", body={"name": "one"}, expect=201))["id"]
    km = jp_serverapp.kernel_manager.get_kernel(kid)
    km.stop_restarter()  # this test drives the restart itself
    gpu = km.provisioner.gpu_ids[0]
    thief = fakegpu.client.containers.run(  # a foreign kernel that holds the GPU by its labels
        test_image,
        ["sleep", "1000"],
        detach=True,
        name=f"jupyter-kernel-thief-{uuid.uuid4().hex[:8]}",
        labels=KernelContainer(
            kernel_id="thief", host="fakegpu", notebook="thief.ipynb", gpus=gpu, state="running"
        ).to_labels(),
    )
    try:
        err = await rest(jp_fetch, "api", "kernels", kid, "restart", method="POST", expect=500)
        assert err is not None
        assert not [c for c in our_containers(fakegpu.client) if c.name == f"jupyter-kernel-{kid}"]
        assert not await km.is_alive()
        row = (await rows(jp_fetch))[kid]
        assert row["state"] == "dead" and row["execution_state"] == "dead", row
        assert "thief" in row["error"] or "in use" in row["error"], row
    finally:
        thief.remove(force=True)
        await rest(jp_fetch, "api", "kernels", kid, method="DELETE", expect=204)


# ------------------------------------------------------------------ shutdown with the host gone
class TCPProxy:
    """127.0.0.1:<port> → the local Docker socket, until stopped (then the port refuses)."""

    def __init__(self, socket_path: str = "/var/run/docker.sock", port: int = 0) -> None:
        """``port``: listen on that one (the host coming back at the same address)."""
        self.socket_path = socket_path
        self.server = socket.create_server(("127.0.0.1", port))
        self.port = self.server.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.socket_path)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        self.running = False
        self.server.close()
        for s in self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass


def kernel_behind_proxy(name: str, image: str, socket_path: str = "/var/run/docker.sock", **config):
    """A started kernel on host ``name``, ``tcp://127.0.0.1:<port>`` of a :class:`TCPProxy` to
    ``socket_path``: (proxy, kernel manager, container id). Stopping the proxy makes the host
    unreachable."""
    proxy = TCPProxy(socket_path)
    DockerHosts().add(name, f"tcp://127.0.0.1:{proxy.port}")
    spec(name, image=image, host=name, remote_workspace="", **config)
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    return proxy, km, km.provisioner.container_id


def test_shutdown_while_the_host_is_unreachable(jp_environ, test_image, docker_client):
    proxy, km, cid = kernel_behind_proxy("flaky", test_image)
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        assert run_cell(kc, "print('reachable')")["stdout"] == "reachable\n"
        kc.stop_channels()
        proxy.stop()
        transport.forget(DockerHosts().get("flaky"))
        km.shutdown_kernel(now=True)  # must not raise
        assert not km.is_alive() and km.provisioner.container_id is None
        assert "unreachable" in (km.provisioner.host_error or "")
        assert docker_client.containers.get(cid).labels["org.jupyter.gpu-kernels.kernel-id"] == km.kernel_id
    finally:
        proxy.stop()
        for c in our_containers(docker_client):
            if c.id == cid:
                c.remove(force=True, v=True)


def test_a_gpu_kernel_shut_down_while_its_host_is_unreachable_is_reaped_when_it_is_back(jp_environ, fake_gpu_daemon):
    """The shutdown succeeds and disowns the container it could not remove: its GPU is not held for
    a restart meanwhile (stopped, it reserves nothing), and this process's reaper removes it once
    the daemon answers again, though its owner (this process) is alive."""
    client = fake_gpu_daemon.client
    socket_path = fake_gpu_daemon.url.removeprefix("unix://")
    proxy, km, cid = kernel_behind_proxy("flakygpu", fake_gpu_daemon.test_image, socket_path, gpus=1)
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        kc.stop_channels()
        gpu = client.containers.get(cid).labels[L.GPUS]
        assert gpu
        proxy.stop()
        host = DockerHosts().get("flakygpu")
        transport.forget(host)
        km.shutdown_kernel(now=True)  # must not raise
        assert not km.is_alive()
        client.containers.get(cid).stop(timeout=1)  # it stops meanwhile (or had died): stopped, owner alive
        holder = [r for r in GPUAllocator.for_host(host).holders(client) if r.container == cid[:12]]
        assert holder and not holder[0].reserved, "a disowned stopped container reserves no GPU"

        proxy = TCPProxy(socket_path, port=proxy.port)  # the host is back
        transport.forget(host)
        orphans, errors = reap_hosts([DockerHosts().get("flakygpu")])  # what the server's reaper runs
        assert not errors, errors
        mine = [o for o in orphans if o.record.kernel_id == km.kernel_id]
        assert mine and mine[0].disowned and mine[0].due and mine[0].removed, mine
        assert cid not in {c.id for c in client.containers.list(all=True)}
        assert not [r for r in GPUAllocator.for_host(host).holders(client) if r.kernel_id == km.kernel_id]
        again, _ = reap_hosts([DockerHosts().get("flakygpu")])
        assert not [o for o in again if o.record.kernel_id == km.kernel_id], "forgotten once removed"
    finally:
        proxy.stop()
        for c in client.containers.list(all=True):
            if c.id == cid:
                c.remove(force=True, v=True)
