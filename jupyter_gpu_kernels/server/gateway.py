"""Gateway mode: a user's Jupyter server whose kernels run on a gateway (``--gateway-url``).

Called by :mod:`.extension` (``GPUKernelsApp``) at start. When jupyter_server's
``GatewayClient`` is enabled (``c.GatewayClient.url`` / ``--gateway-url`` /
``$JUPYTER_GATEWAY_URL``), kernels and kernelspecs come from the gateway, where this
package's provisioner, environments and policy run under the administrator's config.
This server may have no Docker access at all, so here:

- :func:`use_gateway_kernelspec_manager` puts jupyter_server's own
  ``GatewayKernelSpecManager`` back in place of the ``GPUKernelSpecManager`` that the
  package's ``jupyter_server_config.d`` file configured (that setting outranks the
  server's automatic choice of the gateway manager), so ``/api/kernelspecs`` lists the
  gateway's ``gpu-*`` environments and kernels start under names the gateway knows;
- :class:`GatewayModeHandler` answers every ``gpu-kernels/api/…`` route with 409 and a
  message saying the GPU kernels are managed by the gateway (hosts, GPUs, images and
  environments live there; nothing here could answer truthfully).

Touches only the ServerApp's kernel spec manager references and the web app settings.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.gateway.managers import GatewayKernelSpecManager
from jupyter_server.utils import url_path_join
from tornado import web

from .base import AUTH_RESOURCE

API_PREFIX = "gpu-kernels/api"


def gateway_url(serverapp: Any) -> str | None:
    """The gateway's URL when this server sends its kernels to a gateway, else None."""
    config = getattr(serverapp, "gateway_config", None)
    if config is None or not config.gateway_enabled:
        return None
    return str(config.url)


def gateway_message(url: str) -> str:
    return (
        f"GPU kernels on this server run on the kernel gateway at {url}: its environments are the gpu-* "
        "kernels in the Launcher. Hosts, GPUs, images and environments are managed by the gateway's "
        "administrator, not through this server."
    )


def use_gateway_kernelspec_manager(serverapp: Any) -> GatewayKernelSpecManager:
    """Make the server's kernel spec manager a GatewayKernelSpecManager (kernel manager and web app too)."""
    old = serverapp.kernel_spec_manager
    if isinstance(old, GatewayKernelSpecManager):
        return old
    new = GatewayKernelSpecManager(parent=serverapp)
    serverapp.kernel_spec_manager = new
    kernel_manager = getattr(serverapp, "kernel_manager", None)
    if kernel_manager is not None and getattr(kernel_manager, "kernel_spec_manager", None) is old:
        kernel_manager.kernel_spec_manager = new
    web_app = getattr(serverapp, "web_app", None)
    if web_app is not None and web_app.settings.get("kernel_spec_manager") is old:
        web_app.settings["kernel_spec_manager"] = new
    serverapp.log.info(
        "jupyter_gpu_kernels: kernels run on the gateway at %s; using its kernelspecs (%s instead of %s)",
        gateway_url(serverapp),
        type(new).__name__,
        type(old).__name__,
    )
    return new


class GatewayModeHandler(APIHandler):
    """Every ``gpu-kernels/api/…`` request on a server in gateway mode: 409, managed by the gateway.

    Authenticated and authorized (read for GET, write otherwise) like the handlers it stands for."""

    auth_resource = AUTH_RESOURCE

    def _refuse(self) -> None:
        url = gateway_url(self.serverapp) or "(unknown)"
        self.set_status(409)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": gateway_message(url), "gateway_url": url, "reason": "gateway"}))

    @web.authenticated
    @authorized
    def get(self, path: str = "") -> None:
        self._refuse()

    @web.authenticated
    @authorized
    def post(self, path: str = "") -> None:
        self._refuse()

    @web.authenticated
    @authorized
    def put(self, path: str = "") -> None:
        self._refuse()

    @web.authenticated
    @authorized
    def patch(self, path: str = "") -> None:
        self._refuse()

    @web.authenticated
    @authorized
    def delete(self, path: str = "") -> None:
        self._refuse()


def gateway_handlers(base_url: str) -> list[tuple[str, type]]:
    """The routes of gateway mode (under ``base_url``)."""
    return [(url_path_join(base_url, API_PREFIX, r"(.*)"), GatewayModeHandler)]
