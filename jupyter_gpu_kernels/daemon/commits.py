"""``docker commit`` of a kernel's container: the image with labels saying where it came from, and its diff.

Called by the CLI (``jupyter gpu-kernels commit``) and the REST handler
(``POST kernels/{id}/commit`` in :mod:`jupyter_gpu_kernels.server.build_handlers`), from a worker
thread, with a connected client for the kernel's host. Touches one container (read: labels, diff)
and creates one image; if the commit fails, no image is left (Docker creates it only on success, and
a half-done one we tagged is removed).

The kernel's connection file (its HMAC key) is on an anonymous volume (:data:`.plan.KEY_DIR`), which a
commit leaves out; a container that still has one in its own layer (made by an older version) is
refused rather than committed with the key.

Docker merges the container's labels into the committed image's, so the kernel's own labels
(``org.jupyter.gpu-kernels.kernel-id``, ``.gpus``, …) are overridden with empty values: a container
later started from the image by hand is not mistaken for a kernel holding GPUs (every kernel start
sets them again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors

from ..errors import ImageError
from . import labels as L
from .plan import is_runtime_path

BASE_IMAGE = f"{L.PREFIX}.base-image"
COMMITTED_FROM = f"{L.PREFIX}.committed-from"
COMMIT_ENVIRONMENT = L.ENVIRONMENT
KERNEL_LABELS = (
    L.KERNEL_ID,
    L.SERVER,
    L.GPUS,
    L.GPU_REQUEST,
    L.GPU_SHARED,
    L.NOTEBOOK,
    L.IMAGE,
    L.STARTED,
    L.OWNER,
    L.HOST,
)
DIFF_KINDS = {0: "changed", 1: "added", 2: "deleted"}
DURABLE_HINT = (
    "A committed image keeps this state, but not how it was made: move the change into a "
    "Dockerfile (`jupyter gpu-kernels build`) for the durable, reproducible way."
)


class KernelNotFound(ImageError):
    """No kernel container with that id (or id prefix) on the host."""

    http_status = 404


class AmbiguousKernelId(KernelNotFound):
    """The id prefix matches more than one kernel container on the host (give more of it)."""


@dataclass
class CommitOutcome:
    image_id: str
    tag: str
    kernel_id: str
    base_image: str
    environment: str
    diff: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "image_id": self.image_id,
            "tag": self.tag,
            "kernel_id": self.kernel_id,
            "base_image": self.base_image,
            "environment": self.environment,
            "diff": self.diff,
            "hint": DURABLE_HINT,
        }


def find_kernel_container(client: docker.DockerClient, kernel_id: str) -> Any:
    """The kernel container whose kernel id is ``kernel_id`` or starts with it (unique)."""
    if not kernel_id or not kernel_id.strip():
        raise KernelNotFound("no kernel id given")
    found = [
        c
        for c in client.containers.list(all=True, filters={"label": L.KERNEL_ID}, ignore_removed=True)
        if (c.labels.get(L.KERNEL_ID) or "").startswith(kernel_id.strip()) and c.labels.get(L.KERNEL_ID)
    ]
    if not found:
        raise KernelNotFound(f"no kernel {kernel_id!r} on this host (see `jupyter gpu-kernels kernels`)")
    if len(found) > 1:
        ids = ", ".join(c.labels[L.KERNEL_ID][:12] for c in found)
        raise AmbiguousKernelId(f"kernel id {kernel_id!r} is ambiguous: {ids}; give more of it")
    return found[0]


def diff_summary(container: Any, first: int = 10, every: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``docker diff`` as counts per kind (added/changed/deleted) and the first paths; the kernel's own
    runtime files (connection file, IPython profile under :data:`.plan.CONNECTION_DIR`, or an earlier version's
    directory) are counted apart."""
    every = (container.diff() or []) if every is None else every
    changes = [c for c in every if not is_runtime_path(str(c.get("Path", "")))]
    counts = {kind: 0 for kind in DIFF_KINDS.values()}
    for change in changes:
        counts[DIFF_KINDS.get(change.get("Kind"), "changed")] += 1
    paths = [
        f"{'CAD'[change.get('Kind', 0)] if change.get('Kind') in DIFF_KINDS else 'C'} {change.get('Path')}"
        for change in changes[:first]
    ]
    return {**counts, "total": len(changes), "first": paths, "kernel_runtime_files": len(every) - len(changes)}


def commit_kernel(
    client: docker.DockerClient, container: Any, tag: str, *, message: str = "", author: str = ""
) -> CommitOutcome:
    """Commit ``container`` (a kernel container) as ``tag`` (``repo:tag``, already checked)."""
    labels = container.labels or {}
    kernel_id = labels.get(L.KERNEL_ID, "")
    base = labels.get(L.IMAGE) or container.attrs.get("Config", {}).get("Image", "")
    environment = labels.get(L.ENVIRONMENT, "")
    changes = container.diff() or []
    keys = [c.get("Path") for c in changes if _is_key_file(str(c.get("Path", "")))]
    if keys:  # a container made before the key had its own volume (daemon/plan.py KEY_DIR)
        raise ImageError(
            f"kernel {kernel_id[:8]} keeps its connection file (with its HMAC key) in the container "
            f"itself ({keys[0]}), so a commit would put the key into the image; restart the kernel "
            "(its new container keeps the key on a volume that commits leave out) and commit again"
        )
    diff = diff_summary(container, every=changes)
    repo, _, version = tag.rpartition(":")
    new_labels = {key: "" for key in KERNEL_LABELS}
    new_labels.update({BASE_IMAGE: base, COMMIT_ENVIRONMENT: environment, COMMITTED_FROM: kernel_id})
    before = _image_id(client, tag)
    try:
        image = container.commit(
            repository=repo, tag=version, message=message or None, author=author or None, conf={"Labels": new_labels}
        )
    except docker.errors.APIError as e:
        if _image_id(client, tag) not in (None, before):  # never the user's older image of that tag
            _remove_quietly(client, tag)
        raise ImageError(f"commit of kernel {kernel_id[:8]} as {tag!r} failed: {e.explanation or e}") from e
    return CommitOutcome(
        image_id=image.id, tag=tag, kernel_id=kernel_id, base_image=base, environment=environment, diff=diff
    )


def _is_key_file(path: str) -> bool:
    """A kernel connection file in the container's own layer (never one on the ``KEY_DIR`` volume,
    which ``docker diff`` does not list)."""
    name = path.rsplit("/", 1)[-1]
    return is_runtime_path(path) and name.startswith("kernel-") and name.endswith(".json")


def _image_id(client: docker.DockerClient, tag: str) -> str | None:
    try:
        return client.images.get(tag).id
    except docker.errors.DockerException:
        return None


def _remove_quietly(client: docker.DockerClient, tag: str) -> None:
    try:
        client.images.remove(tag, noprune=False)
    except docker.errors.DockerException:
        pass
