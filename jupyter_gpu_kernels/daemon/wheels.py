"""ipykernel wheels for another machine's Python: fetched by THIS process with pip, cached per (Python, platform).

Called by :mod:`.derive` (the thin ipykernel image built on a host for an image that has Python but
no ipykernel). The wheels are downloaded here, on the server, and sent to the host in the build
context, so a host (or an image build) without network access still gets ipykernel. Touches only
``<jupyter data dir>/gpu_kernels/wheels/<key>/`` (filled in a temporary sibling directory and renamed
into place, so a failed or interrupted download leaves nothing half-made) and runs
``python -I -m pip download`` for the target's version and platform (``--only-binary=:all:``: pure
``py3-none-any`` wheels plus pyzmq/tornado/psutil/debugpy… for that CPython ABI and platform:
manylinux for glibc images, musllinux for musl ones such as Alpine, as the image's probe reports). The server never runs code a user or a kernel can write (issue #19):
pip runs isolated (``-I``: no working directory, ``PYTHONPATH`` or user site-packages on its path), in
a private empty working directory, with ``HOME`` and ``XDG_CONFIG_HOME`` pointing at an empty private
directory, so a ``pip.py`` in the server's root or a ``~/.pip/pip.conf`` / ``~/.config/pip`` written
through the contents API or by a kernel is never read. The administrator's configuration still
applies: the server's environment (``PIP_INDEX_URL``, ``PIP_FIND_LINKS``, ``PIP_NO_INDEX``,
``PIP_CONFIG_FILE``…) and the site-wide files (``/etc/pip.conf``, ``/etc/xdg/pip``, the
interpreter's prefix); the machine's CA bundle is given to pip when none is configured.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from .. import forksafe
from ..errors import ImageError

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
ARCHITECTURES = {
    "amd64": "x86_64",
    "x86_64": "x86_64",
    "arm64": "aarch64",
    "aarch64": "aarch64",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
}
DOWNLOAD_TIMEOUT_S = 600
LogFn = Callable[[str], None]

_locks: dict[str, threading.Lock] = {}
_locks_lock = threading.Lock()


def _reset_after_fork() -> None:
    """A forked child: new locks (a parent thread may hold one, mid-build)."""
    global _locks, _locks_lock
    _locks = {}
    _locks_lock = threading.Lock()


forksafe.register(_reset_after_fork)


def cache_root() -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "gpu_kernels" / "wheels"


def platform_for(image_attrs: dict, libc: str = "") -> str:
    """The platform tag of the wheels for an image's architecture and C library: ``manylinux2014_x86_64``
    for glibc (or unknown), ``musllinux_1_2_x86_64`` for musl (Alpine), whose Python cannot load
    manylinux extension modules."""
    arch = str(image_attrs.get("Architecture") or "amd64")
    if arch not in ARCHITECTURES:
        raise ImageError(f"no ipykernel wheels for the image's architecture {arch!r}")
    if libc == "musl":
        return f"musllinux_1_2_{ARCHITECTURES[arch]}"
    return f"manylinux2014_{ARCHITECTURES[arch]}"


def platform_args(platform: str) -> list[str]:
    """pip's ``--platform`` options for a tag: pip widens manylinux tags to the older ones itself, but
    not musllinux ones, so ``musllinux_1_2`` also names ``musllinux_1_1`` (still loadable on musl 1.2)."""
    tags = [platform]
    if platform.startswith("musllinux_1_2_"):
        tags.append(platform.replace("musllinux_1_2_", "musllinux_1_1_"))
    return [arg for tag in tags for arg in ("--platform", tag)]


def short_version(version: str) -> str:
    """``3.11.2`` → ``3.11``; ImageError for a Python ipykernel does not support (2.x, or unparsable)."""
    m = re.match(r"(\d+)\.(\d+)", version or "")
    if not m or int(m.group(1)) < 3 or (int(m.group(1)) == 3 and int(m.group(2)) < 7):
        raise ImageError(f"Python {version} is too old for ipykernel (3.7 or later is needed)")
    return f"{m.group(1)}.{m.group(2)}"


def _lock(key: str) -> threading.Lock:
    with _locks_lock:
        return _locks.setdefault(key, threading.Lock())


def _pip_env(private_home: str) -> dict[str, str]:
    """The server's environment (the administrator's pip settings) with the user's home hidden from pip."""
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", HOME=private_home, XDG_CONFIG_HOME=private_home)
    for name in ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONUSERBASE"):
        env.pop(name, None)
    if os.path.isfile(CA_BUNDLE) and not (env.get("PIP_CERT") or env.get("REQUESTS_CA_BUNDLE")):
        env["PIP_CERT"] = CA_BUNDLE
    return env


def ipykernel_wheels(version: str, platform: str, progress: LogFn | None = None) -> Path:
    """The directory of wheels that install ipykernel for CPython ``version`` on ``platform``;
    downloaded on first use, then reused. ImageError (with pip's reason) when pip cannot get them."""
    short = short_version(version)
    key = f"cp{short.replace('.', '')}-{platform}"
    target = cache_root() / key
    log = progress or (lambda line: None)
    with _lock(key):
        if any(target.glob("ipykernel-*.whl")):
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent))
        try:
            log(f"downloading ipykernel wheels for Python {short} ({platform}) …")
            _download(short, platform, tmp)
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log(f"ipykernel wheels for Python {short}: {len(list(target.glob('*.whl')))} wheels")
        return target


def _download(short: str, platform: str, directory: Path) -> None:
    abi = f"cp{short.replace('.', '')}"
    cmd = [
        sys.executable,
        "-I",
        "-m",
        "pip",
        "download",
        "ipykernel",
        "--only-binary=:all:",
        "--python-version",
        short,
        *platform_args(platform),
        "--implementation",
        "cp",
        "--abi",
        abi,
        "--abi",
        "abi3",
        "--abi",
        "none",
        "-d",
        str(directory),
        "--no-cache-dir",
        "--progress-bar",
        "off",
        "-q",
    ]
    private = tempfile.mkdtemp(prefix="jgk-pip-")  # empty cwd and HOME: nothing there for pip to run or read
    try:
        done = subprocess.run(
            cmd, env=_pip_env(private), cwd=private, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ImageError(f"could not download ipykernel wheels for Python {short}: {e}") from e
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if done.returncode != 0 or not any(directory.glob("ipykernel-*.whl")):
        errors = [line for line in (done.stderr or "").splitlines() if line.startswith("ERROR")]
        detail = "\n".join(errors[-5:] or (done.stderr or "").strip().splitlines()[-5:])
        raise ImageError(f"could not download ipykernel wheels for Python {short} ({platform}) with pip: {detail}")


def ipykernel_version_in(directory: Path) -> str:
    """The ipykernel version of a wheel directory (from the wheel's file name)."""
    for wheel in sorted(directory.glob("ipykernel-*.whl")):
        return wheel.name.split("-")[1]
    return ""
