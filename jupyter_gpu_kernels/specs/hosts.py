"""Host names: pure parsing (no I/O).

A host's *name* (``local``, ``gpu-box``) is what users type in ``--host`` and environments
carry; called by the settings parser (``specs/settings.py``), the hosts registry
(``hosts/registry.py``, which re-exports it) and the CLI. Host URLs are parsed by the registry.
"""

from __future__ import annotations

import re

from ..errors import SpecError

__all__ = ["LOCAL", "check_host_name"]

LOCAL = "local"
_NAME = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,62}")  # fullmatch: "$" would accept a trailing newline


def check_host_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SpecError(
            f"invalid host name {name!r}: use 1-63 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name
