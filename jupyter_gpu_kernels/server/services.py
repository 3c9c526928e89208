"""``Services``: the server's state in one object, created once by the extension at load.

:class:`Services` holds the package's :class:`~..settings.Settings` (hosts registry, environments
store, admin policy), the idle culler and the trackers of this server's background jobs (pulls,
builds, derives, copies). :class:`.extension.GPUKernelsApp` creates it in ``initialize_settings``
and puts it in the web app's settings under :data:`SERVICES_KEY`; every REST handler reaches it
through :attr:`.base.BaseHandler.services` (the terminal websocket through :func:`services_of`).
Nothing is created lazily and nothing else is looked up by key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..environments import Environments
from ..hosts.registry import DockerHosts
from ..policy import KernelPolicy
from ..settings import Settings
from .builds import BuildTracker
from .copies import CopyTracker
from .culler import GPUKernelsCuller
from .pulls import PullTracker

SERVICES_KEY = "gpu_kernels"


@dataclass
class Services:
    """Everything the REST handlers use, made once per server."""

    settings: Settings
    culler: GPUKernelsCuller | None = None
    pulls: PullTracker = field(default_factory=PullTracker)
    builds: BuildTracker = field(default_factory=BuildTracker)
    derives: BuildTracker = field(default_factory=BuildTracker)  # derived ipykernel images
    copies: CopyTracker = field(default_factory=CopyTracker)

    @property
    def hosts(self) -> DockerHosts:
        return self.settings.hosts

    @property
    def environments(self) -> Environments:
        return self.settings.environments

    @property
    def policy(self) -> KernelPolicy:
        """The admin policy; it holds the image allowlist (``allows``, ``check``)."""
        return self.settings.policy


def services_of(web_settings: Mapping[str, Any]) -> Services:
    """The Services the extension put in a web app's settings."""
    return web_settings[SERVICES_KEY]
