"""``jupyter gpu-kernels ...``: the command line (subcommands in :mod:`.app`, checks in :mod:`.doctor`)."""

from .app import main

__all__ = ["main"]
