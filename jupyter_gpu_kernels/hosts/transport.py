"""The transport to a Docker host: a connected docker-py client, and kernel port forwarding.

Called by everything that talks to a daemon (provisioner, REST, CLI). The only module that
knows how a host is reached (unix socket, TLS, Docker context, or an SSH connection managed
by :mod:`.ssh`); callers ask for a client or for forwarded ports, never for SSH itself.

Connecting is bounded in time (an unreachable daemon is reported within
``connect_timeout`` seconds) and clients are cached per host so that each
operation does not pay a new connection.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import docker
import docker.errors
import docker.tls

from .. import forksafe
from ..errors import HostError
from .registry import DockerHost

CONNECT_TIMEOUT = 8.0
API_TIMEOUT = 120.0
MIN_API_VERSION = "1.24"

_lock = threading.Lock()
_clients: dict[tuple, docker.DockerClient] = {}
_failures: dict[tuple, tuple[float, HostError]] = {}
FAILURE_CACHE_SECONDS = 5.0


def _reset_after_fork() -> None:
    """A forked child: cached clients share their sockets with the parent, so new ones here."""
    global _lock, _clients, _failures
    _lock = threading.Lock()
    _clients = {}
    _failures = {}


forksafe.register(_reset_after_fork)


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in (
        "Connection refused",
        "No such file or directory",
        "timed out",
        "Name or service not known",
        "Permission denied",
        "certificate verify failed",
        "No route to host",
    ):
        if marker.lower() in text.lower():
            return marker.lower()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _tls(host: DockerHost) -> docker.tls.TLSConfig | bool:
    if not (host.tls_ca or host.tls_cert):
        return False
    cert = None
    if host.tls_cert:
        cert = (str(Path(host.tls_cert).expanduser()), str(Path(host.tls_key).expanduser()))
    return docker.tls.TLSConfig(
        client_cert=cert,
        ca_cert=str(Path(host.tls_ca).expanduser()) if host.tls_ca else None,
        verify=host.tls_verify,
    )


def _base_url(host: DockerHost) -> tuple[str, object]:
    scheme = host.scheme
    if scheme == "context":
        from docker.context import ContextAPI

        name = urlparse(host.url).netloc
        ctx = ContextAPI.get_context(name)
        if ctx is None:
            raise HostError(f"Docker host {host.name!r}: no Docker context named {name!r} (see `docker context ls`)")
        tls = ctx.TLSConfig if getattr(ctx, "TLSConfig", None) else False
        return ctx.Host, tls
    if scheme == "ssh":
        from .ssh import tunnel_for

        return tunnel_for(host).docker_url(), False
    return host.url, _tls(host)


def connect(host: DockerHost, *, timeout: float = CONNECT_TIMEOUT, fresh: bool = False) -> docker.DockerClient:
    """A client for ``host``, verified with a ping; HostError (within ``timeout``) if unreachable."""
    key = _key(host)
    with _lock:
        client = None if fresh else _clients.get(key)
        failed = None if fresh else _failures.get(key)
    if failed is not None and time.monotonic() - failed[0] < FAILURE_CACHE_SECONDS:
        # a host that just failed is not retried on every poll (each try can take seconds)
        raise HostError(str(failed[1]))
    if client is not None:
        try:
            # APIClient is a requests.Session: a ping bounded by `timeout`, not by the API timeout
            client.api.get(f"{client.api.base_url}/_ping", timeout=timeout).raise_for_status()
            return client
        except Exception:
            forget(host)
    try:
        base_url, tls = _base_url(host)
        client = _new_client(base_url, tls, timeout)
        client.api.timeout = API_TIMEOUT
    except HostError as e:
        _remember_failure(key, e)
        raise
    except (docker.errors.DockerException, OSError, ValueError) as e:
        error = HostError(
            f"Docker host {host.name!r} ({host.url}) is not reachable: {_reason(e)}. "
            + (
                "Is dockerd running and may this user use its socket? Check with `docker info`."
                if host.is_local
                else f"Check the address and credentials, then run `jupyter gpu-kernels hosts check {host.name}`."
            )
        )
        _remember_failure(key, error)
        raise error from e
    with _lock:
        _clients[key] = client
        _failures.pop(key, None)
    return client


def _key(host: DockerHost) -> tuple:
    """What a cached client or failure is for: everything that decides how the host is reached
    (a definition with other SSH options or socket never gets another one's client or failure)."""
    options = json.dumps(host.options, sort_keys=True, default=str)
    return (host.name, host.url, host.tls_ca, host.tls_cert, host.tls_key, host.tls_verify, host.source, options)


def _remember_failure(key: tuple, error: HostError) -> None:
    with _lock:
        _failures[key] = (time.monotonic(), error)


def forget(host: DockerHost) -> None:
    """Drop a cached client and failure (after a failure, or when a host is removed)."""
    with _lock:
        for key in [k for k in _failures if k[0] == host.name]:
            del _failures[key]
        for key in [k for k in _clients if k[0] == host.name]:
            client = _clients.pop(key)
            try:
                client.close()
            except Exception:
                pass


def _new_client(base_url: str, tls: Any, timeout: float) -> docker.DockerClient:
    """A client that negotiated its API version (``version="auto"``) within ``timeout``."""
    client = docker.DockerClient(base_url=base_url, tls=tls, timeout=timeout, version=MIN_API_VERSION)
    if tls:
        # requests lets $REQUESTS_CA_BUNDLE/$CURL_CA_BUNDLE replace the host's own CA (psf/requests#3829)
        client.api.trust_env = False
    server = client.version(api_version=False)
    api = str(server.get("ApiVersion") or MIN_API_VERSION)
    client.close()
    if tuple(int(x) for x in api.split(".")) < tuple(int(x) for x in MIN_API_VERSION.split(".")):
        api = MIN_API_VERSION
    client = docker.DockerClient(base_url=base_url, tls=tls, timeout=timeout, version=api)
    if tls:
        client.api.trust_env = False
    return client


def forward_ports(
    host: DockerHost, key: str, ip: str, ports: dict[str, int], previous: dict[str, int] | None = None
) -> tuple[str, dict[str, int]]:
    """Make a kernel's ports (``ip:port`` as seen from ``host``) reachable from this machine.

    SSH hosts forward each port through the host's one SSH connection to 127.0.0.1 here
    (``previous`` ports are asked for again, so a restarted kernel keeps its local ports);
    other hosts need no forwarding. Returns the address and ports the server connects to.
    """
    if host.scheme != "ssh":
        return ip, dict(ports)
    from .ssh import tunnel_for

    tunnel = tunnel_for(host)
    tunnel.cancel(f"{key}:")
    previous = previous or {}
    local = {
        name: tunnel.forward(f"{key}:{name}", ip, port, local_port=previous.get(name)) for name, port in ports.items()
    }
    return "127.0.0.1", local


def daemon_endpoint(host: DockerHost) -> str:
    """Which daemon the host's client reaches: for ssh:// the remote socket and how it was found
    (``--remote-socket``, the SSH user's DOCKER_HOST, context, rootless or default socket)."""
    if host.scheme != "ssh":
        return host.resolved_url
    from .ssh import tunnel_for

    return tunnel_for(host).daemon_description()


def cancel_forwards(host: DockerHost, key: str) -> None:
    """Drop what :func:`forward_ports` set up for ``key`` (nothing to do for non-SSH hosts)."""
    if host.scheme != "ssh":
        return
    from .ssh import tunnel_for

    tunnel_for(host).cancel(f"{key}:")
