"""``jupyter gpu-kernels exec KERNEL_ID [CMD…]``: a shell (or a command) in a kernel's container.

A subcommand of the root app in :mod:`.app`. Finds the kernel's container on ``--host`` or on every
configured host (a unique kernel-id prefix is enough), then runs an
:class:`~jupyter_gpu_kernels.daemon.exec.ExecSession` in it, as the kernel's user in its working
directory. When stdin is a terminal the local terminal is attached in raw mode, with a real pty in
the container (window size changes follow); otherwise stdin and stdout are piped
(``echo 'echo hi' | jupyter gpu-kernels exec ID sh``). Exits with the command's exit status.
Touches the local terminal's modes (restored on exit) and the SIGWINCH handler while attached.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from typing import Any

from traitlets import Unicode

from ..errors import HostError
from .base import Command


class ExecApp(Command):
    name = "jupyter-gpu-kernels exec"
    usage = "KERNEL_ID [--host HOST] [-- CMD [ARG]...]"
    description = """Run a shell (bash if the image has it, else sh) or CMD in a kernel's container, as the
kernel's user in its working directory. Interactive when stdin is a terminal; piped otherwise.
Exits with the command's exit status. Put -- before a command that has options."""
    examples = """jupyter gpu-kernels exec 1a2b3c4d
jupyter gpu-kernels exec 1a2b3c4d -- nvidia-smi -L
echo 'pip list' | jupyter gpu-kernels exec 1a2b3c4d sh"""

    host = Unicode(None, allow_none=True, help="the kernel's host (default: look on every host)").tag(config=True)
    aliases = {**Command.aliases, "host": "ExecApp.host"}

    def locate(self, kernel_id: str) -> tuple[Any, Any]:
        """(client, container) of the kernel, on ``--host`` or the first reachable host that has it."""
        from ..daemon.commits import AmbiguousKernelId, KernelNotFound, find_kernel_container
        from ..hosts.transport import connect

        hosts = [self.settings.hosts.get(self.host)] if self.host else self.settings.hosts.all()
        for host in hosts:
            try:
                client = connect(host)
                return client, find_kernel_container(client, kernel_id)
            except (HostError, KernelNotFound) as e:
                if self.host or isinstance(e, AmbiguousKernelId):
                    raise
        raise KernelNotFound(f"no kernel {kernel_id!r} on any reachable host (see `jupyter gpu-kernels kernels`)")

    def run(self) -> int:
        from ..daemon.exec import ExecSession
        from ..errors import GPUKernelsError

        args = self.positionals("KERNEL_ID") if len(self.extra_args) <= 1 else list(self.extra_args)
        kernel_id, cmd = args[0], args[1:]
        client, container = self.locate(kernel_id)
        if container.status != "running":
            raise GPUKernelsError(f"kernel {kernel_id!r}: its container is {container.status}, not running")
        interactive = sys.stdin.isatty()
        size = _terminal_size() if interactive else (24, 80)
        session = ExecSession(client, container, cmd or None, tty=interactive, rows=size[0], cols=size[1]).start()
        try:
            (attach_terminal if interactive else pipe)(session)
        finally:
            session.close()
        return final_status(session)


def final_status(session: Any) -> int:
    """The exec's exit status (it may take Docker a moment to record it after the stream ends)."""
    for _ in range(50):
        if not session.running():
            break
        time.sleep(0.1)
    code = session.exit_code()
    return 1 if code is None else int(code)


def _terminal_size() -> tuple[int, int]:
    try:
        size = os.get_terminal_size(sys.stdin.fileno())
        return size.lines, size.columns
    except OSError:
        return 24, 80


def attach_terminal(session: Any) -> None:
    """Raw local terminal ↔ the exec's pty, until the exec ends; window size changes are forwarded."""
    import termios
    import tty

    fd_in, fd_out = sys.stdin.fileno(), sys.stdout.fileno()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    old_mode = termios.tcgetattr(fd_in)
    old_handler = signal.signal(signal.SIGWINCH, lambda *_: _poke(wake_w))
    tty.setraw(fd_in)
    try:
        while True:
            ready, _, _ = select.select([fd_in, session, wake_r], [], [])
            if wake_r in ready:
                os.read(wake_r, 512)
                session.resize(*_terminal_size())
            if session in ready:
                data = session.recv()
                if not data:
                    return
                os.write(fd_out, data)
            if fd_in in ready:
                data = os.read(fd_in, 4096)
                if not data:
                    return
                session.send(data)
    finally:
        termios.tcsetattr(fd_in, termios.TCSADRAIN, old_mode)
        signal.signal(signal.SIGWINCH, old_handler)
        os.close(wake_r)
        os.close(wake_w)


def _poke(fd: int) -> None:
    try:
        os.write(fd, b"x")
    except OSError:
        pass


def pipe(session: Any) -> None:
    """stdin → the exec (EOF closes its stdin); its stdout and stderr → ours, until it ends."""
    from ..daemon.exec import demux_frames

    fd_in = sys.stdin.fileno()
    outs = {1: sys.stdout.fileno(), 2: sys.stderr.fileno()}
    sys.stdout.flush()
    buffer = bytearray()
    watch = [session, fd_in]
    while True:
        ready, _, _ = select.select(watch, [], [])
        if session in ready:
            data = session.recv()
            if not data:
                return
            buffer += data
            for stream, payload in demux_frames(buffer):
                os.write(outs.get(stream, outs[1]), payload)
        if fd_in in ready:
            data = os.read(fd_in, 65536)
            if data:
                session.send(data)
            else:
                session.close_stdin()
                watch = [session]
