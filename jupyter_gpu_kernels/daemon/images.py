"""Image references, pull policy, pulls with progress, the image list, ``copy_image``.

Called by the launcher (``ensure_image``), the REST handlers and the CLI (listing, pulls,
copies), always from a worker thread. Touches only images (and, through
:mod:`.interpreters`, one probe container per image id to learn its Python and ipykernel).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import docker
import docker.errors

from ..errors import ImageError, SpecError
from ..specs import cuda
from ..specs.images import PULL_POLICIES, check_image_ref  # noqa: F401 (check_image_ref: re-exported)
from .interpreters import cached, find_interpreter

DERIVED_FROM_LABEL = "org.jupyter.gpu-kernels.derived-from"  # a thin ipykernel image's base image id (.derive)

ProgressFn = Callable[[str], None]
CountsFn = Callable[[dict], None]  # {bytes_done, bytes_total, layers_done, layers_total} of a pull

_LAYER_DONE = ("Pull complete", "Already exists")
_SIZE_UNKNOWN_STATES = ("Pulling fs layer", "Waiting", "Downloading")  # until a Downloading event's total
_LAYER_STATES = (
    "Pulling fs layer",
    "Waiting",
    "Downloading",
    "Verifying Checksum",
    "Download complete",
    "Extracting",
    *_LAYER_DONE,
)


def split_tag(ref: str) -> tuple[str, str | None]:
    """``repo:tag`` → (repo, tag); tag None for digests and bare names (docker pulls 'latest')."""
    if "@" in ref:
        return ref, None
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = ref.rsplit(":", 1)
        return repo, tag
    return ref, "latest"


def ensure_image(
    client: docker.DockerClient,
    ref: str,
    policy: str = "missing",
    *,
    host_name: str = "local",
    progress: ProgressFn | None = None,
    counts: CountsFn | None = None,
) -> docker.models.images.Image:
    """Make ``ref`` present on the host according to ``policy`` (missing/always/never); a pull
    reports text to ``progress`` and byte/layer counts to ``counts``."""
    if policy not in PULL_POLICIES:
        raise SpecError(f"invalid pull policy {policy!r}: expected one of {', '.join(PULL_POLICIES)}")
    image = None
    try:
        image = client.images.get(ref)
    except docker.errors.ImageNotFound:
        image = None
    except docker.errors.APIError as e:
        raise ImageError(f"could not look up image {ref!r} on host {host_name!r}: {e.explanation or e}") from e
    if image is not None and policy != "always":
        return image
    if image is None and policy == "never":
        raise ImageError(
            f"image {ref!r} is not present on host {host_name!r} and the pull policy is 'never': "
            f"build or load it there, or set pull_policy to 'missing'"
        )
    try:
        pull(client, ref, progress=progress, counts=counts)
    except ImageError:
        if image is not None:  # policy 'always': a cached copy is still usable
            if progress:
                progress(f"pull of {ref} failed; using the copy already on {host_name}")
            return image
        raise
    return client.images.get(ref)


class PullCounts:
    """Download bytes and layers of one pull, from the daemon's progress events."""

    def __init__(self) -> None:
        self.layers: dict[str, tuple[int, int]] = {}  # id -> (downloaded, total) bytes
        self.states: dict[str, str] = {}

    def add(self, event: dict) -> None:
        layer, status = event.get("id"), event.get("status", "")
        if not layer or status not in _LAYER_STATES:
            return
        self.states[layer] = status
        detail = event.get("progressDetail") or {}
        done, total = self.layers.get(layer, (0, 0))
        if status == "Downloading" and detail.get("total"):
            done, total = detail.get("current", 0), detail["total"]
        elif status in ("Download complete", "Extracting", "Pull complete"):
            done = total
        self.layers[layer] = (done, total)

    def sizes_pending(self) -> int:
        """Layers still to download whose size the daemon has not said yet ("Waiting", "Pulling fs
        layer"): it says a size only when a layer's download starts, three at a time."""
        return sum(
            1 for layer, s in self.states.items() if s in _SIZE_UNKNOWN_STATES and not self.layers.get(layer, (0, 0))[1]
        )

    def to_json(self) -> dict:
        """The counts; ``bytes_total`` is None while a layer's size is pending, as a total (and a
        percentage) of only the layers begun would be wrong: it would jump from 100% back to 1%."""
        return {
            "bytes_done": sum(d for d, _ in self.layers.values()),
            "bytes_total": None if self.sizes_pending() else sum(t for _, t in self.layers.values()),
            "layers_done": sum(1 for s in self.states.values() if s in _LAYER_DONE),
            "layers_total": len(self.states),
        }


def pull(
    client: docker.DockerClient, ref: str, *, progress: ProgressFn | None = None, counts: CountsFn | None = None
) -> None:
    """Pull ``ref``, reporting per-layer progress about once a second (text to ``progress``, byte
    and layer counts to ``counts``); ImageError says why it failed."""
    log = progress or (lambda msg: logging.getLogger(__name__).info(msg))
    repo, tag = split_tag(ref)
    log(f"pulling {ref} …")
    layers: dict[str, tuple[int, int]] = {}
    tally = PullCounts()
    last = last_counts = 0.0
    try:
        for event in client.api.pull(repo, tag=tag, stream=True, decode=True):
            if "error" in event:
                raise ImageError(f"pull of {ref!r} failed: {event['error']}")
            tally.add(event)
            if counts and time.monotonic() - last_counts > 0.25:
                counts(tally.to_json())
                last_counts = time.monotonic()
            detail = event.get("progressDetail") or {}
            if event.get("id") and detail.get("total"):
                layers[event["id"]] = (detail.get("current", 0), detail["total"])
            now = time.monotonic()
            if now - last > 1.0 and layers:
                done = sum(c for c, _ in layers.values())
                total = sum(t for _, t in layers.values())
                log(f"pulling {ref}: {done / 1e6:.1f}/{total / 1e6:.1f} MB in {len(layers)} layers")
                last = now
    except docker.errors.APIError as e:
        raise ImageError(f"pull of {ref!r} failed: {e.explanation or e}") from e
    except docker.errors.DockerException as e:
        raise ImageError(f"pull of {ref!r} failed: {e}") from e
    if counts:
        counts(tally.to_json())
    log(f"pulled {ref}")


# ---------------------------------------------------------------- listing and ipykernel detection
def ipykernel_version(client: docker.DockerClient, image_id: str) -> str | None:
    """ipykernel's version in the image ('' when absent), from the one interpreter probe per image id
    (:func:`.interpreters.find_interpreter`, which the kernel launch uses too)."""
    try:
        found = find_interpreter(client, image_id)
    except ImageError:
        return ""  # the image cannot run at all
    return found.ipykernel if found else ""


def list_images(
    client: docker.DockerClient, detect: bool = True, allowed: Callable[[str], bool] | None = None
) -> list[dict]:
    """Local images of a host with tags, digests, size, creation time and ipykernel presence.

    ``allowed`` (the admin policy's ``allows``): only images with an allowed tag are probed; the
    others are listed with ipykernel unknown (no container is ever started from them)."""
    result = []
    for image in client.images.list():
        attrs = image.attrs
        if not image.tags and not attrs.get("RepoDigests"):
            continue  # dangling layers are noise in a picker
        known, found = cached(image.id)
        probe_ok = allowed is None or any(allowed(t) for t in image.tags)
        if detect and not known and probe_ok:
            ipykernel_version(client, image.id)
            known, found = cached(image.id)
        version = (found.ipykernel if found else "") if known else None
        result.append(
            {
                "id": image.id,
                "tags": image.tags,
                "digests": attrs.get("RepoDigests") or [],
                "size": attrs.get("Size"),
                "created": attrs.get("Created"),
                "has_ipykernel": bool(version) if version is not None else None,
                "ipykernel_version": version or None,
                "python": found.path if found else None,
                "python_version": found.version if found else None,
                "cuda_requirement": " ; ".join(image_requirements(attrs)) or None,
                "derived_from": ((attrs.get("Config") or {}).get("Labels") or {}).get(DERIVED_FROM_LABEL),
            }
        )
    result.sort(key=lambda i: (i["tags"] or [""])[0])
    return result


def image_requirements(attrs: dict) -> list[str]:
    """The image's NVIDIA_REQUIRE_* requirement strings (:mod:`..specs.cuda`), [] if none or disabled."""
    return cuda.requirements(cuda.env_dict((attrs.get("Config") or {}).get("Env")))


def add_cuda_status(rows: list[dict], host: str, inventory: Any) -> None:
    """Set each listed image's ``cuda_ok``/``cuda_message`` against the host's driver (an Inventory)."""
    for row in rows:
        texts = [t for t in (row.get("cuda_requirement") or "").split(" ; ") if t]
        name = (row.get("tags") or [row.get("id", "?")])[0]
        row.update(
            cuda.image_cuda_status(
                name,
                host,
                texts,
                bool(inventory.driver and inventory.gpus),
                inventory.cuda_version,
                inventory.driver_version,
            )
        )


def require_cuda(attrs: dict, image: str, host: str, inventory: Any, env: dict | None = None) -> None:
    """Refuse (ImageError naming both versions) an image whose NVIDIA_REQUIRE_CUDA the host's driver
    does not meet; ``env`` (the kernel's own variables, e.g. NVIDIA_DISABLE_REQUIRE) overrides the
    image's, as in the container. Hosts without a driver or a known CUDA version are left to the toolkit."""
    merged = {**cuda.env_dict((attrs.get("Config") or {}).get("Env")), **{k: str(v) for k, v in (env or {}).items()}}
    texts = cuda.requirements(merged)
    status = cuda.image_cuda_status(
        image, host, texts, bool(inventory.driver), inventory.cuda_version, inventory.driver_version
    )
    if status["cuda_ok"] is False:
        raise ImageError(status["cuda_message"])


def copy_image(
    source: docker.DockerClient,
    dest: docker.DockerClient,
    ref: str,
    progress: Callable[[int, int | None], None] | None = None,
) -> None:
    """``docker save | docker load`` between two daemons, streamed, with byte progress."""
    try:
        image = source.images.get(ref)
    except docker.errors.ImageNotFound:
        raise ImageError(f"image {ref!r} is not present on the source host") from None
    total = image.attrs.get("Size")
    sent = 0

    def chunks():  # type: ignore[no-untyped-def]
        nonlocal sent
        for chunk in image.save(named=True):
            sent += len(chunk)
            if progress:
                progress(sent, total)
            yield chunk

    try:
        dest.images.load(chunks())
    except docker.errors.APIError as e:
        raise ImageError(f"loading {ref!r} on the destination host failed: {e.explanation or e}") from e
