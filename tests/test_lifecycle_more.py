"""Kernel lifecycle under faults (issue #14, third part), end to end on a real dockerd.

- fork safety: nbclient in a forked ``ProcessPoolExecutor`` worker, after the parent ran a notebook;
- GPU-minutes (``daemon/usage.py``: REST ``usage``, ``gpu_minutes`` on kernel rows, the CLI);
- container logs (REST ``kernels/{id}/logs``, ``jupyter gpu-kernels logs``);
- idle culling of GPU kernels (``server/culler.py``) with a warning first.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import nbformat
import pytest
from nbclient import NotebookClient
from tornado.httpclient import HTTPClientError

from .kernel_helpers import install_spec, jdirs, our_containers  # noqa: F401 (jdirs: a fixture)

pytestmark = pytest.mark.docker


def run_notebook(kernel_name: str, code: str) -> str:
    """Execute a one-cell notebook with nbclient; the cell's stdout."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(nb, kernel_name=kernel_name, timeout=60, startup_timeout=60).execute()
    return "".join(o.get("text", "") for o in nb.cells[0].outputs if o.get("output_type") == "stream")


@pytest.mark.timeout(200)
def test_forked_worker_runs_a_kernel_after_the_parent_did(jdirs, test_image, docker_client):
    install_spec("forky", test_image)
    before = {c.id for c in our_containers(docker_client)}
    assert run_notebook("forky", "print('parent', 6 * 7)").strip() == "parent 42"
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    try:
        out = pool.submit(run_notebook, "forky", "import os; print('child', os.getuid() >= 0)").result(timeout=120)
    finally:  # a hung child must fail the test, not hang the session (the pool's exit would join it)
        workers = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in workers:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
    assert out.strip() == "child True"
    assert not [c.name for c in our_containers(docker_client) if c.id not in before]


# ------------------------------------------------------------------ usage, logs and idle culling (a server)
GPU_IDLE = 15.0
WARNING = 10.0


@pytest.fixture
def jp_server_config(test_image):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}},
        "ImagePolicy": {"allowed_images": [test_image]},
        "GPUKernelsCuller": {
            "gpu_idle_timeout": GPU_IDLE,
            "cpu_idle_timeout": 0.0,
            "warning_seconds": WARNING,
            "interval": 0.5,
        },
    }


@pytest.fixture
def fakegpu(jp_environ, fake_gpu_daemon):
    """The fake-GPU daemon as host 'fakegpu' of the server under test; no kernel container left."""
    from jupyter_gpu_kernels.daemon.allocator import GPUAllocator
    from jupyter_gpu_kernels.hosts.registry import DockerHosts

    DockerHosts().add("fakegpu", fake_gpu_daemon.url)
    GPUAllocator._instances.clear()
    yield fake_gpu_daemon
    left = our_containers(fake_gpu_daemon.client)
    for c in left:
        c.remove(force=True, v=True)
    assert not left, f"left behind: {[c.name for c in left]}"


@pytest.mark.gpu_fake
@pytest.mark.timeout(240)
async def test_logs_usage_and_idle_gpu_culling(jp_fetch, jp_ws_fetch, fakegpu, test_image, docker_client):
    from jupyter_gpu_kernels import cli

    from .kernel_helpers import ws_execute
    from .test_faults import rows, spec, until

    spec("gpuk", image=test_image, host="fakegpu", gpus="device=1", environment="gpu-env")
    spec("cpuk", image=test_image, environment="cpu-env")
    gpu_kid = (await rest(jp_fetch, "api", "kernels", method="POST", body={"name": "gpuk"}, expect=201))["id"]
    cpu_kid = (await rest(jp_fetch, "api", "kernels", method="POST", body={"name": "cpuk"}, expect=201))["id"]
    try:
        ws = await jp_ws_fetch("api", "kernels", gpu_kid, "channels")
        await ws_execute(ws, "import os; os.write(2, b'marker-on-real-stderr\\n'); print('done')")
        ws.close()
        logs = await rest(jp_fetch, "gpu-kernels", "api", "kernels", gpu_kid, "logs", params={"tail": "50"})
        assert "marker-on-real-stderr" in logs["logs"], logs
        await rest(jp_fetch, "gpu-kernels", "api", "kernels", "nope", "logs", expect=404)
        await rest(jp_fetch, "gpu-kernels", "api", "kernels", gpu_kid, "logs", params={"tail": "x"}, expect=400)
        assert cli.main(["logs", gpu_kid[:12], "--tail", "20"]) == 0

        listed = await rows(jp_fetch)
        assert listed[gpu_kid]["gpu_minutes"] > 0 and listed[cpu_kid]["gpu_minutes"] == 0, listed

        # idle: warned (cull_at on its row) then shut down; the CPU kernel (no CPU timeout) stays
        warned = await until(lambda: _cull_at(jp_fetch, gpu_kid), "GPU kernel warned before culling")
        assert warned
        await until(lambda: _gone(jp_fetch, gpu_kid), "idle GPU kernel culled", tries=120)
        assert cpu_kid in {k["id"] for k in await rest(jp_fetch, "api", "kernels")}
        assert not our_containers(fakegpu.client)

        usage = await rest(jp_fetch, "gpu-kernels", "api", "usage", params={"since": "10m"})
        by_kernel = {r["kernel_id"]: r for r in usage["kernels"]}
        assert by_kernel[gpu_kid]["gpu_minutes"] > 0 and by_kernel[gpu_kid]["environment"] == "gpu-env", usage
        assert by_kernel[cpu_kid]["gpu_minutes"] == 0 and by_kernel[cpu_kid]["seconds"] > 0, usage
        assert usage["environments"]["gpu-env"] > 0 and usage["environments"]["cpu-env"] == 0
        assert sum(usage["users"].values()) == pytest.approx(usage["total_gpu_minutes"])
        await rest(jp_fetch, "gpu-kernels", "api", "usage", params={"since": "yesterday-ish"}, expect=400)
        assert cli.main(["usage", "--since", "10m", "--json"]) == 0
    finally:
        for kid in (gpu_kid, cpu_kid):
            if kid in {k["id"] for k in await rest(jp_fetch, "api", "kernels")}:
                await rest(jp_fetch, "api", "kernels", kid, method="DELETE", expect=204)


async def rest(jp_fetch, *parts, method="GET", body=None, expect=200, params=None):
    """The JSON body of one call (query ``params``); asserts the status."""
    try:
        r = await jp_fetch(
            *parts,
            method=method,
            body=None if body is None else json.dumps(body),
            params=params or {},
            allow_nonstandard_methods=True,
        )
        code, data = r.code, r.body
    except HTTPClientError as e:
        code, data = e.code, (e.response.body if e.response else b"")
    assert code == expect, (code, data)
    return json.loads(data) if data else None


async def _cull_at(jp_fetch, kid):
    from .test_faults import rows

    row = (await rows(jp_fetch)).get(kid)
    return row and row.get("cull_at")


async def _gone(jp_fetch, kid):
    return kid not in {k["id"] for k in await rest(jp_fetch, "api", "kernels")}
