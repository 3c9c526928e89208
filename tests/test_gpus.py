"""GPU inventory, holders and allocation end to end through the fake NVIDIA toolkit
(real dockerd → runc → prestart hook; 4 fake GPUs)."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from jupyter_client.manager import AsyncKernelManager, KernelManager

from jupyter_gpu_kernels import cli
from jupyter_gpu_kernels.daemon.allocator import GPUAllocator
from jupyter_gpu_kernels.daemon.inventory import parse_nvidia_smi
from jupyter_gpu_kernels.daemon.status import gpu_inventory
from jupyter_gpu_kernels.errors import GPUUnavailableError
from jupyter_gpu_kernels.hosts.registry import DockerHosts

from .kernel_helpers import install_spec, isolated_jupyter_dirs, our_containers, run_cell, start_kernel, stop_kernel

pytestmark = [pytest.mark.docker, pytest.mark.gpu_fake]


@pytest.fixture
def gpuhost(tmp_path, monkeypatch, fake_gpu_daemon, test_image):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    DockerHosts().add("fakegpu", fake_gpu_daemon.url)
    GPUAllocator._instances.clear()
    yield DockerHosts().get("fakegpu")
    left = our_containers(fake_gpu_daemon.client)
    for c in left:
        c.remove(force=True, v=True)
    assert not left, f"left behind: {[c.name for c in left]}"


def visible(kc) -> list[str]:
    return run_cell(kc, "import os; print(os.environ.get('NVIDIA_VISIBLE_DEVICES', ''))")["stdout"].strip().split(",")


def start(name: str, notebook: str):
    return start_kernel(name, env={"JPY_SESSION_NAME": notebook})


def stop(km, kc) -> None:
    stop_kernel(km, kc, now=True)


def test_parse_nvidia_smi():
    gpus = parse_nvidia_smi("0, GPU-a, NVIDIA A100, 81920, 100, 7\n1, GPU-b, NVIDIA A100, 81920, [N/A], 0\n")
    assert [(g.index, g.uuid, g.memory_total_mib, g.memory_used_mib) for g in gpus] == [
        ("0", "GPU-a", 81920, 100),
        ("1", "GPU-b", 81920, None),
    ]


def test_inventory_allocation_holders_and_release(gpuhost, test_image, fake_gpu_daemon, capsys):
    inv = gpu_inventory(gpuhost, max_age=0)
    assert inv.driver and inv.source == "nvidia-smi" and len(inv.gpus) == 4
    assert all(g.uuid.startswith("GPU-") and g.memory_total_mib and not g.holders for g in inv.gpus)

    install_spec("one", test_image, "--host", "fakegpu", "--gpus", "1")
    install_spec("two", test_image, "--host", "fakegpu", "--gpus", "2")
    kernels = [start("one", "a.ipynb"), start("one", "b.ipynb"), start("two", "c.ipynb")]
    try:
        seen = [visible(kc) for _, kc in kernels]
        held = [set(km.provisioner.gpu_ids) for km, _ in kernels]
        assert [len(h) for h in held] == [1, 1, 2]
        assert set().union(*held) == {"0", "1", "2", "3"}, held  # disjoint, all four used
        assert [set(v) for v in seen] == held  # the container sees exactly its GPUs

        inv = gpu_inventory(gpuhost)
        holders = {g.index: [h.notebook for h in g.holders] for g in inv.gpus}
        for (km, _), nb in zip(kernels, ["a.ipynb", "b.ipynb", "c.ipynb"]):
            for gpu in km.provisioner.gpu_ids:
                assert holders[gpu] == [nb]

        capsys.readouterr()
        assert cli.main(["gpus", "--host", "fakegpu", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert sorted(h["notebook"] for g in data["gpus"] for h in g["holders"]) == [
            "a.ipynb",
            "b.ipynb",
            "c.ipynb",
            "c.ipynb",
        ]

        # a fourth kernel: a clear "no free GPU" naming the holders; nothing left behind
        before = {c.id for c in fake_gpu_daemon.client.containers.list(all=True)}
        km4 = KernelManager(kernel_name="one")
        with pytest.raises(GPUUnavailableError, match="no free GPU") as e:
            km4.start_kernel()
        assert "a.ipynb" in str(e.value) and "c.ipynb" in str(e.value)
        assert {c.id for c in fake_gpu_daemon.client.containers.list(all=True)} == before

        # asking for a held device by index names its holder
        install_spec(
            "dev0", test_image, "--host", "fakegpu", "--gpus", f"device={kernels[0][0].provisioner.gpu_ids[0]}"
        )
        with pytest.raises(GPUUnavailableError, match="in use by kernel .*a.ipynb"):
            KernelManager(kernel_name="dev0").start_kernel()

        # restart keeps the same GPUs
        km, kc = kernels[2]
        before_ids = list(km.provisioner.gpu_ids)
        km.restart_kernel(now=True)
        kc.wait_for_ready(timeout=60)
        assert km.provisioner.gpu_ids == before_ids and set(visible(kc)) == set(before_ids)
    finally:
        for km, kc in kernels:
            stop(km, kc)
    inv = gpu_inventory(gpuhost)
    assert all(not g.holders for g in inv.gpus), "GPUs are released on shutdown"


def test_dead_container_keeps_its_gpu_until_shutdown(gpuhost, test_image, fake_gpu_daemon):
    """A container that died by itself still holds its GPU while its owner (this process) lives: its
    kernel's restart wants it back (tests/test_lifecycle_gaps.py races a competitor for it); the
    shutdown frees it, so no GPU is held by nobody."""
    install_spec("d", test_image, "--host", "fakegpu", "--gpus", "device=2")
    km, kc = start("d", "dies.ipynb")
    try:
        container = fake_gpu_daemon.client.containers.get(km.provisioner.container_id)
        container.kill()
        container.wait(timeout=30)
        holders = gpu_inventory(gpuhost).gpus[2].holders
        assert [h.kernel_id for h in holders] == [km.kernel_id], holders
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert not gpu_inventory(gpuhost).gpus[2].holders


def test_shared_gpus_opt_in(gpuhost, test_image):
    install_spec("s", test_image, "--host", "fakegpu", "--gpus", "device=0", "--share-gpus")
    a, b = start("s", "s1.ipynb"), start("s", "s2.ipynb")
    try:
        assert visible(a[1]) == visible(b[1]) == ["0"]
        inv = gpu_inventory(gpuhost)
        assert sorted(h.notebook for h in inv.gpus[0].holders) == ["s1.ipynb", "s2.ipynb"]
        # co-location needs both sides to opt in: an exclusive holder is never shared
        install_spec("x1", test_image, "--host", "fakegpu", "--gpus", "device=1")
        x = start("x1", "exclusive.ipynb")
        try:
            install_spec("s1", test_image, "--host", "fakegpu", "--gpus", "device=1", "--share-gpus")
            with pytest.raises(GPUUnavailableError, match="exclusive.ipynb"):
                KernelManager(kernel_name="s1").start_kernel()
        finally:
            stop(*x)
    finally:
        stop(*a)
        stop(*b)


def test_concurrent_requests_never_collide(gpuhost, test_image):
    """Two kernels asking for 1 GPU at the same moment (same event loop, and separate threads)."""
    install_spec("c1", test_image, "--host", "fakegpu", "--gpus", "1")

    async def both() -> list[list[str]]:
        kms = [AsyncKernelManager(kernel_name="c1") for _ in range(2)]
        await asyncio.gather(*(km.start_kernel() for km in kms))
        try:
            return [list(km.provisioner.gpu_ids) for km in kms]
        finally:
            await asyncio.gather(*(km.shutdown_kernel(now=True) for km in kms))

    ids = asyncio.run(both())
    assert len(ids[0]) == len(ids[1]) == 1 and ids[0] != ids[1], ids

    results: list[list[str]] = []
    kms: list[KernelManager] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        km = KernelManager(kernel_name="c1")
        kms.append(km)
        barrier.wait()
        km.start_kernel()
        results.append(list(km.provisioner.gpu_ids))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    try:
        assert len(results) == 2 and results[0] != results[1], results
    finally:
        for km in kms:
            if km.has_kernel:
                km.shutdown_kernel(now=True)


def test_no_driver_is_a_normal_state(tmp_path, monkeypatch, nogpu_daemon, capsys):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    DockerHosts().add("nogpu", nogpu_daemon.url)
    GPUAllocator._instances.clear()
    host = DockerHosts().get("nogpu")
    inv = gpu_inventory(host)
    assert not inv.driver and inv.gpus == [] and "no GPU driver on this host" in inv.status
    capsys.readouterr()
    assert cli.main(["gpus", "--host", "nogpu"]) == 0
    assert "no GPU driver on this host" in capsys.readouterr().out
    # CPU kernels still work there
    install_spec("cpu", nogpu_daemon.test_image, "--host", "nogpu")
    km, kc = start("cpu", "cpu.ipynb")
    try:
        assert run_cell(kc, "print(6*7)")["stdout"] == "42\n"
    finally:
        stop(km, kc)
    assert not our_containers(nogpu_daemon.client)


def test_nvml_source_reads_every_gpu(monkeypatch):
    """The NVML path (used where the daemon is local and a driver is loaded) with a fake pynvml:
    the real one needs NVIDIA hardware, which the test machines do not have."""
    import sys
    import types

    from jupyter_gpu_kernels.daemon.inventory import nvml_inventory

    fake = types.ModuleType("pynvml")

    class NVMLError(Exception):
        pass

    gpus = [
        ("NVIDIA H100 80GB HBM3", "GPU-aaaa", 81559 * 2**20, 1024 * 2**20, 37),
        ("NVIDIA H100 80GB HBM3", "GPU-bbbb", 81559 * 2**20, 0, 0),
    ]
    calls = []
    fake.NVMLError = NVMLError
    fake.nvmlInit = lambda: calls.append("init")
    fake.nvmlShutdown = lambda: calls.append("shutdown")
    fake.nvmlDeviceGetCount = lambda: len(gpus)
    fake.nvmlDeviceGetHandleByIndex = lambda i: i
    fake.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(total=gpus[h][2], used=gpus[h][3])
    fake.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=gpus[h][4])
    fake.nvmlDeviceGetName = lambda h: gpus[h][0].encode()  # older bindings return bytes
    fake.nvmlDeviceGetUUID = lambda h: gpus[h][1]
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    found = nvml_inventory()
    assert [(g.index, g.uuid, g.name, g.memory_total_mib, g.memory_used_mib, g.utilization_pct) for g in found] == [
        ("0", "GPU-aaaa", "NVIDIA H100 80GB HBM3", 81559, 1024, 37),
        ("1", "GPU-bbbb", "NVIDIA H100 80GB HBM3", 81559, 0, 0),
    ]
    assert calls == ["init", "shutdown"]

    def no_driver():
        raise NVMLError("Driver Not Loaded")

    fake.nvmlInit = no_driver
    assert nvml_inventory() is None  # no driver here: fall through to the next source


def test_cdi_source_lists_nvidia_devices():
    """Engine API ≥ 1.50 lists CDI devices in /info (20.10 on the test machines has none)."""
    import types

    from jupyter_gpu_kernels.daemon.inventory import cdi_inventory

    info = {
        "DiscoveredDevices": [
            {"Source": "cdi", "ID": "nvidia.com/gpu=0"},
            {"Source": "cdi", "ID": "nvidia.com/gpu=1"},
            {"Source": "cdi", "ID": "nvidia.com/gpu=all"},
            {"Source": "cdi", "ID": "vendor.com/fpga=0"},
        ]
    }
    client = types.SimpleNamespace(info=lambda: info)
    found = cdi_inventory(client)
    assert [(g.index, g.name) for g in found] == [("0", "nvidia.com/gpu=0"), ("1", "nvidia.com/gpu=1")]
    assert cdi_inventory(types.SimpleNamespace(info=lambda: {})) is None


def _hold_and_report(args: tuple[str, str, str, float]) -> list[str]:
    """One "Jupyter server" (a separate process): start a kernel at ``when``, hold it a moment,
    report its GPUs."""
    import os as _os
    import time as _time

    data_dir, config_dir, name, when = args
    _os.environ.update(JUPYTER_DATA_DIR=data_dir, JUPYTER_CONFIG_DIR=config_dir, JUPYTER_PATH=data_dir)
    km = KernelManager(kernel_name=name)
    _time.sleep(max(0.0, when - _time.time()))
    km.start_kernel()
    try:
        _time.sleep(2)  # both kernels alive at once
        return list(km.provisioner.gpu_ids)
    finally:
        km.shutdown_kernel(now=True)


def test_servers_sharing_a_daemon_never_collide(gpuhost, test_image):
    """Two processes (two Jupyter servers, each with its own in-process lock) asking for 1 GPU at
    the same instant on one daemon get different GPUs. (Whether the two allocations really overlap
    in time depends on scheduling; the mutex that keeps them apart is pinned down by
    test_daemon_mutex_serializes_and_recovers_from_stale_holders.)"""
    import multiprocessing
    import os as _os
    import time as _time

    install_spec("srv1", test_image, "--host", "fakegpu", "--gpus", "1")
    env = (_os.environ["JUPYTER_DATA_DIR"], _os.environ["JUPYTER_CONFIG_DIR"], "srv1")
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        for _ in range(3):
            when = _time.time() + 4  # after both workers have imported everything
            results = pool.map(_hold_and_report, [(*env, when), (*env, when)])
            assert len(results[0]) == len(results[1]) == 1 and results[0] != results[1], results


def test_daemon_mutex_serializes_and_recovers_from_stale_holders(fake_gpu_daemon, test_image):
    """The daemon-side allocation mutex: a second holder waits for the first; a holder left by a
    dead server is taken over after MUTEX_STALE_SECONDS."""
    import threading
    import time as _time

    from jupyter_gpu_kernels.daemon import allocator as devices

    client = fake_gpu_daemon.client
    first = devices.acquire_daemon_mutex(client, test_image, "fakegpu")
    got: list[float] = []

    def second() -> None:
        m = devices.acquire_daemon_mutex(client, test_image, "fakegpu")
        got.append(_time.monotonic())
        devices.release_daemon_mutex(m)

    t = threading.Thread(target=second)
    t.start()
    _time.sleep(1.0)
    assert not got, "the second acquirer must wait while the first holds the mutex"
    released = _time.monotonic()
    devices.release_daemon_mutex(first)
    t.join(10)
    assert got and got[0] >= released

    stale = devices.acquire_daemon_mutex(client, test_image, "fakegpu")  # its "server" dies now
    old = devices.MUTEX_STALE_SECONDS
    devices.MUTEX_STALE_SECONDS = 1.0
    try:
        _time.sleep(1.5)
        taken = devices.acquire_daemon_mutex(client, test_image, "fakegpu")
        assert taken.id != stale.id
        devices.release_daemon_mutex(taken)
    finally:
        devices.MUTEX_STALE_SECONDS = old


SPY_SH = r"""#!/bin/realsh
echo "probe-as uid=$(id -u) gid=$(id -g) $(grep -E '^(CapEff|NoNewPrivs)' /proc/self/status | tr '\t\n' '  ')"
exit 3
"""


def test_the_gpu_probe_runs_with_the_hardening_of_kernels(fake_gpu_daemon):
    """Issue #19, 3: the nvidia-smi probe runs an image anyone may have built (the kernel's, or the
    newest on the daemon); it ran as 0:0 with Docker's default capabilities and no no-new-privileges.
    An image whose ``sh`` reports who runs it shows what the probe container may do."""
    import io
    import tarfile

    from jupyter_gpu_kernels.daemon.inventory import discover
    from jupyter_gpu_kernels.hosts.registry import DockerHost

    client = fake_gpu_daemon.client
    dockerfile = (
        f"FROM {fake_gpu_daemon.test_image}\nUSER root\nCOPY spy.sh /spy.sh\n"
        "RUN cp /bin/dash /bin/realsh && chmod 755 /spy.sh && mv /spy.sh /bin/sh\n"
    )
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, text in (("Dockerfile", dockerfile), ("spy.sh", SPY_SH)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    tag = "jgk-test-probe-spy:latest"
    client.images.build(fileobj=context, custom_context=True, tag=tag, network_mode="none", rm=True)
    try:
        before = {c.id for c in client.containers.list(all=True)}
        inv = discover(DockerHost("fakegpu", fake_gpu_daemon.url), client, probe_image=tag)
        assert inv.error and "probe-as" in inv.error, inv
        assert "uid=65534 gid=65534" in inv.error, inv.error
        assert "CapEff: 0000000000000000" in inv.error and "NoNewPrivs: 1" in inv.error, inv.error
        assert {c.id for c in client.containers.list(all=True)} == before, "the probe container was left"
    finally:
        client.images.remove(tag, force=True)
