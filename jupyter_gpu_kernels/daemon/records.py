"""What a kernel container is: the one record behind its Docker labels.

State lives on the daemon: every kernel container carries ``org.jupyter.gpu-kernels.*``
labels, so any Jupyter server (or CLI) using that daemon can find kernels, their GPUs and
their owners again. :class:`KernelContainer` is the only code that writes those labels
(:meth:`KernelContainer.to_labels`, called when the launch plan is built) and the only code
that reads them back (:meth:`KernelContainer.from_container`, used by the GPU allocator's
holder list, the REST kernel list, the CLI and the sidebar's data). Pure data, no daemon
calls apart from :func:`list_kernel_containers`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from . import labels as L

RESERVED_SUFFIX = "-old"  # a restarting kernel's old container, renamed: its reservation (see kernel/watch.py)


@dataclass(frozen=True)
class KernelContainer:
    """One kernel container, as its labels (and Docker's state) describe it."""

    kernel_id: str
    host: str = ""
    image: str = ""
    environment: str = ""
    notebook: str = ""
    gpu_request: str = ""
    gpus: str = ""  # the device ids it holds, comma-separated ('' for none, 'all' for all)
    gpu_shared: bool = False
    server: str = ""  # hostname:pid of the server (or client process) that started it
    owner: str = ""  # the OS user who started it
    started: str = ""  # ISO 8601, UTC
    owner_id: str = ""  # the owner's lease id (a server's persisted id, or one per client process)
    owner_start: str = ""  # the owner process's start time (/proc), so a reused pid is not taken for it
    orphan_timeout: str = ""  # seconds the kernel outlives its owner ('' : never reaped, older containers)
    # from Docker, not from labels:
    container: str = ""  # short id
    state: str = ""  # Docker's status: created, running, exited, …
    reserved: bool = False  # the old container of a restart in progress: holds its GPUs even when stopped

    def to_labels(self) -> dict[str, str]:
        """The labels this record is stored as (the Docker-side fields are not labels)."""
        return {
            L.KERNEL_ID: self.kernel_id,
            L.HOST: self.host,
            L.IMAGE: self.image,
            L.ENVIRONMENT: self.environment,
            L.NOTEBOOK: self.notebook,
            L.GPU_REQUEST: self.gpu_request,
            L.GPUS: self.gpus,
            L.GPU_SHARED: "true" if self.gpu_shared else "false",
            L.SERVER: self.server,
            L.OWNER: self.owner,
            L.STARTED: self.started,
            L.OWNER_ID: self.owner_id,
            L.OWNER_START: self.owner_start,
            L.ORPHAN_TIMEOUT: self.orphan_timeout,
        }

    @classmethod
    def from_labels(cls, labels: dict[str, str], container: str = "", state: str = "") -> KernelContainer:
        get = labels.get
        return cls(
            kernel_id=get(L.KERNEL_ID, ""),
            host=get(L.HOST, ""),
            image=get(L.IMAGE, ""),
            environment=get(L.ENVIRONMENT, ""),
            notebook=get(L.NOTEBOOK, ""),
            gpu_request=get(L.GPU_REQUEST, ""),
            gpus=get(L.GPUS, ""),
            gpu_shared=get(L.GPU_SHARED) == "true",
            server=get(L.SERVER, ""),
            owner=get(L.OWNER, ""),
            started=get(L.STARTED, ""),
            owner_id=get(L.OWNER_ID, ""),
            owner_start=get(L.OWNER_START, ""),
            orphan_timeout=get(L.ORPHAN_TIMEOUT, ""),
            container=container,
            state=state,
        )

    @classmethod
    def from_container(cls, c: Any) -> KernelContainer:
        """From a docker-py ``Container`` (labels, short id and status)."""
        rec = cls.from_labels(c.labels or {}, container=c.short_id, state=c.status)
        return replace(rec, reserved=True) if (c.name or "").endswith(RESERVED_SUFFIX) else rec

    def with_gpus(self, gpu_ids: list[str], all_gpus: bool = False) -> KernelContainer:
        return replace(self, gpus=",".join(gpu_ids) if gpu_ids else ("all" if all_gpus else ""))

    @property
    def gpu_ids(self) -> list[str]:
        return [g for g in self.gpus.split(",") if g and g != "all"]

    def describe(self) -> str:
        """How error messages name a holder: 'kernel 1a2b3c4d (notebook 'x.ipynb')'."""
        where = f"notebook {self.notebook!r}" if self.notebook else f"environment {self.environment!r}"
        return f"kernel {self.kernel_id[:8]} ({where})"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def holder_json(self) -> dict[str, Any]:
        """The REST API's GPU-holder shape (``since``, ``shared``: see docs/openapi.yaml)."""
        return {
            "kernel_id": self.kernel_id,
            "container": self.container,
            "notebook": self.notebook,
            "environment": self.environment,
            "image": self.image,
            "since": self.started,
            "server": self.server,
            "shared": self.gpu_shared,
        }


def list_kernel_containers(client: Any, host_name: str | None = None) -> list[KernelContainer]:
    """Every kernel container on this daemon (running or not), as records.

    ``host_name`` fills in the host for containers created before the host label existed.
    """
    out = []
    # ignore_removed: a container removed between the daemon's list and docker-py's inspect of it
    # (a kernel shutting down, a restart replacing its container) is gone, not an error
    for c in client.containers.list(all=True, filters={"label": L.KERNEL_ID}, ignore_removed=True):
        rec = KernelContainer.from_container(c)
        if host_name and not rec.host:
            rec = replace(rec, host=host_name)
        out.append(rec)
    return out
