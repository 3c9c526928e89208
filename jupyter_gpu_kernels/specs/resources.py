"""Resource limits, mounts and environment settings: parsing and validation.

Everything here is pure: it turns user text into validated values and raises
:class:`SpecError` with a message naming the bad input before any container exists.
"""

from __future__ import annotations

import fnmatch
import math
import os
import re
from dataclasses import dataclass

from ..errors import SpecError

# Every pattern here is used with ``fullmatch`` (``$`` would accept a trailing newline) and
# spells digits as [0-9] (``\d`` and ``float()`` accept non-ASCII digits such as '١').
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([bkmgt]?)i?b?\s*", re.IGNORECASE)
_NUMBER = re.compile(r"\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.\-]*")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
VOLUME_PREFIX = "volume:"  # a named Docker volume is spelled volume:NAME:/dst[:ro]
MOUNT_FORMS = "SRC:DST[:ro|rw] (SRC an absolute host path) or volume:NAME:DST[:ro|rw]"


def parse_size(value: object, what: str = "size") -> int | None:
    """``"8g"`` → bytes. Empty/None/0 means "no limit" (``None``)."""
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, bool):
        raise SpecError(f"invalid {what} {value!r}: use a number with a unit, e.g. 512m, 8g")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise SpecError(f"invalid {what} {value!r}: must be a finite number, not negative")
        return int(value)
    m = _SIZE.fullmatch(str(value))
    if not m:
        raise SpecError(f"invalid {what} {value!r}: use a number with a unit, e.g. 512m, 8g, 1.5g")
    number, unit = float(m.group(1)), m.group(2).lower()
    size = int(number * _UNITS[unit])
    if size < 4 * 1024**2:
        raise SpecError(f"invalid {what} {value!r}: at least 4m is needed")
    return size


def parse_cpus(value: object) -> float | None:
    """CPU limit as in ``docker run --cpus``; 0/empty means unlimited."""
    if value is None or value == "" or value == 0:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, str))
        or (isinstance(value, str) and not _NUMBER.fullmatch(value))
    ):
        # a string must be ASCII decimal: float() would also take 'nan', 'inf', '1_0' and '١'
        raise SpecError(f"invalid cpus {value!r}: use a number such as 2 or 0.5")
    cpus = float(value)
    if not math.isfinite(cpus) or cpus < 0.01 or cpus > 4096:
        raise SpecError(f"invalid cpus {value!r}: must be a finite number between 0.01 and 4096")
    return cpus


@dataclass(frozen=True)
class Mount:
    """A bind mount (absolute host path) or a named volume (``source`` without a leading ``/``),
    mounted at ``target``; written ``volume:NAME:/dst`` so that a relative path is never taken for one."""

    source: str
    target: str
    read_only: bool = False

    @property
    def is_volume(self) -> bool:
        return not self.source.startswith("/")

    def __str__(self) -> str:
        source = VOLUME_PREFIX + self.source if self.is_volume else self.source
        return f"{source}:{self.target}" + (":ro" if self.read_only else "")

    def to_docker(self) -> str:
        return f"{self.source}:{self.target}:{'ro' if self.read_only else 'rw'}"


def _mount_parts(spec: str) -> tuple[bool, str, str, str]:
    """(is_volume, source, target, mode) of ``[volume:]SRC:DST[:ro|rw]``."""
    volume = spec.startswith(VOLUME_PREFIX)
    parts = spec[len(VOLUME_PREFIX) :].split(":") if volume else spec.split(":")
    if len(parts) not in (2, 3):
        raise SpecError(f"invalid mount {spec!r}: expected {MOUNT_FORMS}, e.g. /data:/data:ro")
    mode = parts[2].lower() if len(parts) == 3 else "rw"
    if mode not in ("ro", "rw"):
        raise SpecError(f"invalid mount {spec!r}: the mode must be 'ro' or 'rw', not {parts[2]!r}")
    return volume, parts[0], parts[1], mode


def parse_mount(spec: object, *, check_exists: bool = True) -> Mount:
    """``/SRC:DST[:ro|rw]`` (an absolute host path) or ``volume:NAME:DST[:ro|rw]`` (a named volume).

    A bare relative source (``data:/x``) is refused: Docker would silently create a named volume
    that outlives the kernel."""
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError(f"invalid mount {spec!r}: expected {MOUNT_FORMS}, e.g. /data:/data:ro")
    if any(ord(c) < 32 or c == "\x7f" for c in spec):
        raise SpecError(f"invalid mount {spec!r}: control characters (newline, NUL, …) are not allowed")
    volume, source, target, mode = _mount_parts(spec.strip())
    if not target.startswith("/"):
        raise SpecError(f"invalid mount {spec!r}: the container path {target!r} must be absolute")
    if os.path.normpath(target) == "/":
        raise SpecError(f"invalid mount {spec!r}: cannot mount over the container's root")
    if volume:
        if not _VOLUME_NAME.fullmatch(source):
            raise SpecError(
                f"invalid mount {spec!r}: {source!r} is not a volume name (letters, digits, "
                "'_', '.', '-', starting with a letter or digit)"
            )
    elif source.startswith("/"):
        source = os.path.normpath(source)
        if check_exists and not os.path.exists(source):
            raise SpecError(f"invalid mount {spec!r}: the host path {source!r} does not exist")
    else:
        raise SpecError(
            f"invalid mount {spec!r}: {source!r} is neither an absolute host path nor a named "
            f"volume: the host path must be absolute (a volume is written volume:NAME:/dst)"
        )
    return Mount(source, os.path.normpath(target), mode == "ro")


def parse_env_pair(pair: str) -> tuple[str, str]:
    """``KEY=VALUE`` → (key, value)."""
    if "=" not in pair:
        raise SpecError(f"invalid environment variable {pair!r}: expected KEY=VALUE")
    key, value = pair.split("=", 1)
    check_user_env_name(key)
    return key, check_env_value(key, value)


def check_env_name(key: object) -> str:
    """A variable name as POSIX shells know it: ``[A-Za-z_][A-Za-z0-9_]*`` (so no '=', no newline)."""
    if not isinstance(key, str) or not ENV_NAME.fullmatch(key):
        raise SpecError(
            f"invalid environment variable name {key!r}: use letters, digits and _, not starting with a digit"
        )
    return key


# Variables that choose devices for the NVIDIA runtime or CUDA: the GPUs a kernel sees are the ones
# the allocator gave it (the ``gpus`` setting), never a variable a user sets (issue #19, 3).
RESERVED_ENV = frozenset(
    {
        "NVIDIA_VISIBLE_DEVICES",
        "CUDA_VISIBLE_DEVICES",
        "NVIDIA_MIG_CONFIG_DEVICES",
        "NVIDIA_MIG_MONITOR_DEVICES",
        "NVIDIA_IMEX_CHANNELS",
    }
)


def check_user_env_name(key: object) -> str:
    """:func:`check_env_name`, and not one of :data:`RESERVED_ENV` (for variables a user or kernelspec sets)."""
    name = check_env_name(key)
    if name in RESERVED_ENV:
        raise SpecError(
            f"environment variable {name} is reserved: the GPUs a kernel sees are chosen by its "
            "gpus setting (e.g. gpus: 1 or device=0), not by a variable"
        )
    return name


def check_env_value(key: str, value: str) -> str:
    """Any text but NUL (which would cut the value short in the kernel's environment)."""
    if "\0" in value:
        raise SpecError(f"invalid value for environment variable {key!r}: it contains a NUL character")
    return value


def allowed(name: str, patterns: list[str] | tuple[str, ...]) -> bool:
    """Whether ``name`` matches one of the allowlist patterns (shell-style globs)."""
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)
