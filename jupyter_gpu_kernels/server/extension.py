"""The jupyter_server extension: REST API, environments as kernelspecs, shared state."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp

from ..environments import Environments, install_kernelspec_mixin
from .handlers import handlers
from ..hosts.registry import DockerHosts
from ..policy import ImagePolicy
from .pulls import PullTracker


class GPUKernelsApp(ExtensionApp):
    """Serves ``gpu-kernels/api/…``. Configure with ``c.DockerHosts.hosts``,
    ``c.Environments.environments``, ``c.ImagePolicy.allowed_images``, ``c.GPUDockerProvisioner.*``."""

    name = "jupyter_gpu_kernels"
    load_other_extensions = True

    def initialize_settings(self) -> None:
        config = self.serverapp.config
        hosts = DockerHosts(parent=self.serverapp, config=config)
        envs = Environments(parent=self.serverapp, config=config)
        self.settings.update(
            gpu_kernels_hosts=hosts,
            gpu_kernels_environments=envs,
            gpu_kernels_policy=ImagePolicy(parent=self.serverapp, config=config),
            gpu_kernels_pulls=PullTracker(),
        )
        # Every environment appears as a kernelspec (launcher, kernel picker, /api/kernelspecs).
        install_kernelspec_mixin(self.serverapp.kernel_spec_manager)
        self.log.info(
            "jupyter_gpu_kernels: hosts %s; %d environment(s)",
            ", ".join(h.name for h in hosts.all()), len(envs.all()),
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers("/"))  # ExtensionApp prefixes base_url
