"""Recreate an environment from a notebook's metadata (``metadata.jupyter_gpu_kernels``).

Shared by ``jupyter gpu-kernels envs from-notebook`` (:mod:`jupyter_gpu_kernels.cli.envs`) and the
REST route ``POST environments/from-notebook`` (:mod:`jupyter_gpu_kernels.server.notebook_handlers`).
A notebook is untrusted input: only the recorded fields below are taken, and :func:`review_lines`
lists the image, each mount and every non-default field for the user to confirm. Validation and the
admin policy are the store's (``GPUKernelsEnvironments.validate``/``create``).
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..errors import SpecError

#: the fields of the recorded definition an environment is recreated from (nothing else is taken)
RECORDED_FIELDS = ("image", "host", "gpus", "memory", "cpus", "shm_size", "gpu_sharing", "pull_policy", "mounts")


def read_notebook(path: str) -> dict[str, Any]:
    """The notebook at ``path`` as JSON; a :class:`SpecError` saying why it cannot be read."""
    try:
        with open(path) as f:
            nb = json.load(f)
    except (OSError, ValueError) as e:
        raise SpecError(f"cannot read notebook {path!r}: {e}") from None
    if not isinstance(nb, dict):
        raise SpecError(f"{path!r} is not a notebook (not a JSON object)")
    return nb


def definition(
    nb: dict[str, Any], source: str, *, name: str | None = None, host: str | None = None, pin_digest: bool = False
) -> tuple[str, dict[str, Any]]:
    """Name and fields of the environment recorded in notebook ``nb`` (``source``: its file name)."""
    meta = (nb.get("metadata") or {}).get("jupyter_gpu_kernels")
    if not isinstance(meta, dict) or not meta.get("image"):
        raise SpecError(
            f"{source!r} has no GPU kernel environment in its metadata (metadata.jupyter_gpu_kernels); "
            "it was not run in one, or recording was turned off"
        )
    data: dict[str, Any] = {k: meta[k] for k in RECORDED_FIELDS if k in meta}
    if host:
        data["host"] = host
    if pin_digest:
        digests = meta.get("image_digests") or []
        if not digests or not isinstance(digests, list):
            raise SpecError(f"{source!r} records no image digest to pin (the image was never pushed/pulled)")
        data["image"] = digests[0]
    data["description"] = f"recreated from {os.path.basename(source)}"
    recorded = name or meta.get("environment")
    if not recorded or not isinstance(recorded, str):
        raise SpecError(f"{source!r} records no environment name (metadata.jupyter_gpu_kernels.environment)")
    return recorded, data


def review_lines(name: str, data: dict[str, Any]) -> list[str]:
    """What would be created, for review: the image, each mount, each non-default field."""
    lines = [f"environment {name!r} from notebook metadata: image {data.get('image')}"]
    for mount in data.get("mounts") or []:
        lines.append(f"mount {mount}")
    defaults = {"host": "local", "gpus": "none", "gpu_sharing": False}
    for key, value in data.items():
        if key not in ("image", "mounts", "description") and value not in (None, "", defaults.get(key)):
            lines.append(f"{key} = {value}")
    return lines
