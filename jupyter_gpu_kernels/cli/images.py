"""``jupyter gpu-kernels images [derive | remove-derived] | pull | copy-image``: images on the Docker hosts.

Subcommands of the root app in :mod:`.app`. They connect to a host's Docker daemon through
:mod:`jupyter_gpu_kernels.hosts.transport` and list, pull (checked against the image policy) or copy
images (``docker save`` on one host into ``docker load`` on another), and build or remove the thin
derived ipykernel images of :mod:`jupyter_gpu_kernels.daemon.derive`; progress goes to stderr.
"""

from __future__ import annotations

import json

from traitlets import Bool, Unicode

from .base import Command, UsageError, flag, print_table
from .progress import progress_line, status_line


class DeriveApp(Command):
    name = "jupyter-gpu-kernels images derive"
    usage = "IMAGE [--host HOST] [--install auto|pip|unzip]"
    description = (
        "Build (once) on the host a thin image FROM IMAGE with ipykernel for IMAGE's own Python; "
        "kernels from IMAGE then run from it."
    )

    host = Unicode("local", help="the Docker host that builds it (and has IMAGE)").tag(config=True)
    install = Unicode(
        "auto", help="auto: the interpreter's pip when it has one; pip; unzip: unpack the wheels onto sys.path"
    ).tag(config=True)
    aliases = {**Command.aliases, "host": "DeriveApp.host", "install": "DeriveApp.install"}

    def run(self) -> int:
        from ..daemon.derive import derive
        from ..daemon.images import check_image_ref
        from ..hosts.transport import connect

        (image,) = self.positionals("IMAGE")
        if self.install not in ("auto", "pip", "unzip"):
            raise UsageError(f"invalid value for --install: {self.install!r}; one of auto, pip, unzip")
        ref = self.settings.image_policy.check(check_image_ref(image))  # the BASE image is what is allowed
        host = self.settings.hosts.get(self.host)
        done = derive(connect(host), ref, progress=progress_line, install=self.install)
        print(f"{'Built' if done.built else 'Already there:'} {done.tag} (from {ref} on host {host.name!r})")
        return 0


class RemoveDerivedApp(Command):
    name = "jupyter-gpu-kernels images remove-derived"
    usage = "[IMAGE] [--host HOST]"
    description = "Remove the derived ipykernel image of IMAGE (a base image or the derived tag), or all of them."

    host = Unicode("local", help="the Docker host").tag(config=True)
    aliases = {**Command.aliases, "host": "RemoveDerivedApp.host"}

    def run(self) -> int:
        from ..daemon.derive import remove_derived
        from ..hosts.transport import connect

        args = list(self.extra_args)
        if len(args) > 1:
            raise UsageError(f"at most one IMAGE, got {len(args)}")
        removed = remove_derived(connect(self.settings.hosts.get(self.host)), args[0] if args else None)
        for name in removed:
            print(f"Removed {name}")
        if not removed:
            print("No derived images")
        return 0


class ImagesApp(Command):
    name = "jupyter-gpu-kernels images"
    description = "The images on a host, marking those with ipykernel (found out once per image id)."

    host = Unicode("local", help="the Docker host").tag(config=True)
    json = Bool(False, help="print the images as the REST API returns them").tag(config=True)
    aliases = {**Command.aliases, "host": "ImagesApp.host"}
    flags = {**Command.flags, "json": flag("ImagesApp", "json", True, "print the images as the REST API returns them")}
    subcommands = {
        "derive": (DeriveApp, DeriveApp.description),
        "remove-derived": (RemoveDerivedApp, RemoveDerivedApp.description),
    }

    def run(self) -> int:
        from ..daemon.images import list_images
        from ..hosts.transport import connect

        self.positionals()
        images = list_images(connect(self.settings.hosts.get(self.host)))
        if self.json:
            print(json.dumps(images, indent=1))
            return 0
        rows = [
            [
                ", ".join(i["tags"]) or i["id"][7:19],
                f"{(i['size'] or 0) / 1e6:.0f} MB",
                i["ipykernel_version"] or ("no" if i["has_ipykernel"] is False else "?"),
                (i["created"] or "")[:19],
            ]
            for i in images
        ]
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
        with status_line(width=120) as show:
            pull(connect(host), ref, progress=show)
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
        with status_line() as show:

            def progress(done: int, total: int | None) -> None:
                show(
                    f"copying {ref} {src.name} → {dst.name}: {done / 1e6:.1f}"
                    + (f"/{total / 1e6:.1f}" if total else "")
                    + " MB"
                )

            copy_image(connect(src), connect(dst), ref, progress=progress)
        print(f"Copied {ref} from {src.name!r} to {dst.name!r}")
        return 0
