"""Pick a kernel image and prove its kernel starts: a thin command over the package's image step.

``python binder/pick_image.py [IMAGE]``: with IMAGE, check that one; without, take the first local
image (on ``DOCKER_HOST``'s daemon) whose Python has ipykernel and whose kernel starts. Prints the
image's tag on stdout (nothing when there is no candidate), what it does on stderr; exit 1 when the
check fails. The logic is :mod:`jupyter_gpu_kernels.local_setup.kernel_image`, which
``jupyter gpu-kernels start`` (``binder/start-local.sh``) uses; this script stays for scripts that
want only that step.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    import docker

    from jupyter_gpu_kernels.errors import LocalSetupError
    from jupyter_gpu_kernels.local_setup.kernel_image import pick_image
    from jupyter_gpu_kernels.local_setup.start import say

    client = docker.from_env()
    try:
        image = pick_image(client, say, argv[0] if argv else None)
    except LocalSetupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        client.close()
    if image:
        print(image)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
