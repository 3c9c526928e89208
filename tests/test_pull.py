"""Real pulls from a private registry on 127.0.0.1: progress, policies, REST pulls."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from jupyter_client.manager import KernelManager

from jupyter_gpu_kernels import cli

from .kernel_helpers import edit_spec, install_spec, isolated_jupyter_dirs, run_cell

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def registry():
    from tests.support.registry import registry_or_fail

    yield from registry_or_fail()


@pytest.fixture
def pushed(registry, docker_client, test_image):
    ref = registry.push(docker_client, test_image, f"jgk/kernel:{time.monotonic_ns()}")
    yield ref
    try:
        docker_client.images.remove(ref)
    except Exception:
        pass


@pytest.fixture
def pushed_big(registry, docker_client, test_image):
    """An image with a fresh 600 MB layer of random bytes that this daemon does not have: a pull
    must really download it (slower than the launch timeout used below)."""
    c = docker_client.containers.run(
        test_image, ["sh", "-c", "head -c 600000000 /dev/urandom > /tmp/weights.bin"], detach=True, user="0"
    )
    try:
        assert c.wait(timeout=120)["StatusCode"] == 0
        image = c.commit(repository="jgk-big-tmp", tag="1")
    finally:
        c.remove(force=True)
    ref = registry.push(docker_client, "jgk-big-tmp:1", f"jgk/big:{time.monotonic_ns()}")
    docker_client.images.remove("jgk-big-tmp:1")
    assert image.id not in {i.id for i in docker_client.images.list(all=True)}
    yield ref
    try:
        docker_client.images.remove(ref)
    except Exception:
        pass


def test_launch_pulls_with_progress_outside_the_launch_timeout(
    tmp_path, monkeypatch, pushed_big, docker_client, caplog
):
    pushed = pushed_big
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    install_spec("pulled", pushed)
    edit_spec("pulled", config={"launch_timeout": 3})
    km = KernelManager(kernel_name="pulled")
    caplog.set_level(logging.INFO)
    t0 = time.monotonic()
    km.start_kernel()
    elapsed = time.monotonic() - t0
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        assert run_cell(kc, "print('pulled ok')")["stdout"] == "pulled ok\n"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    records = [r for r in caplog.records if pushed in r.getMessage()]
    messages = [r.getMessage() for r in records]
    assert messages[0] == f"pulling {pushed} …", messages
    assert any(" MB in " in m for m in messages), "per-layer progress is logged"
    assert messages[-1] == f"pulled {pushed}" or f"pulled {pushed}" in messages
    pull_time = next(r.created for r in records if r.getMessage() == f"pulled {pushed}") - records[0].created
    # the pull alone took longer than the launch timeout, and the kernel still started
    assert pull_time > 3, f"pull took only {pull_time:.1f}s: the test needs a slower pull to prove anything"
    assert docker_client.images.get(pushed)
    print(f"start with pull took {elapsed:.1f}s, pull {pull_time:.1f}s (launch_timeout 3s)")


def test_pull_policies(tmp_path, monkeypatch, pushed, docker_client, capsys):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    # never: missing image is an error, nothing is pulled
    install_spec("never", pushed, "--pull-policy", "never")
    from jupyter_gpu_kernels.errors import ImageError

    with pytest.raises(ImageError, match="pull policy is 'never'"):
        KernelManager(kernel_name="never").start_kernel()
    with pytest.raises(Exception):  # noqa: B017 (whichever docker-py error says the image is not there)
        docker_client.images.get(pushed)
    # the CLI pulls with progress
    assert cli.main(["pull", pushed]) == 0
    assert f"Pulled {pushed}" in capsys.readouterr().out
    assert docker_client.images.get(pushed)


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}}}


async def test_rest_pull_until_done(jp_fetch, pushed, docker_client):
    r = await jp_fetch(
        "gpu-kernels", "api", "hosts", "local", "images", "pull", method="POST", body=json.dumps({"image": pushed})
    )
    assert r.code == 202
    pull = json.loads(r.body)
    for _ in range(600):
        state = json.loads((await jp_fetch("gpu-kernels", "api", "hosts", "local", "images", "pulls", pull["id"])).body)
        if state["status"] != "running":
            break
        await asyncio.sleep(0.1)
    assert state["status"] == "done", state
    assert state["log"][0].startswith("pulling") and state["log"][-1] == f"pulled {pushed}"
    images = json.loads((await jp_fetch("gpu-kernels", "api", "hosts", "local", "images")).body)["images"]
    assert any(pushed in i["tags"] and i["has_ipykernel"] for i in images)


async def test_environment_recreated_from_notebook_metadata(jp_fetch, jp_root_dir, pushed, docker_client, tmp_path):
    """The .ipynb alone is enough: the sidebar records the environment (image with digests) in the
    notebook; `envs from-notebook` recreates it, pinned to the digest, and the kernel starts."""
    docker_client.images.pull(pushed)
    digests = docker_client.images.get(pushed).attrs["RepoDigests"]
    assert digests
    nb = tmp_path / "train.ipynb"
    nb.write_text(
        json.dumps(
            {
                "cells": [],
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {
                    "kernelspec": {"name": "gpu-trainer", "display_name": "trainer", "language": "python"},
                    "jupyter_gpu_kernels": {
                        "environment": "trainer",
                        "kernel_name": "gpu-trainer",
                        "host": "local",
                        "image": pushed,
                        "image_digests": digests,
                        "gpus": "none",
                        "memory": "1g",
                    },
                },
            }
        )
    )
    assert cli.main(["envs", "from-notebook", str(nb), "--pin-digest", "--yes"]) == 0  # --yes: no TTY here
    env = json.loads((await jp_fetch("gpu-kernels", "api", "environments", "trainer")).body)
    assert env["image"] == digests[0] and env["memory"] == "1g" and env["kernel_name"] == "gpu-trainer"
    docker_client.images.remove(pushed)  # only the registry has it now: the start pulls by digest
    kernel = json.loads(
        (await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "gpu-trainer"}))).body
    )
    try:
        c = docker_client.containers.get(f"jupyter-kernel-{kernel['id']}")
        assert c.attrs["Config"]["Image"] == digests[0]
    finally:
        await jp_fetch("api", "kernels", kernel["id"], method="DELETE")
    # a notebook without a recorded environment is explained
    plain = tmp_path / "plain.ipynb"
    plain.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert cli.main(["envs", "from-notebook", str(plain)]) == 2


async def test_rest_kernel_start_shows_pull_progress(jp_fetch, pushed_big, docker_client):
    """A kernel start whose image must be pulled is listed by GET gpu-kernels/api/starting with the
    pull's bytes and layers while it runs (the sidebar and status bar show them), then not at all."""
    env = {"name": "bigpull", "image": pushed_big, "gpus": "none"}
    await jp_fetch("gpu-kernels", "api", "environments", method="POST", body=json.dumps(env))
    start = asyncio.ensure_future(
        jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "gpu-bigpull"}), request_timeout=600)
    )
    seen: list[dict] = []
    while not start.done():
        seen += json.loads((await jp_fetch("gpu-kernels", "api", "starting")).body)["starting"]
        await asyncio.sleep(0.05)
    kernel = json.loads((await start).body)
    try:
        pulling = [r for r in seen if r["phase"] == "pulling" and r["bytes_total"]]
        assert pulling, f"no pulling progress seen while the kernel started: {seen[-3:]}"
        assert all(r["kernel_id"] == kernel["id"] and r["image"] == pushed_big for r in seen)
        assert any(r["bytes_done"] < r["bytes_total"] for r in pulling), "progress seen before the end"
        assert max(r["bytes_total"] for r in pulling) > 500e6  # the fresh 600 MB layer
        assert all(1 <= r["layers_total"] and 0 <= r["layers_done"] <= r["layers_total"] for r in pulling)
        assert json.loads((await jp_fetch("gpu-kernels", "api", "starting")).body)["starting"] == []
    finally:
        await jp_fetch("api", "kernels", kernel["id"], method="DELETE")
