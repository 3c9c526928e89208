"""An interactive exec session in a kernel's container: ``docker exec -it`` through docker-py.

Called by the CLI (``jupyter gpu-kernels exec``, :mod:`jupyter_gpu_kernels.cli.exec`) and the
terminal websocket (:mod:`jupyter_gpu_kernels.server.terminal`), with a client from
:func:`jupyter_gpu_kernels.hosts.transport.connect` (so an SSH host's session goes through its
forwarded socket). Touches one container: it creates exec instances in it (the session, a
``test -x /bin/bash`` probe, and on close a reaper that hangs up what the session left running).

The session runs as the container's configured ``User`` (the uid the kernel runs as) in its
``WorkingDir``. With ``tty=True`` the stream is the raw pty; without, it is Docker's multiplexed
stdout/stderr framing (:func:`demux_frames`). Every process of a session carries
``JGK_EXEC_SESSION=<id>`` in its environment, so :meth:`ExecSession.close` can find and end them
all (Docker does not end an exec's processes when its client goes away).
"""

from __future__ import annotations

import socket
import struct
import uuid
from collections.abc import Iterator
from typing import Any

SESSION_ENV = "JGK_EXEC_SESSION"
# Hang up, then kill, every process whose environment carries the session's marker (except the reaper).
_REAPER = (
    'm="{env}=$1"; for sig in HUP KILL; do for p in /proc/[0-9]*; do n=${{p#/proc/}}; '
    '[ "$n" = "$$" ] && continue; '
    'if tr "\\000" "\\n" < "$p/environ" 2>/dev/null | grep -qx "$m"; then kill -$sig "$n" 2>/dev/null; fi; '
    "done; [ $sig = HUP ] && sleep 0.2; done; true"
)


def default_shell(client: Any, container: Any) -> list[str]:
    """``bash`` if the container has ``/bin/bash``, else ``sh``."""
    probe = client.api.exec_create(container.id, ["test", "-x", "/bin/bash"], user=container_user(container))
    client.api.exec_start(probe["Id"])
    return ["bash"] if client.api.exec_inspect(probe["Id"]).get("ExitCode") == 0 else ["sh"]


def container_user(container: Any) -> str:
    return (container.attrs.get("Config") or {}).get("User") or ""


def container_workdir(container: Any) -> str:
    return (container.attrs.get("Config") or {}).get("WorkingDir") or ""


class ExecSession:
    """One exec in ``container``: :meth:`start`, then :meth:`recv` / :meth:`send` / :meth:`resize`,
    :meth:`exit_code` once the stream ended, and always :meth:`close`."""

    def __init__(
        self,
        client: Any,
        container: Any,
        cmd: list[str] | None = None,
        *,
        tty: bool = True,
        rows: int = 24,
        cols: int = 80,
    ) -> None:
        self.client, self.container, self.tty = client, container, tty
        self.cmd = list(cmd) if cmd else default_shell(client, container)
        self.session_id = uuid.uuid4().hex
        self.rows, self.cols = rows, cols
        self.exec_id = ""
        self._raw: Any = None
        self._stream: Any = None
        self._closed = False

    def start(self) -> ExecSession:
        env = {SESSION_ENV: self.session_id}
        if self.tty:
            env["TERM"] = "xterm-256color"
        created = self.client.api.exec_create(
            self.container.id,
            self.cmd,
            stdin=True,
            stdout=True,
            stderr=True,
            tty=self.tty,
            user=container_user(self.container),
            workdir=container_workdir(self.container) or None,
            environment=env,
        )
        self.exec_id = created["Id"]
        self._stream = self.client.api.exec_start(self.exec_id, socket=True, tty=self.tty)
        self._raw = getattr(self._stream, "_sock", self._stream)  # SocketIO wraps the socket
        if self.tty:
            self.resize(self.rows, self.cols)
        return self

    def fileno(self) -> int:
        return self._raw.fileno()

    def recv(self, size: int = 65536) -> bytes:
        """Bytes from the exec (b'' at its end); with ``tty=False`` still in Docker's framing."""
        try:
            return self._raw.recv(size)
        except OSError:
            if self._closed:
                return b""
            raise

    def send(self, data: bytes) -> None:
        self._raw.sendall(data)

    def close_stdin(self) -> None:
        """End of input (a half-close: the exec reads EOF, its output still comes)."""
        try:
            self._raw.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def resize(self, rows: int, cols: int) -> None:
        self.rows, self.cols = max(1, int(rows)), max(1, int(cols))
        if self.exec_id and self.tty:
            try:
                self.client.api.exec_resize(self.exec_id, height=self.rows, width=self.cols)
            except Exception:  # the exec may have just ended: nothing to resize
                pass

    def running(self) -> bool:
        return bool(self.exec_id) and bool(self.client.api.exec_inspect(self.exec_id).get("Running"))

    def exit_code(self) -> int | None:
        return self.client.api.exec_inspect(self.exec_id).get("ExitCode") if self.exec_id else None

    def close(self) -> None:
        """Close the stream and end every process the session left in the container."""
        if self._closed:
            return
        self._closed = True
        for part in (self._raw, self._stream):
            try:
                part.close()
            except Exception:
                pass
        if self.exec_id:
            self.reap()

    def reap(self) -> None:
        """Hang up (then kill) the session's processes still running in the container."""
        try:
            self.container.reload()
            if self.container.status != "running":
                return
            reaper = self.client.api.exec_create(
                self.container.id,
                ["sh", "-c", _REAPER.format(env=SESSION_ENV), "reaper", self.session_id],
                user=container_user(self.container),
            )
            self.client.api.exec_start(reaper["Id"])
        except Exception:  # the container is gone: so are its processes
            pass


def demux_frames(buffer: bytearray) -> Iterator[tuple[int, bytes]]:
    """(stream, payload) for each complete frame of Docker's non-tty framing in ``buffer``
    (consumed from it): stream 1 is stdout, 2 stderr."""
    while len(buffer) >= 8:
        kind, size = buffer[0], struct.unpack(">I", bytes(buffer[4:8]))[0]
        if len(buffer) < 8 + size:
            return
        payload = bytes(buffer[8 : 8 + size])
        del buffer[: 8 + size]
        yield kind, payload
