"""Build (once) and cache the container images the tests use. Nothing is pulled from a registry.

* ``ensure_test_image(client)`` -> ``"jupyter-gpu-kernels-test:ipykernel-<host ipykernel version>"``:
  Debian bookworm (debootstrap minbase) + python3 (``python`` -> python3) + ipykernel pinned to
  EXACTLY the host's installed ipykernel (and jupyter_client) version, installed system-wide
  (``/usr/local/lib/python3.11/dist-packages``), so it works for any uid and any PATH.
  Image config: ``USER 1000`` (user ``jovyan``, home ``/home/jovyan``), ``WORKDIR /home/jovyan``,
  ``CMD ["python","-m","ipykernel_launcher"]``, ``ENV PATH=...``, label
  ``org.jupyter.gpu-kernels.test-image=ipykernel``. Running it as root (``user="0"``) works too.
* ``ensure_plain_image(client)`` -> ``"jupyter-gpu-kernels-test:plain"``: the same base WITHOUT
  ipykernel (python3, pip, venv only), for "image lacks ipykernel" paths.

Both are built from rootfs tarballs cached in ``$JGK_TEST_CACHE`` (default
``/var/cache/jupyter-gpu-kernels-test``); any daemon (e.g. the netns test daemons) just imports the
cached tarball (``docker import`` with the same ``--change`` options), which takes seconds.
The image is only (re)built when the tag is missing in that daemon, or its pin label differs from
the host's current versions.

CLI: ``python -m tests.support.image build`` builds both into the default daemon.
Building needs root, ``debootstrap`` (apt-get installs it when missing) and access to the Debian
mirror apt uses and to PyPI.
"""

from __future__ import annotations

import fcntl
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from ._util import SYSTEM_PATH, apt_install, is_root, log, run, unmount_under, which

REPO = "jupyter-gpu-kernels-test"
PLAIN_TAG = f"{REPO}:plain"
LABEL_KIND = "org.jupyter.gpu-kernels.test-image"
LABEL_PINS = "org.jupyter.gpu-kernels.test-pins"
CACHE_DIR = Path(os.environ.get("JGK_TEST_CACHE", "/var/cache/jupyter-gpu-kernels-test"))
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEB_PACKAGES = ["python3", "python3-pip", "python3-venv", "python-is-python3", "ca-certificates", "procps"]
JOVYAN_UID = 1000
IMAGE_PATH = SYSTEM_PATH
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


# ----------------------------------------------------------------------------- tags and pins
def host_pins() -> dict[str, str]:
    """The versions the kernel image must match (CurveZMQ support lives in these)."""
    pins = {"ipykernel": importlib.metadata.version("ipykernel")}
    try:
        pins["jupyter_client"] = importlib.metadata.version("jupyter_client")
    except importlib.metadata.PackageNotFoundError:
        pass
    return pins


def pins_str(pins: dict[str, str]) -> str:
    return " ".join(f"{k}=={v}" for k, v in sorted(pins.items()))


def test_image_tag() -> str:
    return f"{REPO}:ipykernel-{host_pins()['ipykernel']}"


def _changes(kind: str, pins: str) -> list[str]:
    cmd = '["python","-m","ipykernel_launcher"]' if kind == "ipykernel" else '["python3"]'
    return [
        f"ENV PATH={IMAGE_PATH}",
        "ENV LANG=C.UTF-8",
        f"USER {JOVYAN_UID}",
        "WORKDIR /home/jovyan",
        f"CMD {cmd}",
        f"LABEL {LABEL_KIND}={kind}",
        f'LABEL {LABEL_PINS}="{pins}"',
    ]


# ----------------------------------------------------------------------------- public API
def ensure_test_image(client) -> str:
    """Tag of the ipykernel test image in ``client``'s daemon; builds/imports it if needed."""
    pins = pins_str(host_pins())
    tag = test_image_tag()
    return _ensure(client, "ipykernel", tag, pins, _tarball_ipykernel)


def ensure_plain_image(client) -> str:
    """Tag of the python3-only image (no ipykernel) in ``client``'s daemon."""
    return _ensure(client, "plain", PLAIN_TAG, "", _tarball_plain)


def _ensure(client, kind: str, tag: str, pins: str, make_tarball) -> str:
    if _image_ok(client, tag, pins):
        return tag
    with _cache_lock():
        if _image_ok(client, tag, pins):
            return tag
        tarball = make_tarball()
        log(f"importing {tarball} as {tag}")
        t0 = time.monotonic()
        repo, _, t = tag.partition(":")
        client.api.import_image_from_file(str(tarball), repository=repo, tag=t, changes=_changes(kind, pins))
        log(f"imported {tag} in {time.monotonic() - t0:.1f}s")
    if not _image_ok(client, tag, pins):
        raise RuntimeError(f"imported {tag} but the daemon does not show it with the expected labels")
    return tag


def _image_ok(client, tag: str, pins: str) -> bool:
    import docker

    try:
        img = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    labels = img.attrs.get("Config", {}).get("Labels") or {}
    if labels.get(LABEL_PINS, "") != pins:
        log(f"{tag} exists but was built for {labels.get(LABEL_PINS)!r}, host has {pins!r}; re-importing")
        return False
    return True


# ----------------------------------------------------------------------------- tarballs
def _plain_tar() -> Path:
    return CACHE_DIR / f"{SUITE}-plain-rootfs.tar"


def _ipykernel_tar() -> Path:
    pins = host_pins()
    return CACHE_DIR / f"{SUITE}-ipykernel-{pins['ipykernel']}-jc-{pins.get('jupyter_client', 'any')}-rootfs.tar"


def _tarball_plain() -> Path:
    out = _plain_tar()
    if out.exists():
        return out
    t0 = time.monotonic()
    with _build_dir() as d:
        rootfs = d / "rootfs"
        _debootstrap(rootfs)
        _add_user(rootfs)
        _tar(rootfs, out)
    _write_meta(out, {"built_in_s": round(time.monotonic() - t0, 1)})
    log(f"plain rootfs built in {time.monotonic() - t0:.0f}s -> {out}")
    return out


def _tarball_ipykernel() -> Path:
    out = _ipykernel_tar()
    if out.exists():
        return out
    plain = _tarball_plain()
    t0 = time.monotonic()
    pins = host_pins()
    with _build_dir() as d:
        rootfs = d / "rootfs"
        rootfs.mkdir()
        log(f"unpacking {plain}")
        run(["tar", "-C", rootfs, "--numeric-owner", "-xpf", plain])
        _pip_install_in_chroot(rootfs, pins)
        _tar(rootfs, out)
    _write_meta(out, {"built_in_s": round(time.monotonic() - t0, 1), "pins": pins})
    log(f"ipykernel rootfs built in {time.monotonic() - t0:.0f}s -> {out}")
    return out


def _write_meta(tarball: Path, meta: dict) -> None:
    meta["created"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    tarball.with_suffix(".json").write_text(json.dumps(meta, indent=1))


@contextmanager
def _cache_lock():
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextmanager
def _build_dir():
    """A scratch dir under the cache dir (same filesystem; device nodes allowed). Always removed."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    for stale in CACHE_DIR.glob("build-*"):  # leftovers of a crashed build (we hold the lock)
        log(f"removing stale build dir {stale}")
        unmount_under(str(stale))
        shutil.rmtree(stale, ignore_errors=True)
    d = Path(tempfile.mkdtemp(prefix="build-", dir=CACHE_DIR))
    try:
        yield d
    finally:
        unmount_under(str(d))
        shutil.rmtree(d, ignore_errors=True)


def _require_root_tools() -> None:
    if not is_root():
        raise RuntimeError(
            f"building the test images needs root (debootstrap/chroot); running as uid {os.geteuid()}. "
            f"Run `sudo python -m tests.support.image build` once, or provide the cached tarballs in {CACHE_DIR}."
        )
    missing = [p for p, b in (("debootstrap", "debootstrap"), ("util-linux", "unshare")) if which(b) is None]
    if missing:
        log(f"installing {' '.join(missing)}")
        apt_install(*missing)


def debian_mirror() -> str:
    """The Debian mirror the machine's apt uses for the main archive (``$JGK_TEST_DEBIAN_MIRROR`` wins)."""
    if os.environ.get("JGK_TEST_DEBIAN_MIRROR"):
        return os.environ["JGK_TEST_DEBIAN_MIRROR"]
    files = [Path("/etc/apt/sources.list")]
    d = Path("/etc/apt/sources.list.d")
    if d.is_dir():
        files += sorted(d.iterdir())
    for f in files:
        try:
            text = f.read_text()
        except OSError:
            continue
        if f.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields = {}
                for line in stanza.splitlines():
                    if line.startswith("#") or ":" not in line:
                        continue
                    k, v = line.split(":", 1)
                    fields[k.strip().lower()] = v.split()
                if (
                    "deb" in fields.get("types", [])
                    and SUITE in fields.get("suites", [])
                    and "main" in fields.get("components", [])
                    and fields.get("enabled", ["yes"]) != ["no"]
                ):
                    for uri in fields.get("uris", []):
                        if "security" not in uri:
                            return uri.rstrip("/")
        else:
            for line in text.splitlines():
                parts = re.sub(r"\[[^]]*\]", "", line).split()
                if len(parts) >= 4 and parts[0] == "deb" and parts[2] == SUITE and "main" in parts[3:]:
                    if "security" not in parts[1]:
                        return parts[1].rstrip("/")
    return DEFAULT_MIRROR


def _debootstrap(rootfs: Path) -> None:
    _require_root_tools()
    mirror = debian_mirror()
    log(f"debootstrap {SUITE} (minbase + {', '.join(DEB_PACKAGES)}) from {mirror}; this takes a few minutes")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", PATH=f"{SYSTEM_PATH}:{os.environ.get('PATH', '')}")
    try:
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(DEB_PACKAGES)}",
                "--components=main",
                SUITE,
                rootfs,
                mirror,
            ],
            env=env,
        )
    finally:
        # debootstrap mounts /proc and /sys in the target itself; make sure nothing stays mounted
        unmount_under(str(rootfs))
    # trim: package caches and apt lists are not needed in the image
    for sub in ("var/cache/apt/archives", "var/lib/apt/lists"):
        p = rootfs / sub
        for child in p.glob("*"):
            if child.is_file() and child.name != "lock":
                child.unlink()
    (rootfs / "etc" / "hostname").write_text("jgk-test\n")


def _add_user(rootfs: Path) -> None:
    """Create user/group jovyan (uid/gid 1000) with a home directory, without needing passwd tools."""
    etc = rootfs / "etc"

    def append(name: str, line: str, key: str) -> None:
        f = etc / name
        text = f.read_text() if f.exists() else ""
        if not any(ln.split(":")[0] == key for ln in text.splitlines()):
            if text and not text.endswith("\n"):
                text += "\n"
            f.write_text(text + line + "\n")

    append("group", f"jovyan:x:{JOVYAN_UID}:", "jovyan")
    append("passwd", f"jovyan:x:{JOVYAN_UID}:{JOVYAN_UID}:Jupyter user:/home/jovyan:/bin/bash", "jovyan")
    append("shadow", "jovyan:*:19000:0:99999:7:::", "jovyan")
    home = rootfs / "home" / "jovyan"
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, JOVYAN_UID, JOVYAN_UID)
    home.chmod(0o755)


def _chroot_env() -> dict[str, str]:
    env = {
        "PATH": SYSTEM_PATH,
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "PIP_CERT": "/etc/ssl/certs/jgk-host-ca.crt",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_CACHE_DIR": "1",
        "PIP_ROOT_USER_ACTION": "ignore",
        "PIP_BREAK_SYSTEM_PACKAGES": "1",
        "PIP_DEFAULT_TIMEOUT": "120",
    }
    for k in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        if os.environ.get(k):
            env[k] = os.environ[k]
    # a PyPI mirror reachable over http(s) may be given explicitly; host-local file:// indexes are useless here
    idx = os.environ.get("JGK_TEST_PIP_INDEX_URL") or os.environ.get("PIP_INDEX_URL", "")
    if idx.startswith(("http://", "https://")):
        env["PIP_INDEX_URL"] = idx
    return env


def _chroot(rootfs: Path, argv: list[str], *, env: dict[str, str]) -> None:
    """Run argv in a chroot inside a private mount namespace (so /proc is unmounted automatically)."""
    script = 'mount -t proc proc "$1/proc" || echo "warning: could not mount /proc in the chroot" >&2; shift; exec chroot "$@"'
    run(
        ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh", rootfs, rootfs, *argv],
        env=env,
    )


def _pip_install_in_chroot(rootfs: Path, pins: dict[str, str]) -> None:
    _require_root_tools()
    ca_dst = rootfs / "etc/ssl/certs/jgk-host-ca.crt"
    resolv = rootfs / "etc/resolv.conf"
    ca_dst.parent.mkdir(parents=True, exist_ok=True)
    if HOST_CA_BUNDLE.exists():
        shutil.copyfile(HOST_CA_BUNDLE, ca_dst)
    else:
        ca_dst.write_text("")  # fall back to certifi inside pip
    if resolv.is_symlink() or resolv.exists():
        resolv.unlink()
    shutil.copyfile("/etc/resolv.conf", resolv)
    env = _chroot_env()
    if not HOST_CA_BUNDLE.exists():
        env.pop("PIP_CERT")
    reqs = [f"{k}=={v}" for k, v in sorted(pins.items())]
    try:
        log(f"pip install {' '.join(reqs)} in the chroot")
        try:
            _chroot(rootfs, ["/usr/bin/python3", "-m", "pip", "install", "--no-warn-script-location", *reqs], env=env)
        except subprocess.CalledProcessError:
            if len(reqs) == 1:
                raise
            log("pinned install failed; retrying with only ipykernel pinned")
            _chroot(rootfs, ["/usr/bin/python3", "-m", "pip", "install", f"ipykernel=={pins['ipykernel']}"], env=env)
        check = (
            "import ipykernel, jupyter_client, zmq, sys; "
            "assert zmq.has('curve'), 'pyzmq without CurveZMQ'; "
            "print('ipykernel', ipykernel.__version__, 'jupyter_client', jupyter_client.__version__, "
            "'pyzmq', zmq.__version__, 'curve', zmq.has('curve'))"
        )
        _chroot(rootfs, ["/usr/bin/python", "-c", check], env=env)
        # the kernelspec argv starts with `python`
        if not (rootfs / "usr/bin/python").exists():
            raise RuntimeError("`python` does not exist in the image (python-is-python3 missing?)")
    finally:
        ca_dst.unlink(missing_ok=True)
        resolv.unlink(missing_ok=True)
        resolv.write_text("")  # docker bind-mounts its own resolv.conf here
        shutil.rmtree(rootfs / "root/.cache", ignore_errors=True)


def _tar(rootfs: Path, out: Path) -> None:
    tmp = out.with_name(out.name + ".tmp")
    log(f"writing {out}")
    run(
        [
            "tar",
            "-C",
            rootfs,
            "--numeric-owner",
            "--xattrs",
            "-cf",
            tmp,
            "--exclude=./proc/*",
            "--exclude=./sys/*",
            "--exclude=./dev/*",
            "--exclude=./run/*",
            "--exclude=./tmp/*",
            ".",
        ]
    )
    os.replace(tmp, out)


# ----------------------------------------------------------------------------- image shapes
# Images shaped like the ones GPU users have, derived from the two test images with a small
# Dockerfile (no network: the build runs with network "none", nothing is pulled). Each is
# tagged ``jupyter-gpu-kernels-test:shape-<name>`` and rebuilt when its base image changes.
LABEL_BASE = "org.jupyter.gpu-kernels.test-base"
NVIDIA_ENTRYPOINT = """#!/bin/sh
# like nvidia/cuda's nvidia_entrypoint.sh: print a banner, then run the command
echo "== CUDA (fake) ==" >&2
export NVIDIA_ENTRYPOINT_RAN=1
exec "$@"
"""
STALE_IPYKERNEL = """
RUN cd /usr/local/lib/python3*/dist-packages && ls -d ipykernel-*.dist-info jupyter_client-*.dist-info \\
 && rm -rf ipykernel ipykernel_launcher.py \\
 && printf 'raise ImportError("the image s own broken jupyter_client")\\n' > jupyter_client/__init__.py
"""
SHAPES: dict[str, tuple[str, str]] = {
    # python3 only (no `python`), ipykernel importable by python3, an nvidia-style entrypoint script
    "python3-only": (
        "ipykernel",
        """
RUN rm -f /usr/bin/python /usr/local/bin/python
COPY nvidia_entrypoint.sh /opt/nvidia/nvidia_entrypoint.sh
RUN chmod 755 /opt/nvidia/nvidia_entrypoint.sh
ENTRYPOINT ["/opt/nvidia/nvidia_entrypoint.sh"]
USER 1000
""",
    ),
    # conda layout: the only interpreter on PATH is /opt/conda/bin/python (a venv of copies)
    "conda": (
        "ipykernel",
        """
RUN python3 -m venv --copies --system-site-packages --without-pip /opt/conda && rm -f /usr/bin/python
ENV PATH=/opt/conda/bin:/usr/local/sbin:/usr/sbin:/sbin
USER 1000
""",
    ),
    # docker-stacks: USER 1000, ENTRYPOINT ["tini", "-g", "--"] (tini is the host's docker-init)
    "stacks": (
        "ipykernel",
        """
COPY tini /usr/bin/tini
ENTRYPOINT ["tini", "-g", "--"]
USER 1000
""",
    ),
    # no Python at all
    "no-python": (
        "plain",
        """
RUN rm -rf /usr/bin/python* /usr/lib/python3* /usr/local/lib/python3*
USER 1000
""",
    ),
    # Python + pip but no ipykernel, and a module only this image has (tests/test_derived_images.py)
    "base-module": (
        "plain",
        """
RUN printf 'WHERE = "base image"\\n' > /usr/lib/python3/dist-packages/jgk_base_only.py
USER 1000
""",
    ),
    # the same without pip: a derived image has to unpack the wheels itself
    "no-pip": (
        "plain",
        """
RUN printf 'WHERE = "base image"\\n' > /usr/lib/python3/dist-packages/jgk_base_only.py \\
 && rm -rf /usr/lib/python3/dist-packages/pip /usr/lib/python3/dist-packages/pip-* /usr/bin/pip*
USER 1000
""",
    ),
    # a slimmed image whose metadata lies: ipykernel's module deleted but its dist-info kept (pip would
    # say "Requirement already satisfied"), and a broken jupyter_client first on sys.path
    "stale-ipykernel": (
        "ipykernel",
        STALE_IPYKERNEL
        + """
USER 1000
""",
    ),
    # the same without pip: a derived image unpacks the wheels, and its directory must come first
    "stale-ipykernel-no-pip": (
        "ipykernel",
        STALE_IPYKERNEL
        + """
RUN rm -rf /usr/lib/python3/dist-packages/pip /usr/lib/python3/dist-packages/pip-* /usr/bin/pip*
USER 1000
""",
    ),
    # an ENTRYPOINT that ignores its arguments and exits
    "bad-entrypoint": (
        "ipykernel",
        """
ENTRYPOINT ["/bin/sh", "-c", "echo 'entrypoint: ignoring the command'; exit 0"]
USER 1000
""",
    ),
}


def ensure_ipykernel_wheels(python_version: str, platform: str = "manylinux2014_x86_64") -> Path:
    """A directory of wheels that install the host's ipykernel (and jupyter_client) pins for CPython
    ``python_version`` (``3.11``) on ``platform`` (manylinux x86_64, or ``musllinux_1_2_x86_64``):
    downloaded from PyPI ONCE into the test cache, then served locally (``PIP_FIND_LINKS`` +
    ``PIP_NO_INDEX``) to the server's own ``pip download``."""
    from jupyter_gpu_kernels.daemon.wheels import platform_args

    pins = host_pins()
    abi = "cp" + python_version.replace(".", "")
    where = "" if platform == "manylinux2014_x86_64" else f"-{platform}"
    out = CACHE_DIR / f"wheels-{abi}{where}-{'-'.join(f'{k}-{v}' for k, v in sorted(pins.items()))}"
    if any(out.glob("ipykernel-*.whl")):
        return out
    with _cache_lock():
        if any(out.glob("ipykernel-*.whl")):
            return out
        tmp = Path(tempfile.mkdtemp(prefix=".wheels-", dir=CACHE_DIR))
        try:
            env = dict(os.environ, PIP_CERT=str(HOST_CA_BUNDLE)) if HOST_CA_BUNDLE.exists() else None
            run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    *pins_str(pins).split(),
                    "--only-binary=:all:",
                    "--python-version",
                    python_version,
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
                    str(tmp),
                    "-q",
                ],
                env=env,
            )
            tmp.rename(out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def ensure_shape_image(client, shape: str) -> str:
    """Tag of the ``shape`` image (see SHAPES) in ``client``'s daemon; built from the test images."""
    import io
    import tarfile

    import docker

    kind, dockerfile = SHAPES[shape]
    base = ensure_test_image(client) if kind == "ipykernel" else ensure_plain_image(client)
    base_id = client.images.get(base).id
    tag = f"{REPO}:shape-{shape}"
    try:
        labels = client.images.get(tag).attrs["Config"].get("Labels") or {}
        if labels.get(LABEL_BASE) == base_id:
            return tag
    except docker.errors.ImageNotFound:
        pass
    files = {
        "Dockerfile": f"FROM {base}\nUSER 0\n{dockerfile}\nLABEL {LABEL_BASE}={base_id}\n".encode(),
        "nvidia_entrypoint.sh": NVIDIA_ENTRYPOINT.encode(),
    }
    tini = shutil.which("docker-init") or "/usr/bin/docker-init"
    if os.path.exists(tini):
        files["tini"] = Path(os.path.realpath(tini)).read_bytes()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    log(f"building {tag} from {base}")
    try:
        client.images.build(fileobj=buf, custom_context=True, tag=tag, network_mode="none", rm=True, forcerm=True)
    except docker.errors.BuildError as e:
        raise RuntimeError(
            f"building {tag} failed: {e.msg}\n" + "".join(str(c.get("stream", c.get("error", ""))) for c in e.build_log)
        ) from e
    return tag


# ----------------------------------------------------------------------------- CLI
def _main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "build"
    if cmd == "build":
        import docker

        client = docker.from_env(timeout=600)
        t0 = time.monotonic()
        plain = ensure_plain_image(client)
        test = ensure_test_image(client)
        log(f"images ready in {time.monotonic() - t0:.0f}s: {test}, {plain}")
        print(test)
        print(plain)
        return 0
    if cmd == "tag":
        print(test_image_tag())
        return 0
    if cmd == "clean-cache":
        shutil.rmtree(CACHE_DIR, ignore_errors=True)
        return 0
    print("usage: python -m tests.support.image [build|tag|clean-cache]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))


CUDA_131 = "cuda>=13.1 brand=tesla,driver>=470,driver<471"  # the fake driver supports CUDA 12.4


def build_cuda_image(client, base: str) -> str:
    """``base`` with an nvidia/cuda-style NVIDIA_REQUIRE_CUDA newer than the fake driver; its tag."""
    import io

    tag = "jgk-test-cuda:13.1"
    dockerfile = f'FROM {base}\nENV NVIDIA_REQUIRE_CUDA="{CUDA_131}"\n'
    client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
    return tag


def file_in_image(client, image: str, path: str) -> bytes:
    """The content of ``path`` in ``image``, read with ``get_archive`` from a container that is
    created and never started. Not ``containers.run(..., ["cat", path], remove=True)``: its output
    comes from the log of a process that has already exited, and Docker 20.10 sometimes returns
    none (an empty "file" in a cold CI run of the commit browser test)."""
    import io
    import tarfile

    container = client.containers.create(image, command=["true"], entrypoint=[])
    try:
        stream, _ = container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.extractfile(tar.getmembers()[0])
            return member.read() if member else b""
    finally:
        container.remove(force=True, v=True)


def with_users(client, image: str, tags: dict[str, str]) -> dict[str, str]:
    """``{USER: tag}``: commit ``image`` once per USER as that tag (everything else the same), for
    tests of what a kernel runs as; the caller removes the tags."""
    probe = client.containers.create(image, command=["true"])
    try:
        for user, tag in tags.items():
            repo, _, version = tag.rpartition(":")
            probe.commit(repository=repo, tag=version, conf={"User": user})
    finally:
        probe.remove(force=True, v=True)
    return tags
