"""GPU inventory of one Docker host: the ``GPU``/``Inventory`` data and where it comes from.

Besides the devices, the driver's version and the newest CUDA it supports
(``driver_version``/``cuda_version``: NVML, or nvidia-smi's header) for the image CUDA check
(:mod:`..specs.cuda`). Sources, in order: NVML (only when the daemon is on this machine), the daemon's CDI
``DiscoveredDevices`` (Engine API ≥ 1.50), and a short-lived probe container running
``nvidia-smi`` (works on remote daemons). "No GPU driver" is a normal state of a host,
reported in :class:`Inventory`, not an error.

Called by :class:`~jupyter_gpu_kernels.daemon.allocator.GPUAllocator` (which caches the device
list and adds holders), the CLI (``any_image``) and the tests. It may read the daemon
(``info``, image list) and create/remove the probe container; it keeps no state.
Which kernel holds which GPU, and which GPUs a kernel gets, is decided in
:mod:`~jupyter_gpu_kernels.daemon.gpu_choice`.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import asdict, dataclass, field

import docker
import docker.errors
from docker.types import DeviceRequest

from ..hosts.registry import DockerHost
from . import labels as L
from .records import KernelContainer

QUERY_FIELDS = "index,uuid,name,memory.total,memory.used,utilization.gpu,driver_version"
NVIDIA_SMI = ["nvidia-smi", f"--query-gpu={QUERY_FIELDS}", "--format=csv,noheader,nounits"]
# the CUDA version is only in nvidia-smi's table header ("CUDA Version: 13.0"): print both when sh exists
PROBE_SCRIPT = " ".join(NVIDIA_SMI) + " && { nvidia-smi | head -n 5 || true; }"
_CUDA_HEADER = re.compile(r"CUDA Version:\s*([0-9][0-9.]*)")
_DRIVER_HEADER = re.compile(r"Driver Version:\s*([0-9][0-9.]*)")
NO_DEVICE_DRIVER = "could not select device driver"  # the daemon's words when no GPU driver is registered
NO_DRIVER = "no GPU driver on this host (NVIDIA Container Toolkit not installed in its Docker daemon)"
PROBE_HARDENING = {
    "user": "65534:65534",
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
    "mem_limit": "256m",
    "pids_limit": 64,
}
NO_PROBE_IMAGE = "no image on this host to probe GPUs with"


def device_key(device: str) -> str:
    """CDI names (nvidia.com/gpu=1, nvidia.com/gpu=GPU-…) and plain ids compare by their id part."""
    return device.split("=", 1)[1] if "/" in device and "=" in device else device


@dataclass
class GPU:
    """One device of a host; ``holders`` are the kernel containers holding it (empty in a device list)."""

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

    @property
    def id(self) -> str:
        """The id a kernel is given this GPU by: its index, or its UUID where the source has no index."""
        return self.index or self.uuid


@dataclass
class Inventory:
    """A host's GPUs, whether it has a GPU driver, the source they came from and when."""

    host: str
    driver: bool
    source: str  # nvml | cdi | nvidia-smi | none
    gpus: list[GPU]
    error: str | None = None
    checked: float = 0.0
    driver_version: str | None = None  # e.g. "580.159.03"
    cuda_version: str | None = None  # the newest CUDA the driver supports, e.g. "13.0"

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


def parse_versions(text: str) -> tuple[str | None, str | None]:
    """(driver_version, cuda_version) from nvidia-smi output: the table header, else a 7th CSV column."""
    driver = _DRIVER_HEADER.search(text)
    cuda = _CUDA_HEADER.search(text)
    version = driver.group(1) if driver else None
    if version is None:
        for line in text.strip().splitlines():
            cols = [c.strip() for c in line.split(",")]
            if len(cols) >= 7 and cols[0].isdigit() and cols[6][:1].isdigit():
                version = cols[6]
                break
    return version, cuda.group(1) if cuda else None


def cuda_from_nvml(value: int) -> str:
    """NVML's CUDA driver version integer → 'major.minor' (12040 → '12.4')."""
    return f"{value // 1000}.{value % 1000 // 10}"


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


def nvml_versions() -> tuple[str | None, str | None]:
    """(driver_version, cuda_version) of this machine's driver via NVML
    (``nvmlSystemGetDriverVersion``, ``nvmlSystemGetCudaDriverVersion``); Nones when unknown."""
    try:
        import pynvml
    except ImportError:
        return None, None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return None, None
    driver = cuda = None
    try:
        with contextlib.suppress(pynvml.NVMLError, AttributeError):
            raw = pynvml.nvmlSystemGetDriverVersion()
            driver = raw.decode() if isinstance(raw, bytes) else str(raw)
        with contextlib.suppress(pynvml.NVMLError, AttributeError):
            cuda = cuda_from_nvml(int(pynvml.nvmlSystemGetCudaDriverVersion()))
    finally:
        with contextlib.suppress(pynvml.NVMLError):
            pynvml.nvmlShutdown()
    return driver, cuda


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
    gpus, error, _ = probe_output(client, image)
    return gpus, error


def probe_output(client: docker.DockerClient, image: str) -> tuple[list[GPU] | None, str | None, str]:
    """(gpus, error, nvidia-smi's output): the query and the table header (for the driver's CUDA
    version) through ``sh``, or the query alone in an image without a shell."""
    gpus, error, out = _probe(client, image, ["sh", "-c", PROBE_SCRIPT])
    if error and ("executable file not found" in error or "no such file" in error.lower()):
        gpus, error, out = _probe(client, image, NVIDIA_SMI)
    return gpus, error, out


def _probe(client: docker.DockerClient, image: str, command: list[str]) -> tuple[list[GPU] | None, str | None, str]:
    container = None
    try:
        container = client.containers.create(
            image,
            command=command,
            entrypoint=[],
            device_requests=[DeviceRequest(count=-1, capabilities=[["gpu", "utility"]])],
            network_mode="none",
            labels={f"{L.PREFIX}.probe": "true"},
            environment={"NVIDIA_DISABLE_REQUIRE": "1"},  # any image may probe, whatever CUDA it needs
            # the hardening of kernels (issue #19, 3): the image may be anyone's, so not root, no
            # capabilities, no new privileges, bounded; nvidia-smi needs none of these
            **PROBE_HARDENING,
        )
        container.start()
        result = container.wait(timeout=60)
        out = container.logs(stdout=True, stderr=False).decode(errors="replace")
        if result.get("StatusCode", 1) != 0:
            err = container.logs(stdout=False, stderr=True).decode(errors="replace").strip()
            return None, f"nvidia-smi failed in probe container: {err or out.strip()}"[:500], out
        return parse_nvidia_smi(out), None, out
    except docker.errors.APIError as e:
        text = str(e.explanation or e)
        if NO_DEVICE_DRIVER in text:
            return None, NO_DRIVER, ""
        return None, f"GPU probe failed: {text}"[:500], ""
    finally:
        if container is not None:
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)


def discover(host: DockerHost, client: docker.DockerClient, probe_image: str | None = None) -> Inventory:
    """The host's GPUs (no holders) from the first source that answers; ``checked`` is left 0."""
    if host.is_local:
        gpus = nvml_inventory()
        if gpus:
            driver, cuda = nvml_versions()
            return Inventory(host.name, True, "nvml", gpus, driver_version=driver, cuda_version=cuda)
    try:
        gpus = cdi_inventory(client)
    except docker.errors.APIError:
        gpus = None
    if gpus:
        return Inventory(host.name, True, "cdi", gpus)
    image = probe_image or any_image(client)
    if image is None:
        return Inventory(host.name, False, "none", [], NO_PROBE_IMAGE)
    gpus, error, out = probe_output(client, image)
    if gpus is None:
        return Inventory(host.name, error != NO_DRIVER, "none", [], error)
    driver, cuda = parse_versions(out)
    return Inventory(
        host.name,
        True,
        "nvidia-smi",
        gpus,
        None if gpus else "the driver reports no GPUs",
        driver_version=driver,
        cuda_version=cuda,
    )


def any_image(client: docker.DockerClient) -> str | None:
    for image in client.images.list():
        if image.tags:
            return image.tags[0]
    return None
