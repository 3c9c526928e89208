"""SSH masters end with their owner: a one-shot ``jupyter gpu-kernels hosts check`` run as a
subprocess against the simulated SSH host leaves no OpenSSH ControlMaster behind."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from .support.admin_hosts import write_admin_host

pytestmark = [pytest.mark.docker, pytest.mark.remote]


@pytest.fixture(scope="module")
def remote():
    from tests.support.remote_host import remote_host_or_fail

    yield from remote_host_or_fail(fake_gpu=False)


def masters(marker: str) -> list[str]:
    out = subprocess.run(["pgrep", "-af", "ssh .*-M -N"], capture_output=True, text=True).stdout
    return [ln for ln in out.splitlines() if marker in ln]


def test_hosts_check_leaves_no_ssh_master(tmp_path, remote):
    marker = f"/tmp/jgk-ssh-m{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "JGK_SSH_DIR": marker,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    env.pop("JUPYTER_PATH", None)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "jupyter_gpu_kernels.cli.app", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    # SSH options are the administrator's (#11): the host lives in an admin config dir
    admin = write_admin_host(tmp_path / "admin-config", "gpubox", remote.url, remote.ssh_options, remote.remote_socket)
    env["JUPYTER_CONFIG_PATH"] = str(admin)
    try:
        checked = cli("hosts", "check", "gpubox")
        assert checked.returncode == 0, checked.stdout + checked.stderr  # it did connect over SSH
        assert masters(marker) == []
    finally:
        for line in masters(marker):  # clean up after a failure: only the masters this test made
            os.kill(int(line.split()[0]), 15)
