"""``gpu-docker-provisioner``: each kernel in its own Docker container.

Any image with Python and ipykernel works as is: the server writes the
connection file and copies it into the container, which runs the stock
``python -m ipykernel_launcher -f <file>``. No launcher or callback inside the image.

Who calls what (see :class:`jupyter_client.provisioning.KernelProvisionerBase`):

- ``pre_launch``  – ``KernelManager.pre_start_kernel``: validate settings, build the
  launch plan (no daemon needed for validation), prepare ports and keys.
- ``launch_kernel`` – ``KernelManager._launch_kernel``: ensure the image, pick GPUs,
  create + start the container, wait until the kernel answers its heartbeat.
- ``poll``/``wait``/``send_signal``/``kill``/``terminate`` – the kernel manager and its
  restarter, like ``subprocess.Popen``; they act on the container.
- ``cleanup`` – after shutdown and on restart: remove the container (GPUs are released
  with it, since holders are read from container labels).

Every Docker call runs in a worker thread so the server's event loop never blocks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import getpass
import io
import os
import signal
import socket
import tarfile
import time
from urllib.parse import urlparse
from datetime import datetime, timezone
from typing import Any

import docker
import docker.errors
import zmq
import zmq.asyncio
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import KernelProvisionerBase
from traitlets import Bool, CaselessStrEnum, Dict, Float, Int, List, Unicode, Union

from ..daemon import labels as L
from ..daemon.allocator import GPUAllocator
from ..daemon.inventory import NO_DEVICE_DRIVER
from ..errors import GPUKernelsError, KernelLaunchError, NoGPUDriverError, SpecError
from ..specs.gpus import parse_gpus
from ..hosts.registry import DockerHost, DockerHosts
from ..daemon.images import PULL_POLICIES, check_image_ref, ensure_image
from ..policy import image_policy, server_config
from ..daemon.networks import KERNEL_NETWORK, endpoint_config, ensure_kernel_network
from ..daemon.plan import (
    CONNECTION_DIR,
    KERNEL_PORT_NAMES,
    LaunchPlan,
    container_connection_info,
    parse_user,
    server_user,
)
from ..specs.resources import Mount, allowed, check_env_name, parse_cpus, parse_mount, parse_size
from ..daemon.workspace import workspace_volume_name
from ..hosts.transport import connect

LOG_TAIL_LINES = 30


class GPUDockerProvisioner(KernelProvisionerBase):  # type: ignore[misc]
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
    shm_size = Unicode(
        "2g", config=True, help="Size of /dev/shm. Docker's 64m default breaks PyTorch data loaders."
    )
    mounts = List(Unicode(), config=True, help="Extra mounts 'SRC:DST[:ro]' (SRC: absolute host path or volume).")
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
        "own user, or give 'uid[:gid]' / a user name.",
    )
    env = Dict(config=True, help="Extra environment variables for the kernel.")
    env_allowlist = List(
        Unicode(),
        default_value=["LANG", "LC_*", "TZ"],
        config=True,
        help="Server environment variables (shell patterns) passed into the container. Nothing else "
        "from the server's environment is copied, apart from the kernelspec's env and JPY_* variables.",
    )
    pull_policy = CaselessStrEnum(list(PULL_POLICIES), default_value="missing", config=True,
                                  help="When to pull the image: missing, always or never.")
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
    cap_drop = List(Unicode(), default_value=["ALL"], config=True, help="Linux capabilities to drop.")
    environment = Unicode("", config=True, help="Name of the environment this kernel was started from (a label).")
    remote_workspace = Unicode(
        "/workspace",
        config=True,
        help="On hosts that do not share this machine's filesystem: where the per-notebook-directory "
        "named volume is mounted (the kernel's working directory). Empty: no volume.",
    )

    # --- state ---
    container_id: str | None = None
    container_ip: str | None = None
    gpu_ids: list[str] = []
    _plan: LaunchPlan | None = None
    _host: DockerHost | None = None
    _exit_code: int | None = None
    _workspace_volume: str | None = None
    _local_ports: dict[str, int] | None = None
    container_ports: dict[str, int] = {}
    host_error: str | None = None  # set while the kernel's host cannot be reached

    # ------------------------------------------------------------------ helpers
    @property
    def has_process(self) -> bool:
        return self.container_id is not None

    def _hosts(self) -> DockerHosts:
        """Admin hosts come from the server's config files too (also outside a server, e.g. nbclient)."""
        return DockerHosts(config=server_config(getattr(self.parent, "config", None) or self.config))

    def _client(self) -> docker.DockerClient:
        assert self._host is not None
        return connect(self._host)

    async def _docker(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    def _root_dir(self) -> str | None:
        mkm = getattr(self.parent, "parent", None)
        root = getattr(mkm, "root_dir", None)
        return os.path.abspath(os.path.expanduser(root)) if root else None

    def _container_env(self, env: dict[str, str], home: str | None) -> dict[str, str]:
        """Only the kernelspec's env, JPY_* and allowlisted variables — never the server's environment."""
        spec_env = set((self.kernel_spec.env or {}) if self.kernel_spec else {})
        out = {
            k: v
            for k, v in env.items()
            if k in spec_env or k.startswith("JPY_") or allowed(k, self.env_allowlist)
        }
        out.pop("JPY_PARENT_PID", None)
        for key, value in self.env.items():
            out[check_env_name(str(key))] = str(value)
        if home and "HOME" not in out:
            out["HOME"] = home
        out.setdefault("PYTHONUNBUFFERED", "1")
        return out

    # ------------------------------------------------------------------ lifecycle
    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Validate everything and build the launch plan; nothing is created here."""
        km = self.parent
        kwargs = await super().pre_launch(**kwargs)
        self._host = self._hosts().get(self.host)
        if self._host.scheme == "context" and self._host.resolved_url.startswith(("unix://", "ssh://")):
            # a Docker CLI context pointing at a socket or an SSH host: handle it like one of ours
            self._host = dataclasses.replace(self._host, url=self._host.resolved_url)
        image = image_policy(self.config).check(check_image_ref(self.image))
        gpu_request = parse_gpus(self.gpus)
        mounts = [parse_mount(m, check_exists=self._host.is_local) for m in self.mounts]
        memory = parse_size(self.memory, "memory limit")
        shm = parse_size(self.shm_size, "shm size")
        cpus = parse_cpus(self.cpus)

        cwd = kwargs.get("cwd")
        cwd = os.path.abspath(cwd) if cwd else os.getcwd()
        working_dir = None
        self._workspace_volume = None
        if not self._host.is_local and self.remote_workspace:
            # the server's directories do not exist there: a named volume per notebook directory
            self._workspace_volume = workspace_volume_name(cwd)
            mounts.insert(0, Mount(self._workspace_volume, self.remote_workspace))
            working_dir = self.remote_workspace
        if self._host.is_local:
            working_dir = cwd
            if self.mount_root:
                root = self._root_dir() or cwd
                if os.path.commonpath([root, cwd]) != root:
                    root = cwd
                targets = {m.target for m in mounts}
                if root not in targets:
                    mounts.insert(0, Mount(root, root))

        if self.user == "server":
            user: str | None = server_user() if self._host.is_local else None
        elif self.user in ("image", ""):
            user = None
        else:
            user = self.user
        env = self._container_env(kwargs.get("env", {}), f"{CONNECTION_DIR}/home" if user else None)

        if km is not None:
            self._prepare_keys(km)
            if "env" in kwargs:
                km.write_connection_file(jupyter_session=kwargs["env"].get("JPY_SESSION_NAME", ""))
            else:
                km.write_connection_file()

        labels = {
            L.KERNEL_ID: self.kernel_id,
            L.SERVER: f"{socket.gethostname()}:{os.getpid()}",
            L.OWNER: getpass.getuser(),
            L.HOST: self._host.name,
            L.IMAGE: image,
            L.GPU_REQUEST: str(gpu_request),
            L.GPU_SHARED: "true" if self.gpu_sharing else "false",
            L.NOTEBOOK: env.get("JPY_SESSION_NAME", ""),
            L.ENVIRONMENT: self.environment or (getattr(km, "kernel_name", "") or ""),
        }
        argv = list(self.argv or (self.kernel_spec.argv if self.kernel_spec else []))
        if not argv:
            argv = ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        self._plan = LaunchPlan(
            kernel_id=self.kernel_id,
            image=image,
            argv=[],
            env=env,
            user=user,
            working_dir=working_dir,
            mounts=mounts,
            gpus=gpu_request,
            memory=memory,
            cpus=cpus,
            pids_limit=self.pids_limit or None,
            shm_size=shm,
            labels=labels,
            network=self.network,
            cap_drop=list(self.cap_drop),
        )
        self._plan.argv = [a.replace("{connection_file}", self._plan.connection_file) for a in argv]
        kwargs["cmd"] = self._plan.argv
        return kwargs

    def _prepare_keys(self, km: Any) -> None:
        """CurveZMQ keys when the kernel manager asks for them or the host is across a network."""
        policy = km._transport_encryption_policy() if hasattr(km, "_transport_encryption_policy") else "disabled"
        wants = policy == "required" or (policy == "auto" and km._kernel_supports_curve_encryption())
        assert self._host is not None
        # only an administrator (traitlets config, not the user's hosts file) may waive encryption
        waived = self._host.source == "config" and bool(self._host.options.get("allow_unencrypted"))
        if self._host.crosses_network and not waived:
            if not zmq.has("curve"):
                raise GPUKernelsError(
                    f"host {self._host.name!r} is across a network and kernel traffic must be encrypted, "
                    "but this pyzmq has no CurveZMQ support"
                )
            wants = True
        if wants and km.curve_publickey is None:
            km.curve_publickey, km.curve_secretkey = zmq.curve_keypair()

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Ensure the image, pick GPUs, create and start the container, wait for the heartbeat."""
        assert self._plan is not None and self._host is not None
        plan, host = self._plan, self._host
        km = self.parent
        try:
            client = await self._docker(connect, host)
            await self._docker(
                ensure_image, client, plan.image, self.pull_policy, host_name=host.name, progress=self.log.info
            )
            mode = await self._connection_mode(client)
        except BaseException:
            if km is not None:  # nothing was created; leave no connection file behind either
                km.cleanup_connection_file()
            raise
        plan.publish_ports = mode in ("publish", "remote-publish")
        plan.host_ports = dict(self._local_ports or {}) if mode == "remote-publish" else {}
        if mode == "remote-publish":
            plan.publish_address = str(host.options.get("publish_address", "0.0.0.0"))
        info = dict(km.get_connection_info()) if km is not None else {}
        ports = {name: int(info[name]) for name in KERNEL_PORT_NAMES if info.get(name)}
        container = None
        try:
            allocator = GPUAllocator.for_host(host)
            async with allocator.lock(client, plan.image if plan.gpus.wants_gpu else None):
                if plan.gpus.wants_gpu:
                    plan.gpu_ids = await self._docker(
                        allocator.allocate, client, plan.gpus, self.kernel_id, self.gpu_sharing,
                        list(self.gpu_ids) or None, plan.image,
                    )
                plan.labels[L.GPUS] = ",".join(plan.gpu_ids) if plan.gpu_ids else ("all" if plan.gpus.kind == "all" else "")
                plan.labels[L.STARTED] = datetime.now(timezone.utc).isoformat(timespec="seconds")
                if plan.network == KERNEL_NETWORK:
                    await self._docker(ensure_kernel_network, client)
                container = await self._docker(self._create, client, plan, ports)
            self.container_id = container.id
            uid, gid = await self._docker(self._resolve_uid, container, plan.user)
            archive = plan.connection_archive(container_connection_info(info), uid, gid)
            await self._docker(container.put_archive, "/tmp", archive)
            if self._workspace_volume and uid:
                await self._docker(container.put_archive, "/", self._workspace_owner_archive(uid, gid))
            await self._docker(self._start, container, plan)
            await self._docker(container.reload)
            if container.status not in ("created", "running"):
                raise KernelLaunchError(await self._docker(self._explain, container, "exited before it was ready"))
            address, ports = self._address(container, plan, ports)
            self.container_ip = self._network_ip(container, plan)
            self.container_ports = dict(ports)
            if mode == "tunnel":
                address, ports = await self._docker(self._tunnel_ports, address, ports)
            elif mode == "remote-publish":
                address = urlparse(host.resolved_url).hostname or address
            self.gpu_ids = list(plan.gpu_ids)
            await self._wait_ready(container, address, ports, info)
        except BaseException:
            if container is not None:
                await self._docker(self._remove, container)
            self._cancel_tunnels()
            self.container_id = None
            if km is not None:  # leave no connection file behind either
                km.cleanup_connection_file()
            raise
        self.log.info(
            "kernel %s: container %s on host %s (image %s, gpus %s) at %s",
            self.kernel_id, container.short_id, host.name, plan.image, plan.labels[L.GPUS] or "none", address,
        )
        info.update(ports)
        info["ip"] = address
        info["transport"] = "tcp"
        self.connection_info = info
        return info

    async def _connection_mode(self, client: docker.DockerClient) -> str:
        if self.connection_mode != "auto":
            return self.connection_mode
        assert self._host is not None
        if self._host.scheme == "ssh":
            return "tunnel"
        if not self._host.is_local:
            return "remote-publish"
        info = await self._docker(client.info)
        os_name = str(info.get("OperatingSystem", ""))
        rootless = any("rootless" in str(o) for o in info.get("SecurityOptions") or [])
        if "Docker Desktop" in os_name or info.get("OSType") != "linux" or rootless or not os.path.exists("/proc/net"):
            # container addresses live in a VM or in rootlesskit's namespace: not reachable from here
            return "publish"
        return "direct"

    def _create(self, client: docker.DockerClient, plan: LaunchPlan, ports: dict[str, int]) -> Any:
        try:
            stale = client.containers.get(plan.container_name)
            if stale.labels.get(L.KERNEL_ID) == plan.kernel_id:
                stale.remove(force=True)
        except docker.errors.NotFound:
            pass
        kwargs = plan.create_kwargs(ports)
        if self.container_ip and not plan.publish_ports and plan.network == KERNEL_NETWORK:
            # a restart: ask for the old address so connected clients keep working
            kwargs["networking_config"] = {plan.network: endpoint_config(client, self.container_ip)}
            try:
                return client.containers.create(**kwargs)
            except docker.errors.APIError as e:
                self.log.warning("kernel %s: could not get address %s back (%s)", self.kernel_id, self.container_ip,
                                 e.explanation or e)
                kwargs.pop("networking_config")
        try:
            return client.containers.create(**kwargs)
        except docker.errors.APIError as e:
            raise KernelLaunchError(
                f"could not create the kernel container from {plan.image!r}: {e.explanation or e}"
            ) from e

    @staticmethod
    def _resolve_uid(container: Any, user: str | None) -> tuple[int | None, int | None]:
        """uid:gid that will own the connection dir; named users are looked up in the image's /etc/passwd."""
        user = user or container.attrs.get("Config", {}).get("User") or "0"
        uid, gid = parse_user(user)
        if uid is not None:
            return uid, gid
        name = user.split(":", 1)[0]
        try:
            stream, _ = container.get_archive("/etc/passwd")
            raw = b"".join(stream)
            with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
                member = tar.extractfile("passwd")
                for line in (member.read().decode(errors="replace") if member else "").splitlines():
                    parts = line.split(":")
                    if len(parts) > 3 and parts[0] == name:
                        return int(parts[2]), int(parts[3])
        except (docker.errors.APIError, tarfile.TarError, KeyError, ValueError):
            pass
        raise SpecError(f"user {name!r} does not exist in image {container.image.tags or container.image.id}")

    @staticmethod
    def _start(container: Any, plan: LaunchPlan) -> None:
        try:
            container.start()
        except docker.errors.APIError as e:
            text = str(e.explanation or e)
            if NO_DEVICE_DRIVER in text:
                raise NoGPUDriverError(
                    f"GPUs were requested ({plan.gpus}) but this Docker host has no GPU driver: the NVIDIA "
                    "Container Toolkit is missing (install nvidia-container-toolkit and restart dockerd), "
                    f"or choose gpus=none. Docker said: {text}"
                ) from e
            if "nvidia-container" in text or "error running hook" in text:
                raise NoGPUDriverError(f"the NVIDIA Container Toolkit failed to set up GPUs {plan.gpus}: {text}") from e
            raise KernelLaunchError(f"could not start the kernel container: {text}") from e

    @staticmethod
    def _network_ip(container: Any, plan: LaunchPlan) -> str | None:
        net = container.attrs.get("NetworkSettings", {})
        networks = net.get("Networks") or {}
        return (networks.get(plan.network) or {}).get("IPAddress") or net.get("IPAddress") or None

    def _address(self, container: Any, plan: LaunchPlan, ports: dict[str, int]) -> tuple[str, dict[str, int]]:
        net = container.attrs.get("NetworkSettings", {})
        if plan.publish_ports:
            published = net.get("Ports") or {}
            mapped = {}
            for name, port in ports.items():
                binding = (published.get(f"{port}/tcp") or [{}])[0]
                if not binding.get("HostPort"):
                    raise KernelLaunchError(f"port {port} of the kernel container was not published")
                mapped[name] = int(binding["HostPort"])
            if plan.publish_address != "127.0.0.1":
                self._local_ports = mapped  # reused on restart
            return "127.0.0.1", mapped
        networks = net.get("Networks") or {}
        ip = (networks.get(plan.network) or {}).get("IPAddress") or net.get("IPAddress")
        if not ip:
            for cfg in networks.values():
                ip = cfg.get("IPAddress") or ip
        if not ip:
            raise KernelLaunchError("the kernel container has no IP address on network " + plan.network)
        return ip, ports

    async def _wait_ready(self, container: Any, address: str, ports: dict[str, int], info: dict) -> None:
        """Ready = the kernel echoes a heartbeat; a container that exits first is explained."""
        deadline = time.monotonic() + self.launch_timeout
        ctx = zmq.asyncio.Context.instance()
        next_check = 0.0
        while True:
            sock = ctx.socket(zmq.REQ)
            sock.linger = 0
            if info.get("curve_publickey"):
                pub, sec = zmq.curve_keypair()
                server_key = info["curve_publickey"]
                sock.curve_serverkey = server_key.encode() if isinstance(server_key, str) else server_key
                sock.curve_publickey, sock.curve_secretkey = pub, sec
            try:
                sock.connect(f"tcp://{address}:{ports['hb_port']}")
                await sock.send(b"ready?")
                if await sock.poll(250):
                    await sock.recv()
                    return
            finally:
                sock.close(0)
            now = time.monotonic()
            if now >= next_check:
                next_check = now + 0.5
                try:
                    await self._docker(container.reload)
                except docker.errors.NotFound:
                    raise KernelLaunchError(
                        f"kernel container {container.short_id} was removed (by someone else) before it was ready"
                    ) from None
                if container.status not in ("created", "running"):
                    raise KernelLaunchError(await self._docker(self._explain, container, "exited before it was ready"))
            if now > deadline:
                raise KernelLaunchError(
                    await self._docker(
                        self._explain, container, f"did not answer within launch_timeout={self.launch_timeout:g}s"
                    )
                )

    def _explain(self, container: Any, what: str) -> str:
        """exit code, OOM flag and the last lines of the log, for error messages."""
        try:
            container.reload()
            state = container.attrs.get("State", {})
            tail = container.logs(tail=LOG_TAIL_LINES).decode(errors="replace").rstrip()
        except docker.errors.APIError:
            state, tail = {}, ""
        parts = [f"kernel container {container.short_id} ({self._plan.image if self._plan else '?'}) {what}"]
        if state.get("Status") == "exited":
            parts.append(f"exit code {state.get('ExitCode')}")
        if state.get("OOMKilled"):
            parts.append("OOM-killed: the memory limit was too small")
        msg = "; ".join(parts)
        if tail:
            msg += f"\n--- last {LOG_TAIL_LINES} lines of the container log ---\n{tail}"
        return msg

    def _tunnel_ports(self, container_ip: str, ports: dict[str, int]) -> tuple[str, dict[str, int]]:
        """Forward each kernel port from 127.0.0.1 here to the container on the remote host."""
        from ..hosts.ssh import tunnel_for

        assert self._host is not None
        tunnel = tunnel_for(self._host)
        self._cancel_tunnels()
        previous = self._local_ports or {}
        local = {
            name: tunnel.forward(f"{self.kernel_id}:{name}", container_ip, port, local_port=previous.get(name))
            for name, port in ports.items()
        }
        self._local_ports = local  # a restart re-forwards the same local ports: clients stay connected
        return "127.0.0.1", local

    def _cancel_tunnels(self) -> None:
        if self._host is not None and self._host.scheme == "ssh":
            from ..hosts.ssh import tunnel_for

            try:
                tunnel_for(self._host).cancel(f"{self.kernel_id}:")
            except Exception as e:  # never let cleanup fail on a dead host
                self.log.warning("kernel %s: could not cancel SSH forwards: %s", self.kernel_id, e)

    def _workspace_owner_archive(self, uid: int, gid: int | None) -> bytes:
        """A tar whose only entry is the workspace directory owned by the kernel's user: extracting
        it (before start, no capabilities needed) makes a new root-owned volume writable."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            d = tarfile.TarInfo(self.remote_workspace.strip("/"))
            d.type, d.mode, d.uid, d.gid, d.mtime = tarfile.DIRTYPE, 0o755, uid, gid or uid, time.time()
            tar.addfile(d)
        return buf.getvalue()

    @staticmethod
    def _remove(container: Any) -> None:
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as e:
            if "already in progress" not in str(e):
                raise

    def _container(self) -> Any:
        return self._client().containers.get(self.container_id)

    async def poll(self) -> int | None:
        """None while the container runs, else its exit code (also when it disappeared)."""
        if self.container_id is None:
            return self._exit_code if self._exit_code is not None else 0
        try:
            container = await self._docker(self._container)
        except docker.errors.NotFound:
            return 0
        except (GPUKernelsError, docker.errors.DockerException, OSError) as e:
            # Not "dead": the kernel may well be running there. Say so, and let the restarter wait.
            if self.host_error is None:
                self.log.warning("kernel %s: host %s is unreachable, its state is unknown: %s", self.kernel_id, self.host, e)
            self.host_error = f"host {self.host!r} is unreachable: {e}"
            return None
        if self.host_error is not None:
            self.log.info("kernel %s: host %s is reachable again", self.kernel_id, self.host)
            self.host_error = None
        if container.status in ("running", "created", "restarting"):
            return None
        return int(container.attrs.get("State", {}).get("ExitCode", 0))

    async def wait(self) -> int | None:
        while True:
            ret = await self.poll()
            if ret is not None:
                self._exit_code = ret
                return ret
            await asyncio.sleep(0.1)

    async def send_signal(self, signum: int) -> None:
        """Signals go to the container's init, which forwards them to the kernel (interrupt = SIGINT)."""
        if self.container_id is None or signum == 0:
            return
        try:
            container = await self._docker(self._container)
            await self._docker(container.kill, signal=int(signum))
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as e:
            if "is not running" in str(e):
                return
            raise

    async def kill(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        """Remove the container; on restart a new one is created with the same plan and GPUs."""
        if self.container_id is None:
            return
        try:
            container = await self._docker(self._container)
            await self._docker(self._remove, container)
        except docker.errors.NotFound:
            pass
        except GPUKernelsError as e:
            self.log.warning("kernel %s: could not remove its container: %s", self.kernel_id, e)
        self._cancel_tunnels()
        self.container_id = None
        if not restart:
            self.gpu_ids = []

    async def shutdown_requested(self, restart: bool = False) -> None:
        return None

    def get_shutdown_wait_time(self, recommended: float = 5.0) -> float:
        return max(recommended, 5.0)

    def get_stable_start_time(self, recommended: float = 10.0) -> float:
        return recommended

    async def get_provisioner_info(self) -> dict[str, Any]:
        info = await super().get_provisioner_info()
        info.update(
            {
                "container_id": self.container_id,
                "container_ip": self.container_ip,
                "host": self.host,
                "gpu_ids": list(self.gpu_ids),
            }
        )
        return info

    async def load_provisioner_info(self, provisioner_info: dict) -> None:
        await super().load_provisioner_info(provisioner_info)
        self.container_id = provisioner_info.get("container_id")
        self.container_ip = provisioner_info.get("container_ip")
        self.host = provisioner_info.get("host") or self.host
        self.gpu_ids = list(provisioner_info.get("gpu_ids") or [])
        self._host = self._hosts().get(self.host)

    def resolve_path(self, path_str: str) -> str | None:
        """Paths the kernel reports are host paths too when the root directory is mounted 1:1."""
        path = os.path.expanduser(path_str)
        if not os.path.isabs(path) and self._plan and self._plan.working_dir:
            path = os.path.join(self._plan.working_dir, path)
        return path if os.path.exists(path) else None
