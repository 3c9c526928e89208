"""Admin policy that users cannot override: the image allowlist.

It is enforced on the server side in every path (REST API, CLI, provisioner),
not just hidden in the UI. Empty means "any image"; once set, only matching
images may be used (deny by default) — DockerSpawner's GHSA-hfgr-h3vc-p6c2 is
the cautionary tale. Kernelspec metadata cannot set it: it lives on its own
Configurable, read from the server's configuration.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from jupyter_core.application import JupyterApp
from traitlets import List, Unicode
from traitlets.config import Config, LoggingConfigurable

from .errors import ImageNotAllowedError


def normalize_image(ref: str) -> str:
    """``python:3.12`` → ``docker.io/library/python:3.12`` (tag 'latest' when none)."""
    name, digest = (ref.split("@", 1) + [""])[:2]
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    if ":" not in name.rsplit("/", 1)[-1] and not digest:
        name += ":latest"
    return name + (f"@{digest}" if digest else "")


class ImagePolicy(LoggingConfigurable):
    allowed_images = List(
        Unicode(),
        config=True,
        help="""Images users may run, as shell patterns (e.g. 'ghcr.io/acme/*', 'python:3.1*').
        Empty (default): any image. Matched against the reference as written and its normalized
        form (docker.io/library/python:3.12).""",
    )

    def allows(self, image: str) -> bool:
        if not self.allowed_images:
            return True
        candidates = {image, normalize_image(image)}
        patterns = set(self.allowed_images) | {normalize_image(p) for p in self.allowed_images if "*" not in p}
        return any(fnmatch.fnmatchcase(c, p) for c in candidates for p in patterns)

    def check(self, image: str) -> str:
        if not self.allows(image):
            raise ImageNotAllowedError(
                f"image {image!r} is not allowed on this server; the administrator allows: "
                f"{', '.join(self.allowed_images)}"
            )
        return image


class _ServerConfigLoader(JupyterApp):
    """Loads jupyter_server_config.{py,json} and its .d directories, as the server would."""

    name = "jupyter_server"

    def _config_file_name_default(self) -> str:
        return "jupyter_server_config"


def server_config(overlay: Any = None) -> Config:
    """The server's configuration from its files, with ``overlay`` (a live app's config) on top."""
    loader = _ServerConfigLoader()
    try:
        loader.load_config_file(suppress_errors=True)
    except Exception:  # a broken config file must not disable everything
        pass
    config = Config(loader.config)
    if overlay:
        config.merge(overlay)
    return config


def image_policy(parent_config: Any = None) -> ImagePolicy:
    return ImagePolicy(config=server_config(parent_config))
