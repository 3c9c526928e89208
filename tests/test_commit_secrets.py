"""A committed kernel image carries no kernel's HMAC key; the key's volume goes with its container.

The connection file lives on an anonymous volume at ``KEY_DIR`` (daemon/plan.py), which
``docker commit`` never includes. Real kernels on the main daemon, the real CLI ``commit``; the
committed image is read back through a container created from it (never started).
"""

from __future__ import annotations

import io
import json
import tarfile

import docker.errors
import pytest

from jupyter_gpu_kernels import cli
from jupyter_gpu_kernels.daemon.plan import CONNECTION_DIR, KEY_DIR, KEY_VOLUME_LABEL, connection_file_path

from .kernel_helpers import install_spec, jdirs, run_cell, start_kernel, stop_kernel  # noqa: F401
from .support.tags import remove_tags

pytestmark = pytest.mark.docker
TAG = "jgk-test-commit-secrets:v1"


def key_volumes(client, kernel_id: str) -> list:
    return client.volumes.list(filters={"label": f"{KEY_VOLUME_LABEL}={kernel_id}"})


def archive(container, path: str) -> dict[str, bytes]:
    """The files under ``path`` of ``container`` (created or running): {name: content}; {} if absent."""
    try:
        stream, _ = container.get_archive(path)
    except docker.errors.NotFound:
        return {}
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


@pytest.fixture
def cleanup(docker_client):
    kernel_ids: list[str] = []
    yield kernel_ids
    remove_tags(docker_client, TAG)
    for kid in kernel_ids:  # a failed test's own volumes only
        for volume in key_volumes(docker_client, kid):
            volume.remove(force=True)


def test_commit_leaves_the_key_out_and_the_volume_goes_with_the_kernel(
    jdirs, docker_client, test_image, cleanup, capsys, no_leftovers
):
    install_spec("keys", test_image)
    km, kc = start_kernel("keys")
    kid = km.kernel_id
    cleanup.append(kid)
    key = km.session.key.decode()
    assert len(key) > 16
    try:
        r = run_cell(
            kc,
            f"import os, json; print(json.load(open({connection_file_path(kid)!r}))['key']); "
            "open(os.path.expanduser('~/home-state.txt'), 'w').write('in HOME'); print(os.environ['HOME'])",
        )
        printed_key, home = r["stdout"].split()
        assert printed_key == key, "the kernel reads its key from the file on the volume"
        container = docker_client.containers.get(f"jupyter-kernel-{kid}")
        mounts = [m for m in container.attrs["Mounts"] if m["Destination"] == KEY_DIR]
        assert [m["Type"] for m in mounts] == ["volume"], container.attrs["Mounts"]
        assert len(key_volumes(docker_client, kid)) == 1
        assert not [c for c in container.diff() or [] if c["Path"].startswith(KEY_DIR + "/")], (
            "the connection file is not in the container's layer"
        )

        assert cli.main(["commit", kid[:8], "--tag", TAG]) == 0
        capsys.readouterr()
        image = docker_client.images.get(TAG)
        assert KEY_DIR not in (image.attrs["Config"].get("Volumes") or {}), "no VOLUME declared in the image"
        probe = docker_client.containers.create(TAG, command=["true"])
        try:
            files = archive(probe, CONNECTION_DIR)
        finally:
            probe.remove(force=True, v=True)
        assert not [name for name in files if name.endswith(f"kernel-{kid}.json")], sorted(files)
        assert not [name for name, data in files.items() if key.encode() in data], sorted(files)
        assert home == f"{CONNECTION_DIR}/home"  # user "server": the HOME is kept by a commit (pip --user …)
        assert files.get(f"{CONNECTION_DIR.rsplit('/', 1)[1]}/home/home-state.txt") == b"in HOME", sorted(files)

        km.restart_kernel(now=True)
        kc.wait_for_ready(timeout=60)
        assert run_cell(kc, "print(6 * 7)")["stdout"] == "42\n", "the kernel still works after a restart"
        assert len(key_volumes(docker_client, kid)) == 1, "the old container's volume went with it"
        restarted = docker_client.containers.get(f"jupyter-kernel-{kid}")
        assert json.loads(archive(restarted, connection_file_path(kid))[f"kernel-{kid}.json"])["key"] == key
    finally:
        stop_kernel(km, kc, now=True)
    assert key_volumes(docker_client, kid) == [], "the key's volume is removed with the kernel"


def test_a_key_in_the_container_layer_is_refused(jdirs, docker_client, test_image, cleanup, capsys, no_leftovers):
    """A container that keeps a connection file in its own layer (as those of older versions did, at
    ``CONNECTION_DIR/kernel-<id>.json``) is not committed: the message says to restart the kernel."""
    install_spec("legacy", test_image)
    km, kc = start_kernel("legacy")
    kid = km.kernel_id
    cleanup.append(kid)
    try:
        legacy = f"{CONNECTION_DIR}/kernel-{kid}.json"
        run_cell(kc, f"import shutil; shutil.copy({connection_file_path(kid)!r}, {legacy!r})")
        assert cli.main(["commit", kid[:8], "--tag", TAG]) == 1
        err = capsys.readouterr().err
        assert "HMAC key" in err and legacy in err and "restart the kernel" in err and "Traceback" not in err, err
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(TAG)
    finally:
        stop_kernel(km, kc, now=True)
