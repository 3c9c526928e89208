"""Thin derived images: ``FROM <image id>`` + ipykernel for the image's own interpreter, built on the host.

Called by :class:`..kernel.launcher.KernelLauncher` (automatically, for an image whose probe found
Python but no ipykernel, when ``derive_ipykernel`` is on), by the CLI (``jupyter gpu-kernels images
derive | remove-derived``) and by the REST derive tracker (:mod:`..server.derive_handlers`), always
from a worker thread with a client from :func:`..hosts.transport.connect`.

The image is tagged ``jupyter-gpu-kernels/ipykernel:<base id short>-py<X.Y>`` and labelled with the
base image id, the interpreter and the ipykernel version; it is found again by the base image id
label, so it is built once per base image. The wheels come from :mod:`.wheels` (fetched by the
server) in the build context, and the build runs with network ``none``. In the image the installer
uses the interpreter's pip when it has one (``pip install --no-index --find-links``), else unpacks
the wheels into :data:`SITE_DIR` and adds a ``.pth`` file to the interpreter's site-packages. The
build ends by importing ipykernel with that interpreter, and the derived image is then probed like
any other (as ``nobody``). Touches only that host's images (the classic builder tags only a
successful build; a derived image whose probe finds no ipykernel is removed) and a temporary
build-context directory (always removed).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

from .. import forksafe
from ..errors import ImageError
from .builds import build_image
from .images import DERIVED_FROM_LABEL
from .interpreters import Interpreter, find_interpreter, forget, refusal
from .wheels import ipykernel_version_in, ipykernel_wheels, platform_for, short_version

DERIVED_REPO = "jupyter-gpu-kernels/ipykernel"
PYTHON_LABEL = "org.jupyter.gpu-kernels.derived-python"
IPYKERNEL_LABEL = "org.jupyter.gpu-kernels.derived-ipykernel"
SITE_DIR = "/opt/jupyter-gpu-kernels/site"
INSTALLER = Path(__file__).with_name("ipykernel_installer.py")
LogFn = Callable[[str], None]

_locks: dict[str, threading.Lock] = {}
_locks_lock = threading.Lock()


def _reset_after_fork() -> None:
    """A forked child: new locks (a parent thread may hold one, mid-build)."""
    global _locks, _locks_lock
    _locks = {}
    _locks_lock = threading.Lock()


forksafe.register(_reset_after_fork)


@dataclass
class Derived:
    """A derived image: its Docker image, tag, base image id, and whether this call built it."""

    image: Any
    tag: str
    base_id: str
    built: bool


def derived_tag(base_id: str, version: str) -> str:
    return f"{DERIVED_REPO}:{base_id.split(':')[-1][:12]}-py{short_version(version)}"


def find_derived(client: docker.DockerClient, base_id: str) -> Any | None:
    """The derived image of ``base_id`` on this host, or None."""
    images = client.images.list(filters={"label": f"{DERIVED_FROM_LABEL}={base_id}"})
    return images[0] if images else None


def list_derived(client: docker.DockerClient) -> list[Any]:
    return client.images.list(filters={"label": DERIVED_FROM_LABEL})


def needs_ipykernel(client: docker.DockerClient, image: Any) -> Interpreter | None:
    """The image's interpreter when it has Python but no ipykernel (so deriving helps), else None."""
    found = find_interpreter(client, image.id)
    return found if found is not None and not found.ipykernel else None


def _lock(key: str) -> threading.Lock:
    with _locks_lock:
        return _locks.setdefault(key, threading.Lock())


def derive(
    client: docker.DockerClient, ref: str, *, progress: LogFn | None = None, install: str = "auto", image: Any = None
) -> Derived:
    """The derived image of ``ref`` (built on this host if it is not there yet). ImageError when the
    image has no Python (nothing is created), already has ipykernel, or the build fails (no tag left).
    ``install``: ``auto`` (pip when the interpreter has it), ``pip`` or ``unzip``."""
    log = progress or (lambda line: None)
    try:
        image = image or client.images.get(ref)
    except docker.errors.ImageNotFound:
        raise ImageError(f"image {ref!r} is not on this host: pull it first") from None
    with _lock(image.id):
        existing = find_derived(client, image.id)
        if existing is not None:
            return Derived(existing, (existing.tags or [""])[0], image.id, built=False)
        found = find_interpreter(client, image.id)
        why = refusal(ref, image.attrs, found)
        if found is None:
            raise ImageError(why or f"image {ref!r} has no Python")
        if not why:
            raise ImageError(
                f"image {ref!r} already has ipykernel {found.ipykernel} ({found.path}): no derived image is needed"
            )
        return _build(client, ref, image, found, log, install)


def _build(client: docker.DockerClient, ref: str, image: Any, found: Interpreter, log: LogFn, install: str) -> Derived:
    wheels = ipykernel_wheels(found.version, platform_for(image.attrs, found.libc), progress=log)
    tag = derived_tag(image.id, found.version)
    version = ipykernel_version_in(wheels)
    log(f"building {tag}: ipykernel {version} for {found.path} (Python {found.version}) of {ref}")
    labels = {DERIVED_FROM_LABEL: image.id, PYTHON_LABEL: found.path, IPYKERNEL_LABEL: version}
    context = Path(tempfile.mkdtemp(prefix="jgk-derive-"))
    try:
        shutil.copytree(wheels, context / "wheels")
        shutil.copy(INSTALLER, context / "install.py")
        (context / "Dockerfile").write_text(dockerfile(image, found, install))
        outcome = build_image(client, str(context), tag, progress=log, network_mode="none", labels=labels)
    finally:
        shutil.rmtree(context, ignore_errors=True)
    built = client.images.get(outcome.image_id or tag)
    forget(built.id)
    checked = find_interpreter(client, built.id)
    if checked is None or not checked.ipykernel:
        remove(client, built)
        raise ImageError(f"the derived image {tag} was built but its probe finds no ipykernel for {found.path}")
    log(f"built {tag} (ipykernel {checked.ipykernel})")
    return Derived(built, tag, image.id, built=True)


def dockerfile(image: Any, found: Interpreter, install: str = "auto") -> str:
    """The derived image's Dockerfile: root for the install, then the base image's USER again."""
    user = (image.attrs.get("Config") or {}).get("User") or ""
    run = [found.path, "/tmp/jupyter-gpu-kernels-install.py", "/tmp/jupyter-gpu-kernels-wheels", SITE_DIR, install]
    lines = [
        f"FROM {image.id}",
        "USER 0:0",
        "COPY wheels /tmp/jupyter-gpu-kernels-wheels",
        "COPY install.py /tmp/jupyter-gpu-kernels-install.py",
        f"RUN {json.dumps(run)}",
    ]
    if user:
        lines.append(f"USER {user}")
    return "\n".join(lines) + "\n"


def remove(client: docker.DockerClient, image: Any) -> str:
    """Remove one derived image (by its tag); ImageError when a container still uses it."""
    if DERIVED_FROM_LABEL not in ((image.attrs.get("Config") or {}).get("Labels") or {}):
        raise ImageError(f"image {(image.tags or [image.id])[0]!r} is not a derived ipykernel image")
    name = (image.tags or [image.id])[0]
    try:
        client.images.remove(name, force=False, noprune=False)
    except docker.errors.APIError as e:
        raise ImageError(f"could not remove {name}: {e.explanation or e}") from e
    forget(image.id)
    return name


def remove_derived(client: docker.DockerClient, ref: str | None = None) -> list[str]:
    """Remove the derived image of ``ref`` (a base image, or the derived tag itself), or all of them."""
    if ref is None:
        return [remove(client, image) for image in list_derived(client)]
    try:
        image = client.images.get(ref)
    except docker.errors.ImageNotFound:
        raise ImageError(f"no image {ref!r} on this host") from None
    labels = (image.attrs.get("Config") or {}).get("Labels") or {}
    if DERIVED_FROM_LABEL in labels and labels[DERIVED_FROM_LABEL] != image.id:
        return [remove(client, image)]
    derived = find_derived(client, image.id)
    if derived is None:
        raise ImageError(f"image {ref!r} has no derived ipykernel image on this host")
    return [remove(client, derived)]
