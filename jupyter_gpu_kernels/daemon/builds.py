"""Image builds from a Dockerfile on any host, with step progress, and the next-version tag suggestion.

Called by the CLI (``jupyter gpu-kernels build``) and the REST build tracker
(:mod:`jupyter_gpu_kernels.server.build_handlers`), always from a worker thread, with a client from
:func:`jupyter_gpu_kernels.hosts.transport.connect` (so a remote build uploads its context through the
host's one connection: the SSH tunnel, or TLS). Touches only images on that host: the build itself
(intermediate containers removed, ``rm=True, forcerm=True``) and, on failure, nothing else: the classic
builder applies the tag only when every step succeeded, so a failed build leaves no tag behind.

The context is read by docker-py's ``client.api.build(path=…)``, which honours ``.dockerignore``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import docker
import docker.errors

from ..errors import ImageError, SpecError
from .images import check_image_ref, split_tag

STEP = re.compile(r"^Step (\d+)/(\d+) :")
LogFn = Callable[[str], None]


@dataclass
class BuildOutcome:
    """What a build produced: the image id, its tag and the steps seen (``n`` of ``m``)."""

    image_id: str
    tag: str
    step: int = 0
    steps: int = 0
    log: list[str] = field(default_factory=list)


def next_tag(tag: str) -> str:
    """The next version of a tag: ``v1`` → ``v2``, ``1.1`` → ``1.2``, ``2024-01`` → ``2024-02``, ``latest`` → ``latest-2``."""
    m = re.search(r"(\d+)(\D*)$", tag)
    if not m:
        return f"{tag}-2"
    digits = m.group(1)
    bumped = str(int(digits) + 1).zfill(len(digits))
    return tag[: m.start(1)] + bumped + m.group(2)


def image_exists(client: docker.DockerClient, ref: str) -> bool:
    try:
        client.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


def suggest_free_tag(client: docker.DockerClient, ref: str, tries: int = 50) -> str:
    """The first next version of ``ref``'s tag that does not exist on the host (``name:v2`` after ``name:v1``)."""
    repo, tag = split_tag(ref)
    candidate = tag or "latest"
    for _ in range(tries):
        candidate = next_tag(candidate)
        if not image_exists(client, f"{repo}:{candidate}"):
            break
    return f"{repo}:{candidate}"


def check_new_tag(client: docker.DockerClient, ref: str, *, overwrite: bool, host_name: str = "local") -> str:
    """``ref`` as a tag to create: a ``repo:tag`` (no digest); if it exists, refuse unless ``overwrite``."""
    ref = check_image_ref(ref)
    if "@" in ref or re.fullmatch(r"(sha256:)?[0-9a-f]{64}", ref):
        raise SpecError(f"invalid tag {ref!r}: give NAME:TAG, not a digest or an image id", field="tag")
    repo, tag = split_tag(ref)
    ref = f"{repo}:{tag}"
    if not overwrite and image_exists(client, ref):
        raise ImageError(
            f"image {ref!r} already exists on host {host_name!r}; tag this version "
            f"{suggest_free_tag(client, ref)!r} instead, or pass --overwrite to replace it"
        )
    return ref


def check_context(directory: str, dockerfile: str | None = None) -> tuple[str, str]:
    """The absolute context directory and the Dockerfile path as docker-py wants it; SpecError if missing."""
    path = os.path.abspath(os.path.expanduser(directory or ""))
    if not os.path.isdir(path):
        raise SpecError(f"build context {directory!r} is not a directory", field="path")
    name = dockerfile or "Dockerfile"
    full = name if os.path.isabs(name) else os.path.join(path, name)
    if not os.path.isfile(full):
        raise SpecError(
            f"no Dockerfile {name!r} in {directory!r}"
            if not os.path.isabs(name)
            else f"Dockerfile {name!r} does not exist",
            field="dockerfile",
        )
    return path, name


def parse_build_args(items: Iterable[str]) -> dict[str, str]:
    """``["K=V", …]`` → ``{"K": "V"}``; SpecError for an item without ``=`` or a bad name."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise SpecError(f"invalid build argument {item!r}: expected NAME=VALUE", field="build_args")
        out[key] = value
    return out


def build_image(
    client: docker.DockerClient,
    directory: str,
    tag: str,
    *,
    dockerfile: str | None = None,
    build_args: dict[str, str] | None = None,
    progress: LogFn | None = None,
    on_step: Callable[[int, int], None] | None = None,
    network_mode: str | None = None,
    labels: dict[str, str] | None = None,
) -> BuildOutcome:
    """Build ``directory`` as ``tag``; each log line goes to ``progress``. ImageError says why it failed.
    ``network_mode="none"``: the RUN steps have no network; ``labels`` are added to the image."""
    path, name = check_context(directory, dockerfile)
    outcome = BuildOutcome(image_id="", tag=tag)
    log = progress or (lambda line: None)
    try:
        stream = client.api.build(
            path=path,
            dockerfile=name,
            tag=tag,
            buildargs=build_args or None,
            rm=True,
            forcerm=True,
            decode=True,
            network_mode=network_mode,
            labels=labels or None,
        )
        for event in stream:
            if "error" in event:
                detail = (event.get("errorDetail") or {}).get("message") or event["error"]
                raise ImageError(f"build of {tag!r} failed at step {outcome.step}/{outcome.steps}: {detail.strip()}")
            if "aux" in event and isinstance(event["aux"], dict) and event["aux"].get("ID"):
                outcome.image_id = event["aux"]["ID"]
            for line in str(event.get("stream") or "").splitlines():
                if not line.strip():
                    continue
                m = STEP.match(line)
                if m:
                    outcome.step, outcome.steps = int(m.group(1)), int(m.group(2))
                    if on_step:
                        on_step(outcome.step, outcome.steps)
                outcome.log.append(line)
                log(line)
    except docker.errors.APIError as e:
        raise ImageError(f"build of {tag!r} failed: {e.explanation or e}") from e
    except docker.errors.DockerException as e:
        raise ImageError(f"build of {tag!r} failed: {e}") from e
    if not outcome.image_id:
        outcome.image_id = client.images.get(tag).id
    return outcome
