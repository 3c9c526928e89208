"""Without any reachable Docker daemon (e.g. on Binder) the extension starts cleanly and says so."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def jp_server_config(tmp_path):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}},
        "DockerHosts": {"local_url": f"unix://{tmp_path}/no-docker-here.sock"},
    }


async def test_server_starts_and_reports_no_docker(jp_fetch):
    hosts = json.loads((await jp_fetch("gpu-kernels", "api", "hosts")).body)["hosts"]
    (local,) = hosts
    assert local["reachable"] is False
    assert "is not reachable" in local["error"] and "dockerd" in local["error"]
    # the rest of Jupyter works as usual
    specs = json.loads((await jp_fetch("api", "kernelspecs")).body)
    assert specs["kernelspecs"]
    kernels = json.loads((await jp_fetch("gpu-kernels", "api", "kernels")).body)
    assert kernels == {"kernels": []}
    envs = json.loads((await jp_fetch("gpu-kernels", "api", "environments")).body)
    assert envs == {"environments": []}
