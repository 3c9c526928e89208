"""Container user strings (``docker run --user``, an image's ``Config.User``): which mean root.

The one definition, used by the launch planning (an image's USER: kernel/planning.py) and the
admin policy's root rule (policy.py). Pure: no Docker, no I/O.
"""

from __future__ import annotations


def is_root_user(user: str | None) -> bool:
    """Whether ``user`` runs as root: ``0``, ``root``, ``0:0``, ``root:root``, ``0:100``… and also
    empty or unset, since a container whose image sets no USER runs as root (the safe reading)."""
    name = (user or "").split(":", 1)[0].strip()
    return name in ("", "0", "root")
