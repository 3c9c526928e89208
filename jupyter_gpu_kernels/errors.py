"""Errors users see. Each message names the bad input and what is accepted instead."""

from __future__ import annotations


class GPUKernelsError(Exception):
    """Base class for every error this package raises on purpose."""


class SpecError(GPUKernelsError, ValueError):
    """A user-supplied setting (GPU spec, mount, size, image ref, host URL, name) is malformed.

    ``field`` names the setting when known, so forms can show the message next to it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class HostError(GPUKernelsError):
    """A Docker host is unknown, misconfigured or unreachable."""


class UnknownHostError(HostError, SpecError):
    """A setting names a Docker host that is not configured (a bad input, not an outage)."""


class NoGPUDriverError(GPUKernelsError):
    """GPUs were requested on a Docker host that has no NVIDIA Container Toolkit."""


class GPUUnavailableError(GPUKernelsError):
    """The GPUs asked for are held by other kernels or do not exist on the host."""


class ImageError(GPUKernelsError):
    """An image is missing, not allowed, or could not be pulled."""


class ImageNotAllowedError(ImageError):
    """The administrator's image allowlist does not admit this image."""

    field = "image"


class KernelLaunchError(GPUKernelsError):
    """The kernel container exited or did not become ready; the message carries its log."""
