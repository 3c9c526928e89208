"""Issue #12 in JupyterLab, end to end: a real browser on a real ``jupyter lab`` and dockerd.

1. Right-click a Dockerfile in the file browser → "Build image…" → the dialog → the build log panel
   shows the steps and ends with "New environment from this image", which opens the environment
   form prefilled with the image and host.
2. Open a notebook whose metadata names an environment that does not exist here → "Recreate
   environment …?" with the review → Recreate → switch the notebook to it → it is listed.
"""

from __future__ import annotations

import json

import docker.errors
import pytest
from playwright.sync_api import expect

from .test_sidebar import SIDEBAR, open_lab

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.gpu_fake]

TAG = "jgk-browser-build:v1"
ENV_NAME = "recreated-env"


@pytest.fixture
def built_tag(docker_client):
    def remove():
        try:
            docker_client.images.remove(TAG, force=True)
        except docker.errors.ImageNotFound:
            pass

    remove()
    yield TAG
    remove()


def test_build_from_dockerfile_in_file_browser(browser_page, shot, lab, test_image, built_tag, docker_client):
    page = browser_page
    proj = lab.root_dir / "proj"
    proj.mkdir()
    # no network: only the local test image and shell steps
    (proj / "Dockerfile").write_text(f"FROM {test_image}\nRUN echo built > /tmp/marker\nRUN cat /tmp/marker\n")
    open_lab(page, lab)
    page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:open-path', {path: 'proj/'})")
    item = page.locator(".jp-DirListing-item", has_text="Dockerfile")
    expect(item).to_be_visible(timeout=30_000)
    item.click(button="right")
    page.locator(".lm-Menu-item", has_text="Build image…").click()

    dialog = page.locator(".jp-Dialog", has=page.locator(".jp-GPUKernels-buildDialog"))
    expect(dialog.locator("input[name='file']")).to_have_value("proj/Dockerfile")
    expect(dialog.locator("input[name='tag']")).to_have_value("proj:v1")
    dialog.locator("select[name='host']").select_option("local")
    dialog.locator("input[name='tag']").fill(built_tag)
    shot("build-dialog")
    dialog.get_by_role("button", name="Build").click()

    log = page.locator(".jp-GPUKernels-buildLog .jp-GPUKernels-log")
    expect(log).to_be_visible()
    expect(log).to_have_attribute("data-status", "done", timeout=180_000)
    expect(log.locator(".jp-GPUKernels-logText")).to_contain_text("Step 3/3")
    expect(log.locator(".jp-GPUKernels-buildStep")).to_contain_text(f"Done: {built_tag}")
    assert docker_client.images.get(built_tag)
    shot("build-log")

    log.get_by_role("button", name="New environment from this image").click()
    form = page.locator(".jp-Dialog.jp-GPUKernels-envDialog form.jp-GPUKernels-envForm")
    expect(form.locator("input[name='image']")).to_have_value(built_tag)
    expect(form.locator("select[name='host']")).to_have_value("local")
    shot("build-new-environment")
    page.locator(".jp-Dialog.jp-GPUKernels-envDialog").get_by_role("button", name="Cancel").click()


def test_recreate_environment_from_notebook_metadata(browser_page, shot, lab, test_image):
    page = browser_page
    (lab.root_dir / "shared.ipynb").write_text(
        json.dumps(
            {
                "cells": [],
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {
                    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                    "jupyter_gpu_kernels": {
                        "environment": ENV_NAME,
                        "kernel_name": f"gpu-{ENV_NAME}",
                        "host": "local",
                        "image": test_image,
                        "gpus": "none",
                        "memory": "1g",
                    },
                },
            }
        )
    )
    open_lab(page, lab)
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:open', {path: 'shared.ipynb'})")
    dialog = page.locator(".jp-Dialog", has=page.locator(".jp-GPUKernels-recreateDialog"))
    expect(dialog).to_be_visible(timeout=60_000)
    expect(dialog).to_contain_text(f"Recreate environment {ENV_NAME}?")
    review = dialog.locator(".jp-GPUKernels-review")
    expect(review).to_contain_text(f"Image: {test_image}")
    expect(review).to_contain_text("GPUs: none")
    expect(review).to_contain_text("memory = 1g")
    assert ENV_NAME not in [e["name"] for e in lab.api("/gpu-kernels/api/environments")["environments"]]
    shot("recreate-review")
    dialog.get_by_role("button", name="Recreate").click()

    use = page.locator(".jp-Dialog", has_text=f"Environment {ENV_NAME} created")
    use.get_by_role("button", name="Use for this notebook").click()
    page.wait_for_function(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
            return k && k.name === 'gpu-%s' && k.status === 'idle';
        }"""
        % ENV_NAME,
        timeout=90_000,
    )
    env = lab.api(f"/gpu-kernels/api/environments/{ENV_NAME}")
    assert (env["image"], env["host"], env["memory"]) == (test_image, "local", "1g")
    page.click(f".jp-SideBar.jp-mod-left [data-id='{SIDEBAR[1:]}']")
    expect(page.locator(f"{SIDEBAR} .jp-GPUKernels-env[data-environment='{ENV_NAME}']")).to_be_visible()
    shot("recreate-listed")
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
