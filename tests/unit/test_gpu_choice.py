"""GPU choice as a pure function (daemon/gpu_choice.py): no daemon, no containers.

Inventories and holders are built by hand; the end-to-end path through a real daemon and the
fake NVIDIA toolkit is in test_gpus.py.
"""

from __future__ import annotations

import pytest

from jupyter_gpu_kernels.daemon.gpu_choice import attach_holders, choose_gpus
from jupyter_gpu_kernels.daemon.inventory import GPU, NO_DRIVER, Inventory
from jupyter_gpu_kernels.daemon.records import KernelContainer
from jupyter_gpu_kernels.errors import GPUUnavailableError, NoGPUDriverError
from jupyter_gpu_kernels.specs.gpus import GPURequest, parse_gpus


def host(n: int = 4, **usage: tuple[int, int]) -> Inventory:
    """``n`` GPUs on host 'box'; ``usage`` maps 'g<i>' to (utilization %, memory used MiB)."""
    gpus = []
    for i in range(n):
        util, mem = usage.get(f"g{i}", (0, 0))
        gpus.append(GPU(str(i), f"GPU-{i:04d}", "Fake A100", 81920, mem, util))
    return Inventory("box", True, "nvidia-smi", gpus)


def holder(kid: str, gpus: str, shared: bool = False, notebook: str = "", state: str = "running") -> KernelContainer:
    return KernelContainer(
        kid, host="box", notebook=notebook or f"{kid}.ipynb", gpus=gpus, gpu_shared=shared, state=state
    )


def choose(
    spec: str,
    holders: list[KernelContainer] = (),
    inv: Inventory | None = None,
    kid: str = "me",
    shared: bool = False,
    previous: list[str] | None = None,
) -> list[str]:
    return choose_gpus(inv or host(), list(holders), parse_gpus(spec), kid, shared, previous)


# ------------------------------------------------------------------ holders
def test_holders_are_live_kernel_containers_listing_the_gpu():
    holders = [
        holder("a", "0"),
        holder("b", "GPU-0002"),
        holder("c", "nvidia.com/gpu=3"),
        holder("dead", "1", state="exited"),
        holder("new", "1", state="created"),
    ]
    inv = attach_holders(host(), holders)
    assert [[h.kernel_id for h in g.holders] for g in inv.gpus] == [["a"], ["new"], ["b"], ["c"]]
    everything = attach_holders(host(), [holder("x", "all")])
    assert all([h.kernel_id for h in g.holders] == ["x"] for g in everything.gpus)


def test_attach_holders_does_not_touch_its_input():
    devices = host(2)
    attach_holders(devices, [holder("a", "0")])
    assert all(not g.holders for g in devices.gpus)
    again = attach_holders(attach_holders(devices, [holder("a", "0")]), [])
    assert all(not g.holders for g in again.gpus), "holders are replaced, not added to"


# ------------------------------------------------------------------ counts
def test_count_takes_the_least_used_free_gpus_in_index_order():
    inv = host(4, g0=(90, 10), g1=(5, 0), g2=(5, 500), g3=(0, 0))
    assert choose("1", inv=inv) == ["3"]
    assert choose("2", inv=inv) == ["1", "3"]  # 3 then 1 (same utilization as 2, less memory)
    assert choose("3", inv=inv) == ["1", "2", "3"]


def test_count_skips_held_gpus_and_names_the_holders_when_none_is_free():
    holders = [holder("a", "0", notebook="train.ipynb"), holder("b", "1,2")]
    assert choose("1", holders) == ["3"]
    with pytest.raises(GPUUnavailableError) as e:
        choose("2", holders)
    assert str(e.value) == (
        "no free GPU on host 'box' for a request of 2: held: GPU 0 by kernel a (notebook 'train.ipynb'); "
        "GPU 1 by kernel b (notebook 'b.ipynb'); GPU 2 by kernel b (notebook 'b.ipynb'); free: 3. "
        "Shut down a kernel, or enable GPU sharing"
    )


def test_more_gpus_than_the_host_has():
    with pytest.raises(GPUUnavailableError, match=r"^5 GPU\(s\) requested but host 'box' has only 4$"):
        choose("5")


def test_sharing_needs_both_sides_and_prefers_the_fewest_holders():
    shared_holders = [holder("a", "0,1,2", shared=True), holder("b", "0", shared=True)]
    exclusive = [holder("x", "3")]
    # both opted in: the shared GPUs are candidates, fewest holders first
    assert choose("1", shared_holders + exclusive, shared=True) == ["1"]
    assert choose("3", shared_holders + exclusive, shared=True) == ["0", "1", "2"]
    # this kernel did not opt in: held GPUs are never given to it
    with pytest.raises(GPUUnavailableError, match="no free GPU"):
        choose("1", shared_holders + exclusive)
    # the holder did not opt in: never shared even though this kernel did
    with pytest.raises(GPUUnavailableError, match=r"GPU 3 on host 'box' is in use by kernel x \(notebook 'x.ipynb'\)"):
        choose("device=3", exclusive, shared=True)


def test_a_holder_that_is_the_same_kernel_does_not_block():
    mine = [holder("me", "0,1,2,3")]
    assert choose("all", mine) == ["0", "1", "2", "3"]
    assert choose("device=2", mine) == ["2"]
    assert choose("2", mine) == ["0", "1"]


# ------------------------------------------------------------------ all / device= / CDI
def test_all_needs_every_gpu_free():
    assert choose("all") == ["0", "1", "2", "3"]
    with pytest.raises(GPUUnavailableError) as e:
        choose("all", [holder("a", "2")])
    assert str(e.value) == (
        "all GPUs of host 'box' were requested but some are in use "
        "(held: GPU 2 by kernel a (notebook 'a.ipynb'); free: 0, 1, 3); ask for free ones, or enable GPU sharing"
    )
    assert choose("all", [holder("a", "2", shared=True)], shared=True) == ["0", "1", "2", "3"]


def test_device_by_index_and_by_uuid():
    assert choose("device=2,0") == ["2", "0"]  # as asked: the label records what the user named
    assert choose("device=GPU-0001") == ["GPU-0001"]
    with pytest.raises(GPUUnavailableError) as e:
        choose("device=GPU-0001", [holder("a", "1", notebook="x.ipynb")])
    assert str(e.value).startswith(
        "GPU GPU-0001 on host 'box' is in use by kernel a (notebook 'x.ipynb'); held: GPU 1 by"
    )
    with pytest.raises(
        GPUUnavailableError, match=r"GPU 'GPU-9999' does not exist on host 'box'; it has: 0 \(GPU-0000\), 1"
    ):
        choose("device=GPU-9999")
    with pytest.raises(GPUUnavailableError, match="GPU '7' does not exist"):
        choose("device=7")


def test_device_on_a_driver_that_lists_no_gpus_is_passed_through():
    empty = Inventory("box", True, "nvidia-smi", [], "the driver reports no GPUs")
    assert choose("device=0", inv=empty) == ["0"]
    with pytest.raises(GPUUnavailableError, match="1 GPU\\(s\\) requested but host 'box' has only 0"):
        choose("1", inv=empty)


def test_cdi_names_are_checked_against_holders():
    assert choose("nvidia.com/gpu=1") == ["nvidia.com/gpu=1"]
    with pytest.raises(
        GPUUnavailableError, match=r"^GPU nvidia.com/gpu=1 on host 'box' is in use by kernel a \(notebook 'a.ipynb'\)$"
    ):
        choose("nvidia.com/gpu=1", [holder("a", "1")])
    with pytest.raises(GPUUnavailableError, match="GPU nvidia.com/gpu=GPU-0002 on host 'box' is in use by kernel b"):
        choose("nvidia.com/gpu=GPU-0002", [holder("b", "nvidia.com/gpu=2")])
    assert choose("nvidia.com/gpu=1", [holder("a", "1", shared=True)], shared=True) == ["nvidia.com/gpu=1"]
    # CDI requests need no driver inventory: the daemon resolves the names itself
    assert choose("nvidia.com/gpu=0", inv=Inventory("box", False, "none", [], NO_DRIVER)) == ["nvidia.com/gpu=0"]


def test_cdi_all_is_every_gpu_recorded_one_by_one_and_refused_while_one_is_held():
    """Issue #19, 3: nvidia.com/gpu=all reached the daemon for every GPU while others held them, and
    was recorded as one unknown device, so other kernels did not see the GPUs held."""
    assert choose("nvidia.com/gpu=all") == [f"nvidia.com/gpu={i}" for i in range(4)]
    with pytest.raises(
        GPUUnavailableError, match="nvidia.com/gpu=all on host 'box' asks for every GPU but some are in use .*kernel a"
    ):
        choose("nvidia.com/gpu=all", [holder("a", "2")])
    held = holder("me", ",".join(choose("nvidia.com/gpu=all")))
    with pytest.raises(GPUUnavailableError, match=r"no free GPU .* held: GPU 0 by kernel me .* GPU 3 by kernel me"):
        choose("1", [held], kid="other")
    # nothing known to check against (a CDI-only host without an inventory): passed through as before
    assert choose("nvidia.com/gpu=all", inv=Inventory("box", False, "none", [], NO_DRIVER)) == ["nvidia.com/gpu=all"]


def test_cdi_inventory_without_indices():
    cdi = Inventory("box", True, "cdi", [GPU("", "GPU-aa", "nvidia.com/gpu=GPU-aa"), GPU("0", "", "nvidia.com/gpu=0")])
    assert choose("1", inv=cdi) == ["0"]
    assert choose("2", inv=cdi) == ["0", "GPU-aa"]
    assert choose("all", inv=cdi) == ["GPU-aa", "0"]


# ------------------------------------------------------------------ restart, none, no driver
def test_restart_keeps_its_previous_gpus():
    mine = [holder("me", "1,3"), holder("a", "0")]
    assert choose("2", mine, previous=["1", "3"]) == ["1", "3"]
    assert choose("all", [holder("me", "0,1,2,3")], previous=["0", "1", "2", "3"]) == ["0", "1", "2", "3"]
    # another kernel took one of them meanwhile: refused, naming it, instead of moving devices
    with pytest.raises(GPUUnavailableError, match=r"GPU 3 on host 'box' is in use by kernel b"):
        choose("2", [holder("b", "3")], previous=["1", "3"])


def test_none_asks_for_nothing():
    assert choose_gpus(Inventory("box", False, "none", [], NO_DRIVER), [], GPURequest("none"), "me") == []


def test_no_driver():
    inv = Inventory("box", False, "none", [], NO_DRIVER)
    with pytest.raises(NoGPUDriverError) as e:
        choose("1", inv=inv)
    assert str(e.value) == (
        f"GPUs were requested (1) but host 'box' has {NO_DRIVER}. "
        "Install the NVIDIA Container Toolkit there and restart dockerd, or choose gpus=none."
    )
    with pytest.raises(NoGPUDriverError, match=r"requested \(all\) but host 'box' has no image on this host to probe"):
        choose("all", inv=Inventory("box", False, "none", [], "no image on this host to probe GPUs with"))
