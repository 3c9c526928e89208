"""``gpu-docker-provisioner``: each kernel in its own Docker container (the jupyter_client hooks).

Any image with Python and ipykernel works as is: the server writes the connection file and
it is copied into the container, which runs the stock ``python -m ipykernel_launcher -f
<file>``. No launcher or callback inside the image.

This class keeps only the hooks jupyter_client's ``KernelManager`` calls (see
:class:`jupyter_client.provisioning.KernelProvisionerBase` and docs/architecture.md for who
calls each and when) and the settings (traits). It delegates:

- ``pre_launch`` → :func:`.planning.build_plan` (validation; a frozen ``LaunchPlan``);
- ``launch_kernel`` → :class:`.launcher.KernelLauncher` (image, GPUs, container, forwards,
  heartbeat; a ``LaunchResult``);
- ``poll``/``send_signal``/``cleanup`` → :class:`.watch.ContainerWatch` over
  :class:`~..daemon.containers.ContainerOps`, the engine's :class:`~..daemon.backend.KernelBackend`
  (``container_ops_class`` lets a subclass or config
  replace the container operations): deaths explained (``last_death``), host outages survived.

Under a Jupyter server, our errors from ``pre_launch``/``launch_kernel`` leave as HTTP errors
with our status and message (:func:`..errors.http_errors_under_server`).

Every Docker call runs in a worker thread so the server's event loop never blocks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
from typing import Any

import zmq
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import KernelProvisionerBase
from traitlets import Bool, CaselessStrEnum, Dict, Float, Int, List, Type, Unicode, Union

from ..daemon.backend import KernelBackend
from ..daemon.containers import ContainerOps
from ..daemon.images import PULL_POLICIES
from ..daemon.leases import hold_for, release_for
from ..daemon.plan import KERNEL_PORT_NAMES, LaunchPlan, LaunchResult
from ..errors import GPUKernelsError, http_errors_under_server
from ..hosts.registry import DockerHost
from ..settings import Settings
from .launcher import KernelLauncher
from .planning import LaunchContext, build_plan
from .ports import assign_ports
from .watch import ContainerWatch


async def _launch_failed(prov: GPUDockerProvisioner, km: Any) -> None:
    """A (re)start failed: nothing of the kernel is left. No connection file; a restart's reserved
    old container is removed (its GPUs are free again); a server's kernel says ``dead``."""
    prov.watch.restarting = False
    if km is not None:
        km.cleanup_connection_file()
    if prov.result is not None:
        await prov.watch.release(prov._host, prov.result.container_id)
        if km is not None and hasattr(km, "execution_state"):  # jupyter_server's /api/kernels/{id}
            km.execution_state = "dead"


def _prepare_ports(prov: GPUDockerProvisioner, km: Any) -> None:
    """Ports for a kernel manager that has none (a new kernel, a restart with new ports): chosen on
    the server side (never on the container's address) above the ephemeral range (.ports)."""
    choosing = any(not getattr(km, name) for name in KERNEL_PORT_NAMES)
    if choosing and prov.result is not None and km.ip == prov.result.address:
        km.ip = "127.0.0.1"
    if choosing:
        assign_ports(km)


def _prepare_keys(prov: GPUDockerProvisioner, km: Any) -> None:
    """CurveZMQ keys when the kernel manager asks for them or the host is across a network."""
    policy = km._transport_encryption_policy() if hasattr(km, "_transport_encryption_policy") else "disabled"
    wants = policy == "required" or (policy == "auto" and km._kernel_supports_curve_encryption())
    assert prov._host is not None
    # only an administrator (traitlets config, not the user's hosts file) may waive encryption
    waived = prov._host.source == "config" and bool(prov._host.options.get("allow_unencrypted"))
    if prov._host.crosses_network and not waived:
        if not zmq.has("curve"):
            raise GPUKernelsError(
                f"host {prov._host.name!r} is across a network and kernel traffic must be encrypted, "
                "but this pyzmq has no CurveZMQ support"
            )
        wants = True
    if wants and km.curve_publickey is None:
        km.curve_publickey, km.curve_secretkey = zmq.curve_keypair()


def _revived(km: Any) -> None:
    """A start worked after a failed one: jupyter_server's state follows the new kernel's status again."""
    if getattr(km, "execution_state", None) == "dead":
        km.execution_state = "starting"


class KernelView:
    """What tests, the REST API and ``get_provisioner_info`` read of a provisioner: its last launch
    result while its container exists, and what its watcher saw (mixed into the provisioner)."""

    result: LaunchResult | None
    _running: bool
    watch: ContainerWatch

    @property
    def container_id(self) -> str | None:
        return self.result.container_id if self.result and self._running else None

    @property
    def container_ip(self) -> str | None:
        return self.result.container_ip if self.result else None

    @property
    def container_ports(self) -> dict[str, int]:
        return dict(self.result.container_ports) if self.result else {}

    @property
    def gpu_ids(self) -> list[str]:
        return list(self.result.gpu_ids) if self.result else []

    @property
    def has_process(self) -> bool:
        return self.container_id is not None

    @property
    def host_error(self) -> str | None:  # set while the kernel's host cannot be reached
        return self.watch.host_error

    @property
    def restarting(self) -> bool:  # a restart is under way (a shutdown waits for it: server/shutdowns.py)
        return self.watch.restarting

    @property
    def last_death(self) -> dict[str, Any] | None:  # why the container last died unasked (REST rows)
        return self.watch.last_death


class GPUDockerProvisioner(KernelView, KernelProvisionerBase):  # type: ignore[misc]
    """Runs a kernel in a Docker container on a local or remote daemon, with chosen GPUs."""

    # --- settings (kernelspec metadata.kernel_provisioner.config, or c.GPUDockerProvisioner.*) ---
    host = Unicode("local", config=True, help="Name of the Docker host to run on ('local' or a configured host).")
    image = Unicode("", config=True, help="Image with Python and ipykernel, e.g. 'python:3.12' + ipykernel.")
    gpus = Union(
        [Unicode(), Int()],
        default_value="none",
        config=True,
        help="GPUs as in `docker run --gpus`: none, all, N, device=0,2, device=GPU-…, nvidia.com/gpu=0.",
    )
    gpu_sharing = Bool(
        False, config=True, help="Allow GPUs already held by other kernels (co-location). Exclusive by default."
    )
    memory = Unicode("", config=True, help="Memory limit, e.g. '8g'. Empty: no limit.")
    cpus = Union([Float(), Unicode()], default_value=0.0, config=True, help="CPU limit as in --cpus. 0: no limit.")
    pids_limit = Int(8192, config=True, help="Maximum number of processes in the container (0: no limit).")
    shm_size = Unicode("2g", config=True, help="Size of /dev/shm. Docker's 64m default breaks PyTorch data loaders.")
    mounts = List(
        Unicode(),
        config=True,
        help="Extra mounts 'SRC:DST[:ro]' (SRC: an absolute host path) or 'volume:NAME:DST[:ro]' (a named volume).",
    )
    mount_root = Bool(
        True,
        config=True,
        help="Mount the server's root directory (outside a server: the kernel's working directory) "
        "at the same absolute path, read-write. Only on hosts that share this machine's filesystem.",
    )
    user = Unicode(
        "server",
        config=True,
        help="'server' runs as the server's uid:gid (files belong to the user), 'image' uses the image's "
        "own user, or give 'uid[:gid]' / a user name. On remote hosts 'server' is the image's user, or "
        "the server's uid:gid when the image's USER is root.",
    )
    env = Dict(config=True, help="Extra environment variables for the kernel.")
    env_allowlist = List(
        Unicode(),
        default_value=["LANG", "LC_*", "TZ"],
        config=True,
        help="Server environment variables (shell patterns) passed into the container. Nothing else "
        "from the server's environment is copied, apart from the kernelspec's env and JPY_* variables.",
    )
    pull_policy = CaselessStrEnum(
        list(PULL_POLICIES),
        default_value="missing",
        config=True,
        help="When to pull the image: missing, always or never.",
    )
    launch_timeout = Float(
        60.0, config=True, help="Seconds for the kernel to answer after its container started (pulls not counted)."
    )
    connection_mode = CaselessStrEnum(
        ["auto", "direct", "publish"],
        default_value="auto",
        config=True,
        help="'direct': connect to the container's address (local Linux daemons, no docker-proxy); "
        "'publish': publish kernel ports on 127.0.0.1 only; 'auto' picks direct where possible.",
    )
    network = Unicode(
        "jupyter-gpu-kernels",
        config=True,
        help="Docker network for kernel containers. The default one is created on first use, with "
        "inter-container traffic off and a fixed subnet so a restarted kernel keeps its address; "
        "any other name is used as is.",
    )
    argv = List(Unicode(), config=True, help="Kernel command in the container; default: the kernelspec's argv.")
    entrypoint = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        config=True,
        help="The container's ENTRYPOINT: unset keeps the image's, [] clears it, a list replaces it.",
    )
    cap_drop = List(Unicode(), default_value=["ALL"], config=True, help="Linux capabilities to drop.")
    derive_ipykernel = Bool(
        True,
        config=True,
        help="An image with Python but no ipykernel: build (once, on its host) a thin image FROM it with "
        "ipykernel for its own interpreter, and run the kernel from that. False: refuse such images.",
    )
    environment = Unicode("", config=True, help="Name of the environment this kernel was started from (a label).")
    orphan_timeout = Float(
        60.0,
        config=True,
        help="Seconds the kernel outlives its owner (the server or client "
        "process that started it) before any reaper removes it; 0: at once.",
    )
    remote_workspace = Unicode(
        "/workspace",
        config=True,
        help="On hosts that do not share this machine's filesystem: where the per-notebook-directory "
        "named volume is mounted (the kernel's working directory). Empty: no volume.",
    )

    container_ops_class = Type(
        ContainerOps,
        klass=ContainerOps,
        config=True,
        help="The container operations (create, copy in, start, explain, remove); replace to change the backend.",
    )

    # --- state ---
    plan: LaunchPlan | None = None  # built by pre_launch, never changed
    result: LaunchResult | None = None  # what the last launch produced; a restart reuses it
    launch_error: str | None = None  # why the last (re)start failed; the kernel is dead until one works
    _host: DockerHost | None = None
    _exit_code: int | None = None
    _ops: KernelBackend | None = None
    _watch: ContainerWatch | None = None
    _running: bool = False  # a container of this kernel exists (result.container_id is current)

    # ------------------------------------------------------------------ helpers
    @property
    def ops(self) -> KernelBackend:
        if self._ops is None:
            self._ops = self.container_ops_class(self.log)
        return self._ops

    @property
    def watch(self) -> ContainerWatch:
        if self._watch is None:
            self._watch = ContainerWatch(self.kernel_id, self.ops, self.log)
        return self._watch

    @property
    def settings(self) -> Settings:
        """The server's one Settings (hosts, image policy), found up the parent chain; outside a
        server, the process's one (from the server's config files, so admin hosts apply to nbclient)."""
        return Settings.for_parent(self)

    def _resolve_host(self) -> DockerHost:
        host = self.settings.hosts.get(self.host)
        if host.scheme == "context" and host.resolved_url.startswith(("unix://", "ssh://")):
            # a Docker CLI context pointing at a socket or an SSH host: handle it like one of ours
            host = dataclasses.replace(host, url=host.resolved_url)
        return host

    def _root_dir(self) -> str | None:
        root = getattr(getattr(self.parent, "parent", None), "root_dir", None)
        return os.path.abspath(os.path.expanduser(root)) if root else None

    # ------------------------------------------------------------------ lifecycle
    @http_errors_under_server
    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Validate everything and build the launch plan; nothing is created here."""
        km = self.parent
        kwargs = await super().pre_launch(**kwargs)
        self._host = self._resolve_host()
        cwd = kwargs.get("cwd")
        ctx = LaunchContext(
            kernel_id=self.kernel_id,
            cwd=os.path.abspath(cwd) if cwd else os.getcwd(),
            env=dict(kwargs.get("env", {})),
            spec_env_keys=frozenset((self.kernel_spec.env or {}) if self.kernel_spec else ()),
            spec_argv=tuple(self.kernel_spec.argv if self.kernel_spec else ()),
            kernel_name=getattr(km, "kernel_name", "") or "",
            root_dir=self._root_dir(),
            extra_arguments=tuple(kwargs.pop("extra_arguments", None) or ()),
        )
        try:
            self.plan = build_plan(self, self._host, ctx, self.settings.image_policy)
        except BaseException:
            self.watch.restarting = False  # a restart that fails here ends here
            raise
        if km is not None:
            _prepare_keys(self, km)
            _prepare_ports(self, km)
            if "env" in kwargs:
                km.write_connection_file(jupyter_session=kwargs["env"].get("JPY_SESSION_NAME", ""))
            else:
                km.write_connection_file()
        kwargs["cmd"] = list(self.plan.argv)
        return kwargs

    @http_errors_under_server
    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Ensure the image, pick GPUs, create and start the container, wait for the heartbeat."""
        assert self.plan is not None and self._host is not None
        km = self.parent
        info = dict(km.get_connection_info()) if km is not None else {}
        launcher = KernelLauncher(self._host, self.ops, self.log)
        try:
            self.result = await launcher.launch(self.plan, info, previous=self.result)
        except BaseException as e:
            self._running, self.launch_error = False, str(e) or type(e).__name__
            await _launch_failed(self, km)
            raise
        self._running, self.launch_error, self.watch.stopping, self.watch.restarting = True, None, False, False
        _revived(km)
        await asyncio.to_thread(hold_for, self._host, self.kernel_id)  # the owner lease (daemon/leases.py)
        info.update(self.result.ports)
        info["ip"] = self.result.address
        info["transport"] = "tcp"
        self.connection_info = info
        return info

    async def poll(self) -> int | None:
        """None while the container runs (or its host is unreachable: state unknown, the restarter
        waits), else its exit code; the first time it is seen dead unasked, why is recorded."""
        if self.container_id is None:
            return self._exit_code if self._exit_code is not None else 0
        assert self._host is not None
        code = await self.watch.poll(self._host, self.container_id)
        if code is not None and not self.watch.stopping:  # died by itself: it holds its GPUs until…
            self.watch.free_when_restarts_give_up(self.parent, self.cleanup)
        return code

    async def wait(self) -> int | None:
        while True:
            ret = await self.poll()
            if ret is not None:
                self._exit_code = ret
                return ret
            await asyncio.sleep(0.1)

    async def send_signal(self, signum: int) -> None:
        """Signals go to the container's init, which forwards them to the kernel's process group
        (interrupt = SIGINT); an unreachable host is logged, not raised."""
        if self.container_id is None or signum == 0:
            return
        assert self._host is not None
        await self.watch.signal(self._host, self.container_id, signum)

    async def kill(self, restart: bool = False) -> None:
        await self.watch.begin_stop(self._host, self.container_id, restart)
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        await self.watch.begin_stop(self._host, self.container_id, restart)
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        """Remove the container and its forwards; on restart the launch result is kept (same GPUs,
        address and ports for the new container). An unreachable host is logged, never raised."""
        if self.container_id is not None:
            assert self._host is not None
            await self.watch.remove(self._host, self.container_id, keep_reserved=restart)
        self._running = False
        if not restart:
            self.result = None
            if self._host is not None:
                release_for(self._host, self.kernel_id)  # no more renewals for this kernel

    async def shutdown_requested(self, restart: bool = False) -> None:
        await self.watch.begin_stop(self._host, self.container_id, restart)  # its death is no fault

    def get_shutdown_wait_time(self, recommended: float = 5.0) -> float:
        return max(recommended, 5.0)

    def get_stable_start_time(self, recommended: float = 10.0) -> float:
        return recommended

    async def get_provisioner_info(self) -> dict[str, Any]:
        """The launch result (container id, addresses, ports, GPUs): enough to control the container later."""
        info = await super().get_provisioner_info()
        info.update(self.result.to_info() if self.result and self._running else {"container_id": None})
        info["host"] = self.host
        return info

    async def load_provisioner_info(self, provisioner_info: dict) -> None:
        await super().load_provisioner_info(provisioner_info)
        self.host = provisioner_info.get("host") or self.host
        self.result = LaunchResult.from_info(provisioner_info)
        self._running = self.result is not None
        self._host = self._resolve_host()

    def resolve_path(self, path_str: str) -> str | None:
        """Paths the kernel reports are host paths too when the root directory is mounted 1:1."""
        path = os.path.expanduser(path_str)
        if not os.path.isabs(path) and self.plan and self.plan.working_dir:
            path = os.path.join(self.plan.working_dir, path)
        return path if os.path.exists(path) else None
