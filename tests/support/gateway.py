"""Real subprocesses for the gateway topology: a kernel gateway (admin side) and a user's Jupyter server.

Used by ``tests/test_gateway.py``. :func:`start_gateway` runs ``jupyter kernelgateway``
(package ``jupyter_kernel_gateway``) with an admin config file
(``jupyter_kernel_gateway_config.json`` in a directory on ``JUPYTER_CONFIG_PATH``) that
sets this package's kernel spec manager, hosts and environments; :func:`start_user_server`
runs ``jupyter server --gateway-url=…`` with ``DOCKER_HOST`` pointing at a socket that does
not exist, so that server cannot reach any Docker daemon. Each process gets its own
Jupyter config, data and runtime directories under the given work directory and logs to a
file there; :meth:`JupyterProcess.stop` ends it (SIGTERM, then SIGKILL) and is safe to call
twice. Touches only those directories, two free loopback ports and the child processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .servers import free_port, stop_process  # noqa: F401 (free_port: used by tests/test_gateway.py)

NO_DOCKER = "unix:///nonexistent.sock"
KSM_CLASS = "jupyter_gpu_kernels.environments.GPUKernelSpecManager"


@dataclass
class JupyterProcess:
    """A Jupyter-ish HTTP server in a subprocess, reachable at ``url`` with ``token``."""

    name: str
    proc: subprocess.Popen
    url: str
    token: str
    log_path: Path
    _log: object = field(repr=False, default=None)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        """Until ``GET path`` answers 200; fails with the process's log if it exits or never answers."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                r = requests.get(self.url + path, headers=self.headers(), timeout=5)
                if r.status_code == 200:
                    return
                last = f"{r.status_code} {r.text[:200]}"
            except requests.RequestException as e:
                last = str(e)
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer {path} ({last}):\n{self.log_text()}")

    def stop(self) -> None:
        stop_process(self.proc, grace=20)
        if self._log is not None:
            self._log.close()
            self._log = None


def _jupyter_env(base: Path, **extra: str) -> dict[str, str]:
    """The test's environment with private Jupyter dirs under ``base`` (nothing of the developer's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "JPY_", "KG_")) and k != "DOCKER_HOST"}
    for name in ("config", "data", "runtime"):
        (base / name).mkdir(parents=True, exist_ok=True)
    env.update(
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTER_PLATFORM_DIRS="1",
        **extra,
    )
    return env


def _spawn(name: str, argv: list[str], env: dict[str, str], cwd: Path, url: str, token: str) -> JupyterProcess:
    log_path = cwd / f"{name}.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed by JupyterProcess.stop
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    return JupyterProcess(name, proc, url, token, log_path, log)


def start_gateway(workdir: Path, admin_config: dict, token: str) -> JupyterProcess:
    """``jupyter kernelgateway`` on a free port with ``admin_config`` from an admin config dir."""
    admin_dir = workdir / "admin-etc"
    admin_dir.mkdir(parents=True, exist_ok=True)
    config = json.loads(json.dumps(admin_config))
    config.setdefault("KernelGatewayApp", {}).setdefault("kernel_spec_manager_class", KSM_CLASS)
    # the user's server lists its kernels on the gateway (JupyterLab polls /api/kernels)
    config.setdefault("JupyterWebsocketPersonality", {}).setdefault("list_kernels", True)
    (admin_dir / "jupyter_kernel_gateway_config.json").write_text(json.dumps(config, indent=1))
    home = workdir / "gateway"
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o755)  # the kernel's working directory (kernels run as the image's user)
    port = free_port()
    env = _jupyter_env(home, JUPYTER_CONFIG_PATH=str(admin_dir), KG_AUTH_TOKEN=token)
    argv = [
        sys.executable,
        "-m",
        "kernel_gateway",
        "--KernelGatewayApp.ip=127.0.0.1",
        f"--KernelGatewayApp.port={port}",
        "--KernelGatewayApp.port_retries=0",
    ]
    return _spawn("gateway", argv, env, home, f"http://127.0.0.1:{port}", token)


def start_user_server(workdir: Path, gateway: JupyterProcess, token: str) -> JupyterProcess:
    """``jupyter server --gateway-url=<gateway>`` on a free port, without any reachable Docker daemon."""
    home = workdir / "user"
    (home / "notebooks").mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = _jupyter_env(home, DOCKER_HOST=NO_DOCKER)
    argv = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={home / 'notebooks'}",
        f"--gateway-url={gateway.url}",
        f"--GatewayClient.auth_token={gateway.token}",
        "--GatewayClient.request_timeout=120",
    ]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    return _spawn("user-server", argv, env, home, f"http://127.0.0.1:{port}", token)
