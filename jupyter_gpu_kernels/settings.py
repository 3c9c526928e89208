"""``Settings``: the package's configured objects, created once and passed down.

One ``Settings`` holds the server configuration it was made from (``config``), the
hosts registry (``hosts``), the environments store (``environments``) and the admin
``KernelPolicy`` (``policy``, also ``image_policy``: it holds the image allowlist). The policy
is read only from the admin config directories and from the live config's values that do not
come from the user's config dir (:func:`.policy.kernel_policy`).

Who creates it:

- in a Jupyter server, the server extension (``server.extension.GPUKernelsApp``), once,
  from the server's live configuration; it :meth:`attach`\\ es it to the ServerApp and
  puts it in the web app's settings (``gpu_kernels_settings``);
- anywhere else (nbclient, papermill, the CLI), :meth:`Settings.for_process` makes one
  from the Jupyter Server config files, cached per process (a new one only when those
  files or the config directories change); ``Settings.reset()`` drops it (tests).

Who reads it: the REST handlers (``self.settings["gpu_kernels_settings"]``), the
kernelspec manager and the provisioner through :meth:`Settings.for_parent`, which walks
``obj.parent`` (provisioner → KernelManager → MultiKernelManager → ServerApp) to the
attached one, and the CLI through :meth:`Settings.for_process`. Nothing here talks to
Docker; it reads config files only.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

from jupyter_core.paths import jupyter_config_dir, jupyter_config_path
from traitlets.config import Config

from . import forksafe
from .configurable import server_config
from .environments.store import GPUKernelsEnvironments
from .hosts.registry import GPUKernelsHosts
from .policy import POLICY_SECTIONS, GPUKernelsImagePolicy, kernel_policy

WEB_SETTINGS_KEY = "gpu_kernels_settings"
SECTIONS = frozenset(
    name
    for cls in (GPUKernelsHosts, GPUKernelsEnvironments, GPUKernelsImagePolicy)
    for name in (cls.__name__, cls.legacy_section)
) | frozenset(POLICY_SECTIONS)
_MAX_PARENTS = 16


def config_fingerprint() -> tuple:
    """What a per-process Settings depends on: config directories, their server config files' mtimes, $DOCKER_HOST."""
    stamps: list[tuple[str, float | None]] = []
    for directory in jupyter_config_path():
        for name in ("jupyter_server_config.json", "jupyter_server_config.py", "jupyter_server_config.d"):
            path = os.path.join(directory, name)
            try:
                stamps.append((path, os.stat(path).st_mtime_ns))
            except OSError:
                stamps.append((path, None))
            if name.endswith(".d") and stamps[-1][1] is not None:
                for entry in sorted(os.listdir(path)):
                    try:
                        stamps.append((entry, os.stat(os.path.join(path, entry)).st_mtime_ns))
                    except OSError:
                        pass
    return (jupyter_config_dir(), os.environ.get("DOCKER_HOST"), tuple(stamps))


class Settings:
    """The hosts registry, environments store and image policy of one server (or process)."""

    _attached: weakref.WeakKeyDictionary[Any, Settings] = weakref.WeakKeyDictionary()
    _process: tuple[tuple, Settings] | None = None
    _lock = threading.Lock()

    def __init__(self, config: Config | None = None, *, parent: Any = None) -> None:
        self.config = Config(config) if config is not None else server_config()
        kwargs: dict[str, Any] = {"config": self.config}
        if parent is not None:
            kwargs["parent"] = parent
        self.hosts = GPUKernelsHosts(**kwargs)
        root_dir = getattr(parent, "root_dir", "") if parent is not None else ""
        self.policy = kernel_policy(
            self.config, root_dir=os.path.abspath(os.path.expanduser(root_dir)) if root_dir else ""
        )
        self.image_policy = self.policy
        self.environments = GPUKernelsEnvironments(hosts=self.hosts, image_policy=self.image_policy, **kwargs)

    def attach(self, owner: Any) -> Settings:
        """Make this the Settings that :meth:`for_parent` finds for ``owner`` and everything below it."""
        self._attached[owner] = self
        return self

    @classmethod
    def attached_to(cls, obj: Any) -> Settings | None:
        try:
            found = cls._attached.get(obj)
        except TypeError:  # not hashable or not weak-referenceable
            found = None
        if found is None:
            web_app = getattr(obj, "web_app", None)
            found = getattr(web_app, "settings", {}).get(WEB_SETTINGS_KEY) if web_app is not None else None
        return found if isinstance(found, Settings) else None

    @classmethod
    def for_parent(cls, obj: Any) -> Settings:
        """The Settings attached to ``obj`` or its nearest ``.parent``; else this process's one.

        Outside a server, when the top of the chain (e.g. a KernelManager made with
        ``config=``) has config for our sections, that config goes on top of the files,
        in a Settings attached to that object.
        """
        node, root = obj, None
        for _ in range(_MAX_PARENTS):
            if node is None:
                break
            found = cls.attached_to(node)
            if found is not None:
                return found
            root, node = node, getattr(node, "parent", None)
        overlay = getattr(root, "config", None)
        if isinstance(overlay, Config) and SECTIONS & set(overlay):
            with cls._lock:
                found = cls.attached_to(root)
                if found is None:
                    found = cls(server_config(overlay)).attach(root)
            return found
        return cls.for_process()

    @classmethod
    def for_process(cls) -> Settings:
        """The Settings made from the Jupyter Server config files (cached while they do not change)."""
        key = config_fingerprint()
        with cls._lock:
            if cls._process is None or cls._process[0] != key:
                cls._process = (key, cls())
            return cls._process[1]

    @classmethod
    def reset(cls) -> None:
        """Forget the per-process and attached Settings (for tests)."""
        with cls._lock:
            cls._process = None
            cls._attached = weakref.WeakKeyDictionary()


def _reset_after_fork() -> None:
    """A forked child: a new lock (a parent thread may hold it)."""
    Settings._lock = threading.Lock()


forksafe.register(_reset_after_fork)
