"""Every REST route of the extension: the ``default_handlers`` of each handler module, gathered.

Each handler module (:mod:`.host_handlers`, :mod:`.environment_handlers`, :mod:`.kernel_handlers`,
…) imports :mod:`.base` and exports its routes as ``default_handlers``, as jupyter_server's own
services do; :func:`handlers` puts them together, in :data:`MODULES`'s order (Tornado takes the
first route that matches: ``environments/from-notebook`` comes before ``environments/{name}``),
and :mod:`.extension` adds them. Imports only handler modules; none of them imports this one.
"""

from __future__ import annotations

from types import ModuleType

from jupyter_server.utils import url_path_join

from . import (
    build_handlers,
    copy_handlers,
    derive_handlers,
    environment_handlers,
    host_handlers,
    kernel_handlers,
    notebook_handlers,
    orphans,
    progress_handlers,
    terminal,
    usage_handlers,
)

MODULES: tuple[ModuleType, ...] = (
    host_handlers,
    notebook_handlers,  # environments/from-notebook: before environments/{name}
    environment_handlers,
    kernel_handlers,
    terminal,
    build_handlers,
    copy_handlers,
    derive_handlers,
    orphans,
    usage_handlers,
    progress_handlers,
)


def handlers(base_url: str = "/") -> list[tuple[str, type]]:
    """(pattern, handler) for every route, under ``base_url`` (ExtensionApp puts the server's in front of "/")."""
    return [
        (url_path_join(base_url, pattern), handler)
        for module in MODULES
        for pattern, handler in module.default_handlers
    ]
