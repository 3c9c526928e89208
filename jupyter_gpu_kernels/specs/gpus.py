"""GPU requests, spelled as users know them from ``docker run --gpus``.

Accepted forms::

    none                      no GPU (default)
    all                       every GPU of the host
    N                         N GPUs, picked by the allocator (free, least used first)
    device=0,2                GPUs by index
    device=GPU-…,MIG-…        GPUs or MIG instances by UUID
    nvidia.com/gpu=0[,…]      CDI device names (any vendor.com/class=name)

A request is parsed and validated before any container exists; turning it into
Docker ``DeviceRequest`` objects happens once concrete device ids are known.
``gpu_spec_cases.json`` (next to this file) is the table of specs and what they mean that this
module and the sidebar (labextension/src/format.ts, formState.ts) are both tested against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from docker.types import DeviceRequest

from ..errors import SpecError

ACCEPTED_FORMS = (
    "none | all | N (a count, e.g. 1) | device=0,2 (indices) | "
    "device=GPU-<uuid>,MIG-<uuid> (UUIDs) | nvidia.com/gpu=0 (CDI names)"
)

# all matched with fullmatch: ASCII digits only (str.isdigit() accepts '²' and '١'), no trailing newline
_COUNT = re.compile(r"[0-9]+")
_INDEX = re.compile(r"[0-9]{1,3}")
_UUID = re.compile(r"(GPU|MIG)-[0-9A-Za-z][0-9A-Za-z/\-]*")
_CDI = re.compile(r"[a-z0-9][a-z0-9.\-]*\.[a-z]{2,}/[a-zA-Z0-9][a-zA-Z0-9_.\-]*=[a-zA-Z0-9_.:\-]+")


@dataclass(frozen=True)
class GPURequest:
    """What the user asked for; ``kind`` is one of none, all, count, devices, cdi."""

    kind: str
    count: int = 0
    devices: tuple[str, ...] = field(default_factory=tuple)

    @property
    def wants_gpu(self) -> bool:
        return self.kind != "none"

    @property
    def wants_all(self) -> bool:
        """``all``, or a CDI name for every device of its class (``nvidia.com/gpu=all``): no count to cap."""
        return self.kind == "all" or (self.kind == "cdi" and any(cdi_all(d) for d in self.devices))

    def __str__(self) -> str:
        if self.kind in ("none", "all"):
            return self.kind
        if self.kind == "count":
            return str(self.count)
        if self.kind == "devices":
            return "device=" + ",".join(self.devices)
        return ",".join(self.devices)


def parse_gpus(spec: object) -> GPURequest:
    """Parse a ``--gpus`` style spec; raise :class:`SpecError` naming the accepted forms."""
    if spec is None:
        return GPURequest("none")
    if isinstance(spec, bool):
        raise SpecError(f"invalid GPU spec {spec!r}: expected one of {ACCEPTED_FORMS}")
    if isinstance(spec, int):
        spec = str(spec)
    if not isinstance(spec, str):
        raise SpecError(f"invalid GPU spec {spec!r}: expected one of {ACCEPTED_FORMS}")
    text = spec.strip()
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        text = text[1:-1].strip()
    low = text.lower()
    if low in ("", "none", "0"):
        return GPURequest("none")
    if low == "all":
        return GPURequest("all")
    if _COUNT.fullmatch(text):
        n = int(text)
        if n > 256:
            raise SpecError(f"invalid GPU spec {spec!r}: a count must be between 0 and 256")
        return GPURequest("count", count=n)
    if low.startswith("count="):
        return parse_gpus(text.split("=", 1)[1])
    if low.startswith("device="):
        ids = [p.strip() for p in text.split("=", 1)[1].split(",")]
        if not ids or any(not p for p in ids):
            raise SpecError(
                f"invalid GPU spec {spec!r}: 'device=' needs a comma-separated list of "
                f"indices or UUIDs; accepted forms: {ACCEPTED_FORMS}"
            )
        for p in ids:
            if not (_INDEX.fullmatch(p) or _UUID.fullmatch(p)):
                raise SpecError(
                    f"invalid GPU spec {spec!r}: {p!r} is neither a GPU index (0, 1, …) nor a "
                    f"UUID (GPU-…, MIG-…); accepted forms: {ACCEPTED_FORMS}"
                )
        if len(set(ids)) != len(ids):
            raise SpecError(f"invalid GPU spec {spec!r}: a device is listed twice")
        return GPURequest("devices", devices=tuple(ids))
    if "/" in text and "=" in text:
        names = [p.strip() for p in text.split(",")]
        for p in names:
            if not _CDI.fullmatch(p):
                raise SpecError(
                    f"invalid GPU spec {spec!r}: {p!r} is not a CDI device name "
                    f"(vendor.com/class=name, e.g. nvidia.com/gpu=0); accepted forms: {ACCEPTED_FORMS}"
                )
        return GPURequest("cdi", devices=tuple(names))
    raise SpecError(f"invalid GPU spec {spec!r}: expected one of {ACCEPTED_FORMS}")


def cdi_all(name: str) -> bool:
    """Whether a CDI device name names every device of its class (``vendor.com/class=all``)."""
    return name.rpartition("=")[2] == "all"


def describe_gpus(request: GPURequest) -> str:
    """The words users see for ``request`` ("no GPU", "all GPUs", "2 GPUs", "GPUs 0, 2"), the same
    as the sidebar's ``describeGpuRequest`` (both checked against gpu_spec_cases.json)."""
    if request.kind == "none":
        return "no GPU"
    if request.kind == "all":
        return "all GPUs"
    if request.kind == "count":
        return f"{request.count} GPU" + ("" if request.count == 1 else "s")
    if request.kind == "devices":
        return ("GPU " if len(request.devices) == 1 else "GPUs ") + ", ".join(request.devices)
    return ", ".join(request.devices)


def device_requests(request: GPURequest, device_ids: list[str] | None = None) -> list[DeviceRequest]:
    """Docker device requests for ``request``.

    ``device_ids`` are the concrete GPUs chosen by the allocator for count requests
    (the daemon does no scheduling: ``count=1`` would always mean GPU 0).
    """
    if request.kind == "none":
        return []
    if request.kind == "all":
        return [DeviceRequest(count=-1, capabilities=[["gpu"]])]
    if request.kind == "cdi":
        return [DeviceRequest(driver="cdi", device_ids=list(request.devices))]
    ids = list(device_ids if device_ids is not None else request.devices)
    return [DeviceRequest(device_ids=ids, capabilities=[["gpu"]])]
