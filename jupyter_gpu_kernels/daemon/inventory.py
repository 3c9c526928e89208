"""GPU inventory per Docker host, who holds what, and allocation.

The Docker daemon does no GPU scheduling (``count=1`` always means GPU 0), so we
pick device ids ourselves. Holders are read from our container labels on the
daemon, so they survive a server restart and are shared by every Jupyter server
using that daemon.

Inventory sources, in order: NVML (only when the daemon is on this machine),
the daemon's CDI ``DiscoveredDevices`` (Engine API ≥ 1.50), and a short-lived
probe container running ``nvidia-smi`` (works on remote daemons). "No GPU
driver" is a normal state of a host, reported in :class:`Inventory`, not an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from datetime import datetime, timezone
from dataclasses import asdict, dataclass, field
from typing import Any

import docker
import docker.errors
from docker.types import DeviceRequest

from . import labels as L
from .records import KernelContainer
from ..errors import GPUUnavailableError, NoGPUDriverError
from ..specs.gpus import GPURequest
from ..hosts.registry import DockerHost

QUERY_FIELDS = "index,uuid,name,memory.total,memory.used,utilization.gpu"
NVIDIA_SMI = ["nvidia-smi", f"--query-gpu={QUERY_FIELDS}", "--format=csv,noheader,nounits"]
CACHE_SECONDS = 5.0
NO_DEVICE_DRIVER = "could not select device driver"  # the daemon's words when no GPU driver is registered
NO_DRIVER = "no GPU driver on this host (NVIDIA Container Toolkit not installed in its Docker daemon)"




@dataclass
class GPU:
    index: str
    uuid: str
    name: str
    memory_total_mib: int | None = None
    memory_used_mib: int | None = None
    utilization_pct: int | None = None
    holders: list[KernelContainer] = field(default_factory=list)

    @property
    def ids(self) -> set[str]:
        return {i for i in (self.index, self.uuid) if i}


@dataclass
class Inventory:
    host: str
    driver: bool
    source: str  # nvml | cdi | nvidia-smi | none
    gpus: list[GPU]
    error: str | None = None
    checked: float = 0.0

    def to_json(self) -> dict:
        data = asdict(self)
        for gpu, out in zip(self.gpus, data["gpus"]):
            out["holders"] = [h.holder_json() for h in gpu.holders]
        data["status"] = self.status
        return data

    @property
    def status(self) -> str:
        if self.error and not self.driver:
            return self.error
        return f"{len(self.gpus)} GPU(s) via {self.source}"

    def find(self, device: str) -> GPU | None:
        device = device_key(device)
        for gpu in self.gpus:
            if device in gpu.ids:
                return gpu
        return None


# ---------------------------------------------------------------- inventory sources
def _int(text: str) -> int | None:
    try:
        return int(float(text))
    except (TypeError, ValueError):
        return None


def parse_nvidia_smi(text: str) -> list[GPU]:
    gpus = []
    for line in text.strip().splitlines():
        cols = [c.strip() for c in line.split(",")]
        if len(cols) < 6 or not cols[0].isdigit():
            continue
        gpus.append(GPU(cols[0], cols[1], cols[2], _int(cols[3]), _int(cols[4]), _int(cols[5])))
    return gpus


def nvml_inventory() -> list[GPU] | None:
    """GPUs of this machine via NVML, or None when NVML (the driver) is not available here."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return None
    try:
        gpus = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            mem = pynvml.nvmlDeviceGetMemoryInfo(h)
            try:
                util = pynvml.nvmlDeviceGetUtilizationRates(h).gpu
            except pynvml.NVMLError:
                util = None
            name = pynvml.nvmlDeviceGetName(h)
            uuid = pynvml.nvmlDeviceGetUUID(h)
            gpus.append(
                GPU(
                    str(i),
                    uuid.decode() if isinstance(uuid, bytes) else uuid,
                    name.decode() if isinstance(name, bytes) else name,
                    mem.total // 2**20,
                    mem.used // 2**20,
                    util,
                )
            )
        return gpus
    finally:
        with contextlib.suppress(pynvml.NVMLError):
            pynvml.nvmlShutdown()


def cdi_inventory(client: docker.DockerClient) -> list[GPU] | None:
    devices = (client.info() or {}).get("DiscoveredDevices") or []
    gpus = []
    for dev in devices:
        ident = str(dev.get("ID", ""))
        if dev.get("Source") == "cdi" and ident.startswith("nvidia.com/gpu=") and not ident.endswith("=all"):
            name = ident.split("=", 1)[1]
            gpus.append(GPU(name if name.isdigit() else "", name if not name.isdigit() else "", ident))
    return gpus or None


def probe_inventory(client: docker.DockerClient, image: str) -> tuple[list[GPU] | None, str | None]:
    """Run nvidia-smi in a short-lived container with all GPUs. (gpus, error)."""
    container = None
    try:
        container = client.containers.create(
            image,
            command=NVIDIA_SMI,
            entrypoint=[],
            device_requests=[DeviceRequest(count=-1, capabilities=[["gpu", "utility"]])],
            network_mode="none",
            labels={f"{L.PREFIX}.probe": "true"},
            user="0:0",
        )
        container.start()
        result = container.wait(timeout=60)
        out = container.logs(stdout=True, stderr=False).decode(errors="replace")
        if result.get("StatusCode", 1) != 0:
            err = container.logs(stdout=False, stderr=True).decode(errors="replace").strip()
            return None, f"nvidia-smi failed in probe container: {err or out.strip()}"[:500]
        return parse_nvidia_smi(out), None
    except docker.errors.APIError as e:
        text = str(e.explanation or e)
        if NO_DEVICE_DRIVER in text:
            return None, NO_DRIVER
        return None, f"GPU probe failed: {text}"[:500]
    finally:
        if container is not None:
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)


def others_of(gpu: "GPU", kernel_id: str, shared: bool) -> list["KernelContainer"]:
    return [h for h in gpu.holders if h.kernel_id != kernel_id and not (shared and h.gpu_shared)]


def device_key(device: str) -> str:
    """CDI names (nvidia.com/gpu=1, nvidia.com/gpu=GPU-…) and plain ids compare by their id part."""
    return device.split("=", 1)[1] if "/" in device and "=" in device else device


def kernel_containers(client: docker.DockerClient) -> list[Any]:
    """Our live kernel containers on the daemon (exited ones hold nothing; created ones already do)."""
    containers = client.containers.list(all=True, filters={"label": L.KERNEL_ID})
    return [c for c in containers if c.status in ("created", "running", "restarting", "paused")]


def _held_ids(c: Any) -> list[str]:
    return [device_key(g) for g in c.labels.get(L.GPUS, "").split(",") if g]


# ---------------------------------------------------------------- allocator
class GPUAllocator:
    """Inventory cache and allocation for one host. One instance per host name per process."""

    _instances: dict[str, "GPUAllocator"] = {}
    _guard = threading.Lock()

    def __init__(self, host: DockerHost) -> None:
        self.host = host
        self._tlock = threading.Lock()
        self._cached: Inventory | None = None
        self.probe_image: str | None = None

    @classmethod
    def for_host(cls, host: DockerHost) -> "GPUAllocator":
        with cls._guard:
            inst = cls._instances.get(host.name)
            if inst is None or inst.host.url != host.url:
                inst = cls._instances[host.name] = cls(host)
            inst.host = host
            return inst

    @contextlib.asynccontextmanager
    async def lock(self, client: docker.DockerClient | None = None, image: str | None = None) -> Any:
        """Held from allocation until the container (with its GPU labels) exists: no two kernels collide.

        Within this process a thread lock serializes kernel managers of any event loop or thread
        (polled, so a cancelled waiter never ends up holding it). With ``client`` and ``image``,
        a mutex on the daemon itself (a container name, which the daemon keeps unique) also
        serializes other Jupyter servers allocating on the same daemon."""
        while not self._tlock.acquire(blocking=False):
            await asyncio.sleep(0.005)
        mutex = None
        try:
            if client is not None and image:
                mutex = await asyncio.to_thread(acquire_daemon_mutex, client, image, self.host.name)
            yield
        finally:
            if mutex is not None:
                await asyncio.to_thread(release_daemon_mutex, mutex)
            self._tlock.release()

    def devices(self, client: docker.DockerClient, image: str | None = None, max_age: float = CACHE_SECONDS) -> Inventory:
        """The host's GPUs without holders (cached for ``max_age`` seconds)."""
        cached = self._cached
        if cached is not None and time.time() - cached.checked < max_age:
            return cached
        if image:
            self.probe_image = image
        inv = self._discover(client)
        inv.checked = time.time()
        self._cached = inv
        return inv

    def _discover(self, client: docker.DockerClient) -> Inventory:
        if self.host.is_local:
            gpus = nvml_inventory()
            if gpus:
                return Inventory(self.host.name, True, "nvml", gpus)
        try:
            gpus = cdi_inventory(client)
        except docker.errors.APIError:
            gpus = None
        if gpus:
            return Inventory(self.host.name, True, "cdi", gpus)
        image = self.probe_image or any_image(client)
        if image is None:
            return Inventory(self.host.name, False, "none", [], "no image on this host to probe GPUs with")
        gpus, error = probe_inventory(client, image)
        if gpus is None:
            return Inventory(self.host.name, error != NO_DRIVER, "none", [], error)
        return Inventory(self.host.name, True, "nvidia-smi", gpus, None if gpus else "the driver reports no GPUs")

    def inventory(self, client: docker.DockerClient, image: str | None = None, max_age: float = CACHE_SECONDS) -> Inventory:
        """Devices plus their current holders (holders are always read fresh from labels)."""
        inv = self.devices(client, image, max_age)
        gpus = [GPU(**{**asdict(g), "holders": []}) for g in inv.gpus]
        result = Inventory(inv.host, inv.driver, inv.source, gpus, inv.error, inv.checked)
        for c in kernel_containers(client):
            ids = _held_ids(c)
            holder = KernelContainer.from_container(c)
            for gpu in gpus:
                if "all" in ids or gpu.ids & set(ids):
                    gpu.holders.append(holder)
        return result

    def allocate(
        self,
        client: docker.DockerClient,
        request: GPURequest,
        kernel_id: str,
        shared: bool = False,
        previous: list[str] | None = None,
        image: str | None = None,
    ) -> list[str]:
        """Concrete device ids for ``request``; call with :meth:`lock` held until the container exists."""
        if request.kind in ("none",):
            return []
        inv = self.inventory(client, image)
        if request.kind == "cdi":
            for name in request.devices:
                gpu = inv.find(name)
                if gpu is not None and others_of(gpu, kernel_id, shared):
                    raise GPUUnavailableError(
                        f"GPU {name} on host {self.host.name!r} is in use by "
                        f"{', '.join(h.describe() for h in others_of(gpu, kernel_id, shared))}"
                    )
            return list(request.devices)
        if not inv.driver:
            raise NoGPUDriverError(
                f"GPUs were requested ({request}) but host {self.host.name!r} has {inv.error or NO_DRIVER}. "
                "Install the NVIDIA Container Toolkit there and restart dockerd, or choose gpus=none."
            )

        def others(gpu: GPU) -> list[KernelContainer]:
            """Holders that exclude us: co-location needs *both* kernels to opt into sharing."""
            return [h for h in gpu.holders if h.kernel_id != kernel_id and not (shared and h.gpu_shared)]

        def busy_text() -> str:
            held = [f"GPU {g.index} by {', '.join(h.describe() for h in g.holders)}" for g in inv.gpus if g.holders]
            free = [g.index for g in inv.gpus if not g.holders]
            return (f"held: {'; '.join(held) or 'none'}; free: {', '.join(free) or 'none'}")

        if previous:
            request = GPURequest("devices", devices=tuple(previous))
        if request.kind == "all":
            taken = [g for g in inv.gpus if others(g)]
            if taken:
                raise GPUUnavailableError(
                    f"all GPUs of host {self.host.name!r} were requested but some are in use ({busy_text()}); "
                    "ask for free ones, or enable GPU sharing"
                )
            return [g.index for g in inv.gpus] if inv.gpus else []
        if request.kind == "devices":
            chosen = []
            for dev in request.devices:
                gpu = inv.find(dev)
                if gpu is None and inv.gpus:
                    known = ", ".join(f"{g.index} ({g.uuid})" for g in inv.gpus)
                    raise GPUUnavailableError(f"GPU {dev!r} does not exist on host {self.host.name!r}; it has: {known}")
                if gpu is not None and others(gpu):
                    raise GPUUnavailableError(
                        f"GPU {dev} on host {self.host.name!r} is in use by "
                        f"{', '.join(h.describe() for h in others(gpu))}; {busy_text()}"
                    )
                chosen.append(dev)
            return chosen
        # a count: the N least-used free GPUs
        if request.count > len(inv.gpus):
            raise GPUUnavailableError(
                f"{request.count} GPU(s) requested but host {self.host.name!r} has only {len(inv.gpus)}"
            )
        candidates = [g for g in inv.gpus if not others(g)]
        candidates.sort(key=lambda g: (len(g.holders), g.utilization_pct or 0, g.memory_used_mib or 0, int(g.index)))
        if len(candidates) < request.count:
            raise GPUUnavailableError(
                f"no free GPU on host {self.host.name!r} for a request of {request.count}: {busy_text()}. "
                "Shut down a kernel, or enable GPU sharing"
            )
        return sorted((g.index for g in candidates[: request.count]), key=int)


MUTEX_NAME = "jupyter-gpu-kernels-gpu-allocation"
MUTEX_STALE_SECONDS = 60.0
MUTEX_WAIT_SECONDS = 30.0


def _created_age(container: Any) -> float:
    created = str(container.attrs.get("Created", ""))
    try:  # e.g. 2026-11-23T17:20:01.123456789Z: keep microseconds
        head, _, frac = created.rstrip("Z").partition(".")
        stamp = datetime.fromisoformat(head).replace(tzinfo=timezone.utc).timestamp() + float(f"0.{frac or 0}"[:8])
    except ValueError:
        return 0.0
    return time.time() - stamp


def acquire_daemon_mutex(client: docker.DockerClient, image: str, host_name: str) -> Any:
    """Create the (never started) mutex container; a name conflict means another server holds it."""
    deadline = time.monotonic() + MUTEX_WAIT_SECONDS
    while True:
        try:
            return client.containers.create(
                image, command=["true"], entrypoint=[], name=MUTEX_NAME, network_mode="none",
                labels={f"{L.PREFIX}.mutex": "gpu-allocation"},
            )
        except docker.errors.APIError as e:
            if e.status_code != 409:
                raise
        try:
            holder = client.containers.get(MUTEX_NAME)
            if _created_age(holder) > MUTEX_STALE_SECONDS:  # its server died while allocating
                holder.remove(force=True)
                continue
        except docker.errors.NotFound:
            continue
        if time.monotonic() > deadline:
            raise GPUUnavailableError(
                f"another Jupyter server has been allocating GPUs on host {host_name!r} for "
                f"{MUTEX_WAIT_SECONDS:.0f}s; try again in a moment"
            )
        time.sleep(0.02)


def release_daemon_mutex(mutex: Any) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        mutex.remove(force=True)


def any_image(client: docker.DockerClient) -> str | None:
    for image in client.images.list():
        if image.tags:
            return image.tags[0]
    return None
