"""The launch plan: environment settings → one validated, complete container description.

Building a plan does all validation (GPU spec, mounts, sizes, image reference)
and needs no daemon, so bad input fails before anything exists. The provisioner
then only executes the plan.
"""

from __future__ import annotations

import json
import os
import tarfile
import io
import time
from dataclasses import dataclass, field

from ..specs.gpus import GPURequest, device_requests
from ..specs.resources import Mount

CONNECTION_DIR = "/tmp/.jupyter-gpu-kernels"
KERNEL_PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


@dataclass
class LaunchPlan:
    """Everything needed to create the kernel's container."""

    kernel_id: str
    image: str
    argv: list[str]
    env: dict[str, str]
    user: str | None
    working_dir: str | None
    mounts: list[Mount]
    gpus: GPURequest
    gpu_ids: list[str] = field(default_factory=list)
    memory: int | None = None
    cpus: float | None = None
    pids_limit: int | None = None
    shm_size: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    network: str = "bridge"
    publish_ports: bool = False
    publish_address: str = "127.0.0.1"
    host_ports: dict[str, int] = field(default_factory=dict)
    cap_drop: list[str] = field(default_factory=lambda: ["ALL"])
    init: bool = True

    @property
    def container_name(self) -> str:
        return f"jupyter-kernel-{self.kernel_id}"

    @property
    def connection_file(self) -> str:
        return f"{CONNECTION_DIR}/kernel-{self.kernel_id}.json"

    def create_kwargs(self, ports: dict[str, int]) -> dict:
        """Keyword arguments for ``client.containers.create``."""
        kwargs: dict = {
            "image": self.image,
            "command": self.argv,
            "name": self.container_name,
            "environment": self.env,
            "labels": self.labels,
            "detach": True,
            "init": self.init,
            "security_opt": ["no-new-privileges"],
            "cap_drop": self.cap_drop or None,
            "network": self.network,
            "volumes": [m.to_docker() for m in self.mounts],
            "device_requests": device_requests(self.gpus, self.gpu_ids or None) or None,
            "shm_size": self.shm_size,
            "mem_limit": self.memory,
            "nano_cpus": int(self.cpus * 1e9) if self.cpus else None,
            "pids_limit": self.pids_limit,
            "stdin_open": False,
            "tty": False,
        }
        if self.user:
            kwargs["user"] = self.user
        if self.working_dir:
            kwargs["working_dir"] = self.working_dir
        if self.publish_ports:
            # loopback: the kernel manager's own (free) port numbers, stable across restarts;
            # elsewhere: the previous host ports on a restart, else any free ones
            kwargs["ports"] = {
                f"{p}/tcp": (self.publish_address, p if self.publish_address == "127.0.0.1" else self.host_ports.get(name))
                for name, p in ports.items()
            }
        return {k: v for k, v in kwargs.items() if v is not None}

    def connection_archive(self, info: dict, uid: int | None, gid: int | None) -> bytes:
        """A tar with the kernel's connection file (and a writable HOME), to copy into the container.

        Copying it in (instead of bind-mounting a host file) works the same on remote
        hosts and leaves no temp file behind on the server.
        """
        data = json.dumps(info, indent=1).encode()
        buf = io.BytesIO()
        now = time.time()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for name in (".jupyter-gpu-kernels", ".jupyter-gpu-kernels/home"):
                d = tarfile.TarInfo(name)
                d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o700, now
                d.uid, d.gid = uid or 0, gid or 0
                tar.addfile(d)
            f = tarfile.TarInfo(f".jupyter-gpu-kernels/kernel-{self.kernel_id}.json")
            f.size, f.mode, f.mtime = len(data), 0o600, now
            f.uid, f.gid = uid or 0, gid or 0
            tar.addfile(f, io.BytesIO(data))
        return buf.getvalue()


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
    try:
        return int(uid), (int(gid) if gid else int(uid))
    except ValueError:
        return None, None


def server_user() -> str:
    return f"{os.getuid()}:{os.getgid()}"
