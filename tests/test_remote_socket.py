"""ssh:// hosts reach the daemon `docker -H ssh://host` would reach: the remote socket is resolved on
the remote side (the SSH user's DOCKER_HOST, context, rootless socket, then /var/run/docker.sock),
`hosts check` says which, and a forwarded socket that does not answer fails within seconds.

The simulated remote host's dockerd listens on a socket other than /var/run/docker.sock (which, on
the same filesystem, is the main test daemon: the "wrong daemon" a fixed path would silently reach);
its sshd sets DOCKER_HOST for SSH sessions. No --remote-socket here."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from jupyter_gpu_kernels import cli
from jupyter_gpu_kernels.errors import HostError
from jupyter_gpu_kernels.hosts import ssh, transport
from jupyter_gpu_kernels.settings import Settings

from .kernel_helpers import install_spec, isolated_jupyter_dirs, our_containers, run_cell, start_kernel, stop_kernel

pytestmark = [pytest.mark.docker, pytest.mark.remote]


@pytest.fixture(scope="module")
def remote():
    from tests.support.remote_host import remote_host_or_fail

    yield from remote_host_or_fail("rsock", fake_gpu=True, first_index=6)


@pytest.fixture
def jdirs(tmp_path, monkeypatch):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    monkeypatch.setenv("JGK_SSH_DIR", f"/tmp/jgk-ssh-rs-{os.getpid()}")
    # the admin dir _add writes to; setenv (not delenv of an unset variable, which records nothing)
    # makes monkeypatch restore the caller's JUPYTER_CONFIG_PATH, so no later test reads this dead dir
    (tmp_path / "admin-config").mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(tmp_path / "admin-config"))
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    yield tmp_path
    ssh.close_all()
    Settings.reset()


def _add(remote, name: str, remote_socket: str | None = None):
    """An admin host (SSH options such as ``-F ssh_config`` come only from the admin config)."""
    tmp = Path(os.environ["JUPYTER_CONFIG_DIR"]).parent
    admin = tmp / "admin-config"
    admin.mkdir(exist_ok=True)
    path = admin / "jupyter_server_config.json"
    config = json.loads(path.read_text()) if path.exists() else {"GPUKernelsHosts": {"hosts": {}}}
    options = {"ssh_options": list(remote.ssh_options), **({"remote_socket": remote_socket} if remote_socket else {})}
    config["GPUKernelsHosts"]["hosts"][name] = {"url": remote.url, "options": options}
    path.write_text(json.dumps(config))
    os.environ["JUPYTER_CONFIG_PATH"] = str(admin)  # restored by the jdirs fixture's monkeypatch
    Settings.reset()
    return Settings.for_process().hosts.get(name)


def test_remote_socket_found_like_the_docker_cli(jdirs, remote, test_image, capsys):
    assert remote.remote_socket != "/var/run/docker.sock"
    host = _add(remote, "rbox")
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
    host = _add(remote, "wrong", "/run/nothing-here.sock")
    t0 = time.monotonic()
    with pytest.raises(HostError) as e:
        transport.connect(host, fresh=True)
    assert time.monotonic() - t0 < 15
    msg = str(e.value)
    assert "/run/nothing-here.sock (--remote-socket)" in msg and "docker.sock, does not answer" in msg, msg
    capsys.readouterr()
    assert cli.main(["hosts", "check", "wrong"]) == 1
    assert "/run/nothing-here.sock" in capsys.readouterr().out
