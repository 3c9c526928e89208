"""The idle culler's decisions (server/culler.py), one round at a time on a fake kernel manager (no Docker).

The end-to-end culling test is tests/test_lifecycle_more.py; here the clock is given, so the rounds
that fall outside the warning window (a long ``interval``, a busy server) can be checked.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from types import SimpleNamespace

from jupyter_gpu_kernels.server.culler import GPUKernelsCuller

T0 = 1_000_000.0


class FakeKernels:
    """What the culler uses of a MappingKernelManager: ids, kernels, shutdown."""

    def __init__(self, **kernels):
        self.kernels = kernels
        self.shut: list[str] = []

    def list_kernel_ids(self):
        return list(self.kernels)

    def get_kernel(self, kid):
        return self.kernels[kid]

    async def shutdown_kernel(self, kid):
        self.shut.append(kid)
        del self.kernels[kid]


def gpu_kernel(last: float):
    return SimpleNamespace(
        provisioner=SimpleNamespace(gpu_ids=["1"]),
        execution_state="idle",
        last_activity=datetime.fromtimestamp(last, timezone.utc),
    )


def culler(km, warning=10.0):
    return GPUKernelsCuller(km, gpu_idle_timeout=15.0, cpu_idle_timeout=0.0, warning_seconds=warning)


def test_a_round_inside_the_warning_window_warns_then_culls_when_due():
    km = FakeKernels(k=gpu_kernel(T0))
    c = culler(km)
    assert asyncio.run(c.check(now=T0 + 4)) == [] and c.cull_at("k") is None
    assert asyncio.run(c.check(now=T0 + 6)) == [] and c.cull_at("k") is not None
    assert asyncio.run(c.check(now=T0 + 14)) == []
    assert asyncio.run(c.check(now=T0 + 15)) == ["k"] and km.shut == ["k"] and c.cull_at("k") is None


def test_a_kernel_no_round_saw_in_its_warning_window_is_warned_before_it_is_culled():
    km = FakeKernels(k=gpu_kernel(T0))
    c = culler(km)
    # the first round after the window (the server was busy, or interval > warning_seconds): a warning, no cull
    assert asyncio.run(c.check(now=T0 + 40)) == [] and km.shut == []
    assert c.cull_at("k") == datetime.fromtimestamp(T0 + 50, timezone.utc).isoformat(timespec="seconds")
    assert asyncio.run(c.check(now=T0 + 49)) == []
    assert asyncio.run(c.check(now=T0 + 50)) == ["k"]


def test_activity_after_the_warning_clears_it_and_no_warning_means_cull_when_due():
    km = FakeKernels(k=gpu_kernel(T0))
    c = culler(km)
    asyncio.run(c.check(now=T0 + 40))
    km.kernels["k"].last_activity = datetime.fromtimestamp(T0 + 45, timezone.utc)  # a cell ran
    assert asyncio.run(c.check(now=T0 + 46)) == [] and c.cull_at("k") is None
    quiet = culler(FakeKernels(k=gpu_kernel(T0)), warning=0.0)
    assert asyncio.run(quiet.check(now=T0 + 14)) == []
    assert asyncio.run(quiet.check(now=T0 + 15)) == ["k"]  # warning_seconds=0: no warning at all
