"""The steps of ``jupyter gpu-kernels start``, in order, ending in ``jupyter lab``.

1. a Docker daemon (:func:`.daemon.ensure_daemon`); its URL goes into ``DOCKER_HOST`` for the rest
   and for JupyterLab;
2. a kernel image whose kernel starts (:func:`.kernel_image.pick_image`), or the demo image
   (:func:`.demo_image.build_demo_image`) when no local image has ipykernel;
3. the environment ``demo`` on that image, unless one exists (the user's environments file);
4. ``jupyter lab`` on 127.0.0.1, exec'd in place of this process, with a fresh token in
   ``JUPYTER_TOKEN`` and the URL printed first (``--ServerApp.port_retries=0``: a busy port fails
   instead of moving the server away from the printed URL).

Progress goes to stderr as plain lines; stdout stays free for nothing but JupyterLab's own output.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LocalSetupError
from .daemon import DEFAULT_LOG, ensure_daemon
from .demo_image import build_demo_image
from .kernel_image import check, pick_image

DEMO_ENV = "demo"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class StartOptions:
    port: int = 8888
    image: str | None = None
    dockerd_log: Path = DEFAULT_LOG
    lab: bool = True  # False: set up, print the URL and the command, do not start JupyterLab
    lab_args: list[str] = field(default_factory=list)


def kernel_image(client: Any, requested: str | None) -> str:
    """Step 2: the image whose kernel started (the demo image built when there was none)."""
    image = pick_image(client, say, requested)
    if image:
        return image
    say("no local image with ipykernel starts a kernel: building the demo image (about a minute)")
    image = build_demo_image(client, say)
    try:
        say(f"image {image}: kernel runs with {check(image)}")
    except Exception as e:
        raise LocalSetupError(
            f"the kernel of the demo image {image} does not start ({e}); remove it "
            f"(`docker rmi {image}`) to build it again, or pass --image"
        ) from e
    return image


def demo_environment(settings: Any, image: str) -> None:
    """Step 3: the environment ``demo`` on ``image``, unless an environment of that name exists."""
    existing = {e.name: e for e in settings.environments.all()}
    if DEMO_ENV in existing:
        say(f"environment {DEMO_ENV!r} exists already (image {existing[DEMO_ENV].image}); left as it is")
        return
    env = settings.environments.create(DEMO_ENV, {"image": image, "display_name": f"Demo ({image})"})
    say(f"added environment {DEMO_ENV!r} on {image}: kernel {env.kernel_name!r} in the Launcher")


def lab_command(options: StartOptions) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={options.port}",
        "--ServerApp.port_retries=0",
        "--no-browser",
    ]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    return argv + list(options.lab_args)


def start(settings: Any, options: StartOptions) -> int:
    """Run the steps; execs JupyterLab (no return) unless ``options.lab`` is False."""
    import docker

    say("1/4 Docker daemon")
    url = ensure_daemon(say, log_path=options.dockerd_log)
    os.environ["DOCKER_HOST"] = url
    say("2/4 kernel image")
    client = docker.DockerClient(base_url=url, timeout=600)
    try:
        image = kernel_image(client, options.image)
    finally:
        client.close()
    say("3/4 environment")
    demo_environment(settings, image)
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    os.environ["JUPYTER_TOKEN"] = token
    argv = lab_command(options)
    say(f"4/4 JupyterLab: http://127.0.0.1:{options.port}/lab?token={token}")
    if not options.lab:
        say("not starting it (--no-lab); the command would be: " + " ".join(argv[2:]))
        return 0
    say("starting JupyterLab (Ctrl-C to stop)")
    sys.stdout.flush()
    os.execv(argv[0], argv)
    return 0  # not reached
