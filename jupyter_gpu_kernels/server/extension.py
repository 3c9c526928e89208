"""The jupyter_server extension: creates the package's Settings once, offers environments as kernelspecs, adds the REST API.

Enabled by ``etc/jupyter/jupyter_server_config.d/jupyter_gpu_kernels.json``, which also
sets ``c.ServerApp.kernel_spec_manager_class`` to ``GPUKernelSpecManager``. At start it
creates the one :class:`~..settings.Settings` (hosts registry, environments store,
image policy) from the server's configuration, attaches it to the ServerApp (so the
provisioner finds it with ``Settings.for_parent``), puts it in the web app's settings
(``gpu_kernels_settings``, which ``Settings.for_parent`` also reads) and, for the handlers,
one :class:`.services.Services` around it (with the culler and the job trackers) under
``gpu_kernels``; adds the REST routes :mod:`.routes` gathers; and makes sure the kernel spec manager is a
``GPUKernelSpecManager`` (wrapping another configured class, with a warning).

In gateway mode (``--gateway-url``: kernels run on a gateway where this package's
provisioner runs, see :mod:`.gateway`) it does none of that: the kernel spec manager is
jupyter_server's ``GatewayKernelSpecManager`` and the REST API says the gateway manages
GPU kernels.
"""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import IOLoop

from ..daemon.leases import set_owner_id
from ..environments import install_kernelspec_manager
from ..settings import WEB_SETTINGS_KEY, Settings
from .adoption import OwnerLoss, server_owner_id
from .culler import GPUKernelsCuller
from .gateway import gateway_handlers, gateway_url, use_gateway_kernelspec_manager
from .routes import handlers
from .services import SERVICES_KEY, Services
from .shutdowns import wait_for_restarts_before_shutdown


class GPUKernelsApp(ExtensionApp):
    """Serves ``gpu-kernels/api/…``. Configure with ``c.GPUKernelsHosts.hosts``,
    ``c.GPUKernelsEnvironments.environments``, ``c.GPUKernelsImagePolicy.allowed_images``,
    ``c.GPUDockerProvisioner.*``."""

    name = "jupyter_gpu_kernels"
    load_other_extensions = True

    def initialize_settings(self) -> None:
        if gateway_url(self.serverapp):  # kernels and kernelspecs are the gateway's
            ksm = use_gateway_kernelspec_manager(self.serverapp)
            if "kernel_spec_manager" in self.settings:
                self.settings["kernel_spec_manager"] = ksm
            return
        settings = Settings(self.serverapp.config, parent=self.serverapp).attach(self.serverapp)
        # owner lease id before any kernel starts; adoption and the reaper once the loop runs
        set_owner_id(server_owner_id(self.serverapp.runtime_dir, self.serverapp.root_dir, self.serverapp.port))
        self._owner_loss = OwnerLoss(self.serverapp, settings, self.log)
        IOLoop.current().add_callback(self._owner_loss.start)
        wait_for_restarts_before_shutdown(self.serverapp.kernel_manager, self.log)  # no 500 mid-restart
        self._culler = GPUKernelsCuller(self.serverapp.kernel_manager, parent=self.serverapp)
        IOLoop.current().add_callback(self._culler.start)
        self.settings.update(
            {
                WEB_SETTINGS_KEY: settings,  # what Settings.for_parent finds through a web app
                SERVICES_KEY: Services(settings, culler=self._culler),  # what the handlers use (BaseHandler.services)
            }
        )
        # Every environment appears as a kernelspec (launcher, kernel picker, /api/kernelspecs).
        ksm = install_kernelspec_manager(self.serverapp, settings.environments)
        if "kernel_spec_manager" in self.settings:  # a copy of the web app's settings, written back after this
            self.settings["kernel_spec_manager"] = ksm
        self.log.info(
            "jupyter_gpu_kernels: hosts %s; %d environment(s)",
            ", ".join(h.name for h in settings.hosts.all()),
            len(settings.environments.all()),
        )

    async def stop_extension(self) -> None:
        if getattr(self, "_owner_loss", None) is not None:
            self._owner_loss.stop()
        if getattr(self, "_culler", None) is not None:
            self._culler.stop()

    def initialize_handlers(self) -> None:
        if gateway_url(self.serverapp):
            self.handlers.extend(gateway_handlers("/"))
            return
        self.handlers.extend(handlers("/"))  # ExtensionApp prefixes base_url
