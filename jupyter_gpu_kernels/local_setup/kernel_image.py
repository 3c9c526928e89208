"""The kernel image for ``jupyter gpu-kernels start``: a local image whose kernel really starts.

:func:`candidates` lists the local images whose Python has ipykernel, as the image list's probe finds
it (``python3``/``python`` on the image's PATH, conda and venv layouts too), the demo image
(:mod:`.demo_image`) first. :func:`check` starts a real kernel from an image through
jupyter_client (a throw-away kernelspec in a temporary Jupyter data dir; the process's environment
is restored afterwards), runs one cell and shuts it down, so an image that would fail in JupyterLab
fails here, with the reason. :func:`pick_image` tries the requested image, or the candidates in
order, and returns the first that works (None when there is no candidate).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import LocalSetupError
from .demo_image import demo_tag

Say = Callable[[str], None]
CHECK_TIMEOUT = 60


def candidates(client: Any) -> list[str]:
    """Tags of the local images with ipykernel, the demo image's first."""
    from ..daemon.images import list_images

    tags = [t for i in list_images(client) if i["has_ipykernel"] for t in i["tags"]]
    return sorted(tags, key=lambda t: t != demo_tag())


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check(image: str) -> str:
    """Start a kernel from ``image``, run a cell; the interpreter it ran with (raises on failure)."""
    with (
        tempfile.TemporaryDirectory(prefix="jgk-start-") as d,
        tempfile.TemporaryDirectory(prefix="jgk-work-") as w,
        _environ(JUPYTER_DATA_DIR=d, JUPYTER_PATH=d),
    ):
        from jupyter_client.manager import KernelManager

        from ..kernel.kernelspecs import install, kernel_json, provisioner_config

        install("jgk-start-check", kernel_json("check", provisioner_config(image=image)), user=True)
        km = KernelManager(kernel_name="jgk-start-check")
        km.start_kernel(cwd=w)
        kc = km.client()
        try:
            kc.start_channels()
            kc.wait_for_ready(timeout=CHECK_TIMEOUT)
            out: list[str] = []
            reply = kc.execute_interactive(
                "import sys; print(sys.executable)",
                timeout=30,
                output_hook=lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None,
            )
            if reply["content"]["status"] != "ok":
                raise LocalSetupError(f"a cell failed in a kernel of {image}: {reply['content']}")
            return "".join(out).strip()
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


def pick_image(client: Any, say: Say, requested: str | None = None) -> str | None:
    """The first image (``requested``, or each candidate) whose kernel starts; None without candidates."""
    images = [requested] if requested else candidates(client)
    if not images:
        return None
    failures = []
    for image in images:
        say(f"starting a kernel from {image} to check it")
        try:
            python = check(image)
        except Exception as e:  # whatever stops the kernel: the reason, then the next candidate
            reason = " ".join(str(e).split()) or type(e).__name__
            say(f"the kernel of {image} does not start: {reason}")
            failures.append(f"{image}: {reason}")
            continue
        say(f"image {image}: kernel runs with {python}")
        return image
    if requested:
        raise LocalSetupError(
            f"the kernel of image {requested} does not start ({failures[0]}); choose another "
            "image with --image, or leave --image out to use (or build) the demo image"
        )
    return None
