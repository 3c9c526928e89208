"""``jupyter gpu-kernels envs export NAME --format run|compose|dockerfile|json``: an environment to share.

A subcommand of ``envs`` (:mod:`.envs`). Reads the environment from the store, pins its image on the
environment's host (digest, else image id; when the host or image cannot be reached the reference as
written is used, with a warning on stderr) and prints it through
:mod:`jupyter_gpu_kernels.environments.export`. Changes nothing anywhere.
"""

from __future__ import annotations

import sys

from traitlets import Enum

from ..environments.export import FORMATS
from .base import Command


class EnvsExportApp(Command):
    name = "jupyter-gpu-kernels envs export"
    usage = "NAME [--format run|compose|dockerfile|json]"
    description = """Print an environment as a `docker run` line, a compose service, a Dockerfile stub or
JSON, with its image pinned by digest (or image id)."""
    examples = "jupyter gpu-kernels envs export torch --format compose > compose.yaml"

    format = Enum(FORMATS, "run", help="run | compose | dockerfile | json").tag(config=True)
    aliases = {**Command.aliases, "format": "EnvsExportApp.format"}

    def run(self) -> int:
        from ..environments.export import export

        (name,) = self.positionals("NAME")
        env = self.settings.environments.get(name)
        print(export(env, self.format, self.pinned(env)))
        return 0

    def pinned(self, env):  # type: ignore[no-untyped-def]
        from ..environments.export import pinned_image
        from ..hosts.transport import connect

        try:
            return pinned_image(connect(self.settings.hosts.get(env.host)), env.image)
        except Exception as e:  # unreachable host, image not there: still useful, but say so
            print(f"warning: image {env.image!r} not pinned ({type(e).__name__}: {e})".splitlines()[0], file=sys.stderr)
            return env.image
