"""Kernelspec files that use the provisioner (``jupyter gpu-kernels install``).

Called by the CLI and by the environments' kernelspecs; writes only kernelspec
directories (through jupyter_client's KernelSpecManager). The provisioner config a
kernelspec carries is ``KernelSettings.to_config()`` (:mod:`..specs.settings`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

from ..errors import SpecError
from ..specs.settings import KernelSettings

PROVISIONER_NAME = "gpu-docker-provisioner"
DEFAULT_ARGV = ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
_NAME = re.compile(r"[a-z0-9][a-z0-9._\-]{0,63}")  # fullmatch: "$" would accept a trailing newline


def check_kernel_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SpecError(
            f"invalid name {name!r}: use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def provisioner_config(
    *,
    image: str,
    gpus: Any = "none",
    host: str = "local",
    memory: Any = "",
    cpus: Any = 0,
    shm_size: Any = "",
    mounts: list[str] | None = None,
    env: dict[str, str] | None = None,
    pull_policy: str = "",
    gpu_sharing: bool = False,
    environment: str = "",
    check_mounts: bool = True,
) -> dict[str, Any]:
    """Validated provisioner config for a kernelspec (``KernelSettings.to_config()``); raises
    SpecError naming the bad field."""
    settings = KernelSettings.from_config(
        {
            "image": image,
            "gpus": gpus,
            "host": host,
            "memory": memory,
            "cpus": cpus,
            "shm_size": shm_size,
            "mounts": mounts,
            "env": env,
            "pull_policy": pull_policy,
            "gpu_sharing": gpu_sharing,
            "environment": environment,
        },
        check_mounts=check_mounts,
    )
    return settings.to_config()


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
