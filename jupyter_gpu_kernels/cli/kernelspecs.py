"""``jupyter gpu-kernels install | list | remove``: kernelspecs that run in a Docker container.

Subcommands of the root app in :mod:`.app`. They write and read kernelspec directories through
:mod:`jupyter_gpu_kernels.kernel.kernelspecs` (jupyter_client's KernelSpecManager) and check images
against the image policy; they never talk to a Docker daemon.
"""

from __future__ import annotations

import json
import sys

from jupyter_client.kernelspec import NoSuchKernel
from traitlets import Bool, Enum, Float, List, Unicode

from ..hosts.registry import check_host_name
from ..kernel import kernelspecs
from ..specs.gpus import describe_gpus, parse_gpus
from ..specs.resources import parse_env_pair
from .base import Command, UsageError, flag, print_table

PULL_POLICIES = ["missing", "always", "never"]


class ContainerOptions(Command):
    """The container settings shared by ``install`` and ``envs add/edit`` (None: not given)."""

    image = Unicode(None, allow_none=True, help="the image the kernel runs in (it must have ipykernel)").tag(
        config=True
    )
    display_name = Unicode(None, allow_none=True, help="the name shown in JupyterLab's launcher").tag(config=True)
    host = Unicode(None, allow_none=True, help="the Docker host to run on (see `jupyter gpu-kernels hosts`)").tag(
        config=True
    )
    gpus = Unicode(
        None, allow_none=True, help="GPUs: none | all | N | device=0,2 | device=GPU-<uuid> | nvidia.com/gpu=0"
    ).tag(config=True)
    memory = Unicode(None, allow_none=True, help="memory limit, e.g. 16g").tag(config=True)
    cpus = Float(None, allow_none=True, help="CPU limit, e.g. 4 or 0.5").tag(config=True)
    shm_size = Unicode(None, allow_none=True, help="size of /dev/shm, e.g. 8g").tag(config=True)
    mount = List(
        Unicode(), default_value=None, allow_none=True, help="bind mount SRC:DST[:ro]; repeat for several"
    ).tag(config=True)
    env = List(Unicode(), default_value=None, allow_none=True, help="environment variable K=V; repeat for several").tag(
        config=True
    )
    pull_policy = Enum(
        PULL_POLICIES, None, allow_none=True, help="when to pull the image: missing | always | never"
    ).tag(config=True)
    share_gpus = Bool(None, allow_none=True, help="allow GPUs that other kernels hold").tag(config=True)

    aliases = {
        **Command.aliases,
        **{
            opt: f"ContainerOptions.{trait}"
            for opt, trait in (
                ("image", "image"),
                ("display-name", "display_name"),
                ("host", "host"),
                ("gpus", "gpus"),
                ("memory", "memory"),
                ("cpus", "cpus"),
                ("shm-size", "shm_size"),
                ("mount", "mount"),
                ("env", "env"),
                ("pull-policy", "pull_policy"),
            )
        },
    }
    flags = {
        **Command.flags,
        "share-gpus": flag("ContainerOptions", "share_gpus", True, "allow GPUs that other kernels hold"),
    }

    def env_dict(self) -> dict[str, str] | None:
        return None if self.env is None else dict(parse_env_pair(p) for p in self.env)


class InstallApp(ContainerOptions):
    name = "jupyter-gpu-kernels install"
    usage = "NAME --image IMAGE [options]"
    description = """Write a kernelspec whose kernel runs in a Docker container, after validating every value.

Like `jupyter kernelspec install` it installs system-wide by default; --user, --sys-prefix or --prefix
choose another place. An existing kernelspec of the same name is replaced."""
    examples = "jupyter gpu-kernels install torch-gpu --user --image quay.io/jupyter/pytorch-notebook --gpus 1"

    user = Bool(False, help="install for this user only").tag(config=True)
    sys_prefix = Bool(False, help="install into sys.prefix (e.g. a virtualenv)").tag(config=True)
    prefix = Unicode(None, allow_none=True, help="install under this prefix").tag(config=True)

    aliases = {**ContainerOptions.aliases, "prefix": "InstallApp.prefix"}
    flags = {
        **ContainerOptions.flags,
        "user": flag("InstallApp", "user", True, "install for this user only"),
        "sys-prefix": flag("InstallApp", "sys_prefix", True, "install into sys.prefix (e.g. a virtualenv)"),
    }

    def run(self) -> int:
        (name,) = self.positionals("NAME")
        self.require(image=self.image)
        if sum((self.user, self.sys_prefix, self.prefix is not None)) > 1:
            raise UsageError("--user, --sys-prefix and --prefix exclude each other")
        host = self.host or "local"
        self.settings.hosts.get(check_host_name(host))  # a bad name, an unknown host: exit 2, one line
        config = kernelspecs.provisioner_config(
            image=self.image,
            gpus=self.gpus or "none",
            host=host,
            memory=self.memory or "",
            cpus=self.cpus or 0,
            shm_size=self.shm_size or "",
            mounts=self.mount,
            env=self.env_dict() or {},
            pull_policy=self.pull_policy or "",
            gpu_sharing=bool(self.share_gpus),
        )
        display = self.display_name
        if not display:
            what = describe_gpus(parse_gpus(config["gpus"]))
            display = f"{self.image} ({what}" + (f" on {host})" if host != "local" else ")")
        self.settings.image_policy.check(config["image"])
        spec = kernelspecs.kernel_json(display, config)
        prefix = sys.prefix if self.sys_prefix else self.prefix
        path = kernelspecs.install(name, spec, user=self.user, prefix=prefix)
        print(f"Installed kernelspec {name!r} in {path}")
        return 0


class ListApp(Command):
    name = "jupyter-gpu-kernels list"
    description = "List the installed kernelspecs whose provisioner is gpu-docker-provisioner."

    json = Bool(False, help="print the kernelspecs, with their full spec, as JSON").tag(config=True)
    flags = {**Command.flags, "json": flag("ListApp", "json", True, "print them, with their full spec, as JSON")}

    def run(self) -> int:
        self.positionals()
        specs = kernelspecs.ours()
        if self.json:
            print(json.dumps(specs, indent=1))
            return 0
        if not specs:
            print("No gpu-kernels kernelspecs installed. Add one with: jupyter gpu-kernels install NAME --image IMAGE")
            return 0
        rows = []
        for name, info in sorted(specs.items()):
            cfg = info["spec"]["metadata"]["kernel_provisioner"].get("config", {})
            rows.append(
                [name, cfg.get("image", ""), cfg.get("gpus", "none"), cfg.get("host", "local"), info["resource_dir"]]
            )
        print_table(rows, ["NAME", "IMAGE", "GPUS", "HOST", "PATH"])
        return 0


class RemoveApp(Command):
    name = "jupyter-gpu-kernels remove"
    usage = "NAME"
    description = "Remove a gpu-kernels kernelspec (others are refused, exit status 1)."

    def run(self) -> int:
        (name,) = self.positionals("NAME")
        try:
            path = kernelspecs.remove(name)
        except NoSuchKernel:
            print(f"error: no gpu-kernels kernelspec named {name!r} (see `jupyter gpu-kernels list`)", file=sys.stderr)
            return 1
        print(f"Removed kernelspec {name!r} from {path}")
        return 0
