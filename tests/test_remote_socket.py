"""ssh:// hosts reach the daemon `docker -H ssh://host` would reach: the remote socket is resolved on
the remote side (the SSH user's DOCKER_HOST, context, rootless socket, then /var/run/docker.sock),
`hosts check` says which, and a forwarded socket that does not answer fails within seconds.

The simulated remote host's dockerd listens on a socket other than /var/run/docker.sock (which, on
the same filesystem, is the main test daemon: the "wrong daemon" a fixed path would silently reach);
its sshd sets DOCKER_HOST for SSH sessions. No --remote-socket here."""

from __future__ import annotations

import os
import time

import pytest

from jupyter_gpu_kernels import cli
from jupyter_gpu_kernels.errors import HostError
from jupyter_gpu_kernels.hosts import ssh, transport
from jupyter_gpu_kernels.hosts.registry import DockerHosts

from .kernel_helpers import install_spec, isolated_jupyter_dirs, our_containers, run_cell, start_kernel, stop_kernel

pytestmark = [pytest.mark.docker, pytest.mark.remote]


@pytest.fixture(scope="module")
def remote():
    from tests.support.remote_host import start_remote_host

    try:
        r = start_remote_host("rsock", fake_gpu=True, first_index=6)
    except Exception as e:  # never a skip
        pytest.fail(f"the simulated remote host could not be started: {e}", pytrace=False)
    yield r
    ssh.close_all()
    r.stop()


@pytest.fixture
def jdirs(tmp_path, monkeypatch):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    monkeypatch.setenv("JGK_SSH_DIR", f"/tmp/jgk-ssh-rs-{os.getpid()}")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    yield tmp_path
    ssh.close_all()


def _add(remote, name: str, *extra: str) -> None:
    opts = [f"--ssh-option={o}" for o in remote.ssh_options]
    assert cli.main(["hosts", "add", name, remote.url, *opts, *extra]) == 0


def test_remote_socket_found_like_the_docker_cli(jdirs, remote, test_image, capsys):
    assert remote.remote_socket != "/var/run/docker.sock"
    _add(remote, "rbox")
    host = DockerHosts().get("rbox")
    capsys.readouterr()
    assert cli.main(["hosts", "check", "rbox"]) == 0
    report = capsys.readouterr().out
    assert f"{remote.remote_socket} (DOCKER_HOST of the SSH user)" in report, report
    client = transport.connect(host)
    assert client.info()["ID"] == remote.daemon.client.info()["ID"]  # the remote's daemon, not ours
    install_spec("rs", test_image, "--host", "rbox")
    km, kc = start_kernel("rs")
    try:
        assert run_cell(kc, "print(6*7)")["stdout"] == "42\n"
        assert km.provisioner.container_id in {c.id for c in our_containers(remote.daemon.client)}
    finally:
        stop_kernel(km, kc, now=True)
    assert not our_containers(remote.daemon.client)


def test_socket_that_does_not_answer_fails_fast(jdirs, remote, capsys):
    _add(remote, "wrong", "--remote-socket", "/run/nothing-here.sock")
    host = DockerHosts().get("wrong")
    t0 = time.monotonic()
    with pytest.raises(HostError) as e:
        transport.connect(host, fresh=True)
    assert time.monotonic() - t0 < 15
    msg = str(e.value)
    assert "/run/nothing-here.sock (--remote-socket)" in msg and "docker.sock, does not answer" in msg, msg
    capsys.readouterr()
    assert cli.main(["hosts", "check", "wrong"]) == 1
    assert "/run/nothing-here.sock" in capsys.readouterr().out
