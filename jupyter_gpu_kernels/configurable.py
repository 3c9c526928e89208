"""Config plumbing shared by the package's traitlets classes: section names and the server's config files.

- :class:`PrefixedConfigurable`: base of every config class the package defines
  (``GPUKernelsHosts``, ``GPUKernelsEnvironments``, ``GPUKernelsImagePolicy``; later
  ``KernelPolicy``). Their sections carry the project's name so they cannot collide
  with other packages; a class may name the section it used before
  (``legacy_section``), which is still read, under the new one, with a log line and a
  :class:`DeprecationWarning` naming the new name.
- :func:`server_config`: the Jupyter Server configuration read from its files, as the
  server would read it, for code that runs outside a server (CLI, nbclient).
- :func:`admin_config`: the sections the *administrator* owns (``KernelPolicy`` and the
  image allowlist), read only from the admin config directories (system, environment and
  ``JUPYTER_CONFIG_PATH`` ones: :func:`jupyter_core.paths.jupyter_config_path` minus the
  user's :func:`~jupyter_core.paths.jupyter_config_dir`), plus what a live app's config
  sets for them that does not come from the user's own config files (command-line options,
  programmatic config). Kernel code can write the user's config dir; it cannot write these.

Called by :mod:`.hosts.registry`, :mod:`.environments`, :mod:`.policy` and
:mod:`.settings`. Touches nothing but config files (read only).
"""

from __future__ import annotations

import os
import site
import warnings
from typing import Any, ClassVar

from jupyter_core.application import JupyterApp
from jupyter_core.paths import jupyter_config_dir, jupyter_config_path
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


def _same_dir(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _under(path: str, root: str) -> bool:
    path, root = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([path, root]) == root


def admin_config_dirs() -> list[str]:
    """The config directories only the administrator can write: all but the user's own
    (``jupyter_config_dir()`` and the per-user site's ``~/.local/etc/jupyter``)."""
    user = jupyter_config_dir()
    user_site = os.path.join(site.getuserbase(), "etc", "jupyter")
    return [d for d in jupyter_config_path() if not _same_dir(d, user) and not _under(d, user_site)]


class _DirsLoader(ServerConfigLoader):
    """Loads the server's config files from the given directories only."""

    def __init__(self, dirs: list[str], **kwargs: Any) -> None:
        self._dirs = list(dirs)
        super().__init__(**kwargs)

    @property
    def config_file_paths(self) -> list[str]:
        return list(self._dirs)


def _files_config(dirs: list[str]) -> Config:
    loader = _DirsLoader(dirs)
    try:
        if dirs:
            loader.load_config_file(suppress_errors=True)
    except Exception:  # a broken config file must not disable everything
        pass
    return Config(loader.config)


def admin_config(sections: Any, overlay: Any = None) -> Config:
    """Only ``sections``, from the admin config dirs; values of ``overlay`` (a live app's config)
    for those sections are kept only where they differ from what the user's config dir says
    (so they came from the command line or from code, not from a file kernels could write)."""
    files = _files_config(admin_config_dirs())
    user = _files_config([jupyter_config_dir()]) if overlay else Config()
    out = Config()
    for section in sections:
        if section in files:
            out[section] = Config(files[section])
        if not overlay or section not in overlay:
            continue
        mine = user[section] if section in user else {}
        for key, value in overlay[section].items():
            if key not in mine or mine[key] != value:
                out[section][key] = value
    return out
