"""``jupyter gpu-kernels build | commit``: images from a Dockerfile, or from a running kernel's container.

Subcommands of the root app in :mod:`.app`. ``build`` checks the tag against the image allowlist and
the host's images (no overwrite without ``--overwrite``, with a next-version suggestion), then builds
through :mod:`jupyter_gpu_kernels.daemon.builds` on the chosen host, the log on stderr. ``commit``
finds the kernel's container on the hosts and commits it through
:mod:`jupyter_gpu_kernels.daemon.commits`, printing the ``docker diff`` summary.
"""

from __future__ import annotations

import sys

from traitlets import Bool, List, Unicode

from ..errors import HostError
from .base import Command, flag


class BuildApp(Command):
    name = "jupyter-gpu-kernels build"
    usage = "DIR --tag NAME:TAG [--file F] [--host HOST] [--build-arg K=V]... [--overwrite]"
    description = """Build an image from a Dockerfile on a host (a remote host gets the context through its
connection); .dockerignore is honoured. An existing tag is not replaced without --overwrite."""
    examples = "jupyter gpu-kernels build . --tag team/torch:v2 --host gpu-box --build-arg CUDA=12.4"

    tag = Unicode(None, allow_none=True, help="the image tag to create, NAME:TAG").tag(config=True)
    file = Unicode(None, allow_none=True, help="the Dockerfile (default DIR/Dockerfile)").tag(config=True)
    host = Unicode("local", help="the Docker host that builds").tag(config=True)
    build_arg = List(Unicode(), default_value=[], help="build argument K=V; repeat for several").tag(config=True)
    overwrite = Bool(False, help="replace the tag if it exists").tag(config=True)
    aliases = {
        **Command.aliases,
        "tag": "BuildApp.tag",
        "file": "BuildApp.file",
        "host": "BuildApp.host",
        "build-arg": "BuildApp.build_arg",
    }
    flags = {**Command.flags, "overwrite": flag("BuildApp", "overwrite", True, "replace the tag if it exists")}

    def run(self) -> int:
        from ..daemon.builds import build_image, check_context, check_new_tag, parse_build_args
        from ..daemon.images import check_image_ref
        from ..hosts.transport import connect

        (directory,) = self.positionals("DIR")
        self.require(tag=self.tag)
        args = parse_build_args(self.build_arg)
        check_context(directory, self.file)
        self.settings.image_policy.check(check_image_ref(self.tag))
        host = self.settings.hosts.get(self.host)
        client = connect(host)
        tag = check_new_tag(client, self.tag, overwrite=self.overwrite, host_name=host.name)
        print(f"Building {tag} on host {host.name!r} from {directory}", file=sys.stderr)
        outcome = build_image(
            client,
            directory,
            tag,
            dockerfile=self.file,
            build_args=args,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
        print(f"Built {tag} ({outcome.image_id[7:19]}) on host {host.name!r} in {outcome.steps} steps")
        host_opt = "" if host.name == "local" else f" --host {host.name}"
        name = tag.rsplit("/", 1)[-1].split(":", 1)[0]
        print(f"New environment: jupyter gpu-kernels envs add {name} --image {tag}{host_opt}")
        return 0


class CommitApp(Command):
    name = "jupyter-gpu-kernels commit"
    usage = "KERNEL_ID --tag NAME:TAG [--message M] [--host HOST]"
    description = """Save a running kernel's container as an image (labelled with its base image and
environment) and show what changed. A Dockerfile remains the durable way to keep a change."""
    examples = "jupyter gpu-kernels commit 1a2b3c4d --tag team/torch:v2-wip --message 'with faiss'"

    tag = Unicode(None, allow_none=True, help="the image tag to create, NAME:TAG").tag(config=True)
    message = Unicode("", help="the commit message").tag(config=True)
    host = Unicode(None, allow_none=True, help="the kernel's host (default: look on every host)").tag(config=True)
    overwrite = Bool(False, help="replace the tag if it exists").tag(config=True)
    aliases = {**Command.aliases, "tag": "CommitApp.tag", "message": "CommitApp.message", "host": "CommitApp.host"}
    flags = {**Command.flags, "overwrite": flag("CommitApp", "overwrite", True, "replace the tag if it exists")}

    def locate(self, kernel_id: str):  # type: ignore[no-untyped-def]
        """(host, client, container) of the kernel, on ``--host`` or the first reachable host that has it."""
        from ..daemon.commits import AmbiguousKernelId, KernelNotFound, find_kernel_container
        from ..hosts.transport import connect

        hosts = [self.settings.hosts.get(self.host)] if self.host else self.settings.hosts.all()
        for host in hosts:
            try:
                client = connect(host)
                return host, client, find_kernel_container(client, kernel_id)
            except (HostError, KernelNotFound) as e:
                if self.host or isinstance(e, AmbiguousKernelId):
                    raise
        raise KernelNotFound(f"no kernel {kernel_id!r} on any reachable host (see `jupyter gpu-kernels kernels`)")

    def run(self) -> int:
        from ..daemon.builds import check_new_tag
        from ..daemon.commits import DURABLE_HINT, commit_kernel
        from ..daemon.images import check_image_ref

        (kernel_id,) = self.positionals("KERNEL_ID")
        self.require(tag=self.tag)
        self.settings.image_policy.check(check_image_ref(self.tag))
        host, client, container = self.locate(kernel_id)
        tag = check_new_tag(client, self.tag, overwrite=self.overwrite, host_name=host.name)
        outcome = commit_kernel(client, container, tag, message=self.message)
        d = outcome.diff
        print(
            f"Committed kernel {outcome.kernel_id[:8]} on host {host.name!r} as {tag} ({outcome.image_id[7:19]}), "
            f"from {outcome.base_image}" + (f", environment {outcome.environment!r}" if outcome.environment else "")
        )
        print(
            f"Changes: {d['added']} added, {d['changed']} changed, {d['deleted']} deleted"
            + (f" (and {d['kernel_runtime_files']} kernel runtime files)" if d["kernel_runtime_files"] else "")
        )
        for line in d["first"]:
            print(f"  {line}")
        if d["total"] > len(d["first"]):
            print(f"  … and {d['total'] - len(d['first'])} more (docker diff {container.short_id})")
        print(DURABLE_HINT)
        return 0
