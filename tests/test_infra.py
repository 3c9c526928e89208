"""Tests of the test infrastructure itself, against real daemons (see tests/support/)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import docker
import pytest
from docker.types import DeviceRequest

from tests.support import image as image_mod
from tests.support.leftovers import KERNEL_ID_LABEL, KEY_VOLUME_LABEL, SERVER_LABEL, LeftoverTracker

FAKE = Path(__file__).resolve().parent / "support" / "fake_nvidia"
UUID = "GPU-00000000-fake-4000-8000-00000000000{}"
QUERY = "index,uuid,name,memory.total,memory.used,utilization.gpu"


def _run(client, image, cmd, **kw) -> tuple[int, str]:
    c = client.containers.run(image, cmd, detach=True, **kw)
    try:
        rc = c.wait(timeout=120)["StatusCode"]
        return rc, c.logs().decode()
    finally:
        c.remove(force=True)


# --------------------------------------------------------------------------- images
@pytest.mark.docker
def test_test_image_has_host_ipykernel_as_uid_1000(docker_client, test_image):
    import ipykernel

    assert test_image == f"jupyter-gpu-kernels-test:ipykernel-{ipykernel.__version__}"
    rc, out = _run(
        docker_client,
        test_image,
        [
            "python",
            "-c",
            "import os, sys, ipykernel, zmq; print(os.getuid(), os.getcwd(), ipykernel.__version__, zmq.has('curve'), sys.version_info[0])",
        ],
    )
    assert rc == 0, out
    assert out.split() == ["1000", "/home/jovyan", ipykernel.__version__, "True", "3"]
    cfg = docker_client.images.get(test_image).attrs["Config"]
    assert cfg["User"] == "1000"
    assert cfg["WorkingDir"] == "/home/jovyan"
    assert cfg["Cmd"] == ["python", "-m", "ipykernel_launcher"]
    assert cfg["Labels"][image_mod.LABEL_KIND] == "ipykernel"


@pytest.mark.docker
def test_test_image_works_as_root_too(docker_client, test_image):
    rc, out = _run(
        docker_client,
        test_image,
        ["python", "-c", "import os, ipykernel; print(os.getuid(), os.environ['HOME'])"],
        user="0",
    )
    assert rc == 0, out
    assert out.split() == ["0", "/root"]


@pytest.mark.docker
def test_plain_image_lacks_ipykernel(docker_client, plain_image):
    rc, out = _run(docker_client, plain_image, ["python", "-c", "import ipykernel"])
    assert rc == 1
    assert "No module named 'ipykernel'" in out
    rc, out = _run(docker_client, plain_image, ["python3", "-c", "import os; print(os.getuid())"])
    assert (rc, out.strip()) == (0, "1000")


# --------------------------------------------------------------------------- fake nvidia-smi (no daemon)
def _smi(*args, env=None):
    e = {"PATH": os.environ.get("PATH", ""), **(env or {})}
    return subprocess.run([sys.executable, str(FAKE / "nvidia-smi"), *args], capture_output=True, text=True, env=e)


def test_fake_nvidia_smi_cli():
    r = _smi("-L", env={"NVIDIA_VISIBLE_DEVICES": "all"})
    assert r.returncode == 0
    assert [ln.split(" (UUID: ")[1].rstrip(")") for ln in r.stdout.splitlines()] == [UUID.format(i) for i in range(4)]

    r = _smi(
        f"--query-gpu={QUERY}", "--format=csv,noheader,nounits", env={"NVIDIA_VISIBLE_DEVICES": f"0,{UUID.format(2)}"}
    )
    rows = [ln.split(", ") for ln in r.stdout.splitlines()]
    assert rows == [
        ["0", UUID.format(0), "NVIDIA Fake A100 80GB", "81920", "0", "0"],
        ["2", UUID.format(2), "NVIDIA Fake A100 80GB", "81920", "0", "0"],
    ]
    r = _smi("--query-gpu=driver_version,pci.bus_id,memory.total", "--format=csv", env={"NVIDIA_VISIBLE_DEVICES": "3"})
    assert r.stdout.splitlines() == [
        "driver_version, pci.bus_id, memory.total [MiB]",
        "550.54.15, 00000000:CA:00.0, 81920 MiB",
    ]

    r = _smi(
        "--query-compute-apps=pid,gpu_uuid,used_memory",
        "--format=csv,noheader,nounits",
        env={"NVIDIA_VISIBLE_DEVICES": "all"},
    )
    assert (r.returncode, r.stdout) == (0, "")

    for none in ("none", "void", ""):
        r = _smi("-L", env={"NVIDIA_VISIBLE_DEVICES": none})
        assert r.returncode == 6 and "No devices were found" in r.stdout
    r = _smi("--query-gpu=bogus", "--format=csv", env={"NVIDIA_VISIBLE_DEVICES": "all"})
    assert r.returncode == 2 and 'Field "bogus" is not a valid field to query.' in r.stdout


def test_fake_hook_writes_into_bundle_rootfs(tmp_path):
    rootfs = tmp_path / "bundle" / "rootfs"
    (rootfs / "usr" / "bin").mkdir(parents=True)
    (rootfs / "usr" / "bin" / "python3").touch()
    config = {
        "root": {"path": "rootfs"},
        "process": {"env": ["PATH=/bin", f"NVIDIA_VISIBLE_DEVICES=3,{UUID.format(1)}"]},
    }
    (tmp_path / "bundle" / "config.json").write_text(json.dumps(config))
    state = json.dumps(
        {"ociVersion": "1.0.2", "id": "x", "status": "creating", "pid": 1, "bundle": str(tmp_path / "bundle")}
    )
    log = tmp_path / "hook.log"
    hook = str(FAKE / "nvidia-container-runtime-hook")
    r = subprocess.run(
        [hook, "prestart"], input=state, text=True, capture_output=True, env={"FAKE_NVIDIA_HOOK_LOG": str(log)}
    )
    assert r.returncode == 0, r.stderr
    smi = rootfs / "usr" / "bin" / "nvidia-smi"
    assert smi.stat().st_mode & 0o777 == 0o755
    assert smi.read_text().startswith("#!/usr/bin/python3\n")
    assert (rootfs / "etc" / "fake-nvidia" / "visible-devices").read_text().strip() == "1,3"
    gpus = json.loads((rootfs / "etc" / "fake-nvidia" / "gpus.json").read_text())
    assert [(g["index"], g["uuid"], g["minor_number"]) for g in gpus] == [
        (0, UUID.format(1), 1),
        (1, UUID.format(3), 3),
    ]
    assert json.loads(log.read_text())["visible"] == [1, 3]

    config["process"]["env"][1] = "NVIDIA_VISIBLE_DEVICES=7"
    (tmp_path / "bundle" / "config.json").write_text(json.dumps(config))
    r = subprocess.run([hook, "prestart"], input=state, text=True, capture_output=True)
    assert r.returncode == 1 and "unknown device" in r.stderr
    assert subprocess.run([hook, "poststop"], input="", text=True).returncode == 0


# --------------------------------------------------------------------------- fake-GPU daemon (real dockerd/runc path)
@pytest.mark.docker
@pytest.mark.gpu_fake
def test_fake_gpu_daemon_device_ids_1_3(fake_gpu_daemon):
    d = fake_gpu_daemon
    rc, out = _run(
        d.client,
        d.test_image,
        [
            "sh",
            "-c",
            f"echo $NVIDIA_VISIBLE_DEVICES; nvidia-smi -L; nvidia-smi --query-gpu={QUERY} --format=csv,noheader,nounits;"
            " nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv,noheader,nounits",
        ],
        device_requests=[DeviceRequest(device_ids=["1", "3"], capabilities=[["gpu"]])],
    )
    assert rc == 0, out
    lines = out.splitlines()
    assert lines[0] == "1,3"
    # like the real toolkit: renumbered from 0 inside the container, host UUIDs
    assert lines[1:3] == [
        f"GPU 0: NVIDIA Fake A100 80GB (UUID: {UUID.format(1)})",
        f"GPU 1: NVIDIA Fake A100 80GB (UUID: {UUID.format(3)})",
    ]
    assert [ln.split(", ")[1] for ln in lines[3:5]] == [UUID.format(1), UUID.format(3)]
    assert len(lines) == 5  # compute apps: nothing
    assert d.hook_invocations()[-1]["visible"] == [1, 3]


@pytest.mark.docker
@pytest.mark.gpu_fake
def test_fake_gpu_daemon_all_count_and_errors(fake_gpu_daemon):
    d = fake_gpu_daemon
    rc, out = _run(
        d.client,
        d.test_image,
        ["sh", "-c", "echo $NVIDIA_VISIBLE_DEVICES; nvidia-smi -L | wc -l"],
        device_requests=[DeviceRequest(count=-1, capabilities=[["gpu"]])],
    )
    assert (rc, out.split()) == (0, ["all", "4"])
    rc, out = _run(
        d.client,
        d.test_image,
        ["sh", "-c", "echo $NVIDIA_VISIBLE_DEVICES $NVIDIA_DRIVER_CAPABILITIES; cat /etc/fake-nvidia/visible-devices"],
        device_requests=[DeviceRequest(count=2, capabilities=[["gpu", "utility", "compute"]])],
    )
    assert (rc, out.split()) == (0, ["0,1", "utility,compute", "0,1"])
    # the plain image (python3, no ipykernel) gets a working nvidia-smi too
    rc, out = _run(
        d.client,
        d.plain_image,
        ["nvidia-smi", "-L"],
        device_requests=[DeviceRequest(device_ids=[UUID.format(2)], capabilities=[["gpu"]])],
    )
    assert (rc, out.strip()) == (0, f"GPU 0: NVIDIA Fake A100 80GB (UUID: {UUID.format(2)})")
    # an unknown device fails the start, as with the real toolkit
    c = d.client.containers.create(
        d.test_image, ["true"], device_requests=[DeviceRequest(device_ids=["7"], capabilities=[["gpu"]])]
    )
    try:
        with pytest.raises(docker.errors.APIError) as ei:
            c.start()
        assert ei.value.status_code == 500
        assert "unknown device" in str(ei.value)
    finally:
        c.remove(force=True)
    # no GPU request: no hook, no nvidia-smi
    rc, out = _run(d.client, d.test_image, ["sh", "-c", "command -v nvidia-smi || echo none"])
    assert out.strip() == "none"


@pytest.mark.docker
@pytest.mark.gpu_fake
def test_fake_gpu_table_can_be_changed(fake_gpu_daemon):
    d = fake_gpu_daemon
    gpus = json.loads((FAKE / "gpus.json").read_text())
    gpus[1]["memory.used"], gpus[1]["utilization.gpu"] = 40000, 97
    d.set_fake_gpus(gpus)
    try:
        rc, out = _run(
            d.client,
            d.test_image,
            ["nvidia-smi", "--query-gpu=uuid,memory.used,utilization.gpu", "--format=csv,noheader,nounits"],
            device_requests=[DeviceRequest(count=-1, capabilities=[["gpu"]])],
        )
        assert rc == 0, out
        assert out.splitlines()[1] == f"{UUID.format(1)}, 40000, 97"
    finally:
        d.set_fake_gpus(None)


@pytest.mark.docker
@pytest.mark.gpu_fake
def test_netns_daemon_containers_reachable_from_host(fake_gpu_daemon, docker_client, test_image):
    """Host processes connect to container bridge IPs of both the netns daemon and the main one
    (the main daemon's docker0 survived the extra daemon)."""
    for client, image in ((fake_gpu_daemon.client, fake_gpu_daemon.test_image), (docker_client, test_image)):
        c = client.containers.run(image, ["python3", "-m", "http.server", "8000", "--bind", "0.0.0.0"], detach=True)
        try:
            c.reload()
            ip = c.attrs["NetworkSettings"]["IPAddress"]
            assert ip
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://{ip}:8000/", timeout=2) as r:
                        assert r.status == 200
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        finally:
            c.remove(force=True)
    assert fake_gpu_daemon.client.containers.list(all=True) == []


@pytest.mark.docker
def test_nogpu_daemon_rejects_gpu_request(nogpu_daemon):
    d = nogpu_daemon
    c = d.client.containers.create(
        d.test_image, ["true"], device_requests=[DeviceRequest(device_ids=["1", "3"], capabilities=[["gpu"]])]
    )
    try:
        with pytest.raises(docker.errors.APIError) as ei:
            c.start()
        assert ei.value.status_code == 500
        assert 'could not select device driver "" with capabilities: [[gpu]]' in str(ei.value)
    finally:
        c.remove(force=True)


@pytest.mark.docker
def test_netns_daemon_recovers_from_crash():
    """A SIGKILLed daemon (with a running container) is cleaned up by the next start."""
    from tests.support.netns_daemon import RUN_DIR, NetnsDaemon

    d = NetnsDaemon("crashtest", subnet_index=9, keep_data=False, load_images=False)
    try:
        d.test_image = image_mod.ensure_plain_image(d.client)
        c = d.client.containers.run(d.test_image, ["sleep", "600"], detach=True)
        c.reload()
        sleeper = c.attrs["State"]["Pid"]
        os.kill(d.proc.pid, signal.SIGKILL)
        d.proc.wait(timeout=10)
        d.proc = None
        d.client = None
        # the slot file names a dead pid now -> stale
        (RUN_DIR / "slot-9.owner").write_text(json.dumps({"pid": 999999999, "name": "crashtest"}))
        d2 = NetnsDaemon("crashtest", subnet_index=9, keep_data=False, load_images=False)
        try:
            assert d2.client.ping()
            assert not _alive(sleeper), "the orphaned container process survived"
        finally:
            d2.stop()
    finally:
        d.stop()
    assert "jgk-crashtest" not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert subprocess.run(["ip", "link", "show", "jgk9h"], capture_output=True).returncode != 0


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# --------------------------------------------------------------------------- leftovers helper
@pytest.mark.docker
def test_leftover_tracker(docker_client, plain_image):
    tracker = LeftoverTracker(docker_client)
    ours = docker_client.containers.create(
        plain_image, ["true"], labels={KERNEL_ID_LABEL: "k-ours", SERVER_LABEL: f"{socket.gethostname()}:{os.getpid()}"}
    )
    other = docker_client.containers.create(
        plain_image, ["true"], labels={KERNEL_ID_LABEL: "k-other", SERVER_LABEL: f"{socket.gethostname()}:1"}
    )
    try:
        assert [c.id for c in tracker.leftovers()] == [ours.id]  # pid 1 is alive: somebody else's
        removed = tracker.check_and_remove()
        assert len(removed) == 1 and "k-ours" in removed[0]
        assert tracker.leftovers() == []
    finally:
        for c in (ours, other):
            try:
                c.remove(force=True)
            except docker.errors.NotFound:
                pass


def test_leftover_tracker_counts_leaked_connection_volumes(docker_client, plain_image):
    """A kernel's connection-file volume whose container is gone is a leak; one whose container
    still exists (a running kernel) is not."""
    from jupyter_gpu_kernels.daemon import plan

    assert KEY_VOLUME_LABEL == plan.KEY_VOLUME_LABEL  # the tracker looks for what the product labels
    tracker = LeftoverTracker(docker_client)
    leaked = docker_client.volumes.create(labels={KEY_VOLUME_LABEL: "k-leaked"})
    kept = docker_client.volumes.create(labels={KEY_VOLUME_LABEL: "k-running"})
    running = docker_client.containers.create(
        plain_image, ["true"], labels={KERNEL_ID_LABEL: "k-running", SERVER_LABEL: f"{socket.gethostname()}:1"}
    )
    try:
        assert [v.name for v in tracker.leftover_volumes()] == [leaked.name]
        removed = tracker.check_and_remove()
        assert len(removed) == 1 and "k-leaked" in removed[0], removed
        assert tracker.leftover_volumes() == []
    finally:
        running.remove(force=True)
        for v in (leaked, kept):
            try:
                v.remove(force=True)
            except docker.errors.NotFound:
                pass


# --------------------------------------------------------------------------- pytest_jupyter integration
def test_plain_sync_tests_get_pytest_jupyter_loop(jp_asyncio_loop):
    import asyncio

    assert isinstance(jp_asyncio_loop, asyncio.AbstractEventLoop) and not jp_asyncio_loop.is_closed()


async def test_async_tests_run_on_pytest_jupyter_loop():
    import asyncio

    await asyncio.sleep(0)


@pytest.mark.browser
def test_browser_tests_get_no_forced_loop(request):
    """tests marked `browser` (Playwright brings its own loop and server) are left alone."""
    assert request.getfixturevalue("jp_asyncio_loop") is None


def test_gpu_mode_of_a_dockerd_is_read_from_its_path():
    """GPU mode (JGK_TEST_DEFAULT_DAEMON_GPU) trusts /proc/PID/environ: a process with the fake hook's
    directory on its PATH counts as having the NVIDIA driver, one without it does not."""
    from tests.support.dockerd import FAKE_NVIDIA_DIR, daemon_has_gpu_driver

    plain = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    procs = {
        gpu: subprocess.Popen(["sleep", "30"], env={"PATH": f"{FAKE_NVIDIA_DIR}:{plain}" if gpu else plain})
        for gpu in (True, False)
    }
    try:
        assert {gpu: daemon_has_gpu_driver(p.pid) for gpu, p in procs.items()} == {True: True, False: False}
    finally:
        for p in procs.values():
            p.kill()
            p.wait()
