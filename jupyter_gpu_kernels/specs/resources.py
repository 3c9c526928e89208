"""Resource limits, mounts and environment settings: parsing and validation.

Everything here is pure: it turns user text into validated values and raises
:class:`SpecError` with a message naming the bad input before any container exists.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass

from ..errors import SpecError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_size(value: object, what: str = "size") -> int | None:
    """``"8g"`` → bytes. Empty/None/0 means "no limit" (``None``)."""
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, bool):
        raise SpecError(f"invalid {what} {value!r}: use a number with a unit, e.g. 512m, 8g")
    if isinstance(value, (int, float)):
        if value < 0:
            raise SpecError(f"invalid {what} {value!r}: must not be negative")
        return int(value)
    m = _SIZE.match(str(value))
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
    try:
        cpus = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SpecError(f"invalid cpus {value!r}: use a number such as 2 or 0.5") from None
    if cpus < 0.01 or cpus > 4096:
        raise SpecError(f"invalid cpus {value!r}: must be between 0.01 and 4096")
    return cpus


@dataclass(frozen=True)
class Mount:
    """A bind mount (absolute host path) or a named volume, mounted at ``target``."""

    source: str
    target: str
    read_only: bool = False

    @property
    def is_volume(self) -> bool:
        return not self.source.startswith("/")

    def __str__(self) -> str:
        return f"{self.source}:{self.target}" + (":ro" if self.read_only else "")

    def to_docker(self) -> str:
        return f"{self.source}:{self.target}:{'ro' if self.read_only else 'rw'}"


def parse_mount(spec: object, *, check_exists: bool = True) -> Mount:
    """``SRC:DST[:ro|rw]``; SRC is an absolute host path or a volume name, DST absolute."""
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError(f"invalid mount {spec!r}: expected SRC:DST[:ro], e.g. /data:/data:ro")
    parts = spec.strip().split(":")
    mode = "rw"
    if len(parts) == 3:
        mode = parts[2].lower()
        if mode not in ("ro", "rw"):
            raise SpecError(f"invalid mount {spec!r}: the mode must be 'ro' or 'rw', not {parts[2]!r}")
    elif len(parts) != 2:
        raise SpecError(f"invalid mount {spec!r}: expected SRC:DST[:ro], e.g. /data:/data:ro")
    source, target = parts[0], parts[1]
    if not target.startswith("/"):
        raise SpecError(f"invalid mount {spec!r}: the container path {target!r} must be absolute")
    if os.path.normpath(target) == "/":
        raise SpecError(f"invalid mount {spec!r}: cannot mount over the container's root")
    if source.startswith("/"):
        source = os.path.normpath(source)
        if check_exists and not os.path.exists(source):
            raise SpecError(f"invalid mount {spec!r}: the host path {source!r} does not exist")
    elif source.startswith(("~", ".")):
        raise SpecError(f"invalid mount {spec!r}: the host path must be absolute, not {source!r}")
    elif not _VOLUME_NAME.match(source):
        raise SpecError(
            f"invalid mount {spec!r}: {source!r} is neither an absolute host path nor a volume name"
        )
    return Mount(source, os.path.normpath(target), mode == "ro")


def parse_env_pair(pair: str) -> tuple[str, str]:
    """``KEY=VALUE`` → (key, value)."""
    if "=" not in pair:
        raise SpecError(f"invalid environment variable {pair!r}: expected KEY=VALUE")
    key, value = pair.split("=", 1)
    check_env_name(key)
    return key, value


def check_env_name(key: str) -> str:
    if not _ENV_NAME.match(key):
        raise SpecError(
            f"invalid environment variable name {key!r}: use letters, digits and _, not starting with a digit"
        )
    return key


def allowed(name: str, patterns: list[str] | tuple[str, ...]) -> bool:
    """Whether ``name`` matches one of the allowlist patterns (shell-style globs)."""
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)
