"""Kernels in images shaped like the ones GPU users have (real dockerd, real kernels).

Shapes (built by ``tests/support/image.py: ensure_shape_image`` from the test images, no
network): python3 only with an nvidia-style ``exec "$@"`` entrypoint, a conda layout (the only
interpreter on PATH is /opt/conda/bin/python3), docker-stacks (USER 1000, ``tini -g --``), no
Python at all, Python without ipykernel (the ``plain`` image), and an ENTRYPOINT that ignores
its arguments. Each is started through jupyter_client's KernelManager and through the server's
REST API; the ones that cannot run a kernel are refused before any container exists.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from jupyter_client.manager import KernelManager
from tornado.httpclient import HTTPClientError

from jupyter_gpu_kernels.daemon.images import list_images
from jupyter_gpu_kernels.daemon.interpreters import find_interpreter, forget
from jupyter_gpu_kernels.errors import ImageError, KernelLaunchError
from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json, provisioner_config

from .kernel_helpers import (  # noqa: F401 (jdirs, no_leftovers: fixtures)
    edit_spec,
    install_spec,
    jdirs,
    no_leftovers,
    our_containers,
    run_cell,
    start_kernel,
    stop_kernel,
    ws_execute,
)
from .support.image import ensure_shape_image

pytestmark = pytest.mark.docker

RUNNABLE = {  # shape → the interpreter the kernel must run with
    "python3-only": "/usr/bin/python3",
    "conda": "/opt/conda/bin/python3",
    "stacks": "/usr/bin/python3",
}


@pytest.fixture(scope="module")
def shapes(docker_client, test_image, plain_image):
    tags = {s: ensure_shape_image(docker_client, s) for s in (*RUNNABLE, "no-python", "bad-entrypoint")}
    tags["no-ipykernel"] = plain_image
    return tags


def _connection_files() -> set[str]:
    from jupyter_core.paths import jupyter_runtime_dir

    runtime = jupyter_runtime_dir()
    return {f for f in os.listdir(runtime) if f.startswith("kernel-")} if os.path.isdir(runtime) else set()


def _refused(name: str, exc: type, match: str, docker_client) -> str:
    """The start fails quickly with ``exc``; no kernel container was ever created; no connection file."""
    before_files = _connection_files()
    events_since = int(time.time())
    km = KernelManager(kernel_name=name)
    t0 = time.monotonic()
    with pytest.raises(exc, match=match) as e:
        km.start_kernel()
    assert time.monotonic() - t0 < 30
    assert not (_connection_files() - before_files), "connection file left behind"
    created = docker_client.events(
        since=events_since,
        until=int(time.time()) + 1,
        decode=True,
        filters={"type": "container", "event": "create", "label": "org.jupyter.gpu-kernels.kernel-id"},
    )
    assert not list(created), "a kernel container was created for an image that cannot run a kernel"
    return str(e.value)


@pytest.mark.parametrize("shape", sorted(RUNNABLE))
def test_shape_runs_through_kernel_manager(shape, shapes, jdirs, docker_client, no_leftovers):
    install_spec("shape", shapes[shape])
    edit_spec("shape", config={"user": "image"})
    km, kc = start_kernel("shape", extra_arguments=["--HistoryManager.hist_file=:memory:"])
    try:
        c = docker_client.containers.get(km.provisioner.container_id)
        image = docker_client.images.get(shapes[shape])
        assert c.attrs["Config"]["Cmd"][0] == RUNNABLE[shape]
        assert "--HistoryManager.hist_file=:memory:" in c.attrs["Config"]["Cmd"]
        assert c.attrs["Config"]["Entrypoint"] == image.attrs["Config"]["Entrypoint"]  # kept
        out = run_cell(
            kc,
            "import os, sys; print(sys.executable, os.getuid(), "
            "os.environ.get('NVIDIA_ENTRYPOINT_RAN'), get_ipython().history_manager.hist_file)",
        )
        assert out["status"] == "ok", out
        exe, uid, ran, hist = out["stdout"].split()
        assert exe == RUNNABLE[shape] and uid == "1000" and hist == ":memory:"
        assert ran == ("1" if shape == "python3-only" else "None")
    finally:
        stop_kernel(km, kc)


class _Watched:
    """The real client, with every container it creates recorded (the probe removes its own)."""

    def __init__(self, client):
        self._client, self.host_configs = client, []
        outer = self

        class Containers:
            def create(self, *args, **kwargs):
                c = client.containers.create(*args, **kwargs)
                outer.host_configs.append(c.attrs["HostConfig"])
                return c

            def __getattr__(self, name):
                return getattr(client.containers, name)

        self.containers = Containers()


def test_probe_is_hardened_removed_and_cached(shapes, docker_client, jdirs):
    image = docker_client.images.get(shapes["conda"])
    forget(image.id)
    watched = _Watched(docker_client)
    found = find_interpreter(watched, image.id)
    assert found.path == "/opt/conda/bin/python3" and found.ipykernel and found.version.startswith("3.")
    assert len(watched.host_configs) == 1
    hc = watched.host_configs[0]
    assert hc["CapDrop"] == ["ALL"] and "no-new-privileges" in hc["SecurityOpt"]
    assert hc["NetworkMode"] == "none" and hc["Memory"] > 0 and hc["PidsLimit"] > 0
    assert not docker_client.containers.list(all=True, filters={"label": "org.jupyter.gpu-kernels.probe"})
    assert find_interpreter(watched, image.id) == found and len(watched.host_configs) == 1, "not cached"
    forget(image.id)  # forgotten (memory and disk): probed again
    assert find_interpreter(watched, image.id) == found and len(watched.host_configs) == 2
    rows = {t: i for i in list_images(docker_client) for t in i["tags"]}
    assert rows[shapes["conda"]]["python"] == "/opt/conda/bin/python3"
    assert rows[shapes["python3-only"]]["has_ipykernel"] is True
    assert rows[shapes["no-python"]]["has_ipykernel"] is False and rows[shapes["no-python"]]["python"] is None
    assert rows[shapes["no-ipykernel"]]["has_ipykernel"] is False


def test_no_python_and_no_ipykernel_are_refused_before_anything_exists(shapes, jdirs, docker_client, no_leftovers):
    install_spec("nopy", shapes["no-python"])
    msg = _refused("nopy", ImageError, "has no Python", docker_client)
    assert shapes["no-python"] in msg and "python3" in msg and "ipykernel" in msg
    install_spec("noipk", shapes["no-ipykernel"])
    edit_spec("noipk", config={"derive_ipykernel": False})  # on (the default): tests/test_derived_images.py
    msg = _refused("noipk", ImageError, "but no ipykernel", docker_client)
    assert shapes["no-ipykernel"] in msg and "python3 3." in msg and "/usr/bin/python3" in msg
    assert "pip install ipykernel" in msg


def test_explicit_argv_is_used_as_is(shapes, jdirs, docker_client, no_leftovers):
    """An argv set by the user is not rewritten (here `python` does not exist: the kernel fails)."""
    install_spec("explicit", shapes["python3-only"])
    edit_spec("explicit", config={"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]})
    km = KernelManager(kernel_name="explicit")
    with pytest.raises(KernelLaunchError):
        km.start_kernel()


def test_entrypoint_that_ignores_its_arguments_is_explained_and_can_be_cleared(
    shapes, jdirs, docker_client, no_leftovers
):
    install_spec("badep", shapes["bad-entrypoint"])
    km = KernelManager(kernel_name="badep")
    with pytest.raises(KernelLaunchError) as e:
        km.start_kernel()
    msg = str(e.value)
    assert "exited before it was ready" in msg and "ignoring the command" in msg
    assert "ENTRYPOINT" in msg and "may not run its arguments" in msg and "entrypoint: []" in msg
    edit_spec("badep", config={"entrypoint": []})
    km, kc = start_kernel("badep")
    try:
        assert docker_client.containers.get(km.provisioner.container_id).attrs["Config"]["Entrypoint"] in (None, [])
        assert run_cell(kc, "print(6*7)")["stdout"] == "42\n"
    finally:
        stop_kernel(km, kc)
    edit_spec("badep", config={"entrypoint": ["sh", 5]})
    with pytest.raises(Exception, match="entrypoint"):
        KernelManager(kernel_name="badep").start_kernel()


# ------------------------------------------------------------------ through the server
@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}}}


async def test_shapes_through_the_server(jp_fetch, jp_ws_fetch, jp_environ, shapes, docker_client):
    for shape in sorted(RUNNABLE):
        install(f"s-{shape}", kernel_json(shape, provisioner_config(image=shapes[shape])), user=True)
        r = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": f"s-{shape}"}))
        kid = json.loads(r.body)["id"]
        try:
            ws = await jp_ws_fetch("api", "kernels", kid, "channels")
            assert (await ws_execute(ws, "import sys; print(sys.executable)")).strip() == RUNNABLE[shape]
            ws.close()
        finally:
            await jp_fetch("api", "kernels", kid, method="DELETE")
    before = {c.id for c in our_containers(docker_client)}
    for shape, text in (("no-python", "has no Python"), ("no-ipykernel", "but no ipykernel")):
        config = {**provisioner_config(image=shapes[shape]), "derive_ipykernel": False}
        install(f"s-{shape}", kernel_json(shape, config), user=True)
        with pytest.raises(HTTPClientError) as e:
            await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": f"s-{shape}"}))
        body = e.value.response.body.decode()
        assert text in body and shapes[shape] in body, body
    assert not [c for c in our_containers(docker_client) if c.id not in before]


def test_start_local_picks_and_checks_a_python3_only_image(shapes, docker_client, no_leftovers):
    """binder/start-local.sh's image step (binder/pick_image.py) with a python3-only image, and with
    an image that cannot run a kernel."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "binder" / "pick_image.py"
    ok = subprocess.run(
        [sys.executable, str(script), shapes["python3-only"]], capture_output=True, text=True, timeout=120
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == shapes["python3-only"] and "kernel runs with /usr/bin/python3" in ok.stderr
    bad = subprocess.run(
        [sys.executable, str(script), shapes["no-python"]], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 1 and "has no Python" in bad.stderr and not bad.stdout.strip()
