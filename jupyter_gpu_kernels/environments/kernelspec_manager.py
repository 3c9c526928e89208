"""``GPUKernelSpecManager``: the server's kernel spec manager, offering every environment as ``gpu-<name>``.

The package's ``jupyter_server_config.d/jupyter_gpu_kernels.json`` sets
``c.ServerApp.kernel_spec_manager_class`` to this class, the way Jupyter Server
expects a kernel spec manager to be chosen. The specs are read fresh on each call, so
environment changes show up without a restart, and kernelspec files keep working.

When a server was configured with another class (or did not read that file, as the
pytest-jupyter ``jp_serverapp`` fixture), the extension calls
:func:`install_kernelspec_manager`, which logs a warning and puts a
``GPUKernelSpecManager`` that wraps the configured one in its place (the server app,
its kernel manager and the web app's settings). Touches no files.
"""

from __future__ import annotations

from typing import Any

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
from traitlets import Instance, default

from .model import RESOURCE_DIR, Environment
from .store import GPUKernelsEnvironments

CLASS_PATH = "jupyter_gpu_kernels.environments.GPUKernelSpecManager"


class GPUKernelSpecManager(KernelSpecManager):
    """Kernelspec files (or those of ``wrapped``) plus the environments as ``gpu-<name>``."""

    environments = Instance(
        GPUKernelsEnvironments, help="The environments store; the server extension sets the one of its Settings."
    )
    wrapped = Instance(
        KernelSpecManager,
        allow_none=True,
        help="A kernel spec manager of another class that this one adds environments to.",
    )

    @default("environments")
    def _environments_default(self) -> GPUKernelsEnvironments:
        # only when the extension is not enabled: nobody hands over the server's store
        return GPUKernelsEnvironments(parent=self)

    def _gpu_specs(self) -> dict[str, Environment]:
        try:
            return {e.kernel_name: e for e in self.environments.all()}
        except Exception as e:  # never break the kernel picker
            self.log.warning("could not read GPU kernel environments: %s", e)
            return {}

    def find_kernel_specs(self) -> dict[str, str]:
        specs = dict(self.wrapped.find_kernel_specs() if self.wrapped else super().find_kernel_specs())
        specs.update({name: RESOURCE_DIR for name in self._gpu_specs()})
        return specs

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        env = self._gpu_specs().get(kernel_name)
        if env is not None:
            return env.kernel_spec()
        return self.wrapped.get_kernel_spec(kernel_name) if self.wrapped else super().get_kernel_spec(kernel_name)

    def get_all_specs(self) -> dict[str, dict[str, Any]]:
        ours = self._gpu_specs()
        others = self.wrapped.get_all_specs() if self.wrapped else super().get_all_specs()
        specs = {k: v for k, v in others.items() if k not in ours}
        for name, env in ours.items():
            specs[name] = {"resource_dir": RESOURCE_DIR, "spec": env.kernel_spec().to_dict()}
        return specs

    def remove_kernel_spec(self, name: str) -> str:
        if name in self._gpu_specs():
            raise NoSuchKernel(f"{name} is a GPU kernel environment; delete the environment instead")
        return self.wrapped.remove_kernel_spec(name) if self.wrapped else super().remove_kernel_spec(name)


def install_kernelspec_manager(serverapp: Any, environments: GPUKernelsEnvironments) -> GPUKernelSpecManager:
    """Make sure the server's kernel spec manager is a GPUKernelSpecManager using ``environments``."""
    ksm = serverapp.kernel_spec_manager
    if isinstance(ksm, GPUKernelSpecManager):
        ksm.environments = environments
        return ksm
    configured = f"{type(ksm).__module__}.{type(ksm).__qualname__}"
    if type(ksm) is KernelSpecManager:
        serverapp.log.warning(
            "jupyter_gpu_kernels: c.ServerApp.kernel_spec_manager_class is the default KernelSpecManager, so the "
            "package's jupyter_server_config.d file was not read; set it to %s. Using it now.",
            CLASS_PATH,
        )
        new = GPUKernelSpecManager(parent=serverapp, environments=environments)
    else:
        serverapp.log.warning(
            "jupyter_gpu_kernels: c.ServerApp.kernel_spec_manager_class is %s, not %s; wrapping it so that GPU "
            "kernel environments are offered too",
            configured,
            CLASS_PATH,
        )
        new = GPUKernelSpecManager(parent=serverapp, environments=environments, wrapped=ksm)
    serverapp.kernel_spec_manager = new
    kernel_manager = getattr(serverapp, "kernel_manager", None)
    if kernel_manager is not None and getattr(kernel_manager, "kernel_spec_manager", None) is ksm:
        kernel_manager.kernel_spec_manager = new
    web_app = getattr(serverapp, "web_app", None)
    if web_app is not None and web_app.settings.get("kernel_spec_manager") is ksm:
        web_app.settings["kernel_spec_manager"] = new
    return new
