"""An environment as something to share: a ``docker run`` line, a compose service, a Dockerfile stub, JSON.

Called by ``jupyter gpu-kernels envs export`` (:mod:`jupyter_gpu_kernels.cli.envs_export`) and the REST
handler ``GET environments/{name}/export`` (:mod:`jupyter_gpu_kernels.server.build_handlers`). The
formatting is pure (from the environment's typed :class:`~..specs.settings.KernelSettings`);
:func:`pinned_image` reads one image's digests/id from the environment's host (no change there).

The container is described with the same safe defaults the launcher uses: the server's uid, no new
privileges, every capability dropped, an init process, ``/dev/shm`` as set (2 GB when unset).
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from ..daemon.plan import server_user
from .model import Environment

FORMATS = ("run", "compose", "dockerfile", "json")
DEFAULT_SHM = "2g"
KERNEL_COMMAND = ("python3", "-m", "ipykernel_launcher")


def pinned_image(client: Any, ref: str) -> str:
    """``repo@sha256:…`` when the image has a RepoDigest for its repository, else its image id."""
    image = client.images.get(ref)
    digests = image.attrs.get("RepoDigests") or []
    repo = ref.split("@", 1)[0]
    last = repo.rsplit("/", 1)[-1]
    if ":" in last:
        repo = repo.rsplit(":", 1)[0]
    for digest in digests:
        if digest.split("@", 1)[0] in (repo, f"docker.io/{repo}", f"docker.io/library/{repo}"):
            return digest
    return digests[0] if digests else image.id


def _size(value: int | None) -> str | None:
    from ..specs.settings import format_size

    return format_size(value) if value else None


def gpu_options(env: Environment) -> list[str]:
    """``docker run`` GPU options: ``--gpus all|N|'"device=0,2"'``, or ``--device`` per CDI name."""
    gpus = env.settings.gpus
    if gpus.kind == "none":
        return []
    if gpus.kind == "cdi":
        return [arg for name in gpus.devices for arg in ("--device", name)]
    if gpus.kind == "devices":
        return ["--gpus", f'"{gpus}"']  # the quotes keep docker's CSV parser from splitting at the comma
    return ["--gpus", str(gpus)]


def run_args(env: Environment, image: str) -> list[str]:
    """The ``docker run`` argument list (after ``docker``)."""
    s = env.settings
    args = ["run", "--rm", "-it", "--name", f"gpu-kernel-{env.name}"]
    args += gpu_options(env)
    if s.memory:
        args += ["--memory", _size(s.memory) or ""]
    if s.cpus:
        args += ["--cpus", f"{s.cpus:g}"]
    args += ["--shm-size", _size(s.shm_size) or DEFAULT_SHM]
    for mount in s.mounts:
        args += ["-v", mount.to_docker()]  # docker's spelling (NAME:/dst for a volume)
    for key, value in s.env.items():
        args += ["-e", f"{key}={value}"]
    args += ["--user", server_user(), "--security-opt", "no-new-privileges", "--cap-drop", "ALL", "--init"]
    return [*args, image, *KERNEL_COMMAND]


def as_run(env: Environment, image: str) -> str:
    return "docker " + " ".join(shlex.quote(a) for a in run_args(env, image))


def compose_service(env: Environment, image: str) -> dict[str, Any]:
    """The compose file (``services: {NAME: …}``) as data."""
    s = env.settings
    service: dict[str, Any] = {
        "image": image,
        "command": list(KERNEL_COMMAND),
        "user": server_user(),
        "init": True,
        "shm_size": _size(s.shm_size) or DEFAULT_SHM,
        "security_opt": ["no-new-privileges"],
        "cap_drop": ["ALL"],
    }
    if s.mounts:
        service["volumes"] = [m.to_docker() for m in s.mounts]
    if s.env:
        service["environment"] = dict(s.env)
    resources: dict[str, Any] = {}
    limits = {k: v for k, v in (("memory", _size(s.memory)), ("cpus", f"{s.cpus:g}" if s.cpus else None)) if v}
    if limits:
        resources["limits"] = limits
    if s.gpus.kind != "none":
        device: dict[str, Any] = {"driver": "nvidia", "capabilities": ["gpu"]}
        if s.gpus.kind == "all":
            device["count"] = "all"
        elif s.gpus.kind == "count":
            device["count"] = s.gpus.count
        else:
            device["device_ids"] = list(s.gpus.devices)
        resources["reservations"] = {"devices": [device]}
    if resources:
        service["deploy"] = {"resources": resources}
    return {"services": {env.name: service}}


def as_compose(env: Environment, image: str) -> str:
    data = compose_service(env, image)
    try:
        import yaml
    except ImportError:  # JSON is YAML too
        return json.dumps(data, indent=2)
    return yaml.safe_dump(data, sort_keys=False)


def as_dockerfile(env: Environment, image: str) -> str:
    return "\n".join(
        [
            f"# environment {env.name!r}: {env.image}",
            f"FROM {image}",
            "# The kernel runs `python3 -m ipykernel_launcher`: the image needs Python with ipykernel, e.g.",
            "# RUN python3 -m pip install --no-cache-dir ipykernel",
            "# Add your changes below, then: jupyter gpu-kernels build . --tag NAME:v2",
            "",
        ]
    )


def as_json(env: Environment, image: str) -> str:
    return json.dumps({"name": env.name, **env.settings.to_config(), "pinned_image": image}, indent=1)


def export(env: Environment, fmt: str, image: str) -> str:
    """``env`` in format ``fmt`` (one of :data:`FORMATS`), with ``image`` (pinned) as its image."""
    from ..errors import SpecError

    formatters = {"run": as_run, "compose": as_compose, "dockerfile": as_dockerfile, "json": as_json}
    if fmt not in formatters:
        raise SpecError(f"invalid export format {fmt!r}: expected one of {', '.join(FORMATS)}", field="format")
    return formatters[fmt](env, image)
