"""The jupyter_server extension: REST API and shared state for the sidebar."""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp

from .handlers import handlers
from .hosts import DockerHosts


class GPUKernelsApp(ExtensionApp):
    """Serves ``gpu-kernels/api/…``; configure hosts with ``c.DockerHosts.hosts``."""

    name = "jupyter_gpu_kernels"
    load_other_extensions = True

    def initialize_settings(self) -> None:
        self.settings["gpu_kernels_hosts"] = DockerHosts(parent=self.serverapp, config=self.serverapp.config)
        self.log.info("jupyter_gpu_kernels: Docker hosts: %s", ", ".join(h.name for h in self.settings["gpu_kernels_hosts"].all()))

    def initialize_handlers(self) -> None:
        self.handlers.extend(handlers(self.serverapp.base_url))
