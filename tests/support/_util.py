"""Small helpers shared by the test-support modules."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def log(msg: str) -> None:
    """Progress output; goes to stderr so it shows up with ``pytest -s`` and in scripts."""
    print(f"[jgk-test] {msg}", file=sys.stderr, flush=True)


def which(name: str) -> str | None:
    """``shutil.which`` that also looks in the sbin directories (root tools live there)."""
    path = os.environ.get("PATH", "")
    return shutil.which(name, path=f"{path}:{SYSTEM_PATH}" if path else SYSTEM_PATH)


def is_root() -> bool:
    return os.geteuid() == 0


def is_debian() -> bool:
    return Path("/etc/debian_version").exists() and which("apt-get") is not None


def run(cmd, *, check=True, capture=False, env=None, input=None, timeout=None, quiet=False, to_stderr=False):
    """Run a command, logging it; raise CalledProcessError with output on failure. ``to_stderr``:
    its stdout goes to our stderr (for commands run by a CLI whose stdout is a value, e.g. ``dockerd up``)."""
    if not quiet:
        log("$ " + " ".join(str(c) for c in cmd))
    res = subprocess.run(
        [str(c) for c in cmd],
        env=env,
        input=input,
        timeout=timeout,
        text=True,
        stdout=subprocess.PIPE if capture else (2 if to_stderr else None),
        stderr=subprocess.PIPE if capture else None,
    )
    if check and res.returncode != 0:
        raise subprocess.CalledProcessError(res.returncode, cmd, res.stdout, res.stderr)
    return res


_apt_updated = False


def apt_install(*packages: str) -> None:
    """``apt-get install -y`` (after one ``apt-get update`` per process). Root on Debian only. Its
    output goes to stderr: ``python -m tests.support.dockerd up`` prints only the daemon's URL on stdout."""
    global _apt_updated
    if not (is_root() and is_debian()):
        raise RuntimeError(
            f"need the Debian packages {' '.join(packages)} but cannot install them here "
            f"(root: {is_root()}, Debian with apt-get: {is_debian()}); install them manually"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if not _apt_updated:
        run(["apt-get", "update"], env=env, to_stderr=True)
        _apt_updated = True
    run(["apt-get", "install", "-y", "--no-install-recommends", *packages], env=env, to_stderr=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie counts as dead
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def pid_cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def kill_pid(pid: int, *, timeout: float = 20.0, name: str = "process") -> None:
    """SIGTERM, wait, then SIGKILL one process we started (by pid only)."""
    import signal

    if not pid_alive(pid):
        return
    log(f"stopping {name} (pid {pid})")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            _reap(pid)
            return
        time.sleep(0.2)
    log(f"{name} (pid {pid}) did not stop in {timeout:.0f}s; SIGKILL")
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    for _ in range(50):
        if not pid_alive(pid):
            break
        time.sleep(0.1)
    _reap(pid)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def read_pidfile(path: Path) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def tail(path: Path, n: int = 30) -> str:
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:])


def unmount_under(prefix: str) -> None:
    """Lazily unmount every mount point at or below ``prefix`` (deepest first)."""
    prefix = os.path.realpath(prefix)
    points = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                mp = line.split()[4].encode().decode("unicode_escape")
                if mp == prefix or mp.startswith(prefix.rstrip("/") + "/"):
                    points.append(mp)
    except OSError:
        return
    for mp in sorted(set(points), key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], stderr=subprocess.DEVNULL)


def started_or_fail(start, what: str, *args, before_stop=None, **kw):
    """Body of a fixture for a simulated host (``start(*args, **kw)`` returns it; it has ``stop()``):
    the host, then ``before_stop()`` and its stop. A host that cannot start fails the test, never skips
    it: the simulated hosts are part of the suite."""
    import pytest

    try:
        host = start(*args, **kw)
    except Exception as e:
        pytest.fail(f"the simulated {what} could not be started: {e}", pytrace=False)
    try:
        yield host
    finally:
        try:
            if before_stop is not None:
                before_stop()
        finally:
            host.stop()
