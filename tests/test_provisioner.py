"""The provisioner end to end: real dockerd, real ipykernel in the test image."""

from __future__ import annotations

import json
import os
import time

import pytest
from jupyter_client.manager import KernelManager

from jupyter_gpu_kernels.errors import HostError, ImageError, KernelLaunchError, NoGPUDriverError, SpecError
from jupyter_gpu_kernels.hosts.registry import DockerHosts

from .kernel_helpers import (
    edit_spec,
    install_spec,
    jdirs,  # noqa: F401 (fixture)
    no_leftovers,  # noqa: F401 (fixture)
    our_containers,
    run_cell,
    start_kernel,
    stop_kernel,
)

pytestmark = pytest.mark.docker


start = start_kernel
stop = stop_kernel


def test_lifecycle_outputs_interrupt_restart_shutdown(jdirs, test_image, docker_client, no_leftovers):
    install_spec("life", test_image, "--memory", "1g", "--shm-size", "256m")
    km, kc = start("life")
    try:
        first = km.provisioner.container_id
        c = docker_client.containers.get(first)
        host_cfg = c.attrs["HostConfig"]
        assert host_cfg["Init"] is True
        assert "no-new-privileges" in host_cfg["SecurityOpt"]
        assert host_cfg["Memory"] == 1024**3 and host_cfg["ShmSize"] == 256 * 1024**2
        assert not host_cfg.get("PortBindings"), "direct mode must not publish ports on the host"
        assert km.ip == c.attrs["NetworkSettings"]["Networks"]["jupyter-gpu-kernels"]["IPAddress"]
        net = docker_client.networks.get("jupyter-gpu-kernels")
        assert net.attrs["Options"]["com.docker.network.bridge.enable_icc"] == "false"
        ip_before, info_before = km.ip, km.get_connection_info()

        r = run_cell(
            kc,
            "import sys; print('out'); print('err', file=sys.stderr)\n"
            "from IPython.display import display, HTML; display(HTML('<b>hi</b>')); 6*7",
        )
        assert r["status"] == "ok" and r["stdout"] == "out\n" and r["stderr"] == "err\n"
        assert {"text/html": "<b>hi</b>", "text/plain": "<IPython.core.display.HTML object>"} in r["data"]
        assert r["data"][-1]["text/plain"] == "42"

        # interrupt (signal mode): a sleeping cell stops within 2 s
        kc.execute("import time; time.sleep(60)")
        time.sleep(0.5)
        t0 = time.monotonic()
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=10)
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - t0 < 2

        # restart: a new container, same image, mounts and limits; state is gone
        run_cell(kc, "x = 1")
        km.restart_kernel(now=True)
        kc.wait_for_ready(timeout=60)
        second = km.provisioner.container_id
        assert second != first
        with pytest.raises(Exception):  # noqa: B017 (docker-py's NotFound, or an APIError while it is removed)
            docker_client.containers.get(first)
        c2 = docker_client.containers.get(second)
        # same address and ports: clients connected before the restart keep working
        assert km.ip == ip_before and km.get_connection_info() == info_before
        assert c2.attrs["Config"]["Image"] == test_image
        assert c2.attrs["HostConfig"]["Binds"] == host_cfg["Binds"]
        assert run_cell(kc, "print('x' in dir())")["stdout"] == "False\n"
    finally:
        stop(km, kc)
    assert not km.is_alive()
    assert second not in {c.id for c in our_containers(docker_client)}


def test_interrupt_message_mode(jdirs, test_image, no_leftovers):
    install_spec("msgint", test_image)
    edit_spec("msgint", interrupt_mode="message")
    km, kc = start("msgint")
    try:
        kc.execute("import time; time.sleep(60)")
        time.sleep(0.5)
        t0 = time.monotonic()
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=10)
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - t0 < 2
    finally:
        stop(km, kc)


def test_files_user_env_and_secrets(jdirs, test_image, docker_client, monkeypatch, no_leftovers):
    monkeypatch.setenv("SERVER_SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("TZ", "Europe/Paris")
    install_spec("files", test_image, "--env", "MY_SETTING=on")
    km, kc = start("files")
    try:
        code = (
            "import os, json; open('from_kernel.txt', 'w').write('hello');"
            "print(json.dumps({'cwd': os.getcwd(), 'uid': os.getuid(), 'gid': os.getgid(), "
            "'env': dict(os.environ), 'home_ok': os.access(os.path.expanduser('~'), os.W_OK)}))"
        )
        r = run_cell(kc, code)
        import json

        seen = json.loads(r["stdout"])
        assert seen["cwd"] == os.getcwd()
        assert (seen["uid"], seen["gid"]) == (os.getuid(), os.getgid())
        assert seen["home_ok"]
        assert "SERVER_SECRET_TOKEN" not in seen["env"] and "hunter2" not in str(seen["env"])
        assert seen["env"]["MY_SETTING"] == "on" and seen["env"]["TZ"] == "Europe/Paris"
        path = jdirs / "work" / "from_kernel.txt"
        assert path.read_text() == "hello"
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())
    finally:
        stop(km, kc)


def test_other_user_and_readonly_mount(jdirs, test_image, tmp_path, monkeypatch, no_leftovers):
    data = tmp_path / "dataset"
    data.mkdir()
    (data / "a.txt").write_text("A")
    # outside the server root: only an admin's KernelPolicy.allowed_mount_sources lets kernels mount it (#11)
    admin = tmp_path / "admin"
    admin.mkdir()
    (admin / "jupyter_server_config.json").write_text(
        json.dumps({"KernelPolicy": {"allowed_mount_sources": [str(data)]}})
    )
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(admin))
    install_spec("ro", test_image, "--mount", f"{data}:/data:ro")
    edit_spec("ro", config={"user": "1234:2345"})
    km, kc = start("ro")
    try:
        r = run_cell(
            kc,
            "import os; print(os.getuid(), os.getgid(), open('/data/a.txt').read())\n"
            "try:\n    open('/data/b.txt','w')\nexcept OSError as e:\n    print('ro', e.errno)",
        )
        assert r["stdout"].split("\n")[:2] == ["1234 2345 A", "ro 30"]
    finally:
        stop(km, kc)


def test_image_user_and_no_root_mount(jdirs, test_image, docker_client, no_leftovers):
    install_spec("imguser", test_image)
    edit_spec("imguser", config={"user": "image", "mount_root": False})
    km, kc = start("imguser")
    try:
        c = docker_client.containers.get(km.provisioner.container_id)
        assert c.attrs["HostConfig"]["Binds"] in (None, [])
        r = run_cell(kc, "import os; print(os.getuid())")
        assert r["stdout"] == "1000\n"  # the test image's USER
    finally:
        stop(km, kc)


def test_publish_mode_binds_loopback_only(jdirs, test_image, docker_client, no_leftovers):
    install_spec("pub", test_image)
    edit_spec("pub", config={"connection_mode": "publish"})
    km, kc = start("pub")
    try:
        assert km.ip == "127.0.0.1"
        c = docker_client.containers.get(km.provisioner.container_id)
        bindings = c.attrs["HostConfig"]["PortBindings"]
        assert len(bindings) == 5 and all(b[0]["HostIp"] == "127.0.0.1" for b in bindings.values())
        assert run_cell(kc, "print(1+1)")["stdout"] == "2\n"
    finally:
        stop(km, kc)


# ------------------------------------------------------------------ failures leave nothing behind
def _start_fails(name: str, exc: type, match: str, timeout: float = 60) -> str:
    """Start must fail with ``exc`` within ``timeout`` and leave no container or connection file."""
    from jupyter_core.paths import jupyter_runtime_dir

    runtime = jupyter_runtime_dir()
    before = set(os.listdir(runtime)) if os.path.isdir(runtime) else set()
    km = KernelManager(kernel_name=name)
    t0 = time.monotonic()
    with pytest.raises(exc, match=match) as e:
        km.start_kernel()
    assert time.monotonic() - t0 < timeout
    after = set(os.listdir(runtime)) if os.path.isdir(runtime) else set()
    assert not [f for f in after - before if f.startswith("kernel-")], "connection file left behind"
    return str(e.value)


def test_missing_image_and_no_registry(jdirs, no_leftovers):
    install_spec("noimg", "jupyter-gpu-kernels-test:does-not-exist")
    msg = _start_fails("noimg", ImageError, "pull of")
    assert "does-not-exist" in msg
    install_spec("noimg2", "jupyter-gpu-kernels-test:does-not-exist", "--pull-policy", "never")
    _start_fails("noimg2", ImageError, "pull policy is 'never'")


def test_crashing_kernel_shows_log(jdirs, test_image, no_leftovers):
    install_spec("crash", test_image)
    edit_spec(
        "crash", argv=["python", "-c", "import sys; print('boom: kernel cannot start', file=sys.stderr); sys.exit(3)"]
    )
    msg = _start_fails("crash", KernelLaunchError, "exited before it was ready")
    assert "exit code 3" in msg and "boom: kernel cannot start" in msg


def test_plain_image_without_ipykernel_is_explained(jdirs, plain_image, no_leftovers):
    install_spec("plain", plain_image)
    # without deriving an ipykernel image (the default, tests/test_derived_images.py):
    edit_spec("plain", config={"derive_ipykernel": False})
    # refused before any container exists (issue #13); an explicit argv still runs and shows the log
    msg = _start_fails("plain", ImageError, "but no ipykernel")
    assert plain_image in msg and "pip install ipykernel" in msg
    edit_spec("plain", argv=["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    msg = _start_fails("plain", KernelLaunchError, "exited before it was ready")
    assert "No module named ipykernel_launcher" in msg


def test_oom_kill_is_reported(jdirs, test_image, no_leftovers):
    install_spec("oom", test_image, "--memory", "16m")
    edit_spec("oom", argv=["python", "-c", "x = bytearray(512 * 1024 * 1024)"], config={"memory": "16m"})
    msg = _start_fails("oom", KernelLaunchError, "exited")
    assert "OOM-killed" in msg


def test_not_ready_in_time(jdirs, test_image, no_leftovers):
    install_spec("slow", test_image)
    edit_spec(
        "slow", argv=["python", "-c", "import time; print('thinking'); time.sleep(600)"], config={"launch_timeout": 2}
    )
    msg = _start_fails("slow", KernelLaunchError, "did not answer within launch_timeout=2s", timeout=15)
    assert "thinking" in msg


@pytest.mark.parametrize(
    "config,exc,match",
    [
        ({"gpus": "device=zero"}, SpecError, "invalid GPU spec"),
        ({"mounts": ["/definitely/not/here:/data"]}, SpecError, "does not exist"),
        ({"mounts": ["relative:data"]}, SpecError, "must be absolute"),
        ({"memory": "lots"}, SpecError, "invalid memory limit"),
        ({"image": "Not A Valid:Ref"}, SpecError, "invalid image reference"),
        ({"host": "nowhere"}, HostError, "unknown Docker host 'nowhere'"),
    ],
)
def test_bad_settings_rejected_before_any_container(jdirs, test_image, docker_client, config, exc, match):
    before = {c.id for c in docker_client.containers.list(all=True)}
    install_spec("bad", test_image)
    edit_spec("bad", config=config)
    _start_fails("bad", exc, match, timeout=10)
    assert {c.id for c in docker_client.containers.list(all=True)} == before


def test_unreachable_daemon_fails_fast(jdirs, test_image, docker_client, tmp_path):
    before = {c.id for c in docker_client.containers.list(all=True)}
    DockerHosts().add("gone", f"unix://{tmp_path}/no-daemon.sock")
    DockerHosts().add("blackhole", "tcp://127.0.0.1:9")  # nothing listens on the discard port
    for host in ("gone", "blackhole"):
        install_spec(f"on-{host}", test_image, "--host", host)
        msg = _start_fails(f"on-{host}", HostError, "is not reachable", timeout=10)
        assert host in msg
    assert {c.id for c in docker_client.containers.list(all=True)} == before


# ------------------------------------------------------------------ GPUs through the real daemon path
@pytest.mark.gpu_fake
def test_gpu_request_reaches_container(jdirs, test_image, fake_gpu_daemon, no_leftovers):
    DockerHosts().add("fakegpu", fake_gpu_daemon.url)
    install_spec("g13", test_image, "--host", "fakegpu", "--gpus", "device=1,3")
    km, kc = start("g13")
    try:
        r = run_cell(
            kc,
            "import os, subprocess; print(os.environ['NVIDIA_VISIBLE_DEVICES']);"
            "print(subprocess.run(['nvidia-smi', '-L'], capture_output=True, text=True).stdout)",
        )
        lines = r["stdout"].strip().splitlines()
        assert lines[0] == "1,3"
        # like the real nvidia-smi, indices restart at 0 in the container: check the UUIDs
        uuids = [ln.split("UUID: ")[1].rstrip(")") for ln in lines[1:]]
        assert [u[-1] for u in uuids] == ["1", "3"], uuids
        c = fake_gpu_daemon.client.containers.get(km.provisioner.container_id)
        assert c.labels["org.jupyter.gpu-kernels.gpus"] == "1,3"
    finally:
        stop(km, kc)
    assert not our_containers(fake_gpu_daemon.client)


def test_gpu_request_without_toolkit_is_explained(jdirs, nogpu_daemon):
    """On a daemon of its own without any NVIDIA hook (the default daemon may have the real toolkit)."""
    DockerHosts().add("nogpu", nogpu_daemon.url)
    install_spec("nogpu", nogpu_daemon.test_image, "--host", "nogpu", "--gpus", "device=0")
    msg = _start_fails("nogpu", NoGPUDriverError, "NVIDIA Container Toolkit")
    assert "device=0" in msg
    assert not our_containers(nogpu_daemon.client)


def test_provisioner_info_finds_the_container_again(jdirs, test_image, docker_client, no_leftovers):
    """get/load_provisioner_info: a new provisioner (e.g. after a server restart) controls the container."""
    import asyncio

    from jupyter_gpu_kernels.kernel.provisioner import GPUDockerProvisioner

    install_spec("persist", test_image)
    km, kc = start("persist")
    try:
        info = asyncio.run(km.provisioner.get_provisioner_info())
        assert info["container_id"] == km.provisioner.container_id and info["host"] == "local"
        fresh = GPUDockerProvisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec)

        async def control():
            await fresh.load_provisioner_info(info)
            assert fresh.has_process and await fresh.poll() is None
            await fresh.kill()
            return await asyncio.wait_for(fresh.wait(), 20)

        assert asyncio.run(control()) != 0
        assert docker_client.containers.get(info["container_id"]).status == "exited"
        asyncio.run(fresh.cleanup())
        assert info["container_id"] not in {c.id for c in our_containers(docker_client)}
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.mark.gpu_fake
def test_kernel_ports_unreachable_from_other_hosts(jdirs, test_image, docker_client, fake_gpu_daemon, no_leftovers):
    """Another machine on the network (a netns routed through this host) reaches neither the
    container's ports nor anything on this host's address for them."""
    install_spec("isolated", test_image)
    km, kc = start("isolated")
    try:
        info = km.get_connection_info()
        probe = (
            "import socket, sys\n"
            "bad = []\n"
            "for addr, port in [(a, int(p)) for a, p in (x.split(':') for x in sys.argv[1:])]:\n"
            "    s = socket.socket(); s.settimeout(1.5)\n"
            "    if s.connect_ex((addr, port)) == 0: bad.append(f'{addr}:{port}')\n"
            "print(' '.join(bad) or 'none reachable')\n"
        )
        targets = [f"{km.ip}:{info[p]}" for p in ("shell_port", "hb_port")]
        targets += [f"{fake_gpu_daemon.host_ip}:{info[p]}" for p in ("shell_port", "hb_port")]
        out = fake_gpu_daemon.ns_run(["python3", "-c", probe, *targets], capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == "none reachable", out.stdout + out.stderr
        # …while this host itself talks to the kernel
        assert run_cell(kc, "print(1)")["stdout"] == "1\n"
    finally:
        stop(km, kc)
