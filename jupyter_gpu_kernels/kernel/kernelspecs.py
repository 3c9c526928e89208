"""Kernelspec files that use the provisioner (``jupyter gpu-kernels install``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

from ..errors import SpecError
from ..specs.gpus import parse_gpus
from ..hosts.registry import check_host_name
from ..daemon.images import PULL_POLICIES, check_image_ref
from ..specs.resources import parse_cpus, parse_env_pair, parse_mount, parse_size

PROVISIONER_NAME = "gpu-docker-provisioner"
DEFAULT_ARGV = ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
_NAME = re.compile(r"^[a-z0-9][a-z0-9._\-]{0,63}$")


def check_kernel_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise SpecError(
            f"invalid name {name!r}: use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def provisioner_config(
    *,
    image: str,
    gpus: str = "none",
    host: str = "local",
    memory: str = "",
    cpus: Any = 0,
    shm_size: str = "",
    mounts: list[str] | None = None,
    env: dict[str, str] | None = None,
    pull_policy: str = "",
    gpu_sharing: bool = False,
    environment: str = "",
    check_mounts: bool = True,
) -> dict[str, Any]:
    """Validated provisioner config for a kernelspec; raises SpecError naming the bad field."""

    def checked(field: str, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except SpecError as e:
            raise SpecError(str(e), field=field) from None

    cfg: dict[str, Any] = {
        "image": checked("image", check_image_ref, image),
        "host": checked("host", check_host_name, host or "local"),
    }
    cfg["gpus"] = str(checked("gpus", parse_gpus, gpus))
    if memory:
        checked("memory", parse_size, memory, "memory limit")
        cfg["memory"] = memory
    if cpus:
        cfg["cpus"] = checked("cpus", parse_cpus, cpus)
    if shm_size:
        checked("shm_size", parse_size, shm_size, "shm size")
        cfg["shm_size"] = shm_size
    if mounts:
        cfg["mounts"] = [str(checked("mounts", parse_mount, m, check_exists=check_mounts)) for m in mounts]
    if env:
        cfg["env"] = {checked("env", parse_env_pair, f"{k}={v}")[0]: str(v) for k, v in env.items()}
    if pull_policy:
        if pull_policy not in PULL_POLICIES:
            raise SpecError(f"invalid pull policy {pull_policy!r}: expected one of {', '.join(PULL_POLICIES)}",
                            field="pull_policy")
        cfg["pull_policy"] = pull_policy
    if gpu_sharing:
        cfg["gpu_sharing"] = True
    if environment:
        cfg["environment"] = environment
    return cfg


def kernel_json(display_name: str, config: dict[str, Any], argv: list[str] | None = None) -> dict[str, Any]:
    return {
        "argv": list(argv or DEFAULT_ARGV),
        "display_name": display_name,
        "language": "python",
        "interrupt_mode": "signal",
        "metadata": {
            "kernel_provisioner": {"provisioner_name": PROVISIONER_NAME, "config": config},
            "debugger": True,
        },
    }


def install(
    name: str,
    spec: dict[str, Any],
    *,
    user: bool = False,
    prefix: str | None = None,
    ksm: KernelSpecManager | None = None,
) -> str:
    """Write the kernelspec and return its directory."""
    check_kernel_name(name)
    ksm = ksm or KernelSpecManager()
    tmp = tempfile.mkdtemp(prefix="jgk-spec-")
    try:
        with open(os.path.join(tmp, "kernel.json"), "w") as f:
            json.dump(spec, f, indent=1)
        return ksm.install_kernel_spec(tmp, kernel_name=name, user=user, prefix=prefix, replace=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ours(ksm: KernelSpecManager | None = None) -> dict[str, dict[str, Any]]:
    """Installed kernelspecs that use our provisioner: name → {resource_dir, spec}."""
    ksm = ksm or KernelSpecManager()
    found = {}
    for name, info in ksm.get_all_specs().items():
        spec = info.get("spec", {})
        prov = spec.get("metadata", {}).get("kernel_provisioner", {})
        if prov.get("provisioner_name") == PROVISIONER_NAME:
            found[name] = info
    return found


def remove(name: str, ksm: KernelSpecManager | None = None) -> str:
    ksm = ksm or KernelSpecManager()
    if name not in ours(ksm):
        raise NoSuchKernel(name)
    return ksm.remove_kernel_spec(name)
