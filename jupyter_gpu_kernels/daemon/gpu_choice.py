"""Which GPUs a kernel gets: a pure function of the inventory, the holders and the request.

The Docker daemon does no GPU scheduling (``count=1`` always means GPU 0), so we pick
device ids ourselves. :func:`attach_holders` says who holds what (from
:class:`~jupyter_gpu_kernels.daemon.records.KernelContainer` records: an exited container holds
nothing); :func:`choose_gpus` turns (device list, holders, request, sharing, previous ids) into
concrete device ids, or raises :class:`GPUUnavailableError` / :class:`NoGPUDriverError` naming
the holders. Rules: least used first; exclusive unless *both* kernels opt into sharing; a
holder that is the same kernel never blocks; a restart keeps its previous GPUs.

Called by :class:`~jupyter_gpu_kernels.daemon.allocator.GPUAllocator` (which gathers the
inputs from the daemon under its lock) and by unit tests. No I/O, no state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from ..errors import GPUUnavailableError, NoGPUDriverError
from ..specs.gpus import GPURequest, cdi_all
from .inventory import GPU, NO_DRIVER, Inventory, device_key
from .records import KernelContainer

LIVE_STATES = ("created", "running", "restarting", "paused")  # a created container already holds its GPUs


def held_ids(holder: KernelContainer) -> set[str]:
    """The device ids a kernel container holds ('all' for all), CDI names reduced to their id part.
    A stopped container holds nothing, unless it is a restart's reservation (its kernel comes back)."""
    if holder.state and holder.state not in LIVE_STATES and not holder.reserved:
        return set()
    return {device_key(g) for g in holder.gpus.split(",") if g}


def attach_holders(devices: Inventory, holders: Iterable[KernelContainer]) -> Inventory:
    """A copy of ``devices`` whose GPUs list the live kernel containers holding them."""
    gpus = [replace(g, holders=[]) for g in devices.gpus]
    for holder in holders:
        ids = held_ids(holder)
        for gpu in gpus:
            if "all" in ids or gpu.ids & ids:
                gpu.holders.append(holder)
    return replace(devices, gpus=gpus)


def blocking_holders(gpu: GPU, kernel_id: str, shared: bool) -> list[KernelContainer]:
    """Holders that exclude ``kernel_id``: co-location needs *both* kernels to opt into sharing."""
    return [h for h in gpu.holders if h.kernel_id != kernel_id and not (shared and h.gpu_shared)]


def describe_holders(holders: Iterable[KernelContainer]) -> str:
    return ", ".join(h.describe() for h in holders)


def busy_text(inv: Inventory) -> str:
    """'held: GPU 0 by kernel … ; free: 1, 2' for error messages."""
    held = [f"GPU {g.index} by {describe_holders(g.holders)}" for g in inv.gpus if g.holders]
    free = [g.index for g in inv.gpus if not g.holders]
    return f"held: {'; '.join(held) or 'none'}; free: {', '.join(free) or 'none'}"


def choose_gpus(
    devices: Inventory,
    holders: Iterable[KernelContainer],
    request: GPURequest,
    kernel_id: str,
    shared: bool = False,
    previous: Sequence[str] | None = None,
) -> list[str]:
    """The device ids kernel ``kernel_id`` gets for ``request`` on the host ``devices`` describes.

    ``holders`` are the host's kernel containers (any state; only live ones hold GPUs),
    ``shared`` whether this kernel opted into GPU sharing, ``previous`` the ids it held before
    a restart (it keeps exactly those). CDI requests are passed through after checking the
    named devices against holders; every other request needs a GPU driver on the host.
    """
    if request.kind == "none":
        return []
    inv = attach_holders(devices, holders)
    if request.kind == "cdi":
        return _check_cdi(inv, request, kernel_id, shared)
    if not inv.driver:
        raise NoGPUDriverError(
            f"GPUs were requested ({request}) but host {inv.host!r} has {inv.error or NO_DRIVER}. "
            "Install the NVIDIA Container Toolkit there and restart dockerd, or choose gpus=none."
        )
    if previous:
        request = GPURequest("devices", devices=tuple(previous))
    if request.kind == "all":
        return _choose_all(inv, kernel_id, shared)
    if request.kind == "devices":
        return _choose_devices(inv, request.devices, kernel_id, shared)
    return _choose_count(inv, request.count, kernel_id, shared)


def _check_cdi(inv: Inventory, request: GPURequest, kernel_id: str, shared: bool) -> list[str]:
    """The CDI names as given, checked against holders; ``<class>=all`` stands for every GPU the
    inventory knows (recorded one by one, so other kernels see them held)."""
    names: list[str] = []
    for name in request.devices:
        if cdi_all(name) and inv.gpus:
            if any(blocking_holders(g, kernel_id, shared) for g in inv.gpus):
                raise GPUUnavailableError(
                    f"{name} on host {inv.host!r} asks for every GPU but some are in use "
                    f"({busy_text(inv)}); ask for free ones, or enable GPU sharing"
                )
            names += [f"{name.rpartition('=')[0]}={g.id}" for g in inv.gpus]
        else:
            names.append(name)
    for name in names:
        gpu = inv.find(name)
        others = blocking_holders(gpu, kernel_id, shared) if gpu is not None else []
        if others:
            raise GPUUnavailableError(f"GPU {name} on host {inv.host!r} is in use by {describe_holders(others)}")
    return names


def _choose_all(inv: Inventory, kernel_id: str, shared: bool) -> list[str]:
    if any(blocking_holders(g, kernel_id, shared) for g in inv.gpus):
        raise GPUUnavailableError(
            f"all GPUs of host {inv.host!r} were requested but some are in use ({busy_text(inv)}); "
            "ask for free ones, or enable GPU sharing"
        )
    return [g.id for g in inv.gpus]


def _choose_devices(inv: Inventory, wanted: Sequence[str], kernel_id: str, shared: bool) -> list[str]:
    chosen = []
    for dev in wanted:
        gpu = inv.find(dev)
        if gpu is None and inv.gpus:
            known = ", ".join(f"{g.index} ({g.uuid})" for g in inv.gpus)
            raise GPUUnavailableError(f"GPU {dev!r} does not exist on host {inv.host!r}; it has: {known}")
        others = blocking_holders(gpu, kernel_id, shared) if gpu is not None else []
        if others:
            raise GPUUnavailableError(
                f"GPU {dev} on host {inv.host!r} is in use by {describe_holders(others)}; {busy_text(inv)}"
            )
        chosen.append(dev)
    return chosen


def _index_order(gpu: GPU) -> tuple[int, int, str]:
    return (0, int(gpu.index), "") if gpu.index.isdigit() else (1, 0, gpu.uuid)


def _choose_count(inv: Inventory, count: int, kernel_id: str, shared: bool) -> list[str]:
    """The ``count`` least-used GPUs this kernel may take, in index order."""
    if count > len(inv.gpus):
        raise GPUUnavailableError(f"{count} GPU(s) requested but host {inv.host!r} has only {len(inv.gpus)}")
    candidates = [g for g in inv.gpus if not blocking_holders(g, kernel_id, shared)]
    candidates.sort(key=lambda g: (len(g.holders), g.utilization_pct or 0, g.memory_used_mib or 0, _index_order(g)))
    if len(candidates) < count:
        raise GPUUnavailableError(
            f"no free GPU on host {inv.host!r} for a request of {count}: {busy_text(inv)}. "
            "Shut down a kernel, or enable GPU sharing"
        )
    return [g.id for g in sorted(candidates[:count], key=_index_order)]
