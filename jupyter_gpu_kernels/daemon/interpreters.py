"""Which Python an image has, and whether it has ipykernel: one hardened probe per image id.

Called by :mod:`.images` (the image list's "ipykernel" column) and by
:class:`..kernel.launcher.KernelLauncher` (the kernel's interpreter, and the refusal of
images that cannot run a kernel, before any kernel container exists), so the list and the
launch always agree. Touches only a short-lived probe container per image (no network, no
capabilities, small memory/pids limits, removed afterwards) and a JSON cache file in the
Jupyter data dir; image ids are content hashes, so an answer never goes stale.

The probe runs ``python3`` and then ``python`` by name with the image's own environment (its
``Env`` ``PATH``: conda's ``/opt/conda/bin``, a venv's ``bin``…) and its ENTRYPOINT cleared;
no shell is needed in the image. The interpreter reports ``sys.executable``, so the kernel is
started with that absolute path whatever the image's ENTRYPOINT does to ``PATH``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions

from .. import forksafe
from ..errors import ImageError
from .plan import LaunchPlan

CANDIDATES = ("python3", "python")
PROBE_TIMEOUT_S = 60
PROBE_LABEL = "org.jupyter.gpu-kernels.probe"
PROBE_USER = "65534:65534"  # nobody: the probe never runs as root, whatever the image's USER
# Python 2.7 and 3.x syntax alike; never fails on a missing ipykernel
_PROBE_CODE = (
    "import sys, json\n"
    "try:\n"
    "    import importlib.util as u; found = u.find_spec('ipykernel') is not None\n"
    "except Exception:\n"
    "    found = False\n"
    "v = ''\n"
    "if found:\n"
    "    try:\n"
    "        import ipykernel; v = ipykernel.__version__\n"
    "    except Exception as e:\n"
    "        v = ''\n"
    "libc = ''\n"
    "try:\n"
    "    import platform, sysconfig, glob\n"
    "    gnu = '%s %s %s' % (sysconfig.get_config_var('HOST_GNU_TYPE'), sysconfig.get_config_var('MULTIARCH'), "
    "getattr(sys.implementation, '_multiarch', ''))\n"
    "    if 'musl' in gnu or glob.glob('/lib/ld-musl-*.so.1'):\n"
    "        libc = 'musl'\n"
    "    elif platform.libc_ver(sys.executable)[0] == 'glibc' or 'gnu' in gnu:\n"
    "        libc = 'glibc'\n"
    "except Exception:\n"
    "    pass\n"
    "print(json.dumps({'executable': sys.executable, 'version': '%d.%d.%d' % sys.version_info[:3], "
    "'ipykernel': v, 'libc': libc}))\n"
)


@dataclass(frozen=True)
class Interpreter:
    """What the probe found: the interpreter's absolute path, its version, ipykernel's version ('' if absent),
    and the C library it runs on (``glibc``, ``musl`` as on Alpine, '' if unknown): it picks the wheels."""

    path: str
    version: str
    ipykernel: str = ""
    libc: str = ""

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


_cache: dict[str, dict | None] = {}
_loaded = False
_lock = threading.Lock()


def _reset_after_fork() -> None:
    """A forked child: a new lock (a parent thread may hold it)."""
    global _lock
    _lock = threading.Lock()


forksafe.register(_reset_after_fork)


def _cache_file() -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "gpu_kernels" / "interpreters-by-image-id.json"


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    try:
        _cache.update(json.loads(_cache_file().read_text()))
    except (OSError, ValueError):
        pass


def _save() -> None:
    path = _cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(_cache))
        tmp.replace(path)
    except OSError:
        pass  # a cache, not a requirement


def cached(image_id: str) -> tuple[bool, Interpreter | None]:
    """(known, interpreter) from the cache only; never runs a probe."""
    with _lock:
        _load()
        if image_id not in _cache:
            return False, None
        entry = _cache[image_id]
    if entry and "libc" not in entry:
        return False, None  # found by an older probe that did not ask for the C library: probe again
    return True, (Interpreter(**entry) if entry else None)


def find_interpreter(client: docker.DockerClient, image_id: str) -> Interpreter | None:
    """The image's Python (preferring one with ipykernel), or None when it has none; cached by image id."""
    known, found = cached(image_id)
    if known:
        return found
    first: Interpreter | None = None
    for name in CANDIDATES:
        found = _probe(client, image_id, name)
        if found and found.ipykernel:
            first = found
            break
        first = first or found
    with _lock:
        _cache[image_id] = asdict(first) if first else None
        _save()
    return first


def _probe(client: docker.DockerClient, image_id: str, name: str) -> Interpreter | None:
    """Run ``name -c PROBE`` in a hardened, throw-away container; None when it does not exist there."""
    container = None
    try:
        container = client.containers.create(
            image_id,
            command=[name, "-c", _PROBE_CODE],
            entrypoint=[],
            network_mode="none",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            mem_limit="256m",
            pids_limit=64,
            user=PROBE_USER,
            labels={PROBE_LABEL: "true"},
            detach=True,
        )
        try:
            container.start()
        except docker.errors.APIError as e:
            text = str(e.explanation or e)
            if "executable file not found" in text or "no such file or directory" in text:
                return None
            raise ImageError(f"could not run {name} in image {image_id[:19]} to find its Python: {text}") from e
        status = container.wait(timeout=PROBE_TIMEOUT_S).get("StatusCode", 1)
        out = container.logs(stdout=True, stderr=False).decode(errors="replace").strip()
        if status != 0 or not out:
            return None  # e.g. a `python3` that is a wrapper script failing without its environment
        data = json.loads(out.splitlines()[-1])
        return Interpreter(
            path=str(data["executable"]),
            version=str(data["version"]),
            ipykernel=str(data.get("ipykernel") or ""),
            libc=str(data.get("libc") or ""),
        )
    except (ValueError, KeyError, TypeError):
        return None  # printed something else: not a usable interpreter
    except requests.exceptions.RequestException as e:
        raise ImageError(
            f"the Python probe of image {image_id[:19]} did not finish within {PROBE_TIMEOUT_S}s: {e}"
        ) from e
    except docker.errors.APIError as e:
        raise ImageError(f"could not probe image {image_id[:19]} for Python: {e.explanation or e}") from e
    finally:
        if container is not None:
            try:
                container.remove(force=True)
            except docker.errors.APIError:
                pass


def image_path(image_attrs: dict[str, Any]) -> str:
    """The ``PATH`` from the image's config (what the probe searched)."""
    for item in (image_attrs.get("Config") or {}).get("Env") or []:
        if item.startswith("PATH="):
            return item[5:]
    return "(none: Docker's default)"


def refusal(ref: str, image_attrs: dict[str, Any], found: Interpreter | None) -> str | None:
    """Why this image cannot run the default kernel command, with the fix; None when it can."""
    if found is None:
        return (
            f"image {ref!r} has no Python: neither python3 nor python is on its PATH "
            f"({image_path(image_attrs)}). A kernel needs Python with ipykernel: use an image with Python "
            "(e.g. FROM python:3.12-slim, or nvidia/cuda with `RUN apt-get install -y python3-ipykernel`), "
            "or set the kernelspec's argv to a kernel the image has"
        )
    if not found.ipykernel:
        return (
            f"image {ref!r} has {found.name} {found.version} at {found.path} but no ipykernel: add "
            f"`RUN {found.path} -m pip install ipykernel` (or `apt-get install -y python3-ipykernel` for "
            "Debian's python3) to its Dockerfile, and use the new image"
        )
    return None


def entrypoint_hint(image_attrs: dict[str, Any], override: tuple[str, ...] | None) -> str:
    """For a kernel that exited or never answered: the image's ENTRYPOINT, when it is the likely cause."""
    entrypoint = (image_attrs.get("Config") or {}).get("Entrypoint")
    if override is not None or not entrypoint:
        return ""
    return (
        f"\nthe image's ENTRYPOINT {json.dumps(entrypoint)} may not run its arguments (the kernel "
        "command); set entrypoint: [] to bypass it, or entrypoint: [...] to replace it"
    )


def with_interpreter(client: docker.DockerClient, plan: LaunchPlan, image: Any) -> LaunchPlan:
    """The plan with its default ``python`` replaced by the image's own interpreter; ImageError
    (naming the image and the fix) when the image has no Python or no ipykernel. A plan whose argv
    was set explicitly is returned as is."""
    if not plan.find_python:
        return plan
    found = find_interpreter(client, image.id)
    why = refusal(plan.image, image.attrs, found)
    if why:
        raise ImageError(why)
    assert found is not None
    return replace(plan, argv=(found.path, *plan.argv[1:]))


def forget(image_id: str | None = None) -> None:
    """Drop the cached answer for ``image_id`` (all answers when None), in memory and on disk."""
    with _lock:
        _load()
        if image_id is None:
            _cache.clear()
        else:
            _cache.pop(image_id, None)
        _save()
