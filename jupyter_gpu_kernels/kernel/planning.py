"""From a kernel's settings to its :class:`~..daemon.plan.LaunchPlan`: all validation, no daemon.

Called once per launch by the provisioner's ``pre_launch``. Every input is parsed and
checked here (image reference and allowlist, GPU spec, mounts, sizes, CPUs, user,
environment variables), so bad input fails before anything exists on any host, with a
message naming the field. The admin ``KernelPolicy`` is enforced here too (:func:`enforce_policy`:
images, hosts, mount sources and targets, root user, capabilities, GPU/memory/CPU caps), whatever
the kernelspec or environment says, and the container boundary's masks are added
(:mod:`.boundary`). Pure apart from reading the filesystem for local mount sources (and creating
the masked directories that do not exist yet).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, replace
from typing import Any

from ..daemon.leases import current_owner
from ..daemon.plan import CONNECTION_DIR, LaunchPlan, connection_file_path, server_user
from ..daemon.records import KernelContainer
from ..daemon.workspace import workspace_volume_name
from ..errors import PolicyError, SpecError
from ..hosts.registry import DockerHost
from ..specs.resources import ENV_NAME, Mount, allowed, check_env_name, check_env_value, check_user_env_name
from ..specs.settings import KernelSettings, parse_entrypoint  # noqa: F401 (parse_entrypoint: re-exported)
from ..specs.users import is_root_user
from .boundary import masks

DEFAULT_ARGV = ("python", "-m", "ipykernel_launcher", "-f", "{connection_file}")


@dataclass(frozen=True)
class LaunchContext:
    """What the kernel manager knows about this start (not part of the kernel's settings)."""

    kernel_id: str
    cwd: str
    env: dict[str, str]  # the kernel manager's environment for the kernel (server env + kernelspec env)
    spec_env_keys: frozenset[str] = frozenset()  # variables the kernelspec itself sets
    spec_argv: tuple[str, ...] = ()
    kernel_name: str = ""
    root_dir: str | None = None  # the server's root directory, when there is a server
    extra_arguments: tuple[str, ...] = ()  # start_kernel(extra_arguments=…): appended to the argv


# The JPY_* variables a kernel reads (ipykernel: the notebook's path). Not JPY_PARENT_PID (a pid
# on this machine, which the kernel would poll and die on), JPY_INTERRUPT_EVENT (a Windows handle),
# nor JupyterHub's JPY_API_TOKEN and friends (credentials of the user's server).
KERNEL_JPY_VARS = frozenset({"JPY_SESSION_NAME"})


def container_env(settings: Any, ctx: LaunchContext, home: str | None) -> dict[str, str]:
    """Only the kernelspec's env, the JPY_* variables a kernel needs and allowlisted variables —
    never the server's environment. Every name and value is checked (a name with '=' or a newline,
    a value with NUL, would reach Docker as something else): SpecError naming ``env``."""
    out = {
        k: v
        for k, v in ctx.env.items()
        if k in ctx.spec_env_keys or k in KERNEL_JPY_VARS or allowed(k, settings.env_allowlist)
    }
    for key in [k for k in out if k not in ctx.spec_env_keys and not ENV_NAME.fullmatch(k)]:
        del out[key]  # an odd name in the server's own environment: not passed, not an error
    checks = [(check_env_name, k, v) for k, v in out.items()] + [
        (check_user_env_name, k, v) for k, v in settings.env.items()
    ]
    for check, key, value in checks:
        try:
            out[check(key)] = check_env_value(key, str(value))
        except SpecError as e:
            raise SpecError(str(e), field="env") from None
    if home and "HOME" not in out:
        out["HOME"] = home
    out.setdefault("PYTHONUNBUFFERED", "1")
    return out


def _mounts_and_workdir(
    settings: Any, ks: KernelSettings, host: DockerHost, ctx: LaunchContext
) -> tuple[list[Mount], str | None, str | None]:
    """Extra mounts, plus the server root (locally) or the per-notebook-directory volume (remotely)."""
    mounts = list(ks.mounts)
    working_dir = volume = None
    if not host.is_local and settings.remote_workspace:
        # the server's directories do not exist there: a named volume per notebook directory
        volume = workspace_volume_name(ctx.cwd)
        mounts.insert(0, Mount(volume, settings.remote_workspace))
        working_dir = settings.remote_workspace
    if host.is_local:
        working_dir = ctx.cwd
        if settings.mount_root:
            root = ctx.root_dir or ctx.cwd
            if os.path.commonpath([root, ctx.cwd]) != root:
                # a start without a notebook path (POST api/kernels with no path): jupyter_server
                # passes no cwd, so ctx.cwd is the server process's own directory. Never mount that
                # (it is outside the root dir the kernel may see); start in the root dir, as
                # jupyter_server's cwd_for_path("") would.
                working_dir = root
            if root not in {m.target for m in mounts}:
                mounts.insert(0, Mount(root, root))
    return mounts, working_dir, volume


def kernel_argv(settings: Any, ctx: LaunchContext) -> tuple[tuple[str, ...], bool]:
    """The kernel command (as jupyter_client's ``format_kernel_cmd``: argv + extra_arguments), and
    whether its leading ``python`` is the default one, to be replaced by the image's own interpreter
    at launch. An argv set explicitly (provisioner setting, or a kernelspec argv other than the
    default) is used as is."""
    explicit = tuple(settings.argv or ())
    spec = tuple(ctx.spec_argv or ())
    argv = explicit or spec or DEFAULT_ARGV
    find_python = not explicit and argv == DEFAULT_ARGV
    extra = tuple(ctx.extra_arguments or ())
    if not all(isinstance(a, str) for a in extra):
        raise SpecError(f"invalid extra_arguments {list(extra)!r}: expected a list of strings")
    return argv + extra, find_python


def _user(settings: Any, host: DockerHost) -> str | None:
    if settings.user == "server":
        return server_user() if host.is_local else None
    if settings.user in ("image", ""):
        return None
    return settings.user


def runs_as_image_user(settings: Any, host: DockerHost) -> bool:
    """``user: image``, or ``user: server`` on a remote host (the server's uid means nothing there)."""
    return settings.user in ("image", "") or (settings.user == "server" and not host.is_local)


def image_root_allowed(policy: Any, settings: Any, host: DockerHost) -> bool:
    """Whether a kernel that runs as its image's USER may run as root: the admin policy's root rule
    (``KernelPolicy.allow_root_user``; default: only when the server runs as root). Only a kernel
    that runs as its image's user (:func:`runs_as_image_user`) is checked against the image
    (:func:`settle_image_user`); a bare allowlist has no rule."""
    if not runs_as_image_user(settings, host) or not hasattr(policy, "check_user"):
        return True
    try:
        policy.check_user("root")
    except SpecError:
        return False
    return True


def settle_image_user(plan: LaunchPlan, image_attrs: dict[str, Any]) -> LaunchPlan:
    """Called by the launcher once the image is there, before anything is created, for a kernel that
    runs as its image's user (``plan.user`` None) whose image's USER is root. With ``user: server``
    on a remote host it runs as the server's uid:gid instead (``plan.root_user_fallback``), non-root
    as on local hosts, while a non-root USER (jovyan) is kept; otherwise it is refused (PolicyError
    naming the image and the fix) unless the policy allows root (``plan.root_image_user_allowed``)."""
    if plan.user is not None:
        return plan
    user = (image_attrs.get("Config") or {}).get("User") or ""
    if not is_root_user(user):
        return plan
    fallback = plan.root_user_fallback
    if fallback and not is_root_user(fallback):
        return replace(plan, user=fallback)
    if plan.root_image_user_allowed:
        return plan
    shown = f"USER {user}" if user else "no USER, so root"
    why = "user: server on a remote host, and the server runs as root" if fallback else "user: image"
    raise PolicyError(
        f"refused by KernelPolicy.allow_root_user: image {plan.image!r} runs as root ({shown}) and this kernel "
        f"runs as the image's user ({why}); set `user` to a non-root uid (e.g. 1000:100"
        f"{'' if fallback else ', or server'}), "
        "or an administrator may allow root with c.KernelPolicy.allow_root_user = True",
        field="user",
        rule="allow_root_user",
    )


def enforce_policy(
    policy: Any, settings: Any, ks: KernelSettings, host: DockerHost, mounts: list[Mount], user: str | None
) -> tuple[int | None, float | None, list[Mount], tuple[str, ...]]:
    """The admin ``KernelPolicy`` (PolicyError naming the rule) and the container boundary's masks:
    (memory, cpus) after the policy's caps, the mounts with the masks, the tmpfs paths."""
    if not hasattr(policy, "check_launch"):  # a bare image allowlist (tests, old callers)
        return ks.memory, ks.cpus, mounts, ()
    own = set(ks.mounts)
    root_mount = next((m.source for m in mounts if m not in own and not m.is_volume), None)
    memory, cpus = policy.check_launch(
        ks,
        mounts,
        user=user,
        cap_drop=settings.cap_drop,
        local=host.is_local,
        root_mount=root_mount,
        connection_dir=CONNECTION_DIR,
    )
    if not host.is_local:
        return memory, cpus, mounts, ()
    extra, tmpfs = masks(mounts)
    return memory, cpus, [*mounts, *extra], tmpfs


def build_plan(settings: Any, host: DockerHost, ctx: LaunchContext, policy: Any) -> LaunchPlan:
    """The complete, validated plan. ``settings`` has the provisioner's traits; ``policy`` the image allowlist."""
    ks = KernelSettings.from_config(
        {k: getattr(settings, k) for k in KernelSettings.KEYS}, check_mounts=host.is_local
    )  # the one parse path (specs/settings.py)
    image = policy.check(ks.image)
    gpu_request, memory, shm, cpus = ks.gpus, ks.memory, ks.shm_size, ks.cpus
    mounts, working_dir, volume = _mounts_and_workdir(settings, ks, host, ctx)
    user = _user(settings, host)
    memory, cpus, mounts, tmpfs = enforce_policy(policy, settings, ks, host, mounts, user)
    env = container_env(settings, ctx, f"{CONNECTION_DIR}/home" if user else None)
    owner = current_owner()
    record = KernelContainer(
        kernel_id=ctx.kernel_id,
        host=host.name,
        image=image,
        environment=settings.environment or ctx.kernel_name,
        notebook=env.get("JPY_SESSION_NAME", ""),
        gpu_request=str(gpu_request),
        gpu_shared=bool(settings.gpu_sharing),
        server=owner.server,
        owner=getpass.getuser(),
        owner_id=owner.owner_id,
        owner_start=owner.start,
        orphan_timeout=f"{max(0.0, float(getattr(settings, 'orphan_timeout', 60.0))):g}",
    )
    argv, find_python = kernel_argv(settings, ctx)
    connection_file = connection_file_path(ctx.kernel_id)
    return LaunchPlan(
        kernel_id=ctx.kernel_id,
        image=image,
        argv=tuple(a.replace("{connection_file}", connection_file) for a in argv),
        env=env,
        user=user,
        working_dir=working_dir,
        mounts=tuple(mounts),
        gpus=gpu_request,
        record=record,
        gpu_sharing=bool(settings.gpu_sharing),
        memory=memory,
        cpus=cpus,
        pids_limit=settings.pids_limit or None,
        shm_size=shm,
        network=settings.network,
        cap_drop=tuple(settings.cap_drop),
        pull_policy=settings.pull_policy,
        connection_mode=settings.connection_mode,
        publish_address=str(host.options.get("publish_address", "0.0.0.0")),
        launch_timeout=float(settings.launch_timeout),
        workspace_volume=volume,
        workspace_dir=settings.remote_workspace if volume else None,
        entrypoint=ks.entrypoint,
        find_python=find_python,
        derive_ipykernel=bool(getattr(settings, "derive_ipykernel", True)),
        tmpfs=tmpfs,
        root_image_user_allowed=image_root_allowed(policy, settings, host),
        root_user_fallback=server_user() if settings.user == "server" and not host.is_local else None,
    )
