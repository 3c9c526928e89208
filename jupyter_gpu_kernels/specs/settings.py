"""``KernelSettings``: one kernel's typed, validated settings, and their one serialization.

What a user chooses for a kernel (image, host, GPUs, limits, mounts, variables) is
parsed in exactly one place, :meth:`KernelSettings.from_config`, which validates every
value and raises :class:`SpecError` naming the field. :meth:`KernelSettings.to_config`
is the one canonical JSON-able form, the one a kernelspec carries in
``metadata.kernel_provisioner.config``; ``from_config(s.to_config()) == s``.

Callers: the environments store (when an environment is created or loaded), the
kernelspec writer (``kernel.kernelspecs``), and the provisioner (once per launch, on the
values jupyter_client handed it). Pure: no Docker daemon, no files, except the
optional existence check of bind-mount sources (:meth:`KernelSettings.check_local_mounts`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError
from .gpus import GPURequest, parse_gpus
from .hosts import LOCAL, check_host_name
from .images import PULL_POLICIES, check_image_ref
from .resources import Mount, check_env_value, check_user_env_name, parse_cpus, parse_mount, parse_size

MIN_SIZE = 4 * 1024**2
_UNITS = (("t", 1024**4), ("g", 1024**3), ("m", 1024**2), ("k", 1024))


def format_size(size: int) -> str:
    """Bytes → the shortest exact spelling ``parse_size`` reads back: 8 GiB → '8g', 1.5 GiB → '1536m'."""
    for unit, factor in _UNITS:
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}b"


def _checked(name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except SpecError as e:
        raise SpecError(str(e), field=name) from None


def _size(name: str, value: object, what: str) -> int | None:
    size = _checked(name, parse_size, value, what)
    if size is not None and size < MIN_SIZE:
        raise SpecError(f"invalid {what} {value!r}: at least 4m is needed", field=name)
    return size


def _string(name: str, value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SpecError(f"invalid {name} {value!r}: must be a string", field=name)
    return value.strip()


MAX_ORPHAN_TIMEOUT = 30 * 24 * 3600.0
_SECONDS = re.compile(r"\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")


def parse_orphan_timeout(value: object) -> float | None:
    """Seconds a kernel outlives its owner (None: the provisioner's default); ASCII decimal, finite,
    0 to 30 days."""
    if value is None or value == "":
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, str))
        or (isinstance(value, str) and not _SECONDS.fullmatch(value))
    ):
        raise SpecError(f"invalid orphan_timeout {value!r}: use a number of seconds such as 60", field="orphan_timeout")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0 or seconds > MAX_ORPHAN_TIMEOUT:
        raise SpecError(
            f"invalid orphan_timeout {value!r}: must be between 0 and {MAX_ORPHAN_TIMEOUT:g} seconds",
            field="orphan_timeout",
        )
    return seconds


def parse_entrypoint(value: object) -> tuple[str, ...] | None:
    """None (keep the image's ENTRYPOINT), [] (clear it) or a list of strings (replace it)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and all(isinstance(a, str) for a in value):
        return tuple(value)
    raise SpecError(
        f"invalid entrypoint {value!r}: expected a list of strings, [] to clear the "
        "image's ENTRYPOINT, or unset to keep it",
        field="entrypoint",
    )


def _mounts(value: object, check_exists: bool) -> tuple[Mount, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise SpecError(f"invalid mounts {value!r}: must be a list of 'SRC:DST[:ro]'", field="mounts")
    return tuple(
        _checked("mounts", parse_mount, str(m) if isinstance(m, Mount) else m, check_exists=check_exists) for m in value
    )


def _env(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(f"invalid env {value!r}: must be a mapping of NAME to value", field="env")
    out = {}
    for key, val in value.items():
        _checked("env", check_user_env_name, key)
        if isinstance(val, (dict, list, tuple, set)) or val is None:
            raise SpecError(f"invalid env value for {key!r}: {val!r} is not a string", field="env")
        out[key] = _checked("env", check_env_value, key, str(val))
    return out


@dataclass(frozen=True)
class KernelSettings:
    """A kernel's settings as typed values. ``None``/empty means "the provisioner's default"."""

    image: str
    host: str = LOCAL
    gpus: GPURequest = GPURequest("none")
    gpu_sharing: bool = False
    memory: int | None = None  # bytes
    cpus: float | None = None
    shm_size: int | None = None  # bytes
    mounts: tuple[Mount, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    pull_policy: str = ""  # "" | missing | always | never
    environment: str = ""  # the environment the kernel was started from (a label)
    orphan_timeout: float | None = None  # seconds the kernel outlives its owner (None: the default)
    entrypoint: tuple[str, ...] | None = None  # None: the image's ENTRYPOINT; (): cleared; else replaced

    KEYS = (
        "image",
        "host",
        "gpus",
        "gpu_sharing",
        "memory",
        "cpus",
        "shm_size",
        "mounts",
        "env",
        "pull_policy",
        "environment",
        "orphan_timeout",
        "entrypoint",
    )

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, check_mounts: bool = False) -> KernelSettings:
        """Parse and validate ``config`` (the kernelspec's provisioner config, or an environment's fields).

        Unknown keys are an error. ``check_mounts``: bind-mount sources must exist here (local hosts).
        """
        unknown = set(config) - set(cls.KEYS)
        if unknown:
            raise SpecError(
                f"unknown setting(s) {sorted(unknown)}; known: {', '.join(cls.KEYS)}", field=sorted(unknown)[0]
            )
        get = config.get
        sharing = get("gpu_sharing", False)
        if not isinstance(sharing, bool):
            raise SpecError(f"invalid gpu_sharing {sharing!r}: must be true or false", field="gpu_sharing")
        policy = _string("pull_policy", get("pull_policy")).lower()
        if policy and policy not in PULL_POLICIES:
            raise SpecError(
                f"invalid pull policy {policy!r}: expected one of {', '.join(PULL_POLICIES)}", field="pull_policy"
            )
        cpus = get("cpus")
        if isinstance(cpus, bool):
            raise SpecError(f"invalid cpus {cpus!r}: use a number such as 2 or 0.5", field="cpus")
        return cls(
            image=_checked("image", check_image_ref, get("image")),
            host=_checked("host", check_host_name, _string("host", get("host")) or LOCAL),
            gpus=_checked("gpus", parse_gpus, get("gpus")),
            gpu_sharing=sharing,
            memory=_size("memory", get("memory"), "memory limit"),
            cpus=_checked("cpus", parse_cpus, cpus),
            shm_size=_size("shm_size", get("shm_size"), "shm size"),
            mounts=_mounts(get("mounts"), check_mounts),
            env=_env(get("env")),
            pull_policy=policy,
            environment=_string("environment", get("environment")),
            orphan_timeout=parse_orphan_timeout(get("orphan_timeout")),
            entrypoint=parse_entrypoint(get("entrypoint")),
        )

    def to_config(self) -> dict[str, Any]:
        """The canonical JSON form: image, host and gpus always; the rest only when set."""
        cfg: dict[str, Any] = {"image": self.image, "host": self.host, "gpus": str(self.gpus)}
        if self.memory:
            cfg["memory"] = format_size(self.memory)
        if self.cpus:
            cfg["cpus"] = float(self.cpus)
        if self.shm_size:
            cfg["shm_size"] = format_size(self.shm_size)
        if self.mounts:
            cfg["mounts"] = [str(m) for m in self.mounts]
        if self.env:
            cfg["env"] = dict(self.env)
        if self.pull_policy:
            cfg["pull_policy"] = self.pull_policy
        if self.gpu_sharing:
            cfg["gpu_sharing"] = True
        if self.environment:
            cfg["environment"] = self.environment
        if self.orphan_timeout is not None:
            cfg["orphan_timeout"] = self.orphan_timeout
        if self.entrypoint is not None:
            cfg["entrypoint"] = list(self.entrypoint)
        return cfg

    def check_local_mounts(self) -> KernelSettings:
        """For hosts that share this machine's filesystem: every bind-mount source must exist."""
        for m in self.mounts:
            _checked("mounts", parse_mount, str(m), check_exists=True)
        return self

    def __post_init__(self) -> None:
        if self.cpus is not None and not math.isfinite(self.cpus):
            raise SpecError(f"invalid cpus {self.cpus!r}", field="cpus")
