"""Derived ipykernel images built on remote hosts (issue #13): offline GPU boxes over ssh:// and tcp:// + TLS.

The host never reaches PyPI: this server's ``pip download`` fetches the wheels (served from the test
cache's wheel directory, ``PIP_FIND_LINKS`` + ``PIP_NO_INDEX``), the build context travels through the
host's one connection (the SSH tunnel, or TLS), and the build runs there with network none. The base
image (the ``base-module`` shape: Debian python3 with pip, a module only it has, no ipykernel) is built
on each remote daemon itself, so nothing about it is known on the main daemon.
"""

from __future__ import annotations

import json

import pytest

from jupyter_gpu_kernels import cli
from jupyter_gpu_kernels.daemon import derive as derived
from jupyter_gpu_kernels.hosts import ssh
from jupyter_gpu_kernels.settings import Settings

from .kernel_helpers import install_spec, isolated_jupyter_dirs, our_containers, run_cell, start_kernel, stop_kernel
from .support.image import ensure_ipykernel_wheels, ensure_shape_image
from .test_remote import admin_host

pytestmark = [pytest.mark.docker, pytest.mark.remote]

PROVE = "import sys, jgk_base_only, ipykernel; print(sys.executable, jgk_base_only.WHERE.replace(' ', '_'))"


@pytest.fixture(scope="module")
def remote():
    from tests.support.remote_host import remote_host_or_fail

    yield from remote_host_or_fail(fake_gpu=True)


@pytest.fixture(scope="module")
def wheels():
    return str(ensure_ipykernel_wheels("3.11"))


def _fresh_base(client) -> tuple[str, str]:
    """The base-module shape on ``client``'s daemon, with no derived image left by an earlier run."""
    tag = ensure_shape_image(client, "base-module")
    base_id = client.images.get(tag).id
    if derived.find_derived(client, base_id) is not None:
        derived.remove_derived(client, tag)
    return tag, base_id


def _offline_wheels(monkeypatch, wheels: str) -> None:
    monkeypatch.setenv("PIP_FIND_LINKS", wheels)
    monkeypatch.setenv("PIP_NO_INDEX", "1")


def _derive_run_and_remove(host: str, remote_client, main_client, tag: str, base_id: str, capsys) -> None:
    """Start a kernel of ``tag`` on ``host`` → derived image built there, the image's own interpreter
    runs the kernel, the derived image is listed on that host only, and removable from the CLI."""
    install_spec("farderive", tag, "--host", host)
    km, kc = start_kernel("farderive")
    try:
        made = derived.find_derived(remote_client, base_id)
        assert made is not None, f"no derived image was built on {host}"
        assert made.tags == [f"{derived.DERIVED_REPO}:{base_id[7:19]}-py3.11"]
        assert remote_client.containers.get(km.provisioner.container_id).image.id == made.id
        out = run_cell(kc, PROVE)
        assert out["status"] == "ok", out
        assert out["stdout"].split() == ["/usr/bin/python3", "base_image"]
    finally:
        stop_kernel(km, kc)
    assert derived.find_derived(main_client, base_id) is None, "the derived image was built on the main daemon"
    capsys.readouterr()
    assert cli.main(["images", "--host", host, "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[made.id]["derived_from"] == base_id and rows[made.id]["has_ipykernel"] is True
    assert rows[base_id]["has_ipykernel"] is False
    assert cli.main(["images", "remove-derived", tag, "--host", host]) == 0
    assert f"Removed {made.tags[0]}" in capsys.readouterr().out
    assert derived.find_derived(remote_client, base_id) is None
    assert not [i for i in remote_client.images.list() if made.tags[0] in i.tags]


def test_derived_image_builds_on_the_ssh_host_from_the_servers_wheels(
    remote, wheels, tmp_path, monkeypatch, docker_client, capsys
):
    tag, base_id = _fresh_base(remote.daemon.client)
    isolated_jupyter_dirs(tmp_path, monkeypatch)  # an empty server-side wheel cache
    _offline_wheels(monkeypatch, wheels)
    monkeypatch.setenv("JGK_SSH_DIR", f"/tmp/jgk-ssh-test-derive-{id(tmp_path)}")
    monkeypatch.chdir(tmp_path)
    admin_host(tmp_path, monkeypatch, "gpubox", remote.url, remote.ssh_options, remote.remote_socket)
    before = {c.id for c in our_containers(remote.daemon.client)}
    try:
        _derive_run_and_remove("gpubox", remote.daemon.client, docker_client, tag, base_id, capsys)
    finally:
        ssh.close_all()
        left = [c for c in our_containers(remote.daemon.client) if c.id not in before]
        for c in left:
            c.remove(force=True, v=True)
        if derived.find_derived(remote.daemon.client, base_id) is not None:
            derived.remove_derived(remote.daemon.client, tag)
        Settings.reset()
    assert not left, f"left behind on the remote: {[c.name for c in left]}"


@pytest.fixture(scope="module")
def tls_host():
    from tests.support.tls_host import tls_host_or_fail

    yield from tls_host_or_fail()


def test_derived_image_builds_on_the_tls_host(tls_host, wheels, tmp_path, monkeypatch, docker_client, capsys):
    client = tls_host.daemon.client
    tag, base_id = _fresh_base(client)
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    _offline_wheels(monkeypatch, wheels)
    monkeypatch.chdir(tmp_path)
    c = tls_host.certs
    assert (
        cli.main(
            [
                "hosts",
                "add",
                "tlsbox",
                tls_host.url,
                "--tls-ca",
                str(c["ca"]),
                "--tls-cert",
                str(c["client"]),
                "--tls-key",
                str(c["client-key"]),
            ]
        )
        == 0
    )
    before = {k.id for k in our_containers(client)}
    try:
        _derive_run_and_remove("tlsbox", client, docker_client, tag, base_id, capsys)
    finally:
        left = [k for k in our_containers(client) if k.id not in before]
        for k in left:
            k.remove(force=True, v=True)
        if derived.find_derived(client, base_id) is not None:
            derived.remove_derived(client, tag)
        Settings.reset()
    assert not left, f"left behind on the TLS host: {[k.name for k in left]}"
