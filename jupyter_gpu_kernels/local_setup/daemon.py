"""A Docker daemon for ``jupyter gpu-kernels start``: the reachable one, or one we start.

:func:`ensure_daemon` returns the URL of a daemon that answers: ``DOCKER_HOST`` (default
``unix:///var/run/docker.sock``) when it answers; otherwise, as root on Debian, ``docker.io`` is
installed with apt-get when ``dockerd`` is not on ``PATH`` and ``dockerd --host <that socket>`` is
started in the background (its output in a log file, it keeps running for JupyterLab), and we wait
until the socket answers ``/_ping``. Anywhere else a :class:`LocalSetupError` says what is missing and
what to do. apt-get's and dockerd's output never reaches stdout: apt-get's goes to stderr, dockerd's
to its log. ``dockerd`` and ``apt-get`` are looked up on ``PATH`` only (``start-local.sh`` adds the
sbin directories), so tests can put stand-ins first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import LocalSetupError

DEFAULT_URL = "unix:///var/run/docker.sock"
DEFAULT_PIDFILE = Path("/var/run/docker.pid")
DEFAULT_LOG = Path("/var/log/jupyter-gpu-kernels-dockerd.log")
START_TIMEOUT = 60.0
INSTALL_DOCKER = (
    "install Docker Engine (https://docs.docker.com/engine/install/; on Debian: "
    "`sudo apt-get install docker.io`), start it, and run this command again"
)

Say = Callable[[str], None]


def answers(url: str, timeout: int = 5) -> tuple[bool, str]:
    """(whether the daemon at ``url`` answers a ping, the error when not)."""
    import docker

    try:
        client = docker.DockerClient(base_url=url, timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
        return True, ""
    except Exception as e:  # docker.errors.DockerException, requests' connection errors
        return False, f"{type(e).__name__}: {e}"


def apt_get(*args: str) -> None:
    """``apt-get ARGS`` with its output on stderr (never stdout); LocalSetupError when it fails."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    result = subprocess.run(["apt-get", *args], stdin=subprocess.DEVNULL, stdout=2, stderr=2, env=env)
    if result.returncode != 0:
        raise LocalSetupError(
            f"`apt-get {' '.join(args)}` failed (exit status {result.returncode}, its output "
            f"is above); fix that, or {INSTALL_DOCKER}"
        )


def ensure_daemon(say: Say, log_path: Path = DEFAULT_LOG, timeout: float = START_TIMEOUT) -> str:
    """The URL of a Docker daemon that answers, starting one if we may (see the module docstring)."""
    url = os.environ.get("DOCKER_HOST") or DEFAULT_URL
    ok, err = answers(url)
    if ok:
        say(f"Docker daemon at {url} answers")
        return url
    say(f"no Docker daemon answers at {url} ({err})")
    if not url.startswith("unix://"):
        raise LocalSetupError(
            f"the Docker daemon at DOCKER_HOST={url} does not answer ({err}); start it, or "
            "unset DOCKER_HOST to use (or start) this machine's daemon"
        )
    pid = _running_dockerd() if url == DEFAULT_URL else None
    if pid is not None:
        say(f"dockerd (pid {pid}) is running but not answering yet; waiting up to {timeout:.0f}s")
        if _wait(url, pid, timeout):
            return url
        raise LocalSetupError(
            f"dockerd (pid {pid}) runs but {url} does not answer after {timeout:.0f}s; "
            "check its log (`journalctl -u docker` or the file it logs to)"
        )
    is_root = os.geteuid() == 0
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        if not is_root:
            raise LocalSetupError(
                f"Docker is not installed here (no dockerd on PATH) and only root can install "
                f"it: {INSTALL_DOCKER}; or set DOCKER_HOST to a daemon that runs"
            )
        if shutil.which("apt-get") is None or not Path("/etc/debian_version").exists():
            raise LocalSetupError(
                f"Docker is not installed here (no dockerd on PATH) and this is not Debian "
                f"with apt-get, so it cannot be installed for you: {INSTALL_DOCKER}"
            )
        say("installing docker.io with apt-get (its output follows)")
        apt_get("update")
        apt_get("install", "-y", "--no-install-recommends", "docker.io")
        dockerd = shutil.which("dockerd")
        if dockerd is None:
            raise LocalSetupError(
                f"apt-get installed docker.io but there is still no dockerd on PATH "
                f"({os.environ.get('PATH', '')}); add its directory (usually /usr/sbin) to PATH"
            )
    if not is_root:
        raise LocalSetupError(
            "dockerd is installed but not running, and only root can start it: run "
            "`sudo systemctl start docker` (or `sudo dockerd &`), then this command again"
        )
    return start_dockerd(dockerd, url, say, log_path, timeout)


def start_dockerd(dockerd: str, url: str, say: Say, log_path: Path, timeout: float) -> str:
    """Start ``dockerd --host url`` in the background (output to ``log_path``); ``url`` once it answers."""
    socket = url.removeprefix("unix://")
    if os.path.exists(socket):
        say(f"removing the stale socket {socket} (nothing answers on it)")
        os.unlink(socket)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [dockerd, "--host", url],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    say(
        f"started {dockerd} in the background (pid {proc.pid}, log: {log_path}); it keeps running after "
        f"JupyterLab stops (stop it with `kill {proc.pid}`)"
    )
    if not _wait(url, proc.pid, timeout, proc):
        state = "still running" if proc.poll() is None else f"exited with status {proc.returncode}"
        raise LocalSetupError(
            f"dockerd (pid {proc.pid}) did not answer at {url} within {timeout:.0f}s ({state}); "
            f"read its log, {log_path}:\n{_tail(log_path)}"
        )
    say(f"Docker daemon at {url} answers")
    return url


def _running_dockerd() -> int | None:
    """The pid in dockerd's default pidfile (that of the default socket) when it is a live dockerd."""
    try:
        pid = int(DEFAULT_PIDFILE.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except (OSError, ValueError):
        return None
    return pid if b"dockerd" in cmdline else None


def _wait(url: str, pid: int, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        if proc is None and not Path(f"/proc/{pid}").exists():
            return False
        if os.path.exists(url.removeprefix("unix://")) and answers(url, timeout=5)[0]:
            return True
        time.sleep(0.3)
    return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as e:
        return f"(cannot read it: {e})"
