"""``Environment``: one named kernel choice, validated once, and its kernelspec ``gpu-<name>``.

An environment keeps the fields as the user wrote them (``"8g"`` stays ``"8g"`` in
the file and the REST API) and, parsed once when it is created or loaded, their typed
form :attr:`Environment.settings` (:class:`~..specs.settings.KernelSettings`). Its
kernelspec carries ``settings.to_config()``. Called by the store and the kernelspec
manager of this package; touches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpec

from ..errors import GPUKernelsError, SpecError
from ..kernel.kernelspecs import DEFAULT_ARGV, PROVISIONER_NAME
from ..specs.settings import KernelSettings

KERNEL_PREFIX = "gpu-"
RESOURCE_DIR = str(Path(__file__).resolve().parent.parent / "_data" / "kernel_resources")
META_FIELDS = ("name", "display_name", "description")


def describe_gpus(spec: str) -> str:
    """'1' → '1 GPU', 'device=0,2' → 'GPUs 0,2', 'all' → 'all GPUs', 'none' → 'CPU' (for display names)."""
    spec = (spec or "none").strip()
    if spec in ("", "none", "0"):
        return "CPU"
    if spec == "all":
        return "all GPUs"
    if spec.isdigit():
        return f"{spec} GPU" + ("s" if spec != "1" else "")
    if spec.startswith("device="):
        ids = spec[len("device=") :].split(",")
        return ("GPU " if len(ids) == 1 else "GPUs ") + ",".join(ids)
    return spec


class EnvironmentNotFound(GPUKernelsError, KeyError):
    """No environment of that name."""

    http_status = 404

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


class ReadOnlyEnvironment(GPUKernelsError):
    """Admin-defined environments cannot be changed by users."""

    http_status = 403


@dataclass(frozen=True)
class Environment:
    """The fields as written, plus :attr:`settings`, their typed form (validated in ``__post_init__``)."""

    name: str
    image: str
    display_name: str = ""
    host: str = "local"
    gpus: str = "none"
    gpu_sharing: bool = False
    memory: str = ""
    cpus: float = 0.0
    shm_size: str = ""
    mounts: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    pull_policy: str = ""
    description: str = ""
    orphan_timeout: float | None = None  # seconds its kernels outlive their owner (None: the default)
    entrypoint: list[str] | None = None  # the container's ENTRYPOINT (None: the image's; []: none)
    source: str = "user"  # user | admin
    settings: KernelSettings = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = {f: getattr(self, f) for f in KernelSettings.KEYS if f != "environment"}
        object.__setattr__(self, "settings", KernelSettings.from_config({**values, "environment": self.name}))

    @property
    def kernel_name(self) -> str:
        return KERNEL_PREFIX + self.name

    @property
    def title(self) -> str:
        return self.display_name or self.name

    def stored(self) -> dict[str, Any]:
        """The fields as the user file keeps them."""
        return {f: getattr(self, f) for f in FIELDS if f != "name"}

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **self.stored(),
            "source": self.source,
            "kernel_name": self.kernel_name,
            "read_only": self.source == "admin",
        }

    def provisioner_config(self) -> dict[str, Any]:
        return self.settings.to_config()

    def kernel_spec(self) -> KernelSpec:
        gpus = describe_gpus(self.gpus)
        return KernelSpec(
            argv=list(DEFAULT_ARGV),
            display_name=self.display_name or f"{self.name} ({gpus} · {self.host})",
            language="python",
            interrupt_mode="signal",
            resource_dir=RESOURCE_DIR,
            env={},
            metadata={
                "kernel_provisioner": {"provisioner_name": PROVISIONER_NAME, "config": self.settings.to_config()},
                "jupyter_gpu_kernels": {
                    "environment": self.name,
                    "host": self.host,
                    "image": self.image,
                    "gpus": self.gpus,
                },
                "debugger": True,
            },
        )


FIELDS = tuple(f.name for f in fields(Environment) if f.name not in ("source", "settings"))
EDITABLE = frozenset(FIELDS) - {"name"}
_STRINGS = ("image", "display_name", "host", "memory", "shm_size", "pull_policy", "description")


def build_environment(name: str, data: dict, source: str) -> Environment:
    """An Environment from stored or posted fields; SpecError names what is wrong."""
    unknown = set(data) - EDITABLE - {"source", "kernel_name", "read_only", "name"}
    if unknown:
        raise SpecError(f"environment {name!r}: unknown field(s) {sorted(unknown)}; known: {sorted(EDITABLE)}")
    values = {k: v for k, v in data.items() if k in EDITABLE}
    for key, kind in (("mounts", list), ("env", dict)):
        if key in values and not isinstance(values[key], kind):
            raise SpecError(f"environment {name!r}: {key} must be a {kind.__name__}", field=key)
    for key in _STRINGS:
        if key in values and values[key] is not None and not isinstance(values[key], str):
            raise SpecError(f"environment {name!r}: {key} must be a string", field=key)
    if "gpus" in values:
        values["gpus"] = str(values["gpus"])
    if "image" not in values:
        raise SpecError(f"environment {name!r}: an image is required", field="image")
    return Environment(name=name, source=source, **values)
