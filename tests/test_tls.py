"""A remote Docker host over TCP with mutual TLS: kernel traffic crosses a network, so CurveZMQ."""

from __future__ import annotations

import json
import time

import pytest
import zmq
from jupyter_client.manager import KernelManager

from jupyter_gpu_kernels import cli
from jupyter_gpu_kernels.errors import HostError, SpecError
from jupyter_gpu_kernels.hosts.registry import DockerHosts
from jupyter_gpu_kernels.settings import Settings

from .kernel_helpers import install_spec, isolated_jupyter_dirs, our_containers, run_cell, start_kernel, stop_kernel
from .support.image import with_users
from .support.tags import remove_tags

pytestmark = [pytest.mark.docker, pytest.mark.remote]


@pytest.fixture(scope="module")
def tls_host():
    from tests.support.tls_host import tls_host_or_fail

    yield from tls_host_or_fail()


@pytest.fixture
def jdirs(tmp_path, monkeypatch, tls_host):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    left = our_containers(tls_host.daemon.client)
    for c in left:
        c.remove(force=True, v=True)
    assert not left


def tls_args(t, which="client"):
    c = t.certs
    return ["--tls-ca", str(c["ca"]), "--tls-cert", str(c[which]), "--tls-key", str(c[f"{which}-key"])]


def test_kernel_over_tls_is_curve_encrypted(jdirs, tls_host, test_image):
    assert cli.main(["hosts", "add", "tlsbox", tls_host.url, *tls_args(tls_host)]) == 0
    install_spec("tk", test_image, "--host", "tlsbox")
    km = KernelManager(kernel_name="tk")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        info = km.get_connection_info()
        assert info["ip"] == tls_host.address and info.get("curve_publickey")
        assert run_cell(kc, "print('secret result')")["stdout"] == "secret result\n"
        logs = tls_host.daemon.client.containers.get(km.provisioner.container_id).logs().decode()
        assert "without encryption" not in logs
        # a client without the server's key gets nothing out of the published heartbeat port
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.REQ)
        sock.linger = 0
        sock.connect(f"tcp://{info['ip']}:{info['hb_port']}")
        sock.send(b"ping")
        assert sock.poll(1500) == 0
        sock.close()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_only_the_admin_can_waive_encryption(jdirs, tls_host, test_image, monkeypatch):
    c = tls_host.certs
    spec = {
        "url": tls_host.url,
        "tls_ca": str(c["ca"]),
        "tls_cert": str(c["client"]),
        "tls_key": str(c["client-key"]),
        "options": {"allow_unencrypted": True},
    }
    # a user cannot turn encryption off: adding such a host is refused (#11) …
    with pytest.raises(SpecError, match="allow_unencrypted can only be set by the administrator"):
        DockerHosts().add(
            "usertls",
            tls_host.url,
            tls_ca=str(c["ca"]),
            tls_cert=str(c["client"]),
            tls_key=str(c["client-key"]),
            options={"allow_unencrypted": True},
        )
    # … and in a hand-written hosts file (kernel code may write it) the option is ignored
    user_file = jdirs / "config" / "gpu_kernels" / "hosts.json"
    user_file.parent.mkdir(parents=True, exist_ok=True)
    user_file.write_text(json.dumps({"hosts": {"usertls": spec}}))
    # … the administrator's config (an admin config dir, not the user's) can
    admin = jdirs / "admin-config"
    admin.mkdir()
    (admin / "jupyter_server_config.json").write_text(json.dumps({"GPUKernelsHosts": {"hosts": {"admintls": spec}}}))
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(admin))
    Settings.reset()
    for host, encrypted in (("usertls", True), ("admintls", False)):
        install_spec(f"k-{host}", test_image, "--host", host)
        km = KernelManager(kernel_name=f"k-{host}")
        km.start_kernel()
        try:
            assert bool(km.get_connection_info().get("curve_publickey")) is encrypted
        finally:
            km.shutdown_kernel(now=True)


def test_bad_certificates_fail_fast(jdirs, tls_host, test_image, tmp_path):
    from tests.support.tls_host import make_certs

    other = tmp_path / "other-ca"
    other.mkdir()
    wrong = make_certs(other, tls_host.address)
    assert (
        cli.main(
            [
                "hosts",
                "add",
                "wrongca",
                tls_host.url,
                "--tls-ca",
                str(wrong["ca"]),
                "--tls-cert",
                str(wrong["client"]),
                "--tls-key",
                str(wrong["client-key"]),
            ]
        )
        == 0
    )
    install_spec("w", test_image, "--host", "wrongca")
    t0 = time.monotonic()
    with pytest.raises(HostError, match="certificate verify failed"):
        KernelManager(kernel_name="w").start_kernel()
    assert time.monotonic() - t0 < 10
    assert cli.main(["hosts", "add", "nofile", tls_host.url, "--tls-ca", "/nope/ca.pem"]) == 2


def test_user_server_on_a_remote_host_never_runs_a_root_image_as_root(jdirs, tls_host, test_image, monkeypatch):
    """``user: server`` (the default) on a remote host: an image whose USER is root runs as the
    server's uid:gid, one with a non-root USER as that user. The test process is root, so the server's
    uid lookup alone stands in for a non-root server's (everything else is real: the TLS daemon, the
    committed images, the kernel reporting its uid)."""
    import jupyter_gpu_kernels.kernel.planning as planning

    monkeypatch.setattr(planning, "server_user", lambda: "1000:1000")
    client = tls_host.daemon.client
    tags = with_users(
        client, test_image, {"root": "jgk-test-remote-user:root", "4321:4321": "jgk-test-remote-user:uid4321"}
    )
    assert cli.main(["hosts", "add", "tlsbox", tls_host.url, *tls_args(tls_host)]) == 0
    try:
        for (user, tag), uid in zip(tags.items(), ("1000 1000", "4321 4321")):
            install_spec("ru", tag, "--host", "tlsbox")
            km, kc = start_kernel("ru")
            try:
                out = run_cell(kc, "import os; print(os.getuid(), os.getgid())")["stdout"].strip()
                assert out == uid, f"USER {user}: the kernel runs as {out}"
            finally:
                stop_kernel(km, kc, now=True)
    finally:
        remove_tags(client, *tags.values())
