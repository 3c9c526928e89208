"""Make sure a Docker daemon is reachable for the tests.

``ensure_dockerd()`` returns a :class:`Daemon`:

* If ``docker.from_env().ping()`` works (``DOCKER_HOST`` is respected), that daemon is reused
  (``started_by_us=False``; ``stop()`` does nothing).
* Otherwise, as root on Debian, ``docker.io`` is installed with apt-get if ``dockerd`` is
  missing, ``dockerd`` is started in the background (log: ``/tmp/jgk-test-dockerd.log``) in the
  host network namespace on the default socket, and we wait until it answers.
  ``started_by_us=True``; ``stop()`` stops it.
* Anywhere else a :class:`DockerUnavailable` error says exactly what is missing.

CLI (for scripts such as ``tests/run.sh``)::

    python -m tests.support.dockerd up [--owner TOKEN]    # ensure a daemon, leave it running, print its URL
    python -m tests.support.dockerd down [--owner TOKEN]  # stop it, only if `up` (with that TOKEN) started it
    python -m tests.support.dockerd status
    python -m tests.support.dockerd mode                  # gpu | nogpu | unknown (for scripts)

``up`` records a daemon it started in ``/tmp/jgk-test-dockerd.json`` (with the owner token) so that
``down --owner TOKEN`` stops exactly that daemon and never one it merely found running; a pytest
session that finds the daemon already running leaves it alone.

**GPU mode** (``JGK_TEST_DEFAULT_DAEMON_GPU=1``, or ``up --gpu``): the daemon that ``up`` starts has
the fake NVIDIA toolkit (``fake_nvidia/``) first on its PATH, so it registers dockerd's ``nvidia``
device driver as on our users' GPU machines (4 fake GPUs: ``fake_nvidia/gpus.json``, copied to
``/tmp/jgk-test-dockerd.fake-gpus.json``; hook log ``/tmp/jgk-test-dockerd.fake-nvidia-hook.log``).
Whether a running daemon has a GPU driver is read from its PATH (``/proc/PID/environ``), so ``up``
in GPU mode refuses to reuse a daemon without one (and the normal ``up`` one with one) instead of
silently testing the wrong thing; ``status`` says which mode the daemon is in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ._util import (
    SYSTEM_PATH,
    apt_install,
    is_debian,
    is_root,
    kill_pid,
    log,
    pid_alive,
    pid_cmdline,
    read_pidfile,
    tail,
    which,
)

DEFAULT_SOCKET = "/var/run/docker.sock"
DEFAULT_URL = f"unix://{DEFAULT_SOCKET}"
DEFAULT_PIDFILE = Path("/var/run/docker.pid")
LOG_PATH = Path("/tmp/jgk-test-dockerd.log")
STATE_PATH = Path("/tmp/jgk-test-dockerd.json")
START_TIMEOUT = 60.0
GPU_ENV = "JGK_TEST_DEFAULT_DAEMON_GPU"
FAKE_NVIDIA_DIR = Path(__file__).resolve().parent / "fake_nvidia"
HOOK = "nvidia-container-runtime-hook"
GPU_HOOK_LOG = Path("/tmp/jgk-test-dockerd.fake-nvidia-hook.log")
GPU_TABLE = Path("/tmp/jgk-test-dockerd.fake-gpus.json")


def gpu_mode_requested() -> bool:
    """``JGK_TEST_DEFAULT_DAEMON_GPU`` set to a true value: the default daemon should have the fake toolkit."""
    return os.environ.get(GPU_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def daemon_has_gpu_driver(pid: int) -> bool | None:
    """Whether dockerd ``pid`` registered the ``nvidia`` driver (an ``nvidia-container-runtime-hook``
    on the PATH it started with); None when its environment cannot be read (not root, not local)."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    env = dict(kv.split("=", 1) for kv in raw.decode(errors="replace").split("\0") if "=" in kv)
    return any(os.path.exists(os.path.join(d, HOOK)) for d in env.get("PATH", "").split(":") if d)


def running_dockerd_pid() -> int | None:
    """The pid of the dockerd serving the default socket (from its pidfile), if alive."""
    pid = read_pidfile(DEFAULT_PIDFILE)
    if pid and pid_alive(pid) and any("dockerd" in a for a in pid_cmdline(pid)[:1]):
        return pid
    return None


class DockerUnavailable(RuntimeError):
    """No Docker daemon is reachable and none can be started here. The message says why."""


@dataclass
class Daemon:
    url: str
    started_by_us: bool
    pid: int | None = None
    log_path: Path | None = None
    _clients: list = field(default_factory=list, repr=False)

    def client(self, timeout: int = 300):
        """A new docker-py client for this daemon."""
        import docker

        c = docker.DockerClient(base_url=self.url, timeout=timeout)
        self._clients.append(c)
        return c

    def stop(self) -> None:
        """Stop the daemon if (and only if) we started it."""
        for c in self._clients:
            try:
                c.close()
            except Exception:
                pass
        self._clients.clear()
        if not self.started_by_us or self.pid is None:
            return
        kill_pid(self.pid, timeout=30, name="dockerd")
        self.started_by_us = False
        try:
            state = json.loads(STATE_PATH.read_text())
            if state.get("pid") == self.pid:
                STATE_PATH.unlink()
        except (OSError, ValueError):
            pass


def _docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_URL


def ping(url: str | None = None, timeout: int = 10) -> tuple[bool, str]:
    """(reachable, error text). ``url=None`` means ``docker.from_env()``."""
    try:
        import docker
    except ImportError as e:  # pragma: no cover - depends on the environment
        return False, f"the Python package 'docker' is not installed ({e}); pip install docker"
    try:
        client = docker.from_env(timeout=timeout) if url is None else docker.DockerClient(base_url=url, timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
        return True, ""
    except Exception as e:  # docker.errors.DockerException, requests errors, ...
        return False, f"{type(e).__name__}: {e}"


def _why_cannot_start() -> list[str]:
    reasons = []
    if not is_root():
        reasons.append(f"not running as root (uid {os.geteuid()}), so dockerd cannot be started")
    if not is_debian():
        reasons.append("not a Debian system with apt-get, so docker.io cannot be installed")
    if os.environ.get("DOCKER_HOST") and os.environ["DOCKER_HOST"] != DEFAULT_URL:
        reasons.append(
            f"DOCKER_HOST={os.environ['DOCKER_HOST']} points elsewhere; refusing to start a local daemon for it"
        )
    return reasons


def _check_mode(url: str, gpu: bool) -> None:
    """Refuse to reuse a local default daemon whose GPU driver state is not the one asked for."""
    if url != DEFAULT_URL:
        return
    pid = running_dockerd_pid()
    has = daemon_has_gpu_driver(pid) if pid else None
    if has is None or has == gpu:
        return
    raise DockerUnavailable(
        f"the running dockerd (pid {pid}) {'has' if has else 'has no'} NVIDIA hook on its PATH, but "
        f"{GPU_ENV}={'1' if gpu else 'unset'} asks for a daemon {'with' if gpu else 'without'} one. "
        "Stop it and run `python -m tests.support.dockerd up"
        f"{' --gpu' if gpu else ''}` (holding /tmp/jgk-pytest.lock), or change {GPU_ENV}."
    )


def ensure_dockerd(start_timeout: float = START_TIMEOUT, gpu: bool | None = None) -> Daemon:
    """Return a reachable daemon, starting one if we may (see module docstring). ``gpu``: the
    default daemon must have the fake NVIDIA toolkit (default: ``JGK_TEST_DEFAULT_DAEMON_GPU``)."""
    gpu = gpu_mode_requested() if gpu is None else gpu
    url = _docker_host()
    ok, err = ping()
    if ok:
        if gpu:  # only GPU mode insists: a normal run keeps working on a developer's GPU machine
            _check_mode(url, gpu)
        return Daemon(url=url, started_by_us=False)
    if "'docker' is not installed" in err:
        raise DockerUnavailable(err)

    reasons = _why_cannot_start()
    if reasons:
        raise DockerUnavailable(
            f"No Docker daemon is reachable at {url} ({err}), and one cannot be started here: "
            + "; ".join(reasons)
            + ". Start a Docker daemon (or set DOCKER_HOST to a reachable one) and re-run."
        )

    # A daemon may be starting (or a stale socket/pidfile may exist).
    pid = read_pidfile(DEFAULT_PIDFILE)
    if pid and pid_alive(pid) and any("dockerd" in a for a in pid_cmdline(pid)[:1]):
        log(f"dockerd (pid {pid}) is running but not answering yet; waiting")
        if _wait_ready(url, pid, start_timeout):
            return Daemon(url=url, started_by_us=False, pid=pid)
        raise DockerUnavailable(
            f"dockerd (pid {pid}) is running but {url} does not answer after {start_timeout:.0f}s ({err}). "
            "It was not started by the tests; check it (its log, `docker info`)."
        )

    dockerd = which("dockerd")
    if dockerd is None:
        log("dockerd not found; installing docker.io with apt-get")
        try:
            apt_install("docker.io")
        except Exception as e:
            raise DockerUnavailable(f"dockerd is not installed and `apt-get install -y docker.io` failed: {e}") from e
        dockerd = which("dockerd")
        if dockerd is None:
            raise DockerUnavailable("apt-get install docker.io succeeded but there is still no `dockerd` on PATH")

    return _start_dockerd(dockerd, url, start_timeout, gpu)


def _gpu_env(env: dict) -> dict:
    """dockerd's environment for GPU mode: the fake toolkit first on PATH, its GPU table and log."""
    for f in (HOOK, "nvidia-smi"):
        (FAKE_NVIDIA_DIR / f).chmod(0o755)
    GPU_HOOK_LOG.write_text("")
    GPU_TABLE.write_text((FAKE_NVIDIA_DIR / "gpus.json").read_text())
    env["PATH"] = f"{FAKE_NVIDIA_DIR}:{env['PATH']}"
    env["FAKE_NVIDIA_HOOK_LOG"] = str(GPU_HOOK_LOG)
    env["FAKE_NVIDIA_GPUS_FILE"] = str(GPU_TABLE)
    return env


def _start_dockerd(dockerd: str, url: str, start_timeout: float, gpu: bool = False) -> Daemon:
    if os.path.exists(DEFAULT_SOCKET):
        log(f"removing stale socket {DEFAULT_SOCKET}")
        os.unlink(DEFAULT_SOCKET)
    log(f"starting {dockerd} (log: {LOG_PATH}; GPU mode: {'fake NVIDIA toolkit' if gpu else 'off'})")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "NVIDIA_", "FAKE_NVIDIA_"))}
    env["PATH"] = f"{env.get('PATH', '')}:{SYSTEM_PATH}".strip(":")
    if gpu:
        env = _gpu_env(env)
    logf = open(LOG_PATH, "ab")
    proc = subprocess.Popen(
        [dockerd, "--host", url, "--pidfile", str(DEFAULT_PIDFILE)],
        stdin=subprocess.DEVNULL,
        stdout=logf,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # survive Ctrl-C of the test run; we stop it explicitly
    )
    logf.close()
    if not _wait_ready(url, proc.pid, start_timeout):
        alive = proc.poll() is None
        if alive:
            kill_pid(proc.pid, name="dockerd")
        raise DockerUnavailable(
            f"started dockerd (pid {proc.pid}) but {url} did not answer within {start_timeout:.0f}s "
            f"({'still running' if alive else f'exited with {proc.returncode}'}). Last log lines from {LOG_PATH}:\n"
            + tail(LOG_PATH)
        )
    log(f"dockerd is up at {url} (pid {proc.pid})")
    return Daemon(url=url, started_by_us=True, pid=proc.pid, log_path=LOG_PATH)


def _wait_ready(url: str, pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return False
        if os.path.exists(url.removeprefix("unix://")) or not url.startswith("unix://"):
            ok, _ = ping(url, timeout=5)
            if ok:
                return True
        time.sleep(0.5)
    return False


def _main(argv: list[str]) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m tests.support.dockerd")
    p.add_argument("cmd", nargs="?", default="up", choices=["up", "down", "status", "mode"])
    p.add_argument(
        "--owner",
        default=None,
        help="up: record this token with a daemon that `up` starts; down: stop the daemon only if "
        "`up --owner` with the same token started it (so a script never stops a daemon it found running)",
    )
    p.add_argument(
        "--gpu",
        action="store_true",
        default=None,
        help=f"up: start the daemon with the fake NVIDIA toolkit (default: ${GPU_ENV})",
    )
    a = p.parse_args(argv)
    cmd = a.cmd
    if cmd == "up":
        try:
            d = ensure_dockerd(gpu=a.gpu)
        except DockerUnavailable as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        if d.started_by_us:
            gpu = gpu_mode_requested() if a.gpu is None else a.gpu
            STATE_PATH.write_text(json.dumps({"pid": d.pid, "url": d.url, "owner": a.owner, "gpu": gpu}))
        print(d.url)
        return 0
    if cmd == "down":
        try:
            state = json.loads(STATE_PATH.read_text())
        except (OSError, ValueError):
            log("no daemon recorded as started by `up`; nothing to stop")
            return 0
        if a.owner is not None and state.get("owner") != a.owner:
            log("the running daemon was not started by this owner; leaving it running")
            return 0
        pid = state.get("pid")
        if pid and pid_alive(pid) and any("dockerd" in a for a in pid_cmdline(pid)[:1]):
            kill_pid(pid, timeout=30, name="dockerd")
        STATE_PATH.unlink(missing_ok=True)
        return 0
    if cmd == "mode":  # for scripts: gpu | nogpu | unknown (not the local default daemon, or not readable)
        pid = running_dockerd_pid() if _docker_host() == DEFAULT_URL else None
        has = daemon_has_gpu_driver(pid) if pid else None
        print("unknown" if has is None else "gpu" if has else "nogpu")
        return 0
    ok, err = ping()
    pid = running_dockerd_pid() if _docker_host() == DEFAULT_URL else None
    has = daemon_has_gpu_driver(pid) if pid else None
    mode = "" if has is None else f" (pid {pid}, {'GPU mode: NVIDIA hook on its PATH' if has else 'no GPU driver'})"
    print(f"{_docker_host()}: {'reachable' if ok else 'NOT reachable: ' + err}{mode}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
