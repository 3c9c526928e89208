"""``GPUKernelsEnvironments``: the environments store (admin config + the user's JSON file).

Users keep theirs in ``<jupyter config dir>/gpu_kernels/environments.json``; admins
define read-only ones with ``c.GPUKernelsEnvironments.environments`` (the old name
``c.Environments`` still works, with a deprecation warning). Every environment is
validated when it is loaded (a broken one is skipped with a warning) and, with the
host registry and the image policy, when it is created or changed.

Created once per server by :class:`jupyter_gpu_kernels.settings.Settings`, which hands
it the hosts registry and the image policy; read by the REST handlers, the kernelspec
manager and the CLI. Writes only the user's environments file.
"""

from __future__ import annotations

import threading
from pathlib import Path

from jupyter_core.paths import jupyter_config_dir
from traitlets import Dict, Instance, Unicode, default

from .. import forksafe
from ..configurable import PrefixedConfigurable
from ..errors import SpecError, UnknownHostError
from ..hosts.registry import GPUKernelsHosts
from ..kernel.boundary import check_sources
from ..kernel.kernelspecs import check_kernel_name
from ..policy import GPUKernelsImagePolicy
from ..userfile import read_section, write_section
from .model import KERNEL_PREFIX, Environment, EnvironmentNotFound, ReadOnlyEnvironment, build_environment

_NOT_STORED = ("name", "kernel_name", "read_only", "source")


class GPUKernelsEnvironments(PrefixedConfigurable):
    """The environments store: admin (config, read-only) + the user's JSON file."""

    legacy_section = "Environments"

    environments = Dict(
        config=True,
        help="""Admin-defined environments: {name: {"image": ..., "gpus": ..., "host": ..., "memory": ...,
        "cpus": ..., "shm_size": ..., "mounts": [...], "env": {...}, "display_name": ..., "description": ...}}.
        Users can use but not change them.""",
    )
    user_file = Unicode(config=True, help="The user's environments file (JSON).")
    hosts = Instance(GPUKernelsHosts, help="The hosts registry environments are checked against.")
    image_policy = Instance(GPUKernelsImagePolicy, help="The image allowlist environments are checked against.")

    _lock = threading.Lock()

    @default("user_file")
    def _user_file_default(self) -> str:
        return str(Path(jupyter_config_dir()) / "gpu_kernels" / "environments.json")

    @default("hosts")
    def _hosts_default(self) -> GPUKernelsHosts:
        return GPUKernelsHosts(parent=self)

    @default("image_policy")
    def _image_policy_default(self) -> GPUKernelsImagePolicy:
        return GPUKernelsImagePolicy(parent=self)

    # ---------------------------------------------------------------- reading
    def _read_user(self) -> dict[str, dict]:
        return read_section(self.user_file, "environments", self.log)

    def _write_user(self, envs: dict[str, dict]) -> None:
        write_section(self.user_file, "environments", envs)

    def all(self) -> list[Environment]:
        found: dict[str, Environment] = {}
        for source, entries in (("user", self._read_user()), ("admin", self.environments)):
            for name, data in entries.items():
                try:
                    found[name] = build_environment(name, dict(data), source)
                except (SpecError, TypeError) as e:
                    self.log.warning("ignoring %senvironment %r: %s", "admin " if source == "admin" else "", name, e)
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
            return self.get(kernel_name[len(KERNEL_PREFIX) :])
        except EnvironmentNotFound:
            return None

    # ---------------------------------------------------------------- validation + writes
    def validate(self, env: Environment) -> Environment:
        """Beyond the field checks done when it was built: the name, host existence, mount
        sources on local hosts and the image allowlist."""
        try:
            check_kernel_name(env.name)
        except SpecError as e:
            raise SpecError(str(e), field="name") from None
        try:
            host = self.hosts.get(env.host)
        except UnknownHostError as e:
            raise UnknownHostError(str(e), field="host") from None
        if host.is_local:
            env.settings.check_local_mounts()
            check_sources(env.settings.mounts)  # not inside the server's config, keys or start-up files
        self.image_policy.check(env.image)  # ImageNotAllowedError names the field itself
        check_settings = getattr(self.image_policy, "check_settings", None)
        if check_settings is not None:  # the admin KernelPolicy: fail early, not at the first start
            check_settings(env.settings, local=host.is_local)
        if env.display_name and len(env.display_name) > 120:
            raise SpecError("display_name is longer than 120 characters", field="display_name")
        return env

    def create(self, name: str, data: dict) -> Environment:
        with self._lock:
            env = self.validate(build_environment(name, data, "user"))
            if any(e.name == name for e in self.all()):
                raise SpecError(f"an environment named {name!r} exists already", field="name")
            user = self._read_user()
            user[name] = env.stored()
            self._write_user(user)
            return env

    def update(self, name: str, data: dict) -> Environment:
        with self._lock:
            current = self.get(name)
            if current.source == "admin":
                raise ReadOnlyEnvironment(f"environment {name!r} is defined by the administrator and cannot be changed")
            merged = {**current.stored(), **{k: v for k, v in data.items() if k not in _NOT_STORED}}
            env = self.validate(build_environment(name, merged, "user"))
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


Environments = GPUKernelsEnvironments  # the old name, still importable


def _reset_after_fork() -> None:
    """A forked child: a new lock (a parent thread may hold it, mid-write of the user's file)."""
    GPUKernelsEnvironments._lock = threading.Lock()


forksafe.register(_reset_after_fork)
