"""Parsing and validation of user input: every bad value gets a message naming it."""

import pytest
from docker.types import DeviceRequest

from jupyter_gpu_kernels.daemon.images import check_image_ref
from jupyter_gpu_kernels.errors import SpecError
from jupyter_gpu_kernels.hosts.registry import check_host_name, check_host_url
from jupyter_gpu_kernels.specs.gpus import GPURequest, device_requests, parse_gpus
from jupyter_gpu_kernels.specs.resources import parse_cpus, parse_mount, parse_size


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("none", GPURequest("none")),
        ("", GPURequest("none")),
        (None, GPURequest("none")),
        ("all", GPURequest("all")),
        ("ALL", GPURequest("all")),
        ("2", GPURequest("count", count=2)),
        (1, GPURequest("count", count=1)),
        ("count=3", GPURequest("count", count=3)),
        ("device=0,2", GPURequest("devices", devices=("0", "2"))),
        ('"device=1"', GPURequest("devices", devices=("1",))),
        (
            "device=GPU-8a1f2c3d-0000-1111-2222-333344445555",
            GPURequest("devices", devices=("GPU-8a1f2c3d-0000-1111-2222-333344445555",)),
        ),
        ("device=MIG-GPU-abc/1/0", GPURequest("devices", devices=("MIG-GPU-abc/1/0",))),
        ("nvidia.com/gpu=0", GPURequest("cdi", devices=("nvidia.com/gpu=0",))),
        ("nvidia.com/gpu=0,nvidia.com/gpu=1", GPURequest("cdi", devices=("nvidia.com/gpu=0", "nvidia.com/gpu=1"))),
    ],
)
def test_gpu_specs_accepted(spec, expected):
    assert parse_gpus(spec) == expected


@pytest.mark.parametrize(
    "spec",
    [
        "two",
        "-1",
        "device=",
        "device=0,,1",
        "device=x",
        "device=0,0",
        "1.5",
        "gpu=1",
        "nvidia.com/gpu",
        True,
        [0],
        "999",
    ],
)
def test_gpu_specs_rejected_with_forms(spec):
    with pytest.raises(SpecError) as e:
        parse_gpus(spec)
    assert "GPU spec" in str(e.value)
    assert repr(spec) in str(e.value) or str(spec) in str(e.value)


def test_device_requests_translation():
    assert device_requests(parse_gpus("none")) == []
    (req,) = device_requests(parse_gpus("all"))
    assert req["Count"] == -1 and req["Capabilities"] == [["gpu"]]
    (req,) = device_requests(parse_gpus("2"), ["1", "3"])
    assert req["DeviceIDs"] == ["1", "3"] and req["Count"] == 0
    (req,) = device_requests(parse_gpus("device=0,2"))
    assert req["DeviceIDs"] == ["0", "2"]
    (req,) = device_requests(parse_gpus("nvidia.com/gpu=1"))
    assert req["Driver"] == "cdi" and req["DeviceIDs"] == ["nvidia.com/gpu=1"] and not req["Capabilities"]
    assert isinstance(req, DeviceRequest)


def test_sizes_and_cpus():
    assert parse_size("8g") == 8 * 1024**3
    assert parse_size("512m") == 512 * 1024**2
    assert parse_size("1.5G") == int(1.5 * 1024**3)
    assert parse_size("") is None
    for bad in ("lots", "8x", "-1g", "1k"):
        with pytest.raises(SpecError, match="invalid size"):
            parse_size(bad)
    assert parse_cpus("2") == 2.0
    for bad in ("many", "-1", 100000):
        with pytest.raises(SpecError, match="invalid cpus"):
            parse_cpus(bad)


def test_mounts(tmp_path):
    m = parse_mount(f"{tmp_path}:/data:ro")
    assert (m.source, m.target, m.read_only) == (str(tmp_path), "/data", True)
    assert parse_mount("volume:myvolume:/work").is_volume
    assert str(parse_mount("volume:myvolume:/work:ro")) == "volume:myvolume:/work:ro"
    cases = {
        "/data": "expected SRC:DST",
        f"{tmp_path}:data": "must be absolute",
        f"{tmp_path}:/data:rx": "'ro' or 'rw'",
        "/does/not/exist:/data": "does not exist",
        "./rel:/data": "must be absolute",
        f"{tmp_path}:/": "root",
        "bad volume!:/x": "neither",
        "relative:/x": "neither an absolute host path nor a named volume",
        "volume:bad volume!:/x": "not a volume name",
    }
    for spec, msg in cases.items():
        with pytest.raises(SpecError, match=msg) as e:
            parse_mount(spec)
        assert spec in str(e.value)


def test_image_refs():
    for ok in ("python:3.12", "ghcr.io/org/img:tag", "localhost:5000/a/b@sha256:" + "a" * 64, "busybox", "a" * 64):
        assert check_image_ref(ok) == ok
    for bad in ("", "Python:3", "img:tag:tag", "-x", "a b", "img@sha256:xyz"):
        with pytest.raises(SpecError):
            check_image_ref(bad)


def test_host_names_and_urls():
    assert check_host_url("ssh://me@gpu-box:2222") and check_host_url("tcp://10.0.0.5:2376")
    assert check_host_url("unix:///var/run/docker.sock")
    for bad in ("gpu-box", "http://x", "ssh://", "tcp://host:99999", "unix://relative", "tcp://h:2376/path"):
        with pytest.raises(SpecError, match="Docker host URL"):
            check_host_url(bad)
    for bad in ("", "Local", "a b", "-x"):
        with pytest.raises(SpecError, match="host name"):
            check_host_name(bad)


def test_a_failed_host_is_not_retried_on_every_poll(monkeypatch, tmp_path):
    """The sidebar polls every few seconds: an unreachable host (each try can take seconds over
    SSH) is remembered briefly instead of being dialled again each time."""
    from jupyter_gpu_kernels.errors import HostError
    from jupyter_gpu_kernels.hosts import transport
    from jupyter_gpu_kernels.hosts.registry import DockerHost

    host = DockerHost("flaky", f"unix://{tmp_path}/none.sock")
    tries = []
    real = transport._base_url
    monkeypatch.setattr(transport, "_base_url", lambda h: tries.append(1) or real(h))
    for _ in range(3):
        with pytest.raises(HostError, match="not reachable"):
            transport.connect(host)
    assert len(tries) == 1
    transport.forget(host)  # e.g. the user fixed it and pressed refresh
    with pytest.raises(HostError):
        transport.connect(host)
    assert len(tries) == 2
    monkeypatch.setattr(transport, "FAILURE_CACHE_SECONDS", 0.0)
    with pytest.raises(HostError):
        transport.connect(host)
    assert len(tries) == 3
    transport.forget(host)


def test_cdi_all_has_no_count_to_cap_and_gpu_choosing_variables_are_reserved():
    """Issue #19, 3: ``nvidia.com/gpu=all`` passed ``max_gpus_per_kernel`` as one GPU, and
    NVIDIA_VISIBLE_DEVICES / CUDA_VISIBLE_DEVICES were settable (the NVIDIA runtime would obey them)."""
    from jupyter_gpu_kernels.errors import SpecError
    from jupyter_gpu_kernels.specs.gpus import parse_gpus
    from jupyter_gpu_kernels.specs.resources import check_user_env_name, parse_env_pair
    from jupyter_gpu_kernels.specs.settings import KernelSettings

    assert parse_gpus("nvidia.com/gpu=all").wants_all and parse_gpus("all").wants_all
    assert not parse_gpus("nvidia.com/gpu=0,nvidia.com/gpu=1").wants_all and not parse_gpus("2").wants_all
    for name in ("NVIDIA_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES", "NVIDIA_MIG_CONFIG_DEVICES"):
        with pytest.raises(SpecError, match=f"environment variable {name} is reserved: .*gpus setting"):
            check_user_env_name(name)
        with pytest.raises(SpecError, match="reserved") as e:
            KernelSettings.from_config({"image": "x", "env": {name: "all"}})
        assert e.value.field == "env"
        with pytest.raises(SpecError, match="reserved"):
            parse_env_pair(f"{name}=all")
    assert check_user_env_name("NVIDIA_DISABLE_REQUIRE") == "NVIDIA_DISABLE_REQUIRE"  # a kernel's own choice


def test_one_definition_of_a_root_user():
    """specs/users.is_root_user is what planning (an image's USER) and the policy's root rule use;
    empty means root (an image without USER runs as root), the safe reading for both."""
    from jupyter_gpu_kernels.errors import PolicyError
    from jupyter_gpu_kernels.kernel import planning
    from jupyter_gpu_kernels.policy import KernelPolicy
    from jupyter_gpu_kernels.specs.users import is_root_user

    assert planning.is_root_user is is_root_user
    assert all(is_root_user(u) for u in ("", None, " ", "0", "root", "0:0", "root:root", "0:100", " 0 "))
    assert not any(is_root_user(u) for u in ("1000", "jovyan", "1000:0", "nobody", "10", "rooted"))
    policy = KernelPolicy(allow_root_user=False)
    for user in ("", "0", "root:root"):
        with pytest.raises(PolicyError) as e:
            policy.check_user(user)
        assert e.value.rule == "allow_root_user" and e.value.field == "user"
    policy.check_user("1000:100")
    policy.check_user(None)  # the image's user: checked once the image is known (settle_image_user)
    KernelPolicy(allow_root_user=True).check_user("")
