"""Environments: a named choice of host, image, GPUs, limits, mounts and env, offered as kernelspecs.

Jupyter's kernel-start REST call carries only a kernelspec name and a path, so the
user's choice lives in something named. ``model`` holds one :class:`Environment`
(validated once into a ``KernelSettings``), ``store`` the store
(:class:`GPUKernelsEnvironments`: admin config + the user's file), and
``kernelspec_manager`` the :class:`GPUKernelSpecManager` that offers each one as
kernelspec ``gpu-<name>``. The old names (``Environments``) stay importable.
"""

from .kernelspec_manager import CLASS_PATH, GPUKernelSpecManager, install_kernelspec_manager
from .model import (
    KERNEL_PREFIX,
    RESOURCE_DIR,
    Environment,
    EnvironmentNotFound,
    ReadOnlyEnvironment,
    build_environment,
    describe_gpus,
)
from .store import Environments, GPUKernelsEnvironments

__all__ = [
    "CLASS_PATH",
    "KERNEL_PREFIX",
    "RESOURCE_DIR",
    "Environment",
    "EnvironmentNotFound",
    "Environments",
    "GPUKernelSpecManager",
    "GPUKernelsEnvironments",
    "ReadOnlyEnvironment",
    "build_environment",
    "describe_gpus",
    "install_kernelspec_manager",
]
