"""``jupyter gpu-kernels kernels | sync``: kernel containers and their workspaces on the hosts.

Subcommands of the root app in :mod:`.app`. ``kernels`` lists our labelled containers on every
reachable host (read only); ``sync`` copies files between a local notebook directory and its
workspace volume on a remote host, through a created, never started helper container.
"""

from __future__ import annotations

import json

from traitlets import Bool, Unicode

from ..errors import ImageError
from .base import Command, UsageError, flag, print_table


class KernelsApp(Command):
    name = "jupyter-gpu-kernels kernels"
    description = "Our kernel containers on every reachable host, whichever server started them."

    json = Bool(False, help="print the kernels as JSON").tag(config=True)
    flags = {**Command.flags, "json": flag("KernelsApp", "json", True, "print the kernels as JSON")}

    def run(self) -> int:
        from ..daemon.status import kernel_rows

        self.positionals()
        rows = kernel_rows(self.settings.hosts.all(), {}, set())
        if self.json:
            print(json.dumps(rows, indent=1))
            return 0
        if not rows:
            print("No gpu-kernels containers on any reachable host.")
            return 0
        print_table(
            [
                [
                    r["kernel_id"][:8],
                    r["host"],
                    r["image"],
                    r["gpus"] or "-",
                    r["notebook"] or "-",
                    r["state"],
                    r["started"],
                ]
                for r in rows
            ],
            ["KERNEL", "HOST", "IMAGE", "GPUS", "NOTEBOOK", "STATE", "STARTED"],
        )
        return 0


class SyncApp(Command):
    name = "jupyter-gpu-kernels sync"
    usage = "push|pull PATH... --host HOST [--dir DIR] [--image IMAGE]"
    description = """Copy files or folders between a notebook directory here and its workspace volume on a
remote host. Paths must lie inside the notebook directory."""
    examples = "jupyter gpu-kernels sync push data train.py --host gpu-box"

    host = Unicode(None, allow_none=True, help="the remote Docker host").tag(config=True)
    notebook_dir = Unicode(".", help="the notebook directory").tag(config=True)
    image = Unicode(None, allow_none=True, help="image to run the copy with (default: any image on the host)").tag(
        config=True
    )
    aliases = {**Command.aliases, "host": "SyncApp.host", "dir": "SyncApp.notebook_dir", "image": "SyncApp.image"}

    def run(self) -> int:
        from ..daemon import workspace
        from ..daemon.inventory import any_image
        from ..hosts.transport import connect

        direction, *paths = self.positionals("push|pull", rest="PATH")
        if direction not in ("push", "pull"):
            raise UsageError(f"first argument must be push or pull, not {direction!r}")
        self.require(host=self.host)
        host = self.settings.hosts.get(self.host)
        if host.is_local:
            raise UsageError(f"host {host.name!r} shares this machine's files; nothing to sync")
        client = connect(host)
        image = self.image or any_image(client)
        if image is None:
            raise ImageError(f"no image on host {host.name!r} to run the copy with; pull one first")
        fn = workspace.push if direction == "push" else workspace.pull
        done = fn(client, self.notebook_dir, paths, image)
        arrow = "→" if direction == "push" else "←"
        for rel in done:
            print(f"{rel} {arrow} {host.name}:{workspace.workspace_volume_name(self.notebook_dir)}/{rel}")
        return 0
