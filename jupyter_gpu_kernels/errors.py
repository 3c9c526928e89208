"""Errors users see. Each message names the bad input and what is accepted instead.

Raised anywhere in the package; caught by the CLI (one line, exit 1/2), our REST handlers
and, for kernel starts, jupyter_server's kernel handlers. Each class carries the HTTP status
it means (``http_status``) and, where it is about one setting, that setting's name (``field``).
Code that must tell errors apart catches a class or reads an attribute, never the message text.
:func:`http_reply` is the one place an error becomes an HTTP status and JSON body
``{"message", "reason", "field"?}``: our REST handlers' ``write_error`` answers it, and
:func:`as_http_error` turns it into the ``tornado.web.HTTPError`` that jupyter_server's
``APIHandler`` writes for kernel starts (what JupyterLab's "Error Starting Kernel" dialog shows).
No other module is touched from here.
"""

from __future__ import annotations

from typing import Any

MAX_REASON_CHARS = 200


class GPUKernelsError(Exception):
    """Base class for every error this package raises on purpose."""

    http_status = 409  # the request conflicts with the state of a host (the REST handlers' default)
    field: str | None = None  # the setting the error is about, when there is one


class SpecError(GPUKernelsError, ValueError):
    """A user-supplied setting (GPU spec, mount, size, image ref, host URL, name) is malformed.

    ``field`` names the setting when known, so forms can show the message next to it."""

    http_status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class HostError(GPUKernelsError):
    """A Docker host is unknown, misconfigured or unreachable."""

    http_status = 503


class UnknownHostError(HostError, SpecError):
    """A setting names a Docker host that is not configured (a bad input, not an outage)."""

    http_status = 400


class NoGPUDriverError(GPUKernelsError):
    """GPUs were requested on a Docker host that has no NVIDIA Container Toolkit."""


class GPUUnavailableError(GPUKernelsError):
    """The GPUs asked for are held by other kernels or do not exist on the host."""


class ImageError(GPUKernelsError):
    """An image is missing, not allowed, or could not be pulled."""


class ImageNotAllowedError(ImageError):
    """The administrator's image allowlist does not admit this image."""

    field = "image"
    http_status = 403


class PolicyError(SpecError):
    """The administrator's ``KernelPolicy`` refuses this request; the message names the rule."""

    http_status = 403

    def __init__(self, message: str, field: str | None = None, rule: str = "") -> None:
        super().__init__(message, field=field)
        self.rule = rule


class LocalSetupError(GPUKernelsError):
    """``jupyter gpu-kernels start`` cannot set this machine up (no Docker daemon and none can be
    started, no kernel image and none can be built); the message says what to do instead."""


class KernelLaunchError(GPUKernelsError):
    """The kernel container exited or did not become ready; the message carries its log."""

    http_status = 500


class KernelNotReadyError(KernelLaunchError):
    """The kernel container was created but exited, or did not answer its heartbeat, before it
    was ready (the cases where a hint about the image's interpreter helps)."""


def _reason(message: str, error: BaseException) -> str:
    first = (message.splitlines() or [type(error).__name__])[0]
    if len(first) > MAX_REASON_CHARS:
        first = first[: MAX_REASON_CHARS - 3] + "..."
    return first.encode("latin-1", "replace").decode("latin-1")


def http_reply(error: BaseException, default_status: int = 500) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body for ``error``: our errors' ``http_status`` (others
    ``default_status``), the whole message, its first line as ``reason`` and, when the error
    names one, the ``field`` (so forms show the message next to it)."""
    status = error.http_status if isinstance(error, GPUKernelsError) else default_status
    message = getattr(error, "log_message", None) or str(error)
    body: dict[str, Any] = {"message": message, "reason": _reason(message, error)}
    field = getattr(error, "field", None)
    if field:
        body["field"] = field
    return status, body


def as_http_error(error: GPUKernelsError) -> Any:
    """``error`` as a ``tornado.web.HTTPError`` with its status, the whole message as ``message``
    and its first line as ``reason`` (an HTTP status line holds one short latin-1 line)."""
    from tornado import web

    status, body = http_reply(error)
    return web.HTTPError(status, body["message"], reason=body["reason"])


def under_server(kernel_manager: Any) -> bool:
    """Whether a kernel manager belongs to a Jupyter server (whose handlers answer HTTP errors)."""
    return any(c.__module__.split(".")[0] == "jupyter_server" for c in type(kernel_manager).__mro__)


def http_errors_under_server(hook: Any) -> Any:
    """Decorator for provisioner hooks: under a Jupyter server our errors leave as
    :func:`as_http_error` (so ``POST /api/kernels`` answers our status and message, not
    ``500 Unhandled error``); elsewhere (nbclient, the CLI) they leave unchanged."""
    import functools

    @functools.wraps(hook)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await hook(self, *args, **kwargs)
        except GPUKernelsError as e:
            if under_server(getattr(self, "parent", None)):
                raise as_http_error(e) from e
            raise

    return wrapper
