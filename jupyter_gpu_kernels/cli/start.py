"""``jupyter gpu-kernels start``: set this machine up and start JupyterLab with the extension.

What ``binder/start-local.sh`` runs after ``pip install .``. The steps live in
:mod:`jupyter_gpu_kernels.local_setup` (a Docker daemon, found or started; a kernel image, found and
checked or built; the "demo" environment; ``jupyter lab`` on 127.0.0.1 with the token URL printed);
this module only parses the options. Arguments after ``--`` go to ``jupyter lab``.
"""

from __future__ import annotations

from pathlib import Path

from traitlets import Bool, Integer, Unicode

from ..local_setup.daemon import DEFAULT_LOG
from ..local_setup.start import StartOptions, start
from .base import Command, flag


class StartApp(Command):
    name = "jupyter-gpu-kernels start"
    usage = "[options] [-- JUPYTER-LAB-ARGS...]"
    description = """Set this machine up and start JupyterLab with jupyter-gpu-kernels.

Finds a Docker daemon (DOCKER_HOST, default the local socket) or, as root on Debian, installs docker.io
and starts dockerd in the background; picks a local image whose kernel starts (or builds a small
Debian + ipykernel demo image); adds the environment "demo" on it unless one exists; then runs
jupyter lab on 127.0.0.1 with a fresh token and prints its URL. Exit status 1 with what to do when a
step cannot be done here."""
    examples = """jupyter gpu-kernels start
jupyter gpu-kernels start --port 9999 --image quay.io/jupyter/base-notebook
jupyter gpu-kernels start -- --notebook-dir ~/notebooks"""

    port = Integer(8888, help="JupyterLab's port on 127.0.0.1").tag(config=True)
    image = Unicode(
        None,
        allow_none=True,
        help="the kernel image (default: the first local image whose kernel starts, else the demo image, built once)",
    ).tag(config=True)
    dockerd_log = Unicode(str(DEFAULT_LOG), help="where a dockerd started here logs").tag(config=True)
    lab = Bool(True, help="start JupyterLab at the end (--no-lab: set up and print the URL only)").tag(config=True)
    aliases = {
        **Command.aliases,
        "port": "StartApp.port",
        "image": "StartApp.image",
        "dockerd-log": "StartApp.dockerd_log",
    }
    flags = {
        **Command.flags,
        "no-lab": flag("StartApp", "lab", False, "set up, print the URL, do not start JupyterLab"),
    }

    def run(self) -> int:
        options = StartOptions(
            port=self.port,
            image=self.image or None,
            dockerd_log=Path(self.dockerd_log),
            lab=self.lab,
            lab_args=list(self.extra_args),
        )
        return start(self.settings, options)
