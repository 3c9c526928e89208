"""``jupyter gpu-kernels start`` (what ``binder/start-local.sh`` runs), as a real subprocess.

* On a machine without Docker: stand-in ``apt-get`` and ``dockerd`` executables, alone on PATH, print
  noise on stdout as the real ones do; "installing docker.io" puts the stand-in dockerd on PATH, and
  that dockerd serves the socket it is told to with a byte-for-byte proxy to the real daemon, so
  everything after it (image check with a real kernel, the demo environment) runs for real. The daemon
  URL the command reports and uses must be exactly that socket's, and stdout must stay clean.
  Nothing is installed and the real daemon is never stopped or restarted.
* With no Docker at all (no dockerd, no apt-get, DOCKER_HOST pointing nowhere): exit status 1 and a
  message saying what to do, nothing written.
* End to end with the real daemon: a local image (the test image) is picked and checked, "demo" is created in
  temporary Jupyter dirs, JupyterLab answers on the printed URL with its token and lists the demo
  kernel; then it is terminated.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.kernel_helpers import our_containers
from tests.support.servers import free_port

STAND_IN_APT = """#!/bin/sh
echo "apt-get $*" >> "$STANDIN_APT_LOG"
echo "Reading package lists... Done"
echo "Setting up docker.io (20.10.24+dfsg1-1+b3) ..."
case "$*" in
  *install*docker.io*) /bin/cp "$STANDIN_DOCKERD" "$STANDIN_BIN/dockerd" && /bin/chmod 755 "$STANDIN_BIN/dockerd" ;;
esac
"""

STAND_IN_DOCKERD = """#!{python}
# stand-in dockerd: noise on stdout, then a proxy from --host's socket to the real daemon's
import asyncio, os, sys
print("INFO[0000] Starting up (stand-in dockerd)", flush=True)
socket_path = sys.argv[sys.argv.index("--host") + 1].removeprefix("unix://")
with open(os.environ["STANDIN_DOCKERD_LOG"], "a") as f:
    f.write(f"{{os.getpid()}} {{' '.join(sys.argv[1:])}}\\n")
upstream = os.environ["STANDIN_UPSTREAM"]

async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.write_eof()
    except Exception:
        writer.close()

async def handle(reader, writer):
    up_reader, up_writer = await asyncio.open_unix_connection(upstream)
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
    writer.close()
    up_writer.close()

async def main():
    server = await asyncio.start_unix_server(handle, socket_path)
    print("INFO[0001] API listen on " + socket_path, flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
"""


def jupyter_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "DOCKER_"))}
    for var, sub in (
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
    ):
        (tmp_path / sub).mkdir(exist_ok=True)
        env[var] = str(tmp_path / sub)
    env["JUPYTER_PATH"] = env["JUPYTER_DATA_DIR"]
    env.update(extra)
    return env


def start_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "jupyter_gpu_kernels.cli", "start", *args]


def user_environments(tmp_path: Path) -> dict:
    path = tmp_path / "config" / "gpu_kernels" / "environments.json"
    return json.loads(path.read_text())["environments"] if path.exists() else {}


def test_start_installs_and_starts_dockerd_with_noisy_stand_ins(tmp_path, docker_client, test_image):
    assert os.geteuid() == 0, "this test runs the root path of `start` (install docker.io, start dockerd)"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "apt-get").write_text(STAND_IN_APT)
    (bin_dir / "apt-get").chmod(0o755)
    dockerd_template = tmp_path / "dockerd.template"
    dockerd_template.write_text(STAND_IN_DOCKERD.format(python=sys.executable))
    socket_path = tmp_path / "docker.sock"
    url = f"unix://{socket_path}"
    env = jupyter_env(
        tmp_path,
        PATH=str(bin_dir),
        DOCKER_HOST=url,
        STANDIN_BIN=str(bin_dir),
        STANDIN_DOCKERD=str(dockerd_template),
        STANDIN_APT_LOG=str(tmp_path / "apt.log"),
        STANDIN_DOCKERD_LOG=str(tmp_path / "dockerd-args.log"),
        STANDIN_UPSTREAM="/var/run/docker.sock",
    )
    dockerd_log = tmp_path / "dockerd.log"
    before = {c.id for c in our_containers(docker_client)}
    try:
        res = subprocess.run(
            start_command("--no-lab", "--image", test_image, "--dockerd-log", str(dockerd_log)),
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        for line in (
            (tmp_path / "dockerd-args.log").read_text().splitlines() if (tmp_path / "dockerd-args.log").exists() else []
        ):
            pid = int(line.split()[0])
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    assert res.returncode == 0, res.stderr
    # the stand-ins' noise reached the user on stderr (apt-get) or the log (dockerd), never stdout
    assert "Reading package lists" not in res.stdout and "Starting up" not in res.stdout, res.stdout
    assert "Reading package lists... Done" in res.stderr
    assert "Starting up (stand-in dockerd)" in dockerd_log.read_text()
    assert (tmp_path / "apt.log").read_text().splitlines() == [
        "apt-get update",
        "apt-get install -y --no-install-recommends docker.io",
    ]
    (args,) = (tmp_path / "dockerd-args.log").read_text().splitlines()
    assert args.split()[1:] == ["--host", url]
    lines = res.stderr.splitlines()
    assert f"Docker daemon at {url} answers" in lines, res.stderr
    assert any(
        line.startswith(f"started {bin_dir}/dockerd in the background") and f"log: {dockerd_log}" in line
        for line in lines
    ), res.stderr
    assert f"image {test_image}: kernel runs with /usr/bin/python3" in lines
    assert user_environments(tmp_path)["demo"]["image"] == test_image
    assert re.search(r"^4/4 JupyterLab: http://127\.0\.0\.1:8888/lab\?token=[0-9a-f]{48}$", res.stderr, re.M)
    assert "[jgk-test]" not in res.stderr
    assert {c.id for c in our_containers(docker_client)} == before  # the check kernel is gone


@pytest.mark.parametrize(
    "docker_host,message,todo",
    [
        (
            "unix://{tmp}/nowhere.sock",
            "Docker is not installed here (no dockerd on PATH) and this is not Debian with "
            "apt-get, so it cannot be installed for you",
            "install Docker Engine",
        ),
        (
            "tcp://127.0.0.1:1",
            "the Docker daemon at DOCKER_HOST=tcp://127.0.0.1:1 does not answer",
            "unset DOCKER_HOST",
        ),
    ],
)
def test_start_without_docker_says_what_to_do(tmp_path, docker_host, message, todo):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = jupyter_env(tmp_path, PATH=str(empty), DOCKER_HOST=docker_host.format(tmp=tmp_path))
    res = subprocess.run(
        start_command("--dockerd-log", str(tmp_path / "dockerd.log")),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 1, res.stderr
    (error,) = [line for line in res.stderr.splitlines() if line.startswith("error: ")]
    assert message in error and todo in error, error
    assert res.stdout == ""
    assert user_environments(tmp_path) == {} and not (tmp_path / "dockerd.log").exists()


def test_start_end_to_end_with_the_real_daemon(tmp_path, docker_client, test_image):
    port = free_port()
    env = jupyter_env(tmp_path, DOCKER_HOST="unix:///var/run/docker.sock")
    before = {c.id for c in our_containers(docker_client)}
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.Popen(
        start_command("--port", str(port)),
        env=env,
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    found = threading.Event()

    def drain() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip("\n"))
            if line.startswith("4/4 JupyterLab: "):
                found.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        assert found.wait(120), "\n".join(output)
        (url,) = [line.split(": ", 1)[1] for line in output if line.startswith("4/4 JupyterLab: ")]
        assert url.startswith(f"http://127.0.0.1:{port}/lab?token=")
        token = url.split("token=", 1)[1]
        # the first local image with ipykernel whose kernel starts: the test image, unless the suite's
        # image shapes (also with ipykernel) are listed before it
        (picked,) = [m.group(1) for line in output if (m := re.match(r"image (\S+): kernel runs with /", line))]
        assert picked == test_image or picked.startswith("jupyter-gpu-kernels-test:shape-"), output
        assert user_environments(tmp_path)["demo"]["image"] == picked
        status = specs = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"token {token}"}
                )
                status = json.loads(urllib.request.urlopen(req, timeout=5).read())
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/kernelspecs", headers={"Authorization": f"token {token}"}
                )
                specs = json.loads(urllib.request.urlopen(req, timeout=5).read())
                break
            except OSError:
                time.sleep(0.5)
        assert status is not None and "started" in status, "\n".join(output)
        assert "gpu-demo" in specs["kernelspecs"], specs
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert {c.id for c in our_containers(docker_client)} == before


def test_the_demo_image_is_built_with_this_machines_cas_and_runs_a_kernel(docker_client, capsys):
    """The fresh-machine path when no local image has ipykernel: debootstrap + pip in a chroot + docker
    import, for real (about a minute; Debian's mirror and PyPI). pip in the chroot needs this machine's CA
    bundle (behind a TLS-inspecting proxy the chroot's own Debian bundle fails: seen here), which is
    removed again before the import; the image's kernel starts."""
    import docker

    from jupyter_gpu_kernels.local_setup.demo_image import CHROOT_CA, build_demo_image, demo_tag
    from jupyter_gpu_kernels.local_setup.kernel_image import check
    from tests.support.image import file_in_image

    tag = demo_tag()
    try:
        docker_client.images.remove(tag, force=True)
    except docker.errors.ImageNotFound:
        pass
    said: list[str] = []
    try:
        assert build_demo_image(docker_client, said.append) == tag
        assert any(s.startswith("debootstrap ") for s in said) and any("docker import" in s for s in said), said
        assert "[jgk-test]" not in capsys.readouterr().out
        assert check(tag) == "/usr/bin/python3"
        with pytest.raises(docker.errors.NotFound):
            file_in_image(docker_client, tag, CHROOT_CA)
        assert not [c for c in docker_client.containers.list(all=True) if c.image.tags == [tag]]
    finally:
        docker_client.images.remove(tag, force=True)
