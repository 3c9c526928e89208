"""A private image registry on 127.0.0.1 (Debian's ``docker-registry``, i.e. distribution 2.x).

No public registry is reachable from the test machines; this one lets tests exercise real
pulls (progress, policies) against the real daemon. Docker treats 127.0.0.0/8 registries as
insecure-allowed, so no TLS is needed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path


class LocalRegistry:
    def __init__(self) -> None:
        exe = shutil.which("docker-registry")
        if exe is None:
            raise RuntimeError(
                "docker-registry is not installed (Debian package docker-registry; tests/run.sh installs it)"
            )
        self.dir = Path(tempfile.mkdtemp(prefix="jgk-registry-"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        (self.dir / "config.yml").write_text(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {self.dir / 'data'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{self.port}\n"
        )
        self.proc = subprocess.Popen(
            [exe, "serve", str(self.dir / "config.yml")],
            stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "registry.log", "wb"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v2/", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"docker-registry did not start: {(self.dir / 'registry.log').read_text()[-1000:]}")

    @property
    def address(self) -> str:
        return f"localhost:{self.port}"

    def push(self, client, image: str, name: str) -> str:
        """Tag ``image`` as ``localhost:PORT/name`` and push it; the local tag is removed again."""
        ref = f"{self.address}/{name}"
        repo, tag = ref.rsplit(":", 1)
        client.images.get(image).tag(repo, tag)
        for event in client.api.push(repo, tag=tag, stream=True, decode=True):
            if "error" in event:
                raise RuntimeError(f"push of {ref} failed: {event['error']}")
        client.images.remove(ref)
        return ref

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def registry_or_fail():
    """Body of a test's registry fixture: a started :class:`LocalRegistry`, stopped afterwards; one
    that cannot start fails the test, never skips it."""
    from ._util import started_or_fail

    yield from started_or_fail(LocalRegistry, "local registry")
