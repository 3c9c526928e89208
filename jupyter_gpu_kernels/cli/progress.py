"""Progress of a long CLI operation (``pull``, ``copy-image``) on stderr, one way for all of them.

On a terminal the progress is one status line rewritten in place (``\\r`` + clear to the end of the
line), ended with a newline when the operation is over, so the result line printed on stdout after
it starts on a line of its own; piped (a log, CI) every update is a line of its own. Used by
:mod:`.images`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def progress_line(line: str) -> None:
    """One progress line on stderr (``images derive``: the build's steps)."""
    print(line, file=sys.stderr, flush=True)


@contextmanager
def status_line(width: int | None = None) -> Iterator[Callable[[str], None]]:
    """``with status_line() as show: show(text)``: ``text`` on stderr, in place on a terminal.

    ``width`` cuts each text to that many characters on a terminal (a long daemon message would
    wrap, and ``\\r`` then rewrites only its last part); piped output is never cut.
    """
    tty = sys.stderr.isatty()

    def show(text: str) -> None:
        if tty:
            print("\r\033[K" + (text[:width] if width else text), end="", file=sys.stderr, flush=True)
        else:
            print(text, file=sys.stderr, flush=True)

    try:
        yield show
    finally:
        if tty:
            print(file=sys.stderr)
