"""Container operations for one kernel: create, copy in, start, address, explain, remove.

The Docker-engine implementation of :class:`.backend.KernelBackend` (the contract every backend
implements; tests/test_backend_conformance.py checks it). The seams a different backend (or a subclass) replaces, in the spirit of DockerSpawner's
``create_object/start_object/stop_object/remove_object``. Called by
:class:`..kernel.launcher.KernelLauncher` (launch) and by the provisioner (poll, signals,
cleanup), always from a worker thread: every method here is blocking docker-py. Touches only
the container it is given (and the daemon's ``info`` for the connection mode); never the
GPU allocation, SSH forwards or the kernel manager.
"""

from __future__ import annotations

import io
import os
import signal as signals
import tarfile
from typing import Any

import docker
import docker.errors

from ..errors import ImageError, KernelLaunchError, KernelNotReadyError, NoGPUDriverError, SpecError
from ..hosts.registry import DockerHost
from ..specs import cuda
from . import labels as L
from . import restarts
from .inventory import NO_DEVICE_DRIVER
from .networks import KERNEL_NETWORK, endpoint_config
from .plan import CONNECTION_PARENT, LaunchPlan, Placement, parse_user
from .records import RESERVED_SUFFIX, KernelContainer

LOG_TAIL_LINES = 30
ADDRESS_TAKEN = ("address already in use", "no available ipv4 addresses", "is already in use")
SIGNAL_NAMES = {int(s): s.name for s in signals.Signals}
TINI_PROCESS_GROUP = {"TINI_KILL_PROCESS_GROUP": "1"}  # docker --init (tini) signals the kernel's process group


def format_bytes(n: int) -> str:
    """1073741824 → '1 GiB', 209715200 → '200 MiB'."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} B"


class ContainerOps:
    """Blocking Docker operations on kernel containers (run them in a worker thread): the engine's
    :class:`.backend.KernelBackend`."""

    def __init__(self, log: Any) -> None:
        self.log = log

    # ------------------------------------------------------------------ before create
    def connection_mode(self, client: docker.DockerClient, host: DockerHost, requested: str) -> str:
        """How the server reaches the kernel: direct, publish (127.0.0.1), tunnel (SSH), remote-publish."""
        if requested != "auto":
            return requested
        if host.scheme == "ssh":
            return "tunnel"
        if not host.is_local:
            return "remote-publish"
        info = client.info()
        os_name = str(info.get("OperatingSystem", ""))
        rootless = any("rootless" in str(o) for o in info.get("SecurityOptions") or [])
        if "Docker Desktop" in os_name or info.get("OSType") != "linux" or rootless or not os.path.exists("/proc/net"):
            # container addresses live in a VM or in rootlesskit's namespace: not reachable from here
            return "publish"
        return "direct"

    # ------------------------------------------------------------------ lifecycle
    def create(
        self, client: docker.DockerClient, plan: LaunchPlan, placement: Placement, ports: dict[str, int], started: str
    ) -> Any:
        """Create the container (not started). A stale container of the same kernel is replaced."""
        try:
            stale = client.containers.get(plan.container_name)
            if KernelContainer.from_container(stale).kernel_id == plan.kernel_id:
                stale.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        kwargs = plan.create_kwargs(ports, placement, started)
        if kwargs.get("init"):  # signals reach the kernel's subprocesses too, as with killpg locally
            kwargs["environment"] = {**kwargs.get("environment", {}), **TINI_PROCESS_GROUP}
        if placement.ip and not placement.publishes and plan.network == KERNEL_NETWORK:
            # a restart: ask for the old address so connected clients keep working
            kwargs["networking_config"] = {plan.network: endpoint_config(client, placement.ip)}
            try:
                return client.containers.create(**kwargs)
            except docker.errors.APIError as e:
                self.log.warning(
                    "kernel %s: could not get address %s back (%s)", plan.kernel_id, placement.ip, e.explanation or e
                )
                kwargs.pop("networking_config")
        try:
            return client.containers.create(**kwargs)
        except docker.errors.APIError as e:
            raise KernelLaunchError(
                f"could not create the kernel container from {plan.image!r}: {e.explanation or e}"
            ) from e

    def copy_in(self, container: Any, plan: LaunchPlan, info: dict) -> None:
        """The connection file (owned by the kernel's user) and, remotely, a writable workspace."""
        uid, gid = self.resolve_uid(container, plan.user)
        container.put_archive(CONNECTION_PARENT, plan.connection_archive(info, uid, gid))
        if plan.workspace_volume and uid:
            container.put_archive("/", plan.workspace_owner_archive(uid, gid))

    @staticmethod
    def resolve_uid(container: Any, user: str | None) -> tuple[int | None, int | None]:
        """uid:gid that will own the connection dir; named users are looked up in the image's /etc/passwd."""
        user = user or container.attrs.get("Config", {}).get("User") or "0"
        uid, gid = parse_user(user)
        if uid is not None:
            return uid, gid
        name = user.split(":", 1)[0]
        try:
            stream, _ = container.get_archive("/etc/passwd")
            with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
                member = tar.extractfile("passwd")
                for line in (member.read().decode(errors="replace") if member else "").splitlines():
                    parts = line.split(":")
                    if len(parts) > 3 and parts[0] == name:
                        return int(parts[2]), int(parts[3])
        except (docker.errors.APIError, tarfile.TarError, KeyError, ValueError):
            pass
        raise SpecError(f"user {name!r} does not exist in image {container.image.tags or container.image.id}")

    def start(self, container: Any, plan: LaunchPlan, host: DockerHost | None = None) -> None:
        """Start it; GPU driver and toolkit failures are named as such (an unmet NVIDIA_REQUIRE_CUDA
        with ``host``'s driver and CUDA versions)."""
        try:
            self._start_at_any_address(container, plan)
        except docker.errors.APIError as e:
            text = str(e.explanation or e)
            if NO_DEVICE_DRIVER in text:
                raise NoGPUDriverError(
                    f"GPUs were requested ({plan.gpus}) but this Docker host has no GPU driver: the NVIDIA "
                    "Container Toolkit is missing (install nvidia-container-toolkit and restart dockerd), "
                    f"or choose gpus=none. Docker said: {text}"
                ) from e
            condition = cuda.unsatisfied_in_text(text)
            if condition:
                raise ImageError(
                    cuda.mismatch_message(
                        plan.image, host.name if host else "?", condition, *self.driver_versions(container, host)
                    )
                    + f". The NVIDIA Container Toolkit said: {text}"
                ) from e
            if "nvidia-container" in text or "error running hook" in text:
                raise NoGPUDriverError(f"the NVIDIA Container Toolkit failed to set up GPUs {plan.gpus}: {text}") from e
            raise KernelLaunchError(f"could not start the kernel container: {text}") from e
        container.reload()
        if container.status not in ("created", "running"):
            raise KernelNotReadyError(self.explain(container, plan.image, "exited before it was ready"))

    def _start_at_any_address(self, container: Any, plan: LaunchPlan) -> None:
        """Start; when the address asked for (a restart's old one) was taken meanwhile, on a fresh one."""
        try:
            container.start()
            return
        except docker.errors.APIError as e:
            ipam = (container.attrs.get("NetworkSettings", {}).get("Networks") or {}).get(plan.network) or {}
            if not ipam.get("IPAMConfig") or not any(t in str(e.explanation or e).lower() for t in ADDRESS_TAKEN):
                raise
            self.log.warning(
                "kernel %s: its old address was taken meanwhile (%s); starting on a fresh one",
                plan.kernel_id,
                e.explanation or e,
            )
        network = container.client.networks.get(plan.network)
        network.disconnect(container, force=True)
        network.connect(container)
        container.start()

    # ------------------------------------------------------------------ restart reservations
    def reserve(self, container: Any) -> None:
        """Rename a restarting kernel's container to ``<name>-old``: until its successor exists it keeps
        holding its GPUs, even stopped (gpu_choice), and the successor can take the kernel's name."""
        if container.name.endswith(RESERVED_SUFFIX):
            return
        try:
            container.rename(container.name + RESERVED_SUFFIX)
        except docker.errors.APIError as e:
            if e.status_code != 409:
                raise
            stale = container.client.containers.get(container.name + RESERVED_SUFFIX)  # an earlier, stale one
            if stale.labels.get(L.KERNEL_ID) != container.labels.get(L.KERNEL_ID):
                raise
            self.remove(stale)
            container.rename(container.name + RESERVED_SUFFIX)

    def release(self, client: docker.DockerClient, container_id: str) -> None:
        """Remove a restart's reserved old container (its successor exists, or the restart failed)."""
        try:
            old = client.containers.get(container_id)
        except docker.errors.NotFound:
            return
        if old.name.endswith(RESERVED_SUFFIX):
            self.remove(old)

    @staticmethod
    def driver_versions(container: Any, host: DockerHost | None) -> tuple[str | None, str | None]:
        """(cuda, driver) of ``host`` from its GPU inventory (cached for seconds), for a toolkit refusal."""
        if host is None:
            return None, None
        from .allocator import GPUAllocator

        try:
            inv = GPUAllocator.for_host(host).devices(container.client)
        except docker.errors.DockerException:
            return None, None
        return inv.cuda_version, inv.driver_version

    @staticmethod
    def network_ip(container: Any, network: str) -> str | None:
        """The container's address on ``network`` (else on any network it is attached to)."""
        net = container.attrs.get("NetworkSettings", {})
        networks = net.get("Networks") or {}
        ip = (networks.get(network) or {}).get("IPAddress") or net.get("IPAddress")
        for cfg in networks.values():
            ip = ip or cfg.get("IPAddress")
        return ip or None

    def address(
        self, container: Any, plan: LaunchPlan, placement: Placement, ports: dict[str, int]
    ) -> tuple[str, dict[str, int]]:
        """Where the server reaches the kernel's ports on this daemon (before any SSH forwarding)."""
        if placement.publishes:
            published = container.attrs.get("NetworkSettings", {}).get("Ports") or {}
            mapped = {}
            for name, port in ports.items():
                binding = (published.get(f"{port}/tcp") or [{}])[0]
                if not binding.get("HostPort"):
                    raise KernelLaunchError(f"port {port} of the kernel container was not published")
                mapped[name] = int(binding["HostPort"])
            return "127.0.0.1", mapped
        ip = self.network_ip(container, plan.network)
        if not ip:
            raise KernelLaunchError("the kernel container has no IP address on network " + plan.network)
        return ip, dict(ports)

    def explain(self, container: Any, image: str, what: str) -> str:
        """Exit code, OOM flag and the last lines of the log, for error messages."""
        try:
            container.reload()
            state = container.attrs.get("State", {})
            tail = container.logs(tail=LOG_TAIL_LINES).decode(errors="replace").rstrip()
        except docker.errors.APIError:
            state, tail = {}, ""
        parts = [f"kernel container {container.short_id} ({image}) {what}"]
        if state.get("Status") == "exited":
            parts.append(f"exit code {state.get('ExitCode')}")
        if state.get("OOMKilled"):
            parts.append("OOM-killed: the memory limit was too small")
        msg = "; ".join(parts)
        if tail:
            msg += f"\n--- last {LOG_TAIL_LINES} lines of the container log ---\n{tail}"
        return msg

    # ------------------------------------------------------------------ after launch
    @staticmethod
    def get(client: docker.DockerClient, container_id: str) -> Any:
        """The container, fresh from the daemon; docker.errors.NotFound when it is gone."""
        return client.containers.get(container_id)

    @staticmethod
    def state(container: Any) -> int | None:
        """None while the container runs, else its exit code (what ``Popen.poll`` would say)."""
        if container.status in ("running", "created", "restarting"):
            return None
        return int(container.attrs.get("State", {}).get("ExitCode", 0))

    @staticmethod
    def death(container: Any) -> dict[str, Any]:
        """Why a stopped container died: {reason, exit_code, oom_killed, memory_limit, at, error}."""
        state = container.attrs.get("State", {})
        code = state.get("ExitCode")
        limit = int(container.attrs.get("HostConfig", {}).get("Memory") or 0) or None
        oom = bool(state.get("OOMKilled"))
        if oom:
            reason = (
                f"container OOM-killed at its {format_bytes(limit)} memory limit"
                if limit
                else "container OOM-killed (no memory limit: the host ran out of memory)"
            )
        elif isinstance(code, int) and code > 128 and code - 128 in SIGNAL_NAMES:
            reason = f"container killed by {SIGNAL_NAMES[code - 128]} (exit code {code})"
        else:
            reason = f"container exited with code {code}"
        if state.get("Error"):
            reason += f" ({state['Error']})"
        return {
            "reason": reason,
            "exit_code": code,
            "oom_killed": oom,
            "memory_limit": limit,
            "at": state.get("FinishedAt"),
            "container": container.short_id,
        }

    @staticmethod
    def daemon_restarted(client: docker.DockerClient, container: Any) -> bool | None:
        """Did the daemon restart since ``container`` stopped? None: cannot tell (daemon/restarts.py)."""
        return restarts.daemon_restarted_since(client, container)

    @staticmethod
    def signal(container: Any, signum: int) -> None:
        """A signal to the container's init, which forwards it to the kernel's process group (tini with
        ``TINI_KILL_PROCESS_GROUP``); a stopped container is ignored."""
        try:
            container.kill(signal=int(signum))
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as e:
            if "is not running" not in str(e):
                raise

    @staticmethod
    def remove(container: Any) -> None:
        """Remove it (and so release its GPUs, which are read from container labels), with its
        anonymous connection-file volume (``v``)."""
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as e:
            if "already in progress" not in str(e):
                raise
