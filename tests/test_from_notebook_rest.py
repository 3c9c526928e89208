"""``POST gpu-kernels/api/environments/from-notebook`` (issue #12): recreate a notebook's environment.

A real Jupyter server (jp_fetch) with the extension and the environments store; the notebook is a
file under the server root. Review (confirm false) creates nothing; confirm creates it through the
store; an unknown path is 404, one outside the root 403; the image allowlist refuses with 403.
"""

from __future__ import annotations

import json

import pytest

from .test_api import call

pytestmark = pytest.mark.docker


@pytest.fixture
def jp_server_config(test_image):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}},
        "ImagePolicy": {"allowed_images": [test_image]},
    }


def write_notebook(root, name: str, image: str, **meta) -> str:
    recorded = {
        "environment": "recreated",
        "kernel_name": "gpu-recreated",
        "host": "local",
        "image": image,
        "image_digests": ["example.org/pinned@sha256:" + "0" * 64],
        "gpus": "none",
        "memory": "1g",
        **meta,
    }
    (root / name).write_text(
        json.dumps(
            {
                "cells": [],
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {
                    "kernelspec": {"name": "gpu-recreated", "display_name": "recreated", "language": "python"},
                    "jupyter_gpu_kernels": recorded,
                },
            }
        )
    )
    return name


async def names(jp_fetch) -> list[str]:
    return [e["name"] for e in (await call(jp_fetch, "environments"))["environments"]]


async def test_review_then_confirm_creates_the_recorded_environment(jp_fetch, jp_root_dir, test_image):
    (jp_root_dir / "sub").mkdir()
    path = write_notebook(jp_root_dir / "sub", "train.ipynb", test_image, shm_size="256m")
    review = await call(jp_fetch, "environments", "from-notebook", method="POST", body={"path": f"sub/{path}"})
    assert review["created"] is False and review["exists"] is False and review["name"] == "recreated"
    assert review["environment"]["image"] == test_image and review["environment"]["memory"] == "1g"
    assert review["review"][0] == f"environment 'recreated' from notebook metadata: image {test_image}"
    assert "memory = 1g" in review["review"] and "shm_size = 256m" in review["review"]
    assert "recreated" not in await names(jp_fetch), "a review creates nothing"

    # pinned: the recorded digest is the image, and the allowlist (the test image's tag only) refuses it
    pinned = await call(
        jp_fetch,
        "environments",
        "from-notebook",
        method="POST",
        expect=403,
        body={"path": f"sub/{path}", "pin_digest": True},
    )
    assert "example.org/pinned@sha256:" in pinned["message"]

    created = await call(
        jp_fetch,
        "environments",
        "from-notebook",
        method="POST",
        expect=201,
        body={"path": f"sub/{path}", "confirm": True},
    )
    assert created["created"] is True and created["environment"]["kernel_name"] == "gpu-recreated"
    env = await call(jp_fetch, "environments", "recreated")
    assert env["image"] == test_image and env["memory"] == "1g" and env["shm_size"] == "256m"
    again = await call(jp_fetch, "environments", "from-notebook", method="POST", body={"path": f"sub/{path}"})
    assert again["exists"] is True
    err = await call(
        jp_fetch,
        "environments",
        "from-notebook",
        method="POST",
        expect=400,
        body={"path": f"sub/{path}", "confirm": True},
    )
    assert "exists already" in err["message"]


async def test_unknown_or_outside_path_and_no_metadata(jp_fetch, jp_root_dir, tmp_path, test_image):
    err = await call(
        jp_fetch,
        "environments",
        "from-notebook",
        method="POST",
        expect=404,
        body={"path": "nowhere.ipynb", "confirm": True},
    )
    assert "nowhere.ipynb" in err["message"]
    outside = tmp_path / "outside"
    outside.mkdir()
    write_notebook(outside, "o.ipynb", test_image)
    await call(
        jp_fetch,
        "environments",
        "from-notebook",
        method="POST",
        expect=403,
        body={"path": f"../{outside.name}/o.ipynb"},
    )
    (jp_root_dir / "plain.ipynb").write_text(
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    err = await call(jp_fetch, "environments", "from-notebook", method="POST", expect=400, body={"path": "plain.ipynb"})
    assert "metadata.jupyter_gpu_kernels" in err["message"]
    assert "recreated" not in await names(jp_fetch)


async def test_policy_refuses_an_image_outside_the_allowlist(jp_fetch, jp_root_dir):
    path = write_notebook(jp_root_dir, "evil.ipynb", "example.org/not-allowed:latest")
    for confirm in (False, True):
        err = await call(
            jp_fetch,
            "environments",
            "from-notebook",
            method="POST",
            expect=403,
            body={"path": path, "confirm": confirm},
        )
        assert "not-allowed" in err["message"], err
    assert "recreated" not in await names(jp_fetch), "nothing created on refusal"
