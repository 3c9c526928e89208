"""The demo kernel image ``jupyter gpu-kernels start`` builds when no local image has ipykernel.

``jupyter-gpu-kernels-demo:ipykernel-<this machine's ipykernel version>``: Debian bookworm
(debootstrap ``minbase``) with Python 3 and pip, and ipykernel (pinned to the version installed
here, so CurveZMQ and the protocol match) installed system-wide with pip in a chroot, then
``docker import``-ed. No registry is needed, only the Debian mirror and PyPI; it takes about a
minute. Building needs root and ``debootstrap``/``unshare`` (apt-get installs debootstrap when it is
missing); every command's output goes to stderr. The test suite builds its own images the same way
(``tests/support/image.py``).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import LocalSetupError
from .daemon import apt_get

REPO = "jupyter-gpu-kernels-demo"
SUITE = "bookworm"
MIRROR = os.environ.get("JGK_DEBIAN_MIRROR", "http://deb.debian.org/debian")
PACKAGES = "python3,python3-pip,python-is-python3,ca-certificates,procps"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
WORK_DIR = Path("/var/tmp")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CHROOT_CA = "/etc/ssl/certs/jgk-host-ca.crt"  # removed again before the image is made

Say = Callable[[str], None]


def chroot_env() -> dict[str, str]:
    """pip's environment in the chroot: none of this machine's paths (``PIP_FIND_LINKS=/opt/…``,
    ``PIP_CERT`` name files outside it), its CA bundle copied in, proxies and an http(s) index kept."""
    env = {
        "PATH": SYSTEM_PATH,
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "PIP_ROOT_USER_ACTION": "ignore",
        "PIP_BREAK_SYSTEM_PACKAGES": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_CACHE_DIR": "1",
    }
    if HOST_CA_BUNDLE.is_file():
        env["PIP_CERT"] = CHROOT_CA
    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    if os.environ.get("PIP_INDEX_URL", "").startswith(("http://", "https://")):
        env["PIP_INDEX_URL"] = os.environ["PIP_INDEX_URL"]
    return env


def demo_tag() -> str:
    return f"{REPO}:ipykernel-{importlib.metadata.version('ipykernel')}"


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=2, stderr=2, env=env)
    if result.returncode != 0:
        raise LocalSetupError(
            f"building the demo image failed: {what} exited with status {result.returncode} "
            "(its output is above); fix that, or pass --image with an image that has ipykernel"
        )


def _tools() -> None:
    if os.geteuid() != 0:
        raise LocalSetupError(
            "no local image has ipykernel, and building the demo image needs root (debootstrap, "
            "chroot): run this command as root once, or pull an image with ipykernel (e.g. "
            "`docker pull quay.io/jupyter/base-notebook`) and run it again"
        )
    if shutil.which("debootstrap") is None:
        if shutil.which("apt-get") is None:
            raise LocalSetupError(
                "no local image has ipykernel, and the demo image needs debootstrap, which is "
                "not installed (and there is no apt-get): install it, or pull an image with "
                "ipykernel and run this command again"
            )
        apt_get("install", "-y", "--no-install-recommends", "debootstrap")
    if shutil.which("unshare") is None:
        raise LocalSetupError("building the demo image needs `unshare` (util-linux); install it and run this again")


def build_demo_image(client: Any, say: Say) -> str:
    """The demo image's tag in ``client``'s daemon, built (about a minute) when missing."""
    import docker

    tag = demo_tag()
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    _tools()
    version = importlib.metadata.version("ipykernel")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", PATH=f"{os.environ.get('PATH', '')}:{SYSTEM_PATH}")
    with tempfile.TemporaryDirectory(prefix="jgk-demo-image-", dir=WORK_DIR) as d:
        rootfs, tarball = Path(d) / "rootfs", Path(d) / "rootfs.tar"
        say(f"debootstrap {SUITE} (minbase + {PACKAGES}) from {MIRROR}")
        _run(
            ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", SUITE, str(rootfs), MIRROR],
            "debootstrap",
            env,
        )
        shutil.copyfile("/etc/resolv.conf", rootfs / "etc/resolv.conf")
        if HOST_CA_BUNDLE.is_file():  # this machine's CAs (a TLS-inspecting proxy's too) for pip in the chroot
            shutil.copyfile(HOST_CA_BUNDLE, rootfs / CHROOT_CA.lstrip("/"))
        say(f"pip install ipykernel=={version} in the image")
        script = 'mount -t proc proc "$1/proc"; exec chroot "$1" python3 -m pip install "$2"'
        _run(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--",
                "/bin/sh",
                "-c",
                script,
                "sh",
                str(rootfs),
                f"ipykernel=={version}",
            ],
            "pip install in the chroot",
            chroot_env(),
        )
        (rootfs / CHROOT_CA.lstrip("/")).unlink(missing_ok=True)
        (rootfs / "etc/resolv.conf").write_text("")  # Docker mounts its own
        _run(
            [
                "tar",
                "-C",
                str(rootfs),
                "--numeric-owner",
                "-cf",
                str(tarball),
                "--exclude=./proc/*",
                "--exclude=./sys/*",
                "--exclude=./dev/*",
                ".",
            ],
            "tar",
            env,
        )
        say(f"docker import as {tag}")
        repo, _, version_tag = tag.partition(":")
        client.api.import_image_from_file(
            str(tarball),
            repository=repo,
            tag=version_tag,
            changes=[f"ENV PATH={SYSTEM_PATH}", "ENV LANG=C.UTF-8", 'CMD ["python3"]'],
        )
    say(f"built the demo image {tag}")
    return tag
