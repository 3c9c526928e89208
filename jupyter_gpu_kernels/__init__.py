"""jupyter-gpu-kernels: every Jupyter kernel in its own GPU-enabled Docker container."""

from __future__ import annotations

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0.dev0"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-gpu-kernels"}]


def _jupyter_server_extension_points() -> list[dict[str, object]]:
    from .server.extension import GPUKernelsApp

    return [{"module": "jupyter_gpu_kernels", "app": GPUKernelsApp}]
