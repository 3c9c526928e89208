"""The container as a boundary: what of the server's own files a kernel must not see or write.

Called by :func:`.planning.build_plan` for local hosts. When a bind mount (the server's root
directory, or a mount the policy allowed) contains the user's Jupyter config, data and runtime
dirs, ``~/.ssh``, ``~/.docker``, ``~/.config``, git config or shell start-up files, those are
masked inside the container: directories by an empty read-only tmpfs, files by a read-only bind
of the same file. So kernel code can write notebooks but not ``hosts.json``, kernelspecs, SSH
config, pip's config, user site-packages, ``~/.local/bin`` or ``.bashrc``, which the server or the
user's shell would later trust. A mount whose
source lies inside one of those directories is refused. Touches the filesystem only to resolve
paths and to create the masked directories that do not exist yet (mode 0700, owned by the
server's user: an empty directory the kernel then cannot write into).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from jupyter_core.paths import (
    jupyter_config_dir,
    jupyter_config_path,
    jupyter_data_dir,
    jupyter_path,
    jupyter_runtime_dir,
)

from ..errors import PolicyError
from ..specs.resources import Mount

HOME_DIRS = (".ssh", ".docker", ".config", ".local/etc/jupyter", ".ipython", ".pip", ".local/lib", ".local/bin")
# made (empty, 0700) when missing, so a kernel cannot create them: SSH and Docker config, XDG config
# (pip's, git's…), pip's legacy config dir, the user site-packages the server's own Python imports
# at start (a planted .pth runs there) and ~/.local/bin, which is on PATH before /usr/bin for
# `ssh` and `docker-credential-*` the server runs
CREATED_HOME_DIRS = (".ssh", ".docker", ".config", ".pip", ".local/lib", ".local/bin")
HOME_FILES = (
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".gitconfig",
    ".netrc",
    ".pypirc",
    ".pam_environment",
    ".xprofile",
)
TMPFS_OPTIONS = "ro,nosuid,nodev,noexec,size=16k,mode=0500"


def _under(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def protected_dirs() -> list[tuple[str, bool]]:
    """(directory, create it when missing) for every directory a kernel must not write."""
    home = os.path.expanduser("~")
    own = [jupyter_config_dir(), jupyter_data_dir(), jupyter_runtime_dir()]
    out = [(d, True) for d in own] + [(os.path.join(home, d), d in CREATED_HOME_DIRS) for d in HOME_DIRS]
    out += [(d, False) for d in (*jupyter_config_path(), *jupyter_path())]
    return out


def protected_files() -> list[str]:
    home = os.path.expanduser("~")
    return [os.path.join(home, f) for f in HOME_FILES]


def _container_path(path: str, mount: Mount) -> str:
    return os.path.normpath(os.path.join(mount.target, os.path.relpath(path, os.path.realpath(mount.source))))


def check_sources(mounts: Iterable[Mount]) -> None:
    """PolicyError when a bind mount's source lies inside a directory kernels may not see
    (also called when an environment is created or changed, to fail early)."""
    dirs = protected_dirs()
    for m in mounts:
        if m.is_volume:
            continue
        src = os.path.realpath(m.source)
        for d, _ in dirs:
            if _under(src, os.path.realpath(d)):
                raise PolicyError(
                    f"refused: mount source {m.source} is inside {d}, which kernels may not see "
                    "(server configuration, keys or start-up files)",
                    field="mounts",
                    rule="boundary",
                )


def masks(mounts: Iterable[Mount]) -> tuple[list[Mount], tuple[str, ...]]:
    """(read-only file binds, tmpfs directories) masking what ``mounts`` would expose."""
    mounts = list(mounts)
    check_sources(mounts)
    binds = [m for m in mounts if not m.is_volume]
    dirs = protected_dirs()
    extra: list[Mount] = []
    tmpfs: dict[str, None] = {}
    for m in binds:
        src = os.path.realpath(m.source)
        if not os.path.isdir(src):
            continue
        for d, create in dirs:
            real = os.path.realpath(d)
            if real == src or not _under(real, src):
                continue
            if not os.path.isdir(real):
                if not create or os.path.lexists(real):
                    continue
                os.makedirs(real, mode=0o700, exist_ok=True)
            tmpfs[_container_path(real, m)] = None
        for f in protected_files():
            real = os.path.realpath(f)
            if os.path.isfile(real) and _under(real, src) and not m.read_only:
                extra.append(Mount(real, _container_path(real, m), True))
    # a masked directory inside another masked one needs no mask of its own
    paths = sorted(tmpfs)
    kept = tuple(p for p in paths if not any(q != p and _under(p, q) for q in paths))
    extra = [e for e in extra if not any(_under(e.target, q) for q in kept)]
    return extra, kept
