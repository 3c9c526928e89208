"""One persistent OpenSSH connection per remote host, carrying the Docker API and kernel ports.

docker-py's own ssh:// support logs in once per API call (``use_ssh_client``,
docker/docker-py#2966) or uses paramiko, which ignores most of ``~/.ssh/config``.
We run the OpenSSH client as a ControlMaster instead, so ``~/.ssh/config``,
agents and ProxyJump work as they do for the Docker CLI:

- the remote daemon's socket is forwarded to a local unix socket (private dir, 0700),
  and docker-py talks to that socket: one login, reused by every API call. Which socket: the
  host's ``remote_socket`` option, else what the ``docker`` CLI would use on that side (its
  ``DOCKER_HOST``, current context, rootless socket, /var/run/docker.sock), found with one SSH
  command; a forwarded socket that does not answer ``/_ping`` fails at once, naming both sockets;
- each kernel's five ports are forwarded from 127.0.0.1 to the container's address
  on the remote side (``ssh -O forward``); nothing is published on the remote's
  network interfaces, and forwards are cancelled with the kernel;
- a watchdog re-establishes a dropped connection and restores every forward on the
  same local ports, so ZeroMQ reconnects by itself and the kernel carries on.

Every ``ssh`` argv ends with ``--`` and the destination, so a host name can never be read as
an option (``ssh://-oProxyCommand=…`` is also refused when the URL is parsed, in ``.registry``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from jupyter_core.paths import jupyter_runtime_dir

from .. import forksafe
from ..errors import HostError
from .registry import DockerHost

CONNECT_TIMEOUT = 6
PING_TIMEOUT = 5.0
# run by the SSH user's login shell (stdin): the daemon `docker` would use there, one marker line
RESOLVE_SCRIPT = r"""
if [ -n "$DOCKER_HOST" ]; then echo "JGK-DOCKER env $DOCKER_HOST"; exit 0; fi
cfg="${DOCKER_CONFIG:-$HOME/.docker}"
ctx="$DOCKER_CONTEXT"
if [ -z "$ctx" ] && [ -f "$cfg/config.json" ]; then
  ctx=$(sed -n 's/.*"currentContext"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$cfg/config.json" | head -n 1)
fi
if [ -n "$ctx" ] && [ "$ctx" != default ]; then
  sum=$(printf %s "$ctx" | sha256sum 2>/dev/null | cut -d ' ' -f 1)
  meta="$cfg/contexts/meta/$sum/meta.json"
  if [ -n "$sum" ] && [ -f "$meta" ]; then
    url=$(sed -n 's/.*"Host"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$meta" | head -n 1)
    if [ -n "$url" ]; then echo "JGK-DOCKER context:$ctx $url"; exit 0; fi
  fi
fi
for dir in "$XDG_RUNTIME_DIR" "/run/user/$(id -u)"; do
  if [ -n "$dir" ] && [ -S "$dir/docker.sock" ]; then echo "JGK-DOCKER rootless unix://$dir/docker.sock"; exit 0; fi
done
echo "JGK-DOCKER default unix:///var/run/docker.sock"
"""
RESOLVED_HOW = {
    "env": "DOCKER_HOST of the SSH user",
    "rootless": "rootless Docker socket of the SSH user",
    "default": "default socket",
}


def socket_target(url: str, how: str, host_name: str) -> str:
    """What ``ssh -L`` forwards to for a remote DOCKER_HOST/context URL: a socket path, or host:port."""
    parsed = urlparse(url)
    if parsed.scheme == "unix" or url.startswith("/"):
        return parsed.path or url
    if parsed.scheme in ("tcp", "http") and parsed.hostname:
        return f"{parsed.hostname}:{parsed.port or 2375}"
    raise HostError(
        f"host {host_name!r}: the remote side's Docker endpoint {url!r} ({how}) cannot be reached "
        "through SSH; give the daemon's socket with --remote-socket PATH"
    )


def ping_socket(path: Path, timeout: float = PING_TIMEOUT) -> str | None:
    """None when a Docker daemon answers ``/_ping`` on the unix socket ``path``, else why not."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(path))
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = s.recv(4096)
    except OSError as e:
        return f"{type(e).__name__}: {e}"
    if not reply:
        return "the connection was closed (no such socket on the remote side, or no permission)"
    return None if reply.startswith(b"HTTP/") else f"unexpected answer {reply[:60]!r}"


# a master with no session, forward or connection through it for this long exits by itself, so one
# left by a process that died (SIGKILL) does not live on; while kernels are connected it is not idle
CONTROL_PERSIST = 300
_tunnels: dict[str, SSHTunnel] = {}
_lock = threading.Lock()


def _reset_after_fork() -> None:
    """A forked child: the parent's masters and forwards belong to the parent (its watchdog threads)."""
    global _lock, _tunnels
    _lock = threading.Lock()
    _tunnels = {}


forksafe.register(_reset_after_fork)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SSHTunnel:
    """The OpenSSH ControlMaster for one host, with the Docker socket and kernel port forwards."""

    def __init__(self, host: DockerHost) -> None:
        if shutil.which("ssh") is None:
            raise HostError(f"host {host.name!r} uses ssh:// but no OpenSSH client (`ssh`) is installed here")
        self.host = host
        url = urlparse(host.url)
        self.dest = url.hostname or ""
        self.user = url.username
        if not self.dest or self.dest.startswith("-") or (self.user or "").startswith("-"):
            raise HostError(f"host {host.name!r}: {host.url!r} is not a valid ssh:// URL")
        self.port = url.port
        key = hashlib.sha256(f"{host.name}\0{host.url}".encode()).hexdigest()[:12]
        # unix socket paths are limited to ~100 bytes: keep the directory short
        base = Path(os.environ.get("JGK_SSH_DIR") or Path(jupyter_runtime_dir()) / "gpu-kernels-ssh")
        if len(str(base)) > 60:
            base = Path("/tmp") / f"jgk-ssh-{os.getuid()}"
        self.dir = base / key
        self.control = self.dir / "ctl"
        self.docker_sock = self.dir / "docker.sock"
        self.explicit_socket = str(host.options.get("remote_socket") or "")
        self.found: tuple[str, str] | None = (self.explicit_socket, "--remote-socket") if self.explicit_socket else None
        self.ssh_options = [str(o) for o in host.options.get("ssh_options", [])] if host.source != "user" else []
        if host.options.get("identity_file"):  # a file path, passed as one argument (never an option)
            self.ssh_options += [
                "-i",
                os.path.abspath(os.path.expanduser(str(host.options["identity_file"]))),
                "-o",
                "IdentitiesOnly=yes",
            ]
        self.forwards: dict[str, tuple[int, str, int]] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self.reconnects = 0

    # ------------------------------------------------------------------ ssh invocations
    def _base(self) -> list[str]:
        argv = [
            "ssh",
            *self.ssh_options,
            "-o",
            "BatchMode=yes",
            "-o",
            f"ConnectTimeout={CONNECT_TIMEOUT}",
            "-o",
            "ServerAliveInterval=5",
            "-o",
            "ServerAliveCountMax=3",
            "-o",
            "ExitOnForwardFailure=yes",
            "-o",
            "StreamLocalBindUnlink=yes",
            "-S",
            str(self.control),
        ]
        if self.port:
            argv += ["-p", str(self.port)]
        if self.user:
            argv += ["-l", self.user]
        return argv

    def _ctl(self, *args: str, timeout: float = 10) -> subprocess.CompletedProcess:
        return subprocess.run([*self._base(), *args, "--", self.dest], capture_output=True, text=True, timeout=timeout)

    def alive(self) -> bool:
        """Whether the master answers on its control socket. A slow answer (a loaded machine) is asked
        again with more time before the master counts as dead: ``ensure`` ends a dead master, which
        drops every kernel's forwards, so a false "dead" costs each client its IOPub messages."""
        if not self.control.exists():
            return False
        for timeout in (5, 20):
            try:
                return self._ctl("-O", "check", timeout=timeout).returncode == 0 and self.docker_sock.exists()
            except subprocess.TimeoutExpired:
                continue
        return False

    def _start_master(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.dir, 0o700)
        for stale in (self.control, self.docker_sock):
            stale.unlink(missing_ok=True)
        argv = [*self._base(), "-M", "-N", "-f", "-o", f"ControlPersist={CONTROL_PERSIST}", "--", self.dest]
        try:
            proc = subprocess.run(
                argv, capture_output=True, text=True, timeout=CONNECT_TIMEOUT + 4, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            raise HostError(
                f"Docker host {self.host.name!r} ({self.host.url}) is not reachable: ssh timed out"
            ) from None
        if proc.returncode != 0:
            err = (proc.stderr or "").strip().splitlines()
            raise HostError(
                f"Docker host {self.host.name!r} ({self.host.url}) is not reachable over SSH: "
                f"{err[-1] if err else 'ssh exited with ' + str(proc.returncode)}. "
                f"Check that `ssh {self.dest}` works without a password prompt (key or agent)."
            )
        self._forward_docker()

    # ------------------------------------------------------------------ the remote daemon's socket
    @property
    def remote_socket(self) -> str:
        return self.found[0] if self.found else ""

    def resolve_remote_socket(self) -> tuple[str, str]:
        """(socket path or host:port, how it was found) as the docker CLI on the remote side would pick it,
        with one SSH command through the master: a login shell's ``DOCKER_HOST``, the current context,
        the rootless socket, then /var/run/docker.sock."""
        try:
            proc = subprocess.run(
                [*self._base(), "--", self.dest, 'exec "${SHELL:-/bin/sh}" -l -s'],
                input=RESOLVE_SCRIPT,
                capture_output=True,
                text=True,
                timeout=CONNECT_TIMEOUT + 4,
            )
        except subprocess.TimeoutExpired:
            proc = None
        lines = [ln for ln in (proc.stdout if proc else "").splitlines() if ln.startswith("JGK-DOCKER ")]
        if not lines:
            return "/var/run/docker.sock", "default socket (the remote shell did not answer the lookup)"
        _, how, url = (lines[-1].split(" ", 2) + ["", ""])[:3]
        return socket_target(url, how, self.host.name), RESOLVED_HOW.get(how, how)

    def _forward_docker(self) -> None:
        if self.found is None:
            self.found = self.resolve_remote_socket()
        remote, how = self.found
        proc = self._ctl("-O", "forward", "-L", f"{self.docker_sock}:{remote}")
        deadline = time.monotonic() + 5
        while proc.returncode != 0 or not self.docker_sock.exists():
            if proc.returncode != 0 or time.monotonic() > deadline:
                raise HostError(
                    f"host {self.host.name!r}: SSH is up but the Docker socket {remote} ({how}) could "
                    f"not be forwarded: {proc.stderr.strip() or 'no local socket appeared'}"
                )
            time.sleep(0.02)
        reason = ping_socket(self.docker_sock)
        if reason:
            raise HostError(
                f"host {self.host.name!r}: the remote Docker socket {remote} ({how}), forwarded to "
                f"{self.docker_sock}, does not answer: {reason}. Is dockerd running there and may this user use "
                "it? If the daemon `docker` uses there lives elsewhere, give it with --remote-socket PATH"
            )

    def daemon_description(self) -> str:
        """Which remote daemon socket this tunnel reaches and how it was found, e.g. for `hosts check`."""
        self.ensure()
        return f"{self.remote_socket} ({self.found[1] if self.found else '?'})"

    def _add_forward(self, local_port: int, rhost: str, rport: int) -> None:
        proc = self._ctl("-O", "forward", "-L", f"127.0.0.1:{local_port}:{rhost}:{rport}")
        if proc.returncode != 0:
            raise HostError(f"host {self.host.name!r}: could not forward port {rport}: {proc.stderr.strip()}")

    def ensure(self) -> None:
        """Connect (or reconnect) and restore all kernel forwards on their old local ports."""
        with self._lock:
            if self.alive():
                return
            reconnect = self.control.exists() or bool(self.forwards)
            if self.control.exists():
                self._ctl("-O", "exit", timeout=5)
            self._start_master()
            for local_port, rhost, rport in self.forwards.values():
                self._add_forward(local_port, rhost, rport)
            if reconnect:
                self.reconnects += 1
            self._start_watchdog()

    def _start_watchdog(self) -> None:
        if self._watchdog is not None and self._watchdog.is_alive():
            return
        self._watchdog = threading.Thread(target=self._watch, name=f"ssh-watchdog-{self.host.name}", daemon=True)
        self._watchdog.start()

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            if not self.forwards:
                continue
            try:
                self.ensure()
            except Exception:  # host down: try again next round; poll() reports the host unreachable
                pass

    # ------------------------------------------------------------------ public
    def docker_url(self) -> str:
        self.ensure()
        return f"unix://{self.docker_sock}"

    def forward(self, key: str, rhost: str, rport: int, local_port: int | None = None) -> int:
        """Forward a 127.0.0.1 port (``local_port``, else a free one) to ``rhost:rport`` as seen from
        the remote host."""
        with self._lock:
            self.ensure()
            if key in self.forwards:
                return self.forwards[key][0]
            if local_port:
                try:
                    self._add_forward(local_port, rhost, rport)
                    self.forwards[key] = (local_port, rhost, rport)
                    return local_port
                except HostError:
                    pass  # taken meanwhile: fall back to a new port
            for _ in range(5):
                local = _free_port()
                try:
                    self._add_forward(local, rhost, rport)
                except HostError:
                    continue
                self.forwards[key] = (local, rhost, rport)
                return local
            raise HostError(f"host {self.host.name!r}: no free local port to forward {rhost}:{rport}")

    def cancel(self, prefix: str) -> None:
        """Remove the forwards whose key starts with ``prefix`` (one kernel's ports)."""
        with self._lock:
            for key in [k for k in self.forwards if k.startswith(prefix)]:
                local, rhost, rport = self.forwards.pop(key)
                if self.control.exists():
                    self._ctl("-O", "cancel", "-L", f"127.0.0.1:{local}:{rhost}:{rport}")

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            if self.control.exists():
                self._ctl("-O", "exit", timeout=5)
            self.forwards.clear()


def tunnel_for(host: DockerHost) -> SSHTunnel:
    with _lock:
        t = _tunnels.get(host.name)
        if t is None or t.host.url != host.url or t.host.options != host.options:
            if t is not None:
                t.close()
            t = _tunnels[host.name] = SSHTunnel(host)
        return t


def ssh_tunnels() -> dict[str, SSHTunnel]:
    """The tunnels this process holds now (by host name), for :func:`close_tunnels_since`."""
    with _lock:
        return dict(_tunnels)


def close_tunnels_since(before: dict[str, SSHTunnel]) -> None:
    """Close the tunnels opened since ``before`` was taken (a one-shot command's), keeping older ones."""
    with _lock:
        new = [(name, t) for name, t in _tunnels.items() if before.get(name) is not t]
        for name, _ in new:
            del _tunnels[name]
    for _, t in new:
        try:
            t.close()
        except Exception:  # ssh gone already
            pass


def close_all() -> None:
    with _lock:
        for t in _tunnels.values():
            t.close()
        _tunnels.clear()
