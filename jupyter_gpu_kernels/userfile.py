"""The user's JSON files (hosts, environments): tolerant reads, atomic writes."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path


def read_section(path: str | os.PathLike, key: str, log: logging.Logger | logging.LoggerAdapter) -> dict[str, dict]:
    """``{key: {...}}`` from ``path``; a missing file is empty, an unreadable one is logged and ignored."""
    try:
        data = json.loads(Path(path).read_text() or "{}")
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        log.warning("ignoring unreadable file %s: %s", path, e)
        return {}
    section = data.get(key, {}) if isinstance(data, dict) else {}
    return section if isinstance(section, dict) else {}


def write_section(path: str | os.PathLike, key: str, items: dict[str, dict]) -> None:
    """Replace ``path`` with ``{key: items}`` atomically (readers never see half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key}-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump({key: items}, f, indent=2, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
