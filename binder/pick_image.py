"""Pick the demo kernel image for ``binder/start-local.sh`` and prove its kernel starts.

``python binder/pick_image.py [IMAGE]``: with IMAGE, check that one; without, take the first
local image whose Python has ipykernel (as the image list's probe finds it: ``python3`` or
``python`` on the image's PATH, conda/venv layouts too). The check starts a real kernel from the
image through jupyter_client (a throw-away kernelspec in a temporary Jupyter data dir), runs one
cell and shuts it down, so an image that would fail in JupyterLab fails here, with the reason.
Prints the image's tag (empty when there is no candidate); exit 1 when the check fails.
Called by start-local.sh only; touches the default Docker daemon and a temporary directory.
"""

from __future__ import annotations

import os
import sys
import tempfile


def candidates() -> list[str]:
    import docker

    from jupyter_gpu_kernels.daemon.images import list_images

    return [t for i in list_images(docker.from_env()) if i["has_ipykernel"] for t in i["tags"]]


def check(image: str) -> str:
    """Start a kernel from ``image``, run a cell; the interpreter it ran with (raises on failure)."""
    with tempfile.TemporaryDirectory(prefix="jgk-pick-") as d, tempfile.TemporaryDirectory(prefix="jgk-work-") as w:
        os.environ["JUPYTER_DATA_DIR"] = os.environ["JUPYTER_PATH"] = d  # kernels may not see it: not the cwd
        from jupyter_client.manager import KernelManager

        from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json, provisioner_config

        install("jgk-pick", kernel_json("pick", provisioner_config(image=image)), user=True)
        km = KernelManager(kernel_name="jgk-pick")
        km.start_kernel(cwd=w)
        kc = km.client()
        try:
            kc.start_channels()
            kc.wait_for_ready(timeout=60)
            out: list[str] = []
            reply = kc.execute_interactive(
                "import sys; print(sys.executable)",
                timeout=30,
                output_hook=lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None,
            )
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"a cell failed in {image}: {reply['content']}")
            return "".join(out).strip()
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


def main(argv: list[str]) -> int:
    images = argv[:1] or candidates()[:1]
    if not images:
        print("")
        return 0
    try:
        python = check(images[0])
    except Exception as e:  # the reason, in one place, for the shell script's user
        print(f"the kernel of image {images[0]} does not start: {e}", file=sys.stderr)
        return 1
    print(f"image {images[0]}: kernel runs with {python}", file=sys.stderr)
    print(images[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
