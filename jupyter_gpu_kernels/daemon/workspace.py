"""Files for kernels on remote hosts: a named volume per notebook directory.

The server's directories do not exist on a remote host, and mounting the remote
machine's filesystem at the local path would silently show other files. So a
kernel there works in ``/workspace`` (configurable), a Docker named volume that
belongs to one notebook directory and survives restarts; ``jupyter gpu-kernels
sync push|pull`` copies files between that directory here and the volume there,
through the Docker archive API (no extra daemon, no ssh/scp on the remote side).
"""

from __future__ import annotations

import getpass
import hashlib
import io
import os
import tarfile
from pathlib import Path

import docker
import docker.errors

from ..errors import SpecError
from . import labels as L

VOLUME_PREFIX = "jgk-work-"


def workspace_volume_name(notebook_dir: str, owner: str | None = None) -> str:
    owner = owner or getpass.getuser()
    digest = hashlib.sha256(f"{owner}\0{os.path.abspath(notebook_dir)}".encode()).hexdigest()[:16]
    return VOLUME_PREFIX + digest


def _ensure_volume(client: docker.DockerClient, name: str, notebook_dir: str) -> None:
    try:
        client.volumes.get(name)
    except docker.errors.NotFound:
        client.volumes.create(
            name, labels={f"{L.PREFIX}.workspace": os.path.abspath(notebook_dir), L.OWNER: getpass.getuser()}
        )


def _helper(client: docker.DockerClient, volume: str, image: str) -> docker.models.containers.Container:
    """A created (never started) container with the volume at /workspace: the archive API works on it."""
    return client.containers.create(
        image,
        command=["true"],
        volumes=[f"{volume}:/workspace:rw"],
        network_mode="none",
        labels={f"{L.PREFIX}.probe": "true"},
    )


def _relative(notebook_dir: Path, path: str) -> str:
    target = (notebook_dir / path).resolve() if not os.path.isabs(path) else Path(path).resolve()
    try:
        rel = target.relative_to(notebook_dir.resolve())
    except ValueError:
        raise SpecError(f"{path!r} is outside the notebook directory {str(notebook_dir)!r}") from None
    if str(rel) == ".":
        raise SpecError("name the files or folders to sync, not the notebook directory itself")
    return str(rel)


def push(client: docker.DockerClient, notebook_dir: str, paths: list[str], image: str) -> list[str]:
    """Copy local files/folders (relative to ``notebook_dir``) into the notebook's volume."""
    base = Path(notebook_dir)
    rels = [_relative(base, p) for p in paths]
    for rel in rels:
        if not (base / rel).exists():
            raise SpecError(f"{rel!r} does not exist in {notebook_dir!r}")
    volume = workspace_volume_name(notebook_dir)
    _ensure_volume(client, volume, notebook_dir)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for rel in rels:
            tar.add(base / rel, arcname=rel)
    helper = _helper(client, volume, image)
    try:
        helper.put_archive("/workspace", buf.getvalue())
    finally:
        helper.remove(force=True)
    return rels


def pull(client: docker.DockerClient, notebook_dir: str, paths: list[str], image: str) -> list[str]:
    """Copy files/folders from the notebook's volume back into ``notebook_dir``."""
    base = Path(notebook_dir)
    rels = [_relative(base, p) for p in paths]
    volume = workspace_volume_name(notebook_dir)
    try:
        client.volumes.get(volume)
    except docker.errors.NotFound:
        raise SpecError(f"no workspace volume for {notebook_dir!r} on that host yet (no kernel ran there)") from None
    helper = _helper(client, volume, image)
    try:
        for rel in rels:
            try:
                stream, _ = helper.get_archive(f"/workspace/{rel}")
            except docker.errors.NotFound:
                raise SpecError(f"{rel!r} does not exist in the remote workspace") from None
            data = io.BytesIO(b"".join(stream))
            dest = (base / rel).parent
            dest.mkdir(parents=True, exist_ok=True)
            with tarfile.open(fileobj=data) as tar:
                tar.extractall(dest, filter="data")
    finally:
        helper.remove(force=True)
    return rels
