"""A simulated remote Docker host reached over TCP with mutual TLS (root only).

A dockerd in its own network namespace (no host routes to its containers), listening on
``tcp://<ns address>:2376`` with ``--tlsverify``; certificates come from a throw-away CA made
with openssl. Kernel ports are published on the namespace's address and reached across the veth
"network", so the provisioner must encrypt them (CurveZMQ).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ._util import started_or_fail
from .netns_daemon import NetnsDaemon, first_free_slot


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(directory: Path, server_ip: str) -> dict[str, Path]:
    """CA, server cert (SAN = server_ip) and client cert, like Docker's "protect the daemon socket" guide."""
    d = directory
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=jgk-test-ca",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
        cwd=d,
    )
    (d / "server.ext").write_text(f"subjectAltName = IP:{server_ip},IP:127.0.0.1\nextendedKeyUsage = serverAuth\n")
    (d / "client.ext").write_text("extendedKeyUsage = clientAuth\n")
    for who in ("server", "client"):
        _openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN=jgk-test-{who}",
            "-keyout",
            f"{who}-key.pem",
            "-out",
            f"{who}.csr",
            cwd=d,
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{who}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            f"{who}.ext",
            "-out",
            f"{who}.pem",
            cwd=d,
        )
    return {name: d / f"{name}.pem" for name in ("ca", "server", "server-key", "client", "client-key")}


class TLSHost:
    def __init__(self, name: str = "tlsbox", *, subnet_index: int = 4, fake_gpu: bool = False):
        self.dir = Path(tempfile.mkdtemp(prefix=f"jgk-{name}-tls-"))
        ns_ip = f"10.213.{subnet_index}.2"
        self.certs = make_certs(self.dir, ns_ip)
        c = self.certs
        self.daemon = NetnsDaemon(
            name,
            fake_gpu=fake_gpu,
            subnet_index=subnet_index,
            start=False,
            extra_dockerd_args=[
                "-H",
                f"tcp://{ns_ip}:2376",
                "--tlsverify",
                f"--tlscacert={c['ca']}",
                f"--tlscert={c['server']}",
                f"--tlskey={c['server-key']}",
            ],
        )
        self.daemon.routed_subnets = []  # a remote machine: containers unreachable from here
        try:
            self.daemon.start()
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    @property
    def address(self) -> str:
        return self.daemon.ns_ip

    @property
    def url(self) -> str:
        return f"tcp://{self.address}:2376"

    def stop(self) -> None:
        self.daemon.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_tls_host(base_name: str = "tlsbox", *, first_index: int = 4, tries: int = 8) -> TLSHost:
    return first_free_slot(lambda name, k: TLSHost(name, subnet_index=k), base_name, first_index, tries)


def tls_host_or_fail(*args, **kw):
    """Body of a test module's TLS-host fixture (fails, never skips; stopped afterwards)."""
    yield from started_or_fail(start_tls_host, "TLS host", *args, **kw)
