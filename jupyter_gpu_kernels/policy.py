"""Admin policy that users cannot override: the image allowlist (``c.GPUKernelsImagePolicy``).

It is enforced on the server side in every path (REST API, CLI, provisioner),
not just hidden in the UI. Empty means "any image"; once set, only matching
images may be used (deny by default) — DockerSpawner's GHSA-hfgr-h3vc-p6c2 is
the cautionary tale. Kernelspec metadata cannot set it: it lives on its own
Configurable, read from the server's configuration. The instance the server and
the provisioner use is created once, by :class:`jupyter_gpu_kernels.settings.Settings`.

The old section name ``c.ImagePolicy`` still works, with a deprecation warning.
Issue #11 adds ``c.KernelPolicy`` here (admin policy read only from the admin
config directories); the allowlist then moves there.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from traitlets import List, Unicode

from .configurable import PrefixedConfigurable, server_config
from .errors import ImageNotAllowedError

__all__ = ["GPUKernelsImagePolicy", "ImagePolicy", "image_policy", "normalize_image", "server_config"]


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


class GPUKernelsImagePolicy(PrefixedConfigurable):
    """The image allowlist (``c.GPUKernelsImagePolicy.allowed_images``)."""

    legacy_section = "ImagePolicy"

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


ImagePolicy = GPUKernelsImagePolicy  # the old name, still importable


def image_policy(parent_config: Any = None) -> GPUKernelsImagePolicy:
    """A policy read from the server's config files. Prefer ``Settings.for_parent(obj).image_policy``."""
    return GPUKernelsImagePolicy(config=server_config(parent_config))
