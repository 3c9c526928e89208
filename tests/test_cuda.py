"""Unit tests of :mod:`jupyter_gpu_kernels.specs.cuda` (no Docker): the NVIDIA_REQUIRE_* rules of the
NVIDIA Container Toolkit and the refusal message."""

import pytest

from jupyter_gpu_kernels.specs.cuda import (
    Condition,
    env_dict,
    mismatch_message,
    needed_cuda,
    parse_requirement,
    requirements,
    unsatisfied,
    unsatisfied_in_text,
    version_tuple,
)
from tests.support.image import CUDA_131

NVIDIA_CUDA_12_4 = "cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=tesla,driver>=535,driver<536"


def test_parse_alternatives_and_conditions():
    alts = parse_requirement(NVIDIA_CUDA_12_4)
    assert alts[0] == [Condition("cuda", ">=", "12.4")]
    assert alts[1] == [
        Condition("brand", "=", "tesla"),
        Condition("driver", ">=", "470"),
        Condition("driver", "<", "471"),
    ]
    assert len(alts) == 3
    with pytest.raises(ValueError, match="invalid NVIDIA_REQUIRE condition 'cuda~12'"):
        parse_requirement("cuda~12")


def test_versions_compare_numerically():
    assert version_tuple("12.10") > version_tuple("12.9")
    assert version_tuple("550.54.15") == (550, 54, 15)


@pytest.mark.parametrize(
    "cuda,driver,ok",
    [
        ("12.4", "550.54.15", True),  # first alternative
        ("12.6", "560.1", True),
        ("12.2", "535.104.05", True),  # brand unknown here, driver 535.x: second-to-last alternative may hold
        ("12.2", "530.30", False),  # no alternative holds
        ("11.8", "470.5", True),  # the brand=tesla,driver 470 branch
    ],
)
def test_or_of_ands(cuda, driver, ok):
    env = {"NVIDIA_REQUIRE_CUDA": NVIDIA_CUDA_12_4}
    assert (unsatisfied(env, cuda, driver) is None) is ok


def test_failing_condition_is_named():
    env = {"NVIDIA_REQUIRE_CUDA": "cuda>=13.1"}
    assert str(unsatisfied(env, "13.0", "580.159")) == "cuda>=13.1"
    assert unsatisfied(env, "13.1", "590.1") is None
    assert unsatisfied(env, None, None) is None  # nothing known: the toolkit decides


def test_disable_require_and_all_variables_anded():
    env = {"NVIDIA_REQUIRE_CUDA": "cuda>=13.1", "NVIDIA_DISABLE_REQUIRE": "true"}
    assert requirements(env) == [] and unsatisfied(env, "12.0", "500") is None
    env["NVIDIA_DISABLE_REQUIRE"] = "no"  # ParseBool false: still checked
    assert str(unsatisfied(env, "12.0", "500")) == "cuda>=13.1"
    env = {"NVIDIA_REQUIRE_CUDA": "cuda>=12.0", "NVIDIA_REQUIRE_DRIVER": "driver>=560", "NVIDIA_REQUIRE_JETPACK": "x"}
    assert str(unsatisfied(env, "12.4", "550.1")) == "driver>=560"


def test_legacy_cuda_version():
    env = env_dict(["PATH=/usr/bin", "CUDA_VERSION=12.5.1"])
    assert requirements(env) == ["cuda>=12.5"] and needed_cuda(env) == "12.5"
    assert str(unsatisfied(env, "12.4", "550")) == "cuda>=12.5"
    assert requirements(env_dict(["CUDA_VERSION=12.5.1", "NVIDIA_REQUIRE_CUDA=cuda>=12.0"])) == ["cuda>=12.0"]


def test_message_and_toolkit_text():
    msg = mismatch_message("cuda:13.1", "gpu-box", "cuda>=13.1", "13.0", "580.159")
    assert msg == (
        "image cuda:13.1 needs CUDA >= 13.1; host 'gpu-box' driver 580.159 supports CUDA 13.0: "
        "upgrade the driver or use an image built for CUDA <= 13.0"
    )
    text = (
        "OCI runtime create failed: ... nvidia-container-cli: requirement error: unsatisfied condition: "
        "cuda>=13.1, please update your driver to a newer version, or use an earlier cuda container: unknown"
    )
    assert unsatisfied_in_text(text) == "cuda>=13.1"
    assert unsatisfied_in_text("unknown device") is None
    assert needed_cuda({"NVIDIA_REQUIRE_CUDA": NVIDIA_CUDA_12_4}) == "12.4"


# ------------------------------------------------------------------ the fake toolkit enforces it too (no daemon)
def _hook(tmp_path, env, gpus_file=None):
    import json
    import subprocess
    from pathlib import Path

    bundle = tmp_path / "bundle"
    (bundle / "rootfs" / "usr" / "bin").mkdir(parents=True, exist_ok=True)
    (bundle / "config.json").write_text(json.dumps({"root": {"path": "rootfs"}, "process": {"env": env}}))
    state = json.dumps({"ociVersion": "1.0.2", "id": "x", "status": "creating", "pid": 1, "bundle": str(bundle)})
    hook = Path(__file__).parent / "support" / "fake_nvidia" / "nvidia-container-runtime-hook"
    extra = {"FAKE_NVIDIA_GPUS_FILE": str(gpus_file)} if gpus_file else {}
    return subprocess.run([str(hook), "prestart"], input=state, text=True, capture_output=True, env=extra)


def test_fake_hook_enforces_require_cuda(tmp_path):
    r = _hook(
        tmp_path, ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=13.1 brand=tesla,driver>=470,driver<471"]
    )
    assert r.returncode == 1
    assert "requirement error: unsatisfied condition: cuda>=13.1, please update your driver" in r.stderr
    assert unsatisfied_in_text(r.stderr) == "cuda>=13.1"
    assert _hook(tmp_path, ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=12.4"]).returncode == 0
    r = _hook(tmp_path, ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=13.1", "NVIDIA_DISABLE_REQUIRE=1"])
    assert r.returncode == 0, r.stderr
    # no GPUs visible: nothing is checked (as with the real hook)
    assert _hook(tmp_path, ["NVIDIA_VISIBLE_DEVICES=void", "NVIDIA_REQUIRE_CUDA=cuda>=99"]).returncode == 0
    # a legacy image and a driver version from the GPU table
    import json

    table = tmp_path / "gpus.json"
    table.write_text(
        json.dumps([{"index": 0, "uuid": "GPU-x", "name": "A", "cuda_version": "13.0", "driver_version": "580.159"}])
    )
    r = _hook(tmp_path, ["NVIDIA_VISIBLE_DEVICES=all", "CUDA_VERSION=13.1.0"], table)
    assert r.returncode == 1 and "unsatisfied condition: cuda>=13.1" in r.stderr
    assert _hook(tmp_path, ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_REQUIRE_DRIVER=driver>=580"], table).returncode == 0


# ------------------------------------------------------------------ end to end: fake toolkit daemon, real kernels
REFUSAL = (
    "image {image} needs CUDA >= 13.1; host 'fakegpu' driver 550.54.15 supports CUDA 12.4: "
    "upgrade the driver or use an image built for CUDA <= 12.4"
)


@pytest.fixture
def fakegpu_host(tmp_path, monkeypatch, fake_gpu_daemon):
    from jupyter_gpu_kernels.daemon.allocator import GPUAllocator
    from jupyter_gpu_kernels.hosts.registry import DockerHosts

    from .kernel_helpers import isolated_jupyter_dirs

    isolated_jupyter_dirs(tmp_path, monkeypatch)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    GPUAllocator._instances.pop("fakegpu", None)
    return DockerHosts().add("fakegpu", fake_gpu_daemon.url)


def _kernel_containers(client):
    from .kernel_helpers import our_containers

    return our_containers(client)


@pytest.mark.docker
@pytest.mark.gpu_fake
def test_inventory_and_image_list_show_cuda(fakegpu_host, fake_gpu_daemon, cuda_image):
    from jupyter_gpu_kernels.daemon.allocator import GPUAllocator
    from jupyter_gpu_kernels.daemon.images import add_cuda_status, list_images

    inv = GPUAllocator.for_host(fakegpu_host).devices(fake_gpu_daemon.client, max_age=0)
    assert (inv.driver_version, inv.cuda_version) == ("550.54.15", "12.4")
    assert inv.to_json()["cuda_version"] == "12.4"
    rows = list_images(fake_gpu_daemon.client, detect=False)
    add_cuda_status(rows, "fakegpu", inv)
    by_tag = {t: r for r in rows for t in r["tags"]}
    assert by_tag[cuda_image]["cuda_requirement"] == CUDA_131
    assert by_tag[cuda_image]["cuda_ok"] is False
    assert by_tag[cuda_image]["cuda_message"] == REFUSAL.format(image=cuda_image)
    plain = by_tag[fake_gpu_daemon.test_image]
    assert plain["cuda_requirement"] is None and plain["cuda_ok"] is None


@pytest.mark.docker
@pytest.mark.gpu_fake
def test_gpu_launch_refused_before_anything_exists(fakegpu_host, fake_gpu_daemon, cuda_image):
    from jupyter_gpu_kernels.errors import ImageError

    from .kernel_helpers import install_spec
    from .test_provisioner import _start_fails

    before = {c.id for c in fake_gpu_daemon.client.containers.list(all=True)}
    install_spec("cu131", cuda_image, "--host", "fakegpu", "--gpus", "1")
    msg = _start_fails("cu131", ImageError, "needs CUDA >= 13.1", timeout=30)
    assert msg == REFUSAL.format(image=cuda_image)
    assert {c.id for c in fake_gpu_daemon.client.containers.list(all=True)} == before


@pytest.mark.docker
@pytest.mark.gpu_fake
def test_toolkit_refusal_is_translated(fakegpu_host, fake_gpu_daemon, cuda_image):
    """Bypassing the pre-check (ContainerOps directly): the fake toolkit refuses at start, as the real
    one does, and the error names both versions instead of the OCI runtime text alone."""
    import logging
    from types import SimpleNamespace

    from docker.types import DeviceRequest

    from jupyter_gpu_kernels.daemon.containers import ContainerOps
    from jupyter_gpu_kernels.errors import ImageError

    client = fake_gpu_daemon.client
    container = client.containers.create(
        cuda_image,
        command=["true"],
        entrypoint=[],
        device_requests=[DeviceRequest(device_ids=["0"], capabilities=[["gpu"]])],
    )
    try:
        # the LaunchPlan fields start() reads (the container is on the default bridge, no fixed address)
        plan = SimpleNamespace(image=cuda_image, gpus="device=0", network="bridge", kernel_id="t")
        with pytest.raises(ImageError) as e:
            ContainerOps(logging.getLogger("t")).start(container, plan, fakegpu_host)
        assert str(e.value).startswith(REFUSAL.format(image=cuda_image) + ". The NVIDIA Container Toolkit said: ")
        assert "requirement error: unsatisfied condition: cuda>=13.1" in str(e.value)
    finally:
        container.remove(force=True, v=True)


@pytest.mark.docker
@pytest.mark.gpu_fake
def test_disable_require_lets_the_kernel_start(fakegpu_host, fake_gpu_daemon, cuda_image):
    """NVIDIA_DISABLE_REQUIRE=1 in the kernel's env: neither our check nor the toolkit refuses."""
    from .kernel_helpers import edit_spec, install_spec, run_cell, start_kernel, stop_kernel

    install_spec("cu131", cuda_image, "--host", "fakegpu", "--gpus", "1")
    edit_spec("cu131", env={"NVIDIA_DISABLE_REQUIRE": "1"})
    km, kc = start_kernel("cu131")
    try:
        out = run_cell(
            kc, "import subprocess; print(subprocess.run(['nvidia-smi', '-L'], capture_output=True, text=True).stdout)"
        )
        assert out["stdout"].startswith("GPU 0: NVIDIA Fake A100"), out
    finally:
        stop_kernel(km, kc, now=True)
    assert not _kernel_containers(fake_gpu_daemon.client)
