"""``jupyter gpu-kernels images | pull | copy-image``: images on the Docker hosts.

Subcommands of the root app in :mod:`.app`. They connect to a host's Docker daemon through
:mod:`jupyter_gpu_kernels.hosts.transport` and list, pull (checked against the image policy) or copy
images (``docker save`` on one host into ``docker load`` on another); progress goes to stderr.
"""

from __future__ import annotations

import json
import sys

from traitlets import Bool, Unicode

from .base import Command, flag, print_table


class ImagesApp(Command):
    name = "jupyter-gpu-kernels images"
    description = "The images on a host, marking those with ipykernel (found out once per image id)."

    host = Unicode("local", help="the Docker host").tag(config=True)
    json = Bool(False, help="print the images as the REST API returns them").tag(config=True)
    aliases = {**Command.aliases, "host": "ImagesApp.host"}
    flags = {**Command.flags, "json": flag("ImagesApp", "json", True, "print the images as the REST API returns them")}

    def run(self) -> int:
        from ..daemon.images import list_images
        from ..hosts.transport import connect

        self.positionals()
        images = list_images(connect(self.settings.hosts.get(self.host)))
        if self.json:
            print(json.dumps(images, indent=1))
            return 0
        rows = [[", ".join(i["tags"]) or i["id"][7:19], f"{(i['size'] or 0) / 1e6:.0f} MB",
                 i["ipykernel_version"] or ("no" if i["has_ipykernel"] is False else "?"), (i["created"] or "")[:19]]
                for i in images]
        print_table(rows, ["IMAGE", "SIZE", "IPYKERNEL", "CREATED"])
        return 0


class PullApp(Command):
    name = "jupyter-gpu-kernels pull"
    usage = "IMAGE [--host HOST]"
    description = "Pull an image on a host, with progress (the host's daemon needs registry access)."

    host = Unicode("local", help="the Docker host that pulls").tag(config=True)
    aliases = {**Command.aliases, "host": "PullApp.host"}

    def run(self) -> int:
        from ..daemon.images import check_image_ref, pull
        from ..hosts.transport import connect

        (image,) = self.positionals("IMAGE")
        ref = self.settings.image_policy.check(check_image_ref(image))
        host = self.settings.hosts.get(self.host)
        tty = sys.stderr.isatty()

        def progress(msg: str) -> None:
            if tty:
                print("\r\033[K" + msg[:120], end="", file=sys.stderr, flush=True)
            else:
                print(msg, file=sys.stderr)

        pull(connect(host), ref, progress=progress)
        if tty:
            print(file=sys.stderr)
        print(f"Pulled {ref} on host {host.name!r}")
        return 0


class CopyImageApp(Command):
    name = "jupyter-gpu-kernels copy-image"
    usage = "IMAGE --to HOST [--from HOST]"
    description = "Copy an image from one host to another (docker save | docker load, through this machine)."

    to = Unicode(None, allow_none=True, help="the destination host").tag(config=True)
    source = Unicode("local", help="the source host").tag(config=True)
    aliases = {**Command.aliases, "to": "CopyImageApp.to", "from": "CopyImageApp.source"}

    def run(self) -> int:
        from ..daemon.images import check_image_ref, copy_image
        from ..hosts.transport import connect

        (image,) = self.positionals("IMAGE")
        self.require(to=self.to)
        ref = self.settings.image_policy.check(check_image_ref(image))
        hosts = self.settings.hosts
        src, dst = hosts.get(self.source), hosts.get(self.to)
        tty = sys.stderr.isatty()

        def progress(done: int, total: int | None) -> None:
            text = f"copying {ref} {src.name} → {dst.name}: {done / 1e6:.1f}" + (f"/{total / 1e6:.1f}" if total else "")
            print(("\r\033[K" if tty else "") + text + " MB", end="" if tty else "\n", file=sys.stderr, flush=True)

        copy_image(connect(src), connect(dst), ref, progress=progress)
        if tty:
            print(file=sys.stderr)
        print(f"Copied {ref} from {src.name!r} to {dst.name!r}")
        return 0
