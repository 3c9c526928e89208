"""The launch plan and the launch result: what a kernel container should be, and what it became.

Data flows one way: environment → :class:`LaunchPlan` → container → :class:`LaunchResult` →
connection info.

- :class:`LaunchPlan` is built once by the provisioner's ``pre_launch`` from validated
  values (see ``kernel/planning.py``) and never changed afterwards (frozen). Building it
  needs no daemon, so bad input fails before anything exists.
- :class:`Placement` holds the few choices that need the daemon (how the server reaches the
  kernel, which GPUs it got, which address it asks for on a restart), made at launch time.
- :class:`LaunchResult` is what a launch produced (container id, addresses, ports, GPU ids):
  the provisioner keeps it, ``get/load_provisioner_info`` carry it, and a restart hands it
  back so the kernel keeps its GPUs, address and ports.

Pure data and pure functions: no Docker calls here.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import tarfile
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..specs.gpus import GPURequest, device_requests
from ..specs.resources import Mount
from .records import KernelContainer

# The kernel's runtime directory in its container: a top-level directory, so that no notebook
# directory (mounted at its own path: /tmp, /home, ...) covers it. Only "/" would, and no mount may
# target "/" (policy.py check_mount_target).
CONNECTION_DIR = "/.jupyter-gpu-kernels"
CONNECTION_PARENT, CONNECTION_NAME = posixpath.split(CONNECTION_DIR)
# Where containers made by earlier versions have it (adoption, commits): under /tmp, which a server
# started in /tmp (or /) could not mount.
EARLIER_CONNECTION_DIRS = ("/tmp/.jupyter-gpu-kernels",)
# The connection file (with its HMAC key) lives on an anonymous volume of its own, which
# ``docker commit`` never includes, so a committed kernel image carries no live kernel's key. It is
# removed with the container (``remove(v=True)``); the HOME beside it stays in the container's
# layer, so what a user installed there (``pip install --user``) is kept by a commit.
KEY_DIR = f"{CONNECTION_DIR}/run"
KEY_VOLUME_LABEL = "org.jupyter.gpu-kernels.connection-volume"  # value: the kernel id
KERNEL_PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
CONNECTION_MODES = ("direct", "publish", "tunnel", "remote-publish")


@dataclass(frozen=True)
class LaunchPlan:
    """Everything needed to create the kernel's container, validated and complete."""

    kernel_id: str
    image: str
    argv: tuple[str, ...]
    env: dict[str, str]
    user: str | None
    working_dir: str | None
    mounts: tuple[Mount, ...]
    gpus: GPURequest
    record: KernelContainer  # the labels, apart from the GPUs and start time known at launch
    gpu_sharing: bool = False
    memory: int | None = None
    cpus: float | None = None
    pids_limit: int | None = None
    shm_size: int | None = None
    network: str = "bridge"
    cap_drop: tuple[str, ...] = ("ALL",)
    init: bool = True
    pull_policy: str = "missing"
    connection_mode: str = "auto"  # as configured; the effective one is Placement.mode
    publish_address: str = "127.0.0.1"  # for remote-publish hosts (admin host option)
    launch_timeout: float = 60.0
    workspace_volume: str | None = None  # remote hosts: the per-notebook-directory volume
    workspace_dir: str | None = None  # …and where it is mounted
    entrypoint: tuple[str, ...] | None = None  # None: the image's own; (): cleared
    find_python: bool = False  # argv[0] is the default `python`: replace it by the image's interpreter
    derive_ipykernel: bool = True  # an image with Python but no ipykernel: run a derived image (daemon/derive.py)
    tmpfs: tuple[str, ...] = ()  # container paths masked by an empty read-only tmpfs (kernel/boundary.py)
    root_image_user_allowed: bool = (
        True  # False: runs as the image's user and the policy refuses root (kernel/planning.py)
    )
    root_user_fallback: str | None = None  # user "server" on a remote host: who runs it when the image's USER is root

    @property
    def container_name(self) -> str:
        return f"jupyter-kernel-{self.kernel_id}"

    @property
    def connection_file(self) -> str:
        return connection_file_path(self.kernel_id)

    def labels(self, placement: Placement, started: str) -> dict[str, str]:
        record = self.record.with_gpus(list(placement.gpu_ids), all_gpus=self.gpus.kind == "all")
        return replace(record, started=started).to_labels()

    def create_kwargs(self, ports: dict[str, int], placement: Placement, started: str) -> dict[str, Any]:
        """Keyword arguments for ``client.containers.create``."""
        kwargs: dict[str, Any] = {
            "image": self.image,
            "command": list(self.argv),
            "name": self.container_name,
            "environment": dict(self.env),
            "labels": self.labels(placement, started),
            "detach": True,
            "init": self.init,
            "security_opt": ["no-new-privileges"],
            "cap_drop": list(self.cap_drop) or None,
            "network": self.network,
            "volumes": [m.to_docker() for m in self.mounts],
            "device_requests": device_requests(self.gpus, list(placement.gpu_ids) or None) or None,
            "shm_size": self.shm_size,
            "mem_limit": self.memory,
            "nano_cpus": int(self.cpus * 1e9) if self.cpus else None,
            "pids_limit": self.pids_limit,
            "stdin_open": False,
            "tty": False,
            "user": self.user or None,
            "working_dir": self.working_dir or None,
            "mounts": [key_dir_mount(self.kernel_id)],
        }
        if self.tmpfs:
            kwargs["tmpfs"] = {p: "ro,nosuid,nodev,noexec,size=16k,mode=0500" for p in self.tmpfs}
        if self.entrypoint is not None:
            kwargs["entrypoint"] = list(self.entrypoint)
        if placement.publishes:
            # loopback: the kernel manager's own (free) port numbers, stable across restarts;
            # elsewhere: the previous host ports on a restart, else any free ones
            address = placement.publish_address
            kwargs["ports"] = {
                f"{p}/tcp": (address, p if address == "127.0.0.1" else placement.host_ports.get(name))
                for name, p in ports.items()
            }
        return {k: v for k, v in kwargs.items() if v is not None}

    def connection_archive(self, info: dict, uid: int | None, gid: int | None) -> bytes:
        """A tar with the kernel's connection file (and a writable HOME), to extract at :data:`CONNECTION_PARENT`.

        Copying it in (instead of bind-mounting a host file) works the same on remote
        hosts and leaves no temp file behind on the server.
        """
        data = json.dumps(container_connection_info(info), indent=1).encode()
        buf = io.BytesIO()
        now = time.time()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for name in (CONNECTION_NAME, f"{CONNECTION_NAME}/home", f"{CONNECTION_NAME}/run"):
                d = tarfile.TarInfo(name)
                d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o700, now
                d.uid, d.gid = uid or 0, gid or 0
                tar.addfile(d)
            f = tarfile.TarInfo(f"{CONNECTION_NAME}/run/kernel-{self.kernel_id}.json")
            f.size, f.mode, f.mtime = len(data), 0o600, now
            f.uid, f.gid = uid or 0, gid or 0
            tar.addfile(f, io.BytesIO(data))
        return buf.getvalue()

    def workspace_owner_archive(self, uid: int, gid: int | None) -> bytes:
        """A tar whose only entry is the workspace directory owned by the kernel's user: extracting
        it (before start, no capabilities needed) makes a new root-owned volume writable."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            d = tarfile.TarInfo((self.workspace_dir or "").strip("/"))
            d.type, d.mode, d.uid, d.gid, d.mtime = tarfile.DIRTYPE, 0o755, uid, gid or uid, time.time()
            tar.addfile(d)
        return buf.getvalue()


@dataclass(frozen=True)
class Placement:
    """The launch-time choices that need the daemon: connection mode, GPUs, requested address."""

    mode: str  # one of CONNECTION_MODES
    gpu_ids: tuple[str, ...] = ()
    publish_address: str = "127.0.0.1"
    host_ports: dict[str, int] = field(default_factory=dict)  # remote-publish: previous host ports
    ip: str | None = None  # direct mode on the kernel network: the address to ask for (restart)

    @property
    def publishes(self) -> bool:
        return self.mode in ("publish", "remote-publish")


@dataclass(frozen=True)
class LaunchResult:
    """What a launch produced; what ``get/load_provisioner_info`` carry."""

    container_id: str
    host: str
    mode: str
    address: str  # where the server connects
    ports: dict[str, int]  # the ports the server connects to (published or forwarded ones)
    container_ip: str | None = None  # the container's own address on its network
    container_ports: dict[str, int] = field(default_factory=dict)  # the ports inside the container
    gpu_ids: tuple[str, ...] = ()

    @property
    def reusable_ports(self) -> dict[str, int]:
        """Ports a restart should get again so connected clients keep working (forwards, remote publishes)."""
        return dict(self.ports) if self.mode in ("tunnel", "remote-publish") else {}

    def kernel_ports(self, server_ports: dict[str, int]) -> dict[str, int]:
        """The ports a restarted kernel binds in its container, given the kernel manager's ``server_ports``.

        With forwards or remote publishes the kernel manager holds the ports the server connects to
        (local forwards on 127.0.0.1 here, or the remote's published ports), not the container's. A
        same-ports restart keeps those for the server and gives the new container its predecessor's own
        ports again: the two sets stay apart instead of the server's numbers leaking into the container
        (one set per namespace). New ports asked for (``newports``) are used as they are.
        """
        if self.reusable_ports and self.container_ports and server_ports == self.ports:
            return dict(self.container_ports)
        return dict(server_ports)

    def to_info(self) -> dict[str, Any]:
        data = asdict(self)
        data["gpu_ids"] = list(self.gpu_ids)
        return data

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> LaunchResult | None:
        if not info.get("container_id"):
            return None
        return cls(
            container_id=str(info["container_id"]),
            host=str(info.get("host") or ""),
            mode=str(info.get("mode") or "direct"),
            address=str(info.get("address") or info.get("container_ip") or ""),
            ports={k: int(v) for k, v in (info.get("ports") or {}).items()},
            container_ip=info.get("container_ip"),
            container_ports={k: int(v) for k, v in (info.get("container_ports") or {}).items()},
            gpu_ids=tuple(info.get("gpu_ids") or ()),
        )


def connection_file_path(kernel_id: str) -> str:
    return f"{KEY_DIR}/kernel-{kernel_id}.json"


def earlier_connection_file_paths(kernel_id: str) -> tuple[str, ...]:
    """Where containers made by earlier versions have it (adoption of such a kernel): on a volume
    at ``run/`` of an earlier connection directory, or, before that volume existed, in the directory."""
    return tuple(
        path
        for d in EARLIER_CONNECTION_DIRS
        for path in (f"{d}/run/kernel-{kernel_id}.json", f"{d}/kernel-{kernel_id}.json")
    )


def is_runtime_path(path: str) -> bool:
    """Whether ``path`` (in a container) lies in a kernel runtime directory, this version's or an earlier one."""
    return any(path == d or path.startswith(d + "/") for d in (CONNECTION_DIR, *EARLIER_CONNECTION_DIRS))


def key_dir_mount(kernel_id: str) -> dict[str, Any]:
    """The anonymous volume at :data:`KEY_DIR` (a Docker ``Mount``; labelled so a leak is findable).
    A tmpfs would not do: the connection file is copied in before the container starts."""
    return {
        "Target": KEY_DIR,
        "Source": "",
        "Type": "volume",
        "ReadOnly": False,
        "VolumeOptions": {"Labels": {KEY_VOLUME_LABEL: kernel_id}},
    }


def container_connection_info(info: dict) -> dict:
    """The kernel-side connection file: same ports and keys, bound on all container interfaces."""
    out = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in info.items()}
    out["ip"] = "0.0.0.0"
    out["transport"] = "tcp"
    return out


def parse_user(user: str) -> tuple[int | None, int | None]:
    """'1000:100' → (1000, 100); names or empty → (None, None)."""
    if not user:
        return None, None
    uid, _, gid = user.partition(":")
    if not (uid.isascii() and uid.isdigit()) or (gid and not (gid.isascii() and gid.isdigit())):
        return None, None
    return int(uid), (int(gid) if gid else int(uid))


def server_user() -> str:
    return f"{os.getuid()}:{os.getgid()}"
