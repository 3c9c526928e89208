"""Admin policy that users cannot override: ``c.KernelPolicy`` (and the older image allowlist).

It is enforced on the server side in every path (REST API, CLI, provisioner),
not just hidden in the UI. Empty means "any image"; once set, only matching
images may be used (deny by default) — DockerSpawner's GHSA-hfgr-h3vc-p6c2 is
the cautionary tale. Kernelspec metadata cannot set it: it lives on its own
Configurable, read from the server's configuration. The instance the server and
the provisioner use is created once, by :class:`jupyter_gpu_kernels.settings.Settings`.

The old section names ``c.GPUKernelsImagePolicy`` and ``c.ImagePolicy`` still work
(``KernelPolicy`` inherits their ``allowed_images``; ``c.ImagePolicy`` with a deprecation warning).

:class:`KernelPolicy` is what :class:`~.settings.Settings` creates: it is read ONLY from the
admin config directories (:func:`.configurable.admin_config`), never the user's config dir,
which kernel code may be able to write. :func:`.kernel.planning.build_plan` calls
:meth:`KernelPolicy.check_launch` whatever the kernelspec, environment or REST body says; the
environments store calls :meth:`KernelPolicy.check_settings` when one is created or changed.
Refusals are :class:`~.errors.PolicyError` naming the rule. Pure: reads the filesystem only to
resolve mount sources (symlinks, ``..``).
"""

from __future__ import annotations

import fnmatch
import os
from typing import Any

from traitlets import Bool, Float, Int, List, Unicode

from .configurable import PrefixedConfigurable, admin_config, server_config
from .errors import ImageNotAllowedError, PolicyError
from .specs.users import is_root_user

__all__ = [
    "GPUKernelsImagePolicy",
    "ImagePolicy",
    "KernelPolicy",
    "POLICY_SECTIONS",
    "image_policy",
    "normalize_image",
    "server_config",
]

# never mountable unless the administrator lists them (or a path under them) explicitly
PROTECTED_SOURCES = (
    "/",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/run",
    "/var/run",
    "/boot",
    "/root",
)
# Docker's default capability set (what a container keeps when cap_drop lacks ALL)
DOCKER_DEFAULT_CAPS = frozenset(
    {
        "CHOWN",
        "DAC_OVERRIDE",
        "FSETID",
        "FOWNER",
        "MKNOD",
        "NET_RAW",
        "SETGID",
        "SETUID",
        "SETFCAP",
        "SETPCAP",
        "NET_BIND_SERVICE",
        "SYS_CHROOT",
        "KILL",
        "AUDIT_WRITE",
    }
)


def normalize_image(ref: str) -> str:
    """``python:3.12`` → ``docker.io/library/python:3.12`` (tag 'latest' when none)."""
    name, digest = (ref.split("@", 1) + [""])[:2]
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    if ":" not in name.rsplit("/", 1)[-1] and not digest:
        name += ":latest"
    return name + (f"@{digest}" if digest else "")


class GPUKernelsImagePolicy(PrefixedConfigurable):
    """The image allowlist (``c.GPUKernelsImagePolicy.allowed_images``)."""

    legacy_section = "ImagePolicy"

    allowed_images = List(
        Unicode(),
        config=True,
        help="""Images users may run, as shell patterns (e.g. 'ghcr.io/acme/*', 'python:3.1*').
        Empty (default): any image. Matched against the reference as written and its normalized
        form (docker.io/library/python:3.12).""",
    )

    def allows(self, image: str) -> bool:
        if not self.allowed_images:
            return True
        candidates = {image, normalize_image(image)}
        patterns = set(self.allowed_images) | {normalize_image(p) for p in self.allowed_images if "*" not in p}
        return any(fnmatch.fnmatchcase(c, p) for c in candidates for p in patterns)

    def check(self, image: str) -> str:
        if not self.allows(image):
            raise ImageNotAllowedError(
                f"image {image!r} is not allowed on this server (refused by KernelPolicy.allowed_images); "
                f"the administrator allows: "
                f"{', '.join(self.allowed_images)}"
            )
        return image


ImagePolicy = GPUKernelsImagePolicy  # the old name, still importable


def _real(path: str) -> str:
    return os.path.realpath(os.path.expanduser(path))


def _under(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


class KernelPolicy(GPUKernelsImagePolicy):
    """What any kernel may get, whatever its kernelspec, environment or REST request asks for."""

    legacy_section = "ImagePolicy"

    allowed_mount_sources = List(
        Unicode(),
        config=True,
        help="""Host path prefixes kernels may bind-mount
        (symlinks and '..' resolved first). The server's root directory is always allowed. /, the Docker
        socket, /etc, /proc, /sys, /dev, /run, /var/run, /boot and /root are refused unless listed here.""",
    )
    allow_root_user = Bool(
        None,
        allow_none=True,
        config=True,
        help="""Whether a kernel may run as uid 0
        ('0', 'root', or 'server' when the server runs as root). Default (None): only when the Jupyter
        server itself runs as root. Set False for untrusted users (and set c.GPUDockerProvisioner.user).""",
    )
    allowed_hosts = List(Unicode(), config=True, help="Docker host names (shell patterns) kernels may use. Empty: all.")
    max_gpus_per_kernel = Int(
        -1, config=True, help="Most GPUs one kernel may request (-1: no limit; 'all' counts as over any limit)."
    )
    max_memory = Unicode(
        "",
        config=True,
        help="Largest memory limit, e.g. '64g'; also the limit of kernels that set none. Empty: no limit.",
    )
    max_cpus = Float(0.0, config=True, help="Largest CPU limit; also the limit of kernels that set none. 0: none.")
    allowed_capabilities = List(
        Unicode(),
        config=True,
        help="""Linux capabilities a kernel may keep (cap_drop
        may leave them). Empty (default): cap_drop must include ALL.""",
    )

    root_dir = Unicode("", help="The server's root directory (always an allowed mount source); set by Settings.")

    def refuse(self, rule: str, message: str, field: str | None = None) -> None:
        raise PolicyError(f"refused by KernelPolicy.{rule}: {message}", field=field, rule=rule)

    # ------------------------------------------------------------- single rules
    def check_host(self, name: str) -> None:
        if self.allowed_hosts and not any(fnmatch.fnmatchcase(name, p) for p in self.allowed_hosts):
            self.refuse(
                "allowed_hosts", f"host {name!r} is not allowed (allowed: {', '.join(self.allowed_hosts)})", "host"
            )

    def check_mount_source(self, source: str, root_dir: str | None = None, *, is_root_mount: bool = False) -> None:
        """``source`` (a host path) must be under an allowed source; protected paths need explicit listing."""
        real = _real(source)
        explicit = [_real(a) for a in self.allowed_mount_sources]
        roots = [_real(r) for r in (root_dir, self.root_dir) if r]
        allowed = [a for a in explicit + roots if _under(real, a)]
        if not allowed:
            shown = ", ".join(dict.fromkeys(roots + explicit)) or "nothing"
            self.refuse("allowed_mount_sources", f"{real} is not under an allowed source (allowed: {shown})", "mounts")
        for protected in map(_real, PROTECTED_SOURCES):
            inside, contains = _under(real, protected) and protected != "/", _under(protected, real)
            if not (inside or contains) or (is_root_mount and inside):
                continue  # the server's own root dir may lie under /root (the server runs there)
            if not any(
                _under(real, a) and (_under(a, protected) if inside else _under(protected, a)) for a in explicit
            ):
                what = real if inside else f"{real} (it contains {protected})"
                self.refuse(
                    "allowed_mount_sources",
                    f"{what} is protected and not listed explicitly "
                    f"(allowed: {', '.join(explicit) or 'nothing listed'})",
                    "mounts",
                )

    def check_user(self, user: str | None) -> None:
        """Refuse a root ``user`` unless allowed. ``None``: the image's USER, not known yet (checked
        when the image is there: kernel/planning.settle_image_user)."""
        allowed = self.allow_root_user if self.allow_root_user is not None else os.geteuid() == 0
        if user is not None and is_root_user(user) and not allowed:
            self.refuse(
                "allow_root_user",
                f"the kernel would run as root (user {user!r}); set c.GPUDockerProvisioner.user to a non-root uid",
                "user",
            )

    def check_capabilities(self, cap_drop: Any) -> None:
        dropped = {str(c).upper().removeprefix("CAP_") for c in cap_drop or ()}
        kept = set() if "ALL" in dropped else DOCKER_DEFAULT_CAPS - dropped
        extra = kept - {c.upper().removeprefix("CAP_") for c in self.allowed_capabilities}
        if extra:
            self.refuse(
                "allowed_capabilities",
                f"cap_drop {sorted(dropped)} keeps {', '.join(sorted(extra))}; cap_drop must include ALL",
                "cap_drop",
            )

    def check_gpus(self, gpus: Any) -> None:
        if self.max_gpus_per_kernel < 0 or not gpus.wants_gpu:
            return
        count = None if gpus.wants_all else (gpus.count if gpus.kind == "count" else len(gpus.devices))
        if count is None or count > self.max_gpus_per_kernel:
            self.refuse(
                "max_gpus_per_kernel", f"gpus {str(gpus)!r} is more than {self.max_gpus_per_kernel} GPU(s)", "gpus"
            )

    def limits(self, memory: int | None, cpus: float | None) -> tuple[int | None, float | None]:
        """The memory and CPU limits after the caps: refused when over, the cap when unset."""
        from .specs.resources import parse_size

        max_memory = parse_size(self.max_memory, "memory limit") if self.max_memory else None
        if max_memory and memory and memory > max_memory:
            self.refuse("max_memory", f"memory {memory} bytes is over {self.max_memory}", "memory")
        if self.max_cpus and cpus and cpus > self.max_cpus:
            self.refuse("max_cpus", f"cpus {cpus:g} is over {self.max_cpus:g}", "cpus")
        return memory or max_memory, cpus or (self.max_cpus or None)

    def check_mount_target(self, target: str, connection_dir: str) -> None:
        target = os.path.normpath(target)
        if target == "/":  # e.g. a server whose root dir is /: Docker cannot mount onto a container's /
            raise PolicyError(
                f"refused: mount target / would replace the container's whole filesystem (its Python, "
                f"and the kernel connection directory {connection_dir}); mount a directory below / "
                "(e.g. start the server in /home or /tmp)",
                field="mounts",
                rule="connection_dir",
            )
        if _under(target, connection_dir) or _under(connection_dir, target):
            raise PolicyError(
                f"refused: mount target {target} would cover the kernel connection directory {connection_dir}",
                field="mounts",
                rule="connection_dir",
            )

    # ------------------------------------------------------------- whole requests
    def check_settings(self, ks: Any, *, local: bool = True, root_dir: str | None = None) -> None:
        """What can be checked from a kernel's settings alone (environments, when created or changed)."""
        from .daemon.plan import CONNECTION_DIR

        self.check(ks.image)
        self.check_host(ks.host)
        self.check_gpus(ks.gpus)
        self.limits(ks.memory, ks.cpus)
        for mount in ks.mounts:
            self.check_mount_target(mount.target, CONNECTION_DIR)
            if local and not mount.is_volume:
                self.check_mount_source(mount.source, root_dir)

    def check_launch(
        self,
        ks: Any,
        mounts: Any,
        *,
        user: str | None,
        cap_drop: Any,
        local: bool,
        root_mount: str | None,
        connection_dir: str,
    ) -> tuple[int | None, float | None]:
        """Every rule, for one launch; returns the (capped) memory and CPU limits."""
        self.check(ks.image)
        self.check_host(ks.host)
        self.check_gpus(ks.gpus)
        self.check_user(user)
        self.check_capabilities(cap_drop)
        for mount in mounts:
            self.check_mount_target(mount.target, connection_dir)
            if local and not mount.is_volume:
                self.check_mount_source(mount.source, root_mount, is_root_mount=mount.source == root_mount)
        return self.limits(ks.memory, ks.cpus)


POLICY_SECTIONS = ("ImagePolicy", "GPUKernelsImagePolicy", "KernelPolicy")


def kernel_policy(live_config: Any = None, root_dir: str = "") -> KernelPolicy:
    """The admin policy: from the admin config dirs, plus ``live_config`` values not from the user's files."""
    return KernelPolicy(config=admin_config(POLICY_SECTIONS, live_config), root_dir=root_dir or "")


def image_policy(parent_config: Any = None) -> GPUKernelsImagePolicy:
    """The admin policy (read from the admin config dirs). Prefer ``Settings.for_parent(obj).image_policy``."""
    return kernel_policy(parent_config)
