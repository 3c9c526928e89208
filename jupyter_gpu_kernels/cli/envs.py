"""``jupyter gpu-kernels envs [list|add|edit|remove|from-notebook]``: environments, shown as kernels.

Subcommands of the root app in :mod:`.app`. They read and write the user's environments file through
the environments store (:mod:`jupyter_gpu_kernels.environments`), which validates hosts and images;
``from-notebook`` also reads the given ``.ipynb``. No Docker daemon is contacted.
"""

from __future__ import annotations

import json
import shlex
import sys
from typing import Any

from traitlets import Bool, Float, Unicode

from ..environments.from_notebook import definition, read_notebook, review_lines
from ..errors import SpecError
from .base import Command, flag, print_table
from .envs_export import EnvsExportApp
from .kernelspecs import ContainerOptions


def entrypoint_option(text: str) -> list[str] | None:
    """``--entrypoint``: a JSON list (or ``null``: the image's own), else shell words; '' clears it."""
    text = text.strip()
    if text.startswith("[") or text == "null":
        try:
            value = json.loads(text)
        except ValueError as e:
            raise SpecError(f"invalid --entrypoint {text!r}: {e}", field="entrypoint") from None
        return value
    try:
        return shlex.split(text)
    except ValueError as e:
        raise SpecError(f"invalid --entrypoint {text!r}: {e}", field="entrypoint") from None


class EnvsListApp(Command):
    name = "jupyter-gpu-kernels envs list"
    description = "List the environments: the administrator's (read only) and the user's."

    json = Bool(False, help="print the environments as JSON").tag(config=True)
    flags = {**Command.flags, "json": flag("EnvsListApp", "json", True, "print the environments as JSON")}

    def run(self) -> int:
        self.positionals()
        items = self.settings.environments.all()
        if self.json:
            print(json.dumps([e.to_json() for e in items], indent=1))
            return 0
        if not items:
            print("No environments. Add one with: jupyter gpu-kernels envs add NAME --image IMAGE [--gpus 1]")
            return 0
        print_table(
            [[e.name, e.image, e.gpus, e.host, e.memory or "-", e.source] for e in items],
            ["NAME", "IMAGE", "GPUS", "HOST", "MEMORY", "SOURCE"],
        )
        return 0


class EnvsEditApp(ContainerOptions):
    name = "jupyter-gpu-kernels envs edit"
    usage = "NAME [options]"
    description = """Change an environment: only the options given (--mount and --env replace the whole list).

A running server picks the change up without a restart."""

    env_description = Unicode(None, allow_none=True, help="a description shown in the environment list").tag(
        config=True
    )
    orphan_timeout = Float(
        None,
        allow_none=True,
        help="seconds its kernels outlive their server or client "
        "process before the reaper removes them (default 60; 0: at once)",
    ).tag(config=True)
    entrypoint = Unicode(
        None,
        allow_none=True,
        help="the container's ENTRYPOINT: a JSON list such as "
        "'[\"tini\", \"--\"]' or words ('tini --'); '[]' or '' clears it, 'null' keeps the "
        "image's",
    ).tag(config=True)
    aliases = {
        **ContainerOptions.aliases,
        "description": "EnvsEditApp.env_description",
        "orphan-timeout": "EnvsEditApp.orphan_timeout",
        "entrypoint": "EnvsEditApp.entrypoint",
    }
    flags = {
        **ContainerOptions.flags,
        "no-share-gpus": flag("ContainerOptions", "share_gpus", False, "only GPUs no other kernel holds (default)"),
    }

    def fields(self) -> dict[str, Any]:
        """The options given, as environment fields."""
        data: dict[str, Any] = {}
        for key, value in (
            ("image", self.image),
            ("display_name", self.display_name),
            ("host", self.host),
            ("gpus", self.gpus),
            ("memory", self.memory),
            ("shm_size", self.shm_size),
            ("description", self.env_description),
            ("pull_policy", self.pull_policy),
            ("cpus", self.cpus),
            ("mounts", self.mount),
            ("env", self.env_dict()),
            ("gpu_sharing", self.share_gpus),
            ("orphan_timeout", self.orphan_timeout),
        ):
            if value is not None:
                data[key] = list(value) if key == "mounts" else value
        if self.entrypoint is not None:
            data["entrypoint"] = entrypoint_option(self.entrypoint)
        return data

    def run(self) -> int:
        (name,) = self.positionals("NAME")
        env = self.settings.environments.update(name, self.fields())
        print(f"Updated environment {env.name!r}")
        return 0


class EnvsAddApp(EnvsEditApp):
    name = "jupyter-gpu-kernels envs add"
    usage = "NAME --image IMAGE [options]"
    description = "Add an environment (image + GPUs + host + limits); it appears in JupyterLab as a kernel."
    examples = "jupyter gpu-kernels envs add torch --image quay.io/jupyter/pytorch-notebook:cuda12-latest --gpus 1"

    def run(self) -> int:
        (name,) = self.positionals("NAME")
        self.require(image=self.image)
        env = self.settings.environments.create(name, self.fields())
        print(
            f"Added environment {env.name!r}; it appears in JupyterLab as kernel {env.kernel_name!r} "
            f'("{env.kernel_spec().display_name}")'
        )
        return 0


class EnvsRemoveApp(Command):
    name = "jupyter-gpu-kernels envs remove"
    usage = "NAME"
    description = "Remove one of the user's environments (the administrator's cannot be removed)."

    def run(self) -> int:
        (name,) = self.positionals("NAME")
        self.settings.environments.delete(name)
        print(f"Removed environment {name!r}")
        return 0


class EnvsFromNotebookApp(Command):
    name = "jupyter-gpu-kernels envs from-notebook"
    usage = "NOTEBOOK.ipynb [--name NAME] [--host HOST] [--pin-digest] [--yes]"
    description = """Recreate the environment a notebook ran in, from the definition the sidebar recorded
in its metadata (metadata.jupyter_gpu_kernels): the .ipynb alone is enough. A notebook is untrusted
input: the mounts and every non-default field are listed and confirmed first (--yes skips that;
without a terminal and without --yes it refuses). The admin KernelPolicy applies."""

    env_name = Unicode(None, allow_none=True, help="environment name (default: the recorded one)").tag(config=True)
    host = Unicode(None, allow_none=True, help="run it on another host than the recorded one").tag(config=True)
    pin_digest = Bool(False, help="use the recorded image digest (repo@sha256:…) instead of the tag").tag(config=True)
    yes = Bool(False, help="create it without asking (after reviewing the notebook's metadata)").tag(config=True)
    aliases = {**Command.aliases, "name": "EnvsFromNotebookApp.env_name", "host": "EnvsFromNotebookApp.host"}
    flags = {
        **Command.flags,
        "pin-digest": flag(
            "EnvsFromNotebookApp",
            "pin_digest",
            True,
            "use the recorded image digest (repo@sha256:…) instead of the tag",
        ),
        "yes": flag("EnvsFromNotebookApp", "yes", True, "create it without asking for confirmation"),
    }

    def run(self) -> int:
        (notebook,) = self.positionals("NOTEBOOK")
        name, data = self.definition(notebook)
        if not self.confirmed(name, data):
            print("Not created.")
            return 1
        env = self.settings.environments.create(name, data)
        print(
            f"Added environment {env.name!r} from {notebook} (image {env.image}, GPUs {env.gpus}, host {env.host}); "
            f"the notebook's kernel {env.kernel_name!r} is available again"
        )
        return 0

    def confirmed(self, name: str, data: dict[str, Any]) -> bool:
        """List what would be created (mounts and every non-default field); ask unless --yes."""
        review = review_lines(name, data)
        if self.yes:
            return True
        if not sys.stdin.isatty():
            raise SpecError(
                f"refusing to create environment {name!r} from untrusted notebook metadata without "
                f"confirmation ({'; '.join(review[1:]) or 'image only'}): rerun with --yes"
            )
        print("\n".join(review))
        return input("Create it? [y/N] ").strip().lower() in ("y", "yes")

    def definition(self, notebook: str) -> tuple[str, dict[str, Any]]:
        """Name and fields of the environment recorded in ``notebook``."""
        return definition(
            read_notebook(notebook), notebook, name=self.env_name, host=self.host, pin_digest=self.pin_digest
        )


class EnvsApp(EnvsListApp):
    name = "jupyter-gpu-kernels envs"
    description = (
        "Manage environments (image + GPUs + host + limits), shown as kernels. Without a subcommand: list them."
    )
    subcommands = {
        "list": (EnvsListApp, EnvsListApp.description),
        "add": (EnvsAddApp, EnvsAddApp.description),
        "edit": (EnvsEditApp, "change an environment (only the options given)"),
        "remove": (EnvsRemoveApp, EnvsRemoveApp.description),
        "from-notebook": (EnvsFromNotebookApp, "recreate the environment a notebook ran in, from its metadata"),
        "export": (EnvsExportApp, "print an environment as a docker run line, compose service, Dockerfile or JSON"),
    }
