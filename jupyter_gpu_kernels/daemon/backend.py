"""The backend contract: what runs one kernel's container, as the launcher, watcher and provisioner see it.

:class:`KernelBackend` lists exactly the methods :mod:`..kernel.launcher` (start),
:mod:`..kernel.watch` (poll, signals, restart reservations, cleanup) and so the provisioner
call on ``self.ops``. :class:`.containers.ContainerOps` is the Docker-engine implementation;
the provisioner's ``container_ops_class`` trait picks another one (a Docker Swarm service, a
warm pool of started kernels). Every method is blocking and is called from a worker thread.

``client`` is what :func:`..hosts.transport.connect` returns for the host; ``container`` is
the backend's handle of one kernel (what ``create`` or ``get`` returned). A backend must keep
the kernel labels (:mod:`.labels`, :class:`.records.KernelContainer`) readable by
:func:`.records.list_kernel_containers`: listing, the reaper, adoption and the REST API find
kernels that way, not through this contract.

Every backend passes tests/test_backend_conformance.py (docs/architecture.md, "Backends").
Pure: no docker import here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..hosts.registry import DockerHost
    from .plan import LaunchPlan, Placement


@runtime_checkable
class KernelBackend(Protocol):
    """One kernel's container lifecycle: plan → create, copy in, start, address, wait ready
    (explain on failure), then state/death, signal, reserve/release (restarts), remove."""

    log: Any

    # ---- launch (kernel/launcher.py, in this order)
    def connection_mode(self, client: Any, host: DockerHost, requested: str) -> str:
        """Launcher, before create: ``requested`` unless "auto", else direct/publish/tunnel/remote-publish for ``host``."""

    def create(self, client: Any, plan: LaunchPlan, placement: Placement, ports: dict[str, int], started: str) -> Any:
        """Launcher, under the GPU lock: a not-started container of ``plan`` (a stale one of the same kernel
        replaced); on failure KernelLaunchError and nothing left behind."""

    def copy_in(self, container: Any, plan: LaunchPlan, info: dict) -> None:
        """Launcher: the connection file ``info`` in the container, readable by the kernel's user (SpecError
        for a user the image lacks)."""

    def start(self, container: Any, plan: LaunchPlan, host: DockerHost | None = None) -> None:
        """Launcher: start it; GPU driver/toolkit failures as NoGPUDriverError/ImageError, a container that
        exits at once as KernelNotReadyError, anything else KernelLaunchError."""

    def address(
        self, container: Any, plan: LaunchPlan, placement: Placement, ports: dict[str, int]
    ) -> tuple[str, dict[str, int]]:
        """Launcher, after start: (address, ports) where the kernel answers as seen from the host's side
        (before SSH forwarding); KernelLaunchError when it has none. Non-blocking (attrs of ``start``)."""

    def network_ip(self, container: Any, network: str) -> str | None:
        """Launcher: the container's own address on ``network`` (kept for a restart), None if it has none."""

    def explain(self, container: Any, image: str, what: str) -> str:
        """Launcher, when waiting for the heartbeat fails: ``what`` with exit code, OOM flag and the log's
        last lines; never raises for a container that is gone."""

    # ---- restart reservations (kernel/watch.py before a restart, kernel/launcher.py after it)
    def reserve(self, container: Any) -> None:
        """Watcher, a restart begins: keep the old container (and its GPUs) out of the kernel's name."""

    def release(self, client: Any, container_id: str) -> None:
        """Launcher/watcher: remove a reserved old container; a missing or unreserved one is left alone."""

    # ---- after launch (kernel/watch.py)
    def get(self, client: Any, container_id: str) -> Any:
        """Watcher: the handle of a launched container, fresh (its state current); raises the client's
        NotFound when it is gone."""

    def state(self, container: Any) -> int | None:
        """Watcher's poll: None while it runs (or is being created/restarted), else its exit code."""

    def death(self, container: Any) -> dict[str, Any]:
        """Watcher, first seen dead: {reason, exit_code, oom_killed, memory_limit, at, container}; the
        reason names a kill signal (exit code > 128) or an OOM kill."""

    def daemon_restarted(self, client: Any, container: Any) -> bool | None:
        """Watcher, with a death: did the daemon restart since the container stopped? None: cannot tell."""

    def signal(self, container: Any, signum: int) -> None:
        """Watcher (interrupt, kill): ``signum`` to the kernel's process group; a stopped or gone one is ignored."""

    def remove(self, container: Any) -> None:
        """Launcher (failed start) and watcher (cleanup): remove it with its anonymous volumes, which frees
        its GPUs; idempotent (a gone container is no error)."""
