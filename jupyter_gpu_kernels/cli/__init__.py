"""``jupyter gpu-kernels ...``: the command line, a traitlets JupyterApp with subcommands.

``main(argv) -> int`` (in :mod:`.app`) is the entry point of the ``jupyter-gpu-kernels`` script and of
``python -m jupyter_gpu_kernels.cli``; tests call it in process. Subcommands: :mod:`.kernelspecs`,
:mod:`.hosts`, :mod:`.envs`, :mod:`.images`, :mod:`.kernels`; shared parsing in :mod:`.base`; checks
in :mod:`.doctor`.
"""

from .app import main

__all__ = ["main"]
