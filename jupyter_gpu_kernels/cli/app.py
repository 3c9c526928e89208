"""``jupyter gpu-kernels …``: the root traitlets app and :func:`main`, the entry point.

Called by the ``jupyter-gpu-kernels`` script, ``python -m jupyter_gpu_kernels.cli`` and, in process,
by tests (``cli.main([...])`` returns the exit status; nothing leaks between calls). The subcommands
live in :mod:`.kernelspecs`, :mod:`.hosts`, :mod:`.envs`, :mod:`.images` and :mod:`.kernels`.

Exit status: 0 success; 2 usage error (unknown option, missing argument, bad value, and input the
parsing layer rejects: :class:`~jupyter_gpu_kernels.errors.SpecError`); 1 runtime failure (host
unreachable, pull failed, refused by policy, anything unexpected). Errors are one ``error:`` line on
stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..errors import GPUKernelsError, SpecError
from ..hosts.ssh import close_tunnels_since, ssh_tunnels
from .base import Command, UsageError
from .build import BuildApp, CommitApp
from .envs import EnvsApp
from .exec import ExecApp
from .hosts import DoctorApp, GPUsApp, HostsApp
from .images import CopyImageApp, ImagesApp, PullApp
from .kernels import KernelsApp, SyncApp
from .kernelspecs import InstallApp, ListApp, RemoveApp
from .prune import PruneApp
from .start import StartApp
from .usage import LogsApp, UsageApp


class GPUKernelsApp(Command):
    name = "jupyter-gpu-kernels"
    description = """kernelspecs, environments, Docker hosts, images and GPUs for jupyter-gpu-kernels.

Every kernel runs in its own Docker container, on this machine or a remote Docker host."""
    examples = """jupyter gpu-kernels hosts add gpu-box ssh://me@gpu-box
jupyter gpu-kernels envs add torch --image quay.io/jupyter/pytorch-notebook:cuda12-latest --gpus 1
jupyter gpu-kernels doctor
jupyter gpu-kernels start"""
    subcommands = {
        "start": (StartApp, "set this machine up (Docker, a kernel image, a demo environment) and start JupyterLab"),
        "install": (InstallApp, "write a kernelspec that runs in a Docker container"),
        "list": (ListApp, "list installed gpu-kernels kernelspecs"),
        "remove": (RemoveApp, "remove a gpu-kernels kernelspec"),
        "hosts": (HostsApp, "manage Docker hosts (list, add, remove, check)"),
        "envs": (EnvsApp, "manage environments (list, add, edit, remove, from-notebook), shown as kernels"),
        "images": (ImagesApp, "images on a host, marking those with ipykernel"),
        "pull": (PullApp, "pull an image on a host, with progress"),
        "kernels": (KernelsApp, "our kernel containers on every reachable host"),
        "sync": (SyncApp, "copy files between a notebook directory and its workspace on a remote host"),
        "copy-image": (CopyImageApp, "copy an image from one host to another (docker save | docker load)"),
        "doctor": (DoctorApp, "check daemons, GPU drivers, images and hosts; print what to fix"),
        "gpus": (GPUsApp, "GPU inventory of a host, with the kernels holding each GPU"),
        "build": (BuildApp, "build an image from a Dockerfile on a host, with the log"),
        "commit": (CommitApp, "save a running kernel's container as an image (a Dockerfile is the durable way)"),
        "prune": (PruneApp, "remove kernel containers whose owner process is gone (frees their GPUs)"),
        "usage": (UsageApp, "GPU-minutes per kernel, environment and user (--since 7d)"),
        "logs": (LogsApp, "a kernel container's recent stdout/stderr"),
        "exec": (ExecApp, "a shell (or a command) in a kernel's container, as the kernel's user"),
    }


def _one_line(error: BaseException) -> str:
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return text or type(error).__name__


def _leaf(app: Command) -> Command:
    while isinstance(app.subapp, Command):
        app = app.subapp
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``jupyter gpu-kernels`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    app = GPUKernelsApp()
    tunnels_before = ssh_tunnels()
    try:
        app.initialize(list(sys.argv[1:] if argv is None else argv))
        return int(app.start() or 0)
    except SystemExit as e:  # --help, --version, and traitlets' own exits
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:
        return 130
    except UsageError as e:
        print(f"error: {_one_line(e)} ({_leaf(app).usage_hint()})", file=sys.stderr)
        return 2
    except SpecError as e:  # input the parsing layer rejects (bad GPU spec, name, URL): a usage error too
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return 2
    except GPUKernelsError as e:
        _leaf(app).log.debug("traceback", exc_info=True)
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return 1
    except Exception as e:  # a runtime failure we did not name (Docker API, network): still one line
        _leaf(app).log.debug("traceback", exc_info=True)
        print(f"error: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 1
    finally:
        close_tunnels_since(tunnels_before)  # a one-shot command leaves no SSH master behind
        for cls in _app_classes(GPUKernelsApp):
            cls.clear_instance()


def _app_classes(root: type[Command]) -> set[type[Command]]:
    found = {root}
    subcommands = root.subcommands if isinstance(root.subcommands, dict) else {}
    for sub, _ in subcommands.values():
        found |= _app_classes(sub)
    return found


if __name__ == "__main__":
    sys.exit(main())
