"""The kernel-container record ↔ Docker labels: the single source of what a kernel container is.

Pure unit tests (no Docker): every field survives the round trip through labels, labels of
other tools are ignored, and a fake docker-py container (labels, short id, status) reads the
same way the allocator, REST and CLI read real ones.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

from jupyter_gpu_kernels.daemon import labels as L
from jupyter_gpu_kernels.daemon.records import KernelContainer

FULL = KernelContainer(
    kernel_id="0123456789abcdef",
    host="gpubox",
    image="registry:5000/ml/torch:2.5",
    environment="torch",
    notebook="work/train.ipynb",
    gpu_request="device=0,2",
    gpus="0,2",
    gpu_shared=True,
    server="box:4242",
    owner="alice",
    started="2026-12-01T08:00:00+00:00",
    owner_id="srv-1",
    owner_start="1234",
    orphan_timeout="60",
)
DOCKER_SIDE = {"container", "state", "reserved"}  # from Docker's view of the container, not from labels


def test_every_label_field_round_trips():
    labels = FULL.to_labels()
    assert all(k.startswith(L.PREFIX + ".") for k in labels)
    back = KernelContainer.from_labels(labels)
    for f in dataclasses.fields(KernelContainer):
        if f.name not in DOCKER_SIDE:
            assert getattr(back, f.name) == getattr(FULL, f.name), f.name


def test_a_changed_field_changes_the_labels():
    for f in dataclasses.fields(KernelContainer):
        if f.name in DOCKER_SIDE or f.name == "gpu_shared":
            continue
        changed = dataclasses.replace(FULL, **{f.name: getattr(FULL, f.name) + "x"})
        assert changed.to_labels() != FULL.to_labels(), f"{f.name} is not stored in any label"
    assert dataclasses.replace(FULL, gpu_shared=False).to_labels() != FULL.to_labels()


def test_foreign_labels_are_ignored_and_missing_ones_are_empty():
    rec = KernelContainer.from_labels({L.KERNEL_ID: "k1", "com.example.other": "x"})
    assert rec.kernel_id == "k1" and rec.gpus == "" and rec.gpu_ids == [] and rec.gpu_shared is False


def test_from_a_docker_container():
    c = SimpleNamespace(labels=FULL.to_labels(), short_id="abc123def456", status="running", name="jupyter-kernel-x")
    rec = KernelContainer.from_container(c)
    assert (rec.kernel_id, rec.container, rec.state, rec.gpu_ids) == (
        FULL.kernel_id,
        "abc123def456",
        "running",
        ["0", "2"],
    )
    assert rec.describe() == "kernel 01234567 (notebook 'work/train.ipynb')"
    holder = rec.holder_json()
    assert holder["since"] == FULL.started and holder["shared"] is True


def test_with_gpus():
    assert FULL.with_gpus([], all_gpus=True).gpus == "all"
    assert FULL.with_gpus(["GPU-aaa"]).gpu_ids == ["GPU-aaa"]
    assert FULL.with_gpus([]).gpus == ""
