"""Environments: a named choice of host, image, GPUs, limits, mounts and env.

Jupyter's kernel-start REST call carries only a kernelspec name and a path, so
the user's choice lives in something named. Users keep theirs in
``<jupyter config dir>/gpu_kernels/environments.json``; admins define read-only
ones with ``c.Environments.environments``. Every environment is offered as a
kernelspec named ``gpu-<name>`` (see :class:`EnvironmentKernelSpecMixin`), read
fresh on each call, so changes show up without a server restart and deleting one
leaves no file behind.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpec, NoSuchKernel
from jupyter_core.paths import jupyter_config_dir
from traitlets import Dict, Unicode, default
from traitlets.config import LoggingConfigurable

from .errors import GPUKernelsError, SpecError, UnknownHostError
from .hosts.registry import DockerHosts
from .kernel.kernelspecs import DEFAULT_ARGV, PROVISIONER_NAME, check_kernel_name, provisioner_config
from .policy import ImagePolicy
from .userfile import read_section, write_section

KERNEL_PREFIX = "gpu-"
RESOURCE_DIR = str(Path(__file__).parent / "_data" / "kernel_resources")


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
        ids = spec[len("device="):].split(",")
        return ("GPU " if len(ids) == 1 else "GPUs ") + ",".join(ids)
    return spec


class EnvironmentNotFound(GPUKernelsError, KeyError):
    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


class ReadOnlyEnvironment(GPUKernelsError):
    """Admin-defined environments cannot be changed by users."""


@dataclass
class Environment:
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
    source: str = "user"  # user | admin

    FIELDS = ()  # filled below

    @property
    def kernel_name(self) -> str:
        return KERNEL_PREFIX + self.name

    @property
    def title(self) -> str:
        return self.display_name or self.name

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kernel_name"] = self.kernel_name
        data["read_only"] = self.source == "admin"
        return data

    def stored(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("source")
        data.pop("name")
        return data

    def provisioner_config(self, check_mounts: bool = True) -> dict[str, Any]:
        return provisioner_config(
            image=self.image, gpus=self.gpus, host=self.host, memory=self.memory, cpus=self.cpus,
            shm_size=self.shm_size, mounts=self.mounts, env=self.env, pull_policy=self.pull_policy,
            gpu_sharing=self.gpu_sharing, environment=self.name, check_mounts=check_mounts,
        )

    def kernel_spec(self) -> KernelSpec:
        config = self.provisioner_config(check_mounts=False)
        gpus = describe_gpus(self.gpus)
        return KernelSpec(
            argv=list(DEFAULT_ARGV),
            display_name=self.display_name or f"{self.name} ({gpus} · {self.host})",
            language="python",
            interrupt_mode="signal",
            resource_dir=RESOURCE_DIR,
            env={},
            metadata={
                "kernel_provisioner": {"provisioner_name": PROVISIONER_NAME, "config": config},
                "jupyter_gpu_kernels": {"environment": self.name, "host": self.host, "image": self.image,
                                        "gpus": self.gpus},
                "debugger": True,
            },
        )


Environment.FIELDS = tuple(f.name for f in fields(Environment) if f.name not in ("source", "FIELDS"))  # type: ignore[misc]
_EDITABLE = set(Environment.FIELDS) - {"name"}


class Environments(LoggingConfigurable):
    """The environments store: admin (config, read-only) + the user's JSON file."""

    environments = Dict(
        config=True,
        help="""Admin-defined environments: {name: {"image": ..., "gpus": ..., "host": ..., "memory": ...,
        "cpus": ..., "shm_size": ..., "mounts": [...], "env": {...}, "display_name": ..., "description": ...}}.
        Users can use but not change them.""",
    )
    user_file = Unicode(config=True, help="The user's environments file (JSON).")

    _lock = threading.Lock()

    @default("user_file")
    def _user_file_default(self) -> str:
        return str(Path(jupyter_config_dir()) / "gpu_kernels" / "environments.json")

    # ---------------------------------------------------------------- reading
    def _read_user(self) -> dict[str, dict]:
        return read_section(self.user_file, "environments", self.log)

    def _write_user(self, envs: dict[str, dict]) -> None:
        write_section(self.user_file, "environments", envs)

    @staticmethod
    def _build(name: str, data: dict, source: str) -> Environment:
        unknown = set(data) - _EDITABLE - {"source", "kernel_name", "read_only", "name"}
        if unknown:
            raise SpecError(f"environment {name!r}: unknown field(s) {sorted(unknown)}; known: {sorted(_EDITABLE)}")
        values = {k: v for k, v in data.items() if k in _EDITABLE}
        for key, kind in (("mounts", list), ("env", dict)):
            if key in values and not isinstance(values[key], kind):
                raise SpecError(f"environment {name!r}: {key} must be a {kind.__name__}")
        for key in ("image", "display_name", "host", "memory", "shm_size", "pull_policy", "description"):
            if key in values and values[key] is not None and not isinstance(values[key], str):
                raise SpecError(f"environment {name!r}: {key} must be a string")
        if "gpus" in values:
            values["gpus"] = str(values["gpus"])
        if "image" not in values:
            raise SpecError(f"environment {name!r}: an image is required")
        return Environment(name=name, source=source, **values)

    def all(self) -> list[Environment]:
        found: dict[str, Environment] = {}
        for name, data in self._read_user().items():
            try:
                found[name] = self._build(name, data, "user")
            except (SpecError, TypeError) as e:
                self.log.warning("ignoring environment %r: %s", name, e)
        for name, data in self.environments.items():
            try:
                found[name] = self._build(name, dict(data), "admin")
            except (SpecError, TypeError) as e:
                self.log.warning("ignoring admin environment %r: %s", name, e)
        return sorted(found.values(), key=lambda e: e.name)

    def get(self, name: str) -> Environment:
        for env in self.all():
            if env.name == name:
                return env
        raise EnvironmentNotFound(f"no environment named {name!r}")

    def by_kernel_name(self, kernel_name: str) -> Environment | None:
        if not kernel_name.startswith(KERNEL_PREFIX):
            return None
        try:
            return self.get(kernel_name[len(KERNEL_PREFIX):])
        except EnvironmentNotFound:
            return None

    # ---------------------------------------------------------------- validation + writes
    def validate(self, env: Environment) -> Environment:
        """Everything the provisioner would check, plus host existence and the image allowlist."""
        try:
            check_kernel_name(env.name)
        except SpecError as e:
            raise SpecError(str(e), field="name") from None
        hosts = DockerHosts(parent=self)
        try:
            host = hosts.get(env.host)
        except UnknownHostError as e:
            raise UnknownHostError(str(e), field="host") from None
        env.provisioner_config(check_mounts=host.is_local)
        ImagePolicy(parent=self).check(env.image)  # ImageNotAllowedError names the field itself
        if env.display_name and len(env.display_name) > 120:
            raise SpecError("display_name is longer than 120 characters", field="display_name")
        return env

    def create(self, name: str, data: dict) -> Environment:
        with self._lock:
            env = self.validate(self._build(name, data, "user"))
            if any(e.name == name for e in self.all()):
                raise SpecError(f"an environment named {name!r} exists already")
            user = self._read_user()
            user[name] = env.stored()
            self._write_user(user)
            return env

    def update(self, name: str, data: dict) -> Environment:
        with self._lock:
            current = self.get(name)
            if current.source == "admin":
                raise ReadOnlyEnvironment(f"environment {name!r} is defined by the administrator and cannot be changed")
            merged = {**current.stored(), **{k: v for k, v in data.items() if k not in ("name", "kernel_name", "read_only", "source")}}
            env = self.validate(self._build(name, merged, "user"))
            user = self._read_user()
            user[name] = env.stored()
            self._write_user(user)
            return env

    def delete(self, name: str) -> None:
        with self._lock:
            current = self.get(name)
            if current.source == "admin":
                raise ReadOnlyEnvironment(f"environment {name!r} is defined by the administrator and cannot be deleted")
            user = self._read_user()
            user.pop(name, None)
            self._write_user(user)


class EnvironmentKernelSpecMixin:
    """Adds every environment as a kernelspec ``gpu-<name>`` to a KernelSpecManager.

    Mixed into whatever kernel spec manager the server uses (see
    :func:`install_kernelspec_mixin`), so other spec providers keep working.
    """

    def _gpu_environments(self) -> Environments:
        envs = getattr(self, "_gpu_envs", None)
        if envs is None:
            envs = Environments(parent=self)  # type: ignore[arg-type]
            self._gpu_envs = envs
        return envs

    def _gpu_specs(self) -> dict[str, Environment]:
        try:
            return {e.kernel_name: e for e in self._gpu_environments().all()}
        except Exception as e:  # never break the kernel picker
            self.log.warning("could not read GPU kernel environments: %s", e)  # type: ignore[attr-defined]
            return {}

    def find_kernel_specs(self) -> dict[str, str]:
        specs = super().find_kernel_specs()  # type: ignore[misc]
        specs.update({name: RESOURCE_DIR for name in self._gpu_specs()})
        return specs

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        env = self._gpu_specs().get(kernel_name)
        if env is not None:
            return env.kernel_spec()
        return super().get_kernel_spec(kernel_name)  # type: ignore[misc]

    def get_all_specs(self) -> dict[str, dict[str, Any]]:
        specs = {k: v for k, v in super().get_all_specs().items() if k not in self._gpu_specs()}  # type: ignore[misc]
        for name, env in self._gpu_specs().items():
            specs[name] = {"resource_dir": RESOURCE_DIR, "spec": env.kernel_spec().to_dict()}
        return specs

    def remove_kernel_spec(self, name: str) -> str:
        if name in self._gpu_specs():
            raise NoSuchKernel(f"{name} is a GPU kernel environment; delete the environment instead")
        return super().remove_kernel_spec(name)  # type: ignore[misc]


def install_kernelspec_mixin(ksm: Any) -> Any:
    """Give a live KernelSpecManager instance the environment specs (idempotent)."""
    if isinstance(ksm, EnvironmentKernelSpecMixin):
        return ksm
    ksm.__class__ = type(f"GPUEnvironments{type(ksm).__name__}", (EnvironmentKernelSpecMixin, type(ksm)), {})
    return ksm
