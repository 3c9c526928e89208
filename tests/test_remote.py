"""Kernels on a remote Docker host over SSH: a real sshd + dockerd in their own network namespace."""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest
from jupyter_client.manager import KernelManager

from jupyter_gpu_kernels import cli
from jupyter_gpu_kernels.daemon import leases
from jupyter_gpu_kernels.daemon.workspace import workspace_volume_name
from jupyter_gpu_kernels.errors import HostError
from jupyter_gpu_kernels.hosts import ssh
from jupyter_gpu_kernels.hosts.registry import DockerHosts  # noqa: F401
from jupyter_gpu_kernels.settings import Settings

from .kernel_helpers import install_spec, iopub_ready, isolated_jupyter_dirs, our_containers, run_cell, zmq_answers
from .support.admin_hosts import admin_host

pytestmark = [pytest.mark.docker, pytest.mark.remote]


@pytest.fixture(scope="module")
def remote():
    from tests.support.remote_host import remote_host_or_fail

    yield from remote_host_or_fail(fake_gpu=True)


@pytest.fixture
def rhost(tmp_path, monkeypatch, remote):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    monkeypatch.setenv("JGK_SSH_DIR", f"/tmp/jgk-ssh-test-{os.getpid()}")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    # SSH options come from the admin config only (#11): the host is an admin host here
    admin_host(tmp_path, monkeypatch, "gpubox", remote.url, remote.ssh_options, remote.remote_socket)
    yield Settings.for_process().hosts.get("gpubox")
    ssh.close_all()
    left = our_containers(remote.daemon.client)
    for c in left:
        c.remove(force=True, v=True)
    assert not left, f"left behind on the remote: {[c.name for c in left]}"


def masters() -> list[str]:
    out = subprocess.run(["pgrep", "-af", "ssh .*-M -N"], capture_output=True, text=True).stdout
    return [ln for ln in out.splitlines() if "jgk-ssh-test" in ln]


def test_kernel_on_remote_host_over_ssh(rhost, remote, test_image):
    install_spec("far", test_image, "--host", "gpubox", "--gpus", "1")
    km = KernelManager(kernel_name="far")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        try:
            kc.wait_for_ready(timeout=20)
        except RuntimeError:
            c = remote.daemon.client.containers.get(km.provisioner.container_id)
            import sys

            print(
                "LOGS",
                c.status,
                c.logs().decode()[-3000:],
                ssh.tunnel_for(rhost).forwards,
                km.get_connection_info(),
                file=sys.stderr,
            )
            print(subprocess.run(["ss", "-ltnp"], capture_output=True, text=True).stdout, file=sys.stderr)
            raise
        c = remote.daemon.client.containers.get(km.provisioner.container_id)
        assert km.ip == "127.0.0.1"
        assert not c.attrs["HostConfig"].get("PortBindings"), "nothing is published on the remote"
        container_ip = c.attrs["NetworkSettings"]["Networks"]["jupyter-gpu-kernels"]["IPAddress"]
        assert container_ip
        r = run_cell(kc, "import os; print(os.getcwd(), os.environ.get('NVIDIA_VISIBLE_DEVICES'))")
        assert r["stdout"].split() == ["/workspace", km.provisioner.gpu_ids[0]]

        # the kernel's ports are reachable neither at the remote's address nor at the container's
        info = km.get_connection_info()
        for port in [*km.provisioner.container_ports.values(), info["shell_port"]]:
            for addr in (remote.address, container_ip):
                assert not zmq_answers(addr, port), f"the kernel answers at {addr}:{port}"
        assert zmq_answers("127.0.0.1", info["shell_port"])  # …while the local forward (loopback only) works

        # interrupt and restart work through the tunnel
        kc.execute("import time; time.sleep(60)")
        time.sleep(0.5)
        t0 = time.monotonic()
        km.interrupt_kernel()
        assert kc.get_shell_msg(timeout=10)["content"]["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - t0 < 2
        gpus = list(km.provisioner.gpu_ids)
        local = {k: v for k, v in km.get_connection_info().items() if k.endswith("_port")}
        inside = km.provisioner.container_ports
        km.restart_kernel(now=True)
        kc.wait_for_ready(timeout=60)
        iopub_ready(kc)  # the SUB socket reconnects through the forward on its own; wait for it
        # the client keeps its local forwarded ports; the new container binds its predecessor's own
        # ports, never the local ones (the two sets live in different namespaces)
        assert {k: v for k, v in km.get_connection_info().items() if k.endswith("_port")} == local
        assert km.provisioner.container_ports == inside
        assert km.provisioner.gpu_ids == gpus
        assert run_cell(kc, "print(2+2)")["stdout"] == "4\n"

        # one SSH connection carries everything
        assert len(masters()) == 1, masters()

        # drop the SSH connection mid-session: the next execute still works
        tunnel = ssh.tunnel_for(rhost)
        pid = int(re.search(r"pid=(\d+)", tunnel._ctl("-O", "check").stderr).group(1))
        os.kill(pid, 9)
        deadline = time.monotonic() + 10
        while tunnel.reconnects < 1 and time.monotonic() < deadline:  # the watchdog reconnects by itself
            time.sleep(0.1)
        iopub_ready(kc)  # ZeroMQ reconnects to the restored forwards on its own; the SUB side too
        r = run_cell(kc, "print('after reconnect')", timeout=30)
        assert r["stdout"] == "after reconnect\n"
        assert tunnel.reconnects >= 1

        # the host goes away for a while: the kernel is reported unreachable, not dead
        import asyncio

        remote.sshd.terminate()
        remote.sshd.wait(5)
        pid = int(re.search(r"pid=(\d+)", tunnel._ctl("-O", "check").stderr).group(1))
        os.kill(pid, 9)
        from jupyter_gpu_kernels.hosts import transport

        transport.forget(rhost)
        assert asyncio.run(km.provisioner.poll()) is None
        assert "unreachable" in km.provisioner.host_error
        remote.start_sshd()
        deadline = time.monotonic() + 15
        while asyncio.run(km.provisioner.poll()) is None and km.provisioner.host_error and time.monotonic() < deadline:
            time.sleep(0.5)
        assert km.provisioner.host_error is None
        iopub_ready(kc)
        assert run_cell(kc, "print('back')", timeout=30)["stdout"] == "back\n"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert not our_containers(remote.daemon.client)
    assert not ssh.tunnel_for(rhost).forwards, "forwards are removed with the kernel"
    # its owner lease is no longer renewed there: nothing reconnects (a new SSH master) to a host
    # where this process has no kernel any more
    assert "gpubox" not in leases.keeper.held()


def test_a_cached_failure_belongs_to_its_host_definition(tmp_path, monkeypatch):
    """The same host name and URL redefined with other SSH options (a new admin config) is tried
    again, not answered with the old definition's cached failure."""
    from jupyter_gpu_kernels.hosts import transport
    from jupyter_gpu_kernels.hosts.registry import DockerHost

    monkeypatch.setenv("JGK_SSH_DIR", f"/tmp/jgk-ssh-test-{os.getpid()}")
    hosts = [
        DockerHost(
            "stale",
            "ssh://root@10.213.250.98",
            source="config",
            options={"ssh_options": ["-F", str(tmp_path / f"gone-{n}")]},
        )
        for n in "ab"
    ]
    try:
        for host in hosts:  # ssh refuses a missing -F file before it connects anywhere
            with pytest.raises(HostError, match=f"{host.options['ssh_options'][1]}: No such file"):
                transport.connect(host)
    finally:
        transport.forget(hosts[0])
        ssh.close_all()


def test_workspace_volume_and_sync(rhost, remote, test_image, tmp_path):
    work = tmp_path / "work"
    (work / "data").mkdir()
    (work / "data" / "input.csv").write_text("a,b\n1,2\n")
    assert cli.main(["sync", "push", "data", "--host", "gpubox"]) == 0
    install_spec("ws", test_image, "--host", "gpubox")
    km = KernelManager(kernel_name="ws")
    km.start_kernel(cwd=str(work))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        r = run_cell(
            kc,
            "print(open('data/input.csv').read().strip()); open('result.txt','w').write('42')\n"
            "import os; print(os.getuid())",
        )
        assert r["stdout"].split("\n")[:2] == ["a,b", "1,2"]
        assert r["stdout"].split("\n")[2] == "1000"  # the image's user; the volume was made writable for it
        km.restart_kernel(now=True)  # the workspace survives restarts
        kc.wait_for_ready(timeout=60)
        assert run_cell(kc, "print(open('result.txt').read())")["stdout"] == "42\n"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert not (work / "result.txt").exists(), "remote files never appear locally by themselves"
    assert cli.main(["sync", "pull", "result.txt", "--host", "gpubox"]) == 0
    assert (work / "result.txt").read_text() == "42"
    assert remote.daemon.client.volumes.get(workspace_volume_name(str(work)))
    assert cli.main(["sync", "pull", "../outside", "--host", "gpubox"]) == 2
    assert cli.main(["sync", "push", "missing.txt", "--host", "gpubox"]) == 2


def test_copy_image_to_remote(rhost, remote, docker_client, plain_image):
    docker_client.images.get(plain_image).tag("jgk-copy-test", "v1")
    try:
        assert cli.main(["copy-image", "jgk-copy-test:v1", "--to", "gpubox"]) == 0
        assert remote.daemon.client.images.get("jgk-copy-test:v1")
    finally:
        docker_client.images.remove("jgk-copy-test:v1")
        try:
            remote.daemon.client.images.remove("jgk-copy-test:v1")
        except Exception:
            pass


@pytest.mark.parametrize("url", ["ssh://root@{addr}:2222", "ssh://root@10.213.250.99", "ssh://nobody@{addr}"])
def test_unreachable_or_misconfigured_host(rhost, remote, test_image, url, tmp_path, monkeypatch):
    admin_host(tmp_path, monkeypatch, "broken", url.format(addr=remote.address), remote.ssh_options)
    install_spec("nowhere", test_image, "--host", "broken")
    before = subprocess.run(["pgrep", "-c", "-f", "ssh "], capture_output=True, text=True).stdout
    km = KernelManager(kernel_name="nowhere")
    t0 = time.monotonic()
    with pytest.raises(HostError, match="not reachable"):
        km.start_kernel()
    assert time.monotonic() - t0 < 10
    after = subprocess.run(["pgrep", "-c", "-f", "ssh "], capture_output=True, text=True).stdout
    assert after == before, subprocess.run(["pgrep", "-af", "ssh "], capture_output=True, text=True).stdout
    assert cli.main(["hosts", "check", "broken"]) == 1
