"""The CLI's progress helper (:mod:`jupyter_gpu_kernels.cli.progress`, used by ``pull`` and
``copy-image``): on a terminal (a real pty) one status line rewritten in place and ended by a newline,
even when the operation fails; piped, a line per update and nothing cut."""

from __future__ import annotations

import io
import os
import sys

import pytest

from jupyter_gpu_kernels.cli.progress import status_line


def test_piped_progress_is_a_line_per_update(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with status_line(width=5) as show:
        show("first update")
        show("second")
    assert err.getvalue() == "first update\nsecond\n"


def read_pty(fd: int) -> str:
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except (BlockingIOError, OSError):
            break
        if not chunk:
            break
        out += chunk
    return out.decode()


@pytest.mark.parametrize("fails", [False, True])
def test_terminal_progress_is_one_line_rewritten_in_place(monkeypatch, fails):
    leader, follower = os.openpty()
    os.set_blocking(leader, False)
    with os.fdopen(follower, "w", closefd=True) as tty:
        monkeypatch.setattr(sys, "stderr", tty)
        try:
            with status_line(width=5) as show:
                show("first update")
                show("second")
                if fails:
                    raise RuntimeError("daemon gone")
        except RuntimeError:
            assert fails
        tty.flush()
        text = read_pty(leader)
    os.close(leader)
    # the pty turns "\n" into "\r\n"; the last update ends with a newline, so the result (or the
    # error) printed next starts a line of its own
    assert text == "\r\033[Kfirst\r\033[Ksecon\r\n"
