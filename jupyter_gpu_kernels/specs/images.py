"""Image references and pull policies: pure parsing (no Docker).

Called by the settings parser (``specs/settings.py``), the CLI, the REST handlers and
``daemon/images.py`` (which re-exports :func:`check_image_ref` and ``PULL_POLICIES`` for them).
The grammar is Docker's reference grammar, matched in full and ASCII only, so a trailing
newline or a non-ASCII look-alike never passes.
"""

from __future__ import annotations

import re

from ..errors import SpecError

__all__ = ["PULL_POLICIES", "check_image_ref"]

PULL_POLICIES = ("missing", "always", "never")

_DOMAIN_COMP = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMP}(?:\.{_DOMAIN_COMP})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_PATH_COMP = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[\w][\w.\-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[\-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}"
_REFERENCE = re.compile(  # fullmatch, ASCII: no trailing newline, no non-ASCII word characters
    rf"(?:{_DOMAIN}/)?{_PATH_COMP}(?:/{_PATH_COMP})*(?::{_TAG})?(?:@{_DIGEST})?", re.ASCII
)
_IMAGE_ID = re.compile(r"(?:sha256:)?[0-9a-f]{64}")


def check_image_ref(ref: object) -> str:
    """Validate an image reference (``repo[:tag][@digest]`` or an image id)."""
    if not isinstance(ref, str) or not ref.strip():
        raise SpecError("no image given: set the image, e.g. 'python:3.12' or 'registry:5000/team/ml:1.2'")
    ref = ref.strip()
    if len(ref) > 512 or not (_REFERENCE.fullmatch(ref) or _IMAGE_ID.fullmatch(ref)):
        raise SpecError(
            f"invalid image reference {ref!r}: expected [registry/]name[:tag][@sha256:digest] in "
            "lower case, e.g. 'python:3.12' or 'ghcr.io/org/image:tag'"
        )
    return ref
