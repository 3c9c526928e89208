"""Config plumbing shared by the package's traitlets classes: section names and the server's config files.

- :class:`PrefixedConfigurable`: base of every config class the package defines
  (``GPUKernelsHosts``, ``GPUKernelsEnvironments``, ``GPUKernelsImagePolicy``; later
  ``KernelPolicy``). Their sections carry the project's name so they cannot collide
  with other packages; a class may name the section it used before
  (``legacy_section``), which is still read, under the new one, with a log line and a
  :class:`DeprecationWarning` naming the new name.
- :func:`server_config`: the Jupyter Server configuration read from its files, as the
  server would read it, for code that runs outside a server (CLI, nbclient).

Called by :mod:`.hosts.registry`, :mod:`.environments`, :mod:`.policy` and
:mod:`.settings`. Touches nothing but config files (read only).
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

from jupyter_core.application import JupyterApp
from traitlets.config import Config, LoggingConfigurable


class PrefixedConfigurable(LoggingConfigurable):
    """A config class whose section is its (project-prefixed) name, plus an optional deprecated old name."""

    legacy_section: ClassVar[str] = ""

    @classmethod
    def section_names(cls) -> list[str]:
        names = list(super().section_names())
        legacy = cls.legacy_section
        if legacy and legacy not in names:
            owner = next(k.__name__ for k in cls.__mro__ if "legacy_section" in vars(k))
            names.insert(names.index(owner), legacy)  # read first, so the new name wins
        return names

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.warn_legacy_section()

    def warn_legacy_section(self) -> None:
        legacy = type(self).legacy_section
        if not legacy or legacy not in self.config or not self.config[legacy]:
            return
        keys = ", ".join(sorted(self.config[legacy]))
        message = (
            f"c.{legacy} is deprecated (jupyter-gpu-kernels): rename it to c.{type(self).__name__} "
            f"({keys}); the old name still works for now"
        )
        self.log.warning(message)
        warnings.warn(message, DeprecationWarning, stacklevel=3)


class ServerConfigLoader(JupyterApp):
    """Loads jupyter_server_config.{py,json} and its .d directories, as the server would."""

    name = "jupyter_server"

    def _config_file_name_default(self) -> str:
        return "jupyter_server_config"


def server_config(overlay: Any = None) -> Config:
    """The server's configuration from its files, with ``overlay`` (a live app's config) on top."""
    loader = ServerConfigLoader()
    try:
        loader.load_config_file(suppress_errors=True)
    except Exception:  # a broken config file must not disable everything
        pass
    config = Config(loader.config)
    if overlay:
        config.merge(overlay)
    return config
