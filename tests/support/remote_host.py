"""A simulated remote GPU box: its own network namespace with sshd and a dockerd (root only).

Built on :class:`NetnsDaemon`, but without the host routes to the daemon's bridge: like a real
remote machine, its containers are *not* reachable from here; only SSH (port 22 on the
namespace's veth address) is. The provisioner must carry the Docker API and the kernel ports
through its own SSH connection.

    r = RemoteHost("remote", fake_gpu=True, subnet_index=3)
    r.url            # ssh://root@10.213.3.2
    r.ssh_options    # ["-F", <ssh_config with key, no host-key prompts>]
    r.remote_socket  # the daemon's socket path on the "remote" side (also DOCKER_HOST of its SSH sessions)
    r.daemon         # the NetnsDaemon (r.daemon.client: direct access for assertions)
    r.stop()
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ._util import log, started_or_fail
from .netns_daemon import NetnsDaemon, NetnsDaemonError, first_free_slot


class RemoteHost:
    def __init__(self, name: str = "remote", *, fake_gpu: bool = True, subnet_index: int = 3):
        self.daemon = NetnsDaemon(name, fake_gpu=fake_gpu, subnet_index=subnet_index, start=False)
        self.daemon.routed_subnets = []  # a remote machine: containers unreachable from here
        self.daemon.start()
        self.dir = Path(tempfile.mkdtemp(prefix=f"jgk-{name}-ssh-"))
        self.sshd: subprocess.Popen | None = None
        try:
            self.start_sshd()
        except BaseException:
            self.stop()
            raise

    @property
    def address(self) -> str:
        return self.daemon.ns_ip

    @property
    def url(self) -> str:
        return f"ssh://root@{self.address}"

    @property
    def remote_socket(self) -> str:
        return str(self.daemon.sock)

    @property
    def ssh_options(self) -> list[str]:
        return ["-F", str(self.dir / "ssh_config")]

    def start_sshd(self) -> None:
        """(Re)start sshd: new keys only the first time."""
        d = self.dir
        for key in ("host_key", "client_key"):
            if not (d / key).exists():
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / key)], check=True)
        (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
        os.chmod(d / "authorized_keys", 0o600)
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation dir
        (d / "sshd_config").write_text(
            f"ListenAddress {self.address}\nPort 22\nHostKey {d / 'host_key'}\n"
            f"AuthorizedKeysFile {d / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            f"PidFile {d / 'sshd.pid'}\nAllowTcpForwarding yes\nAllowStreamLocalForwarding yes\n"
            "MaxSessions 50\nMaxStartups 50\nLogLevel ERROR\n"
            # the SSH user's environment names its daemon, as a rootless or DOCKER_HOST user's would:
            # /var/run/docker.sock on this side is another daemon (the main test daemon)
            f"SetEnv DOCKER_HOST=unix://{self.remote_socket}\n"
        )
        (d / "ssh_config").write_text(
            f"Host {self.address}\n  User root\n  IdentityFile {d / 'client_key'}\n  IdentitiesOnly yes\n"
            "  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n  LogLevel ERROR\n"
        )
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        self.sshd = self.daemon.ns_popen(
            [sshd, "-D", "-e", "-f", str(d / "sshd_config")],
            stdout=subprocess.DEVNULL,
            stderr=open(d / "sshd.log", "wb"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            probe = subprocess.run(
                ["ssh", *self.ssh_options, "-o", "BatchMode=yes", "-o", "ConnectTimeout=2", self.address, "true"],
                capture_output=True,
                text=True,
            )
            if probe.returncode == 0:
                log(f"[{self.daemon.name}] sshd up at {self.address}:22")
                return
            if self.sshd.poll() is not None:
                break
            time.sleep(0.2)
        raise NetnsDaemonError(f"sshd in {self.daemon.netns} did not come up: {(d / 'sshd.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.sshd is not None and self.sshd.poll() is None:
            self.sshd.terminate()
            try:
                self.sshd.wait(5)
            except subprocess.TimeoutExpired:
                self.sshd.kill()
        self.daemon.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_remote_host(
    base_name: str = "remote", *, fake_gpu: bool = True, first_index: int = 3, tries: int = 8
) -> RemoteHost:
    return first_free_slot(
        lambda name, k: RemoteHost(name, fake_gpu=fake_gpu, subnet_index=k), base_name, first_index, tries
    )


def remote_host_or_fail(*args, **kw):
    """Body of a test module's remote-host fixture (fails, never skips; its SSH masters closed and
    the host stopped afterwards)."""
    from jupyter_gpu_kernels.hosts import ssh

    yield from started_or_fail(start_remote_host, "remote host", *args, before_stop=ssh.close_all, **kw)
