"""Owner loss, server side: a restarted server adopts its kernels; every server reaps orphans.

Called by the server extension (server/extension.py): :func:`server_owner_id` at start (the
lease id, persisted in the runtime dir per hostname, root dir and port, so the same server
restarted gets the same id), then :class:`OwnerLoss` ``start()`` on the event loop: adopt,
reap once, and reap every ``REAP_INTERVAL`` seconds; ``stop()`` at shutdown.

Adoption: a running kernel container whose owner id is this server's and whose owner process
is gone is rebuilt as a kernel manager in the server's MultiKernelManager, under its kernel id,
from its connection file read out of the container (only ports, key, transport and signature
scheme are taken from it — the kernel can write that file) and its address from Docker. From
then on this server holds the lease. A container of ours that cannot be adopted is removed (no
one else could shut it down). Touches the kernel manager's registry and kernel containers.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import socket
import tarfile
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlparse

import docker.errors
from jupyter_client.provisioning import KernelProvisionerFactory
from tornado.ioloop import PeriodicCallback

from ..daemon.containers import ContainerOps
from ..daemon.leases import current_owner, daemon_now, hold_for, owner_state, read_leases
from ..daemon.plan import KERNEL_PORT_NAMES, LaunchResult, connection_file_path, earlier_connection_file_paths
from ..daemon.reaper import reap_hosts
from ..daemon.records import list_kernel_containers
from ..hosts import transport
from ..hosts.ssh import close_all

REAP_INTERVAL = 30.0
SIGNATURE_SCHEMES = ("hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha224", "hmac-sha1", "hmac-md5")
MAX_CONNECTION_FILE = 64 * 1024


def server_owner_id(runtime_dir: str, root_dir: str, port: int) -> str:
    """This server's lease id: the same for the same hostname, root dir and port (a restart)."""
    key = hashlib.sha256(f"{socket.gethostname()}\0{os.path.abspath(root_dir)}\0{port}".encode()).hexdigest()[:16]
    path = os.path.join(runtime_dir, f"jupyter-gpu-kernels-owner-{key}.json")
    try:
        with open(path) as f:
            owner_id = str(json.load(f)["owner_id"])
        if owner_id.replace("-", "").isalnum():
            return owner_id
    except (OSError, ValueError, KeyError, TypeError):
        pass
    owner_id = f"s-{uuid.uuid4().hex[:16]}"
    os.makedirs(runtime_dir, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"owner_id": owner_id, "root_dir": root_dir, "port": port}, f)
    return owner_id


def read_connection_info(container: Any, kernel_id: str) -> dict[str, Any]:
    """Ports, key, transport and signature scheme from the kernel's connection file, checked."""
    paths = (connection_file_path(kernel_id), *earlier_connection_file_paths(kernel_id))
    for n, path in enumerate(paths, 1):
        try:
            stream, _ = container.get_archive(path)
            break
        except docker.errors.NotFound:  # a container made by an earlier version has it elsewhere
            if n == len(paths):
                raise
    data = b"".join(stream)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.getmembers()[0]
        if not member.isfile() or member.size > MAX_CONNECTION_FILE:
            raise ValueError("the connection file is not a small regular file")
        raw = json.loads(tar.extractfile(member).read())  # type: ignore[union-attr]
    if raw.get("curve_publickey") or raw.get("curve_serverkey"):
        raise ValueError("the kernel uses CurveZMQ; its server key is not recoverable")
    ports = {n: int(raw[n]) for n in KERNEL_PORT_NAMES}
    if not all(0 < p < 65536 for p in ports.values()):
        raise ValueError(f"bad ports {ports}")
    key, scheme = raw.get("key", ""), raw.get("signature_scheme", "hmac-sha256")
    if not isinstance(key, str) or len(key) > 1024 or scheme not in SIGNATURE_SCHEMES or raw.get("transport") != "tcp":
        raise ValueError("bad key, transport or signature scheme")
    return {**ports, "key": key, "signature_scheme": scheme, "transport": "tcp"}


def launch_result(host: Any, container: Any, rec: Any, ports: dict[str, int]) -> LaunchResult:
    """Where this server reaches the kernel, from Docker's view of the container (never the file)."""
    ip = ContainerOps.network_ip(container, "jupyter-gpu-kernels")
    published = (container.attrs.get("NetworkSettings") or {}).get("Ports") or {}
    mapped = {n: int(((published.get(f"{p}/tcp") or [{}])[0]).get("HostPort") or 0) for n, p in ports.items()}
    if host.scheme == "ssh":
        mode, (address, reached) = "tunnel", transport.forward_ports(host, rec.kernel_id, ip or "", ports)
    elif all(mapped.values()):
        remote = host.crosses_network
        mode, reached = ("remote-publish" if remote else "publish"), mapped
        address = (urlparse(host.resolved_url).hostname or "127.0.0.1") if remote else "127.0.0.1"
    else:
        if not ip:
            raise ValueError("the container has no address")
        mode, address, reached = "direct", ip, dict(ports)
    return LaunchResult(
        container_id=container.id,
        host=host.name,
        mode=mode,
        address=address,
        ports=reached,
        container_ip=ip,
        container_ports=dict(ports),
        gpu_ids=tuple(rec.gpu_ids),
    )


class OwnerLoss:
    """Adoption at start and the periodic reaper, for one server."""

    def __init__(self, serverapp: Any, settings: Any, log: Any) -> None:
        self.serverapp, self.settings, self.log = serverapp, settings, log
        self._reaper: PeriodicCallback | None = None

    def start(self) -> None:
        asyncio.ensure_future(self._start())

    async def _start(self) -> None:
        try:
            await self.adopt_all()
        except Exception:
            self.log.exception("jupyter_gpu_kernels: adopting kernels failed")
        await self.reap()
        self._reaper = PeriodicCallback(self.reap, REAP_INTERVAL * 1000)
        self._reaper.start()

    async def reap(self) -> None:
        try:
            orphans, _ = await asyncio.to_thread(reap_hosts, self.settings.hosts.all())
        except Exception:
            self.log.exception("jupyter_gpu_kernels: reaper failed")
            return
        for o in orphans:
            if o.removed:
                self.log.warning(
                    "jupyter_gpu_kernels: removed kernel %s (GPUs %s): owner %s gone for %.0f s",
                    o.record.kernel_id,
                    o.record.gpus or "none",
                    o.holder,
                    o.gone_for,
                )

    def stop(self) -> None:
        if self._reaper is not None:
            self._reaper.stop()
        close_all()  # this server's SSH masters end with it

    async def adopt_all(self) -> None:
        mkm = self.serverapp.kernel_manager
        me = current_owner()
        for host in self.settings.hosts.all():
            try:
                client = await asyncio.to_thread(transport.connect, host)
                mine = await asyncio.to_thread(self._ours, client, host, me)
            except Exception as e:
                self.log.debug("jupyter_gpu_kernels: host %s not checked for kernels to adopt: %s", host.name, e)
                continue
            for rec, container in mine:
                if rec.kernel_id in mkm:
                    continue
                try:
                    await self.adopt(mkm, host, rec, container)
                    self.log.info(
                        "jupyter_gpu_kernels: adopted kernel %s (container %s on host %s)",
                        rec.kernel_id,
                        rec.container,
                        host.name,
                    )
                except Exception as e:
                    self.log.warning(
                        "jupyter_gpu_kernels: cannot adopt kernel %s (%s); removing its container", rec.kernel_id, e
                    )
                    await asyncio.to_thread(container.remove, force=True)

    @staticmethod
    def _ours(client: Any, host: Any, me: Any) -> list[tuple[Any, Any]]:
        leases, now = read_leases(client), daemon_now(client)
        out = []
        for rec in list_kernel_containers(client, host.name):
            if rec.owner_id != me.owner_id or rec.state != "running":
                continue
            alive, _, who = owner_state(rec, leases.get(me.owner_id), now)
            if alive and who != me.server:
                continue  # another live process holds this id (never a restarted server)
            out.append((rec, client.containers.get(rec.container)))
        return out

    def _kernel_name(self, rec: Any) -> str:
        ksm = self.serverapp.kernel_spec_manager
        names = set(ksm.find_kernel_specs())
        for name in (rec.environment, f"gpu-{rec.environment}"):
            if name in names:
                return name
        raise ValueError(f"no kernelspec for environment {rec.environment!r}")

    async def adopt(self, mkm: Any, host: Any, rec: Any, container: Any) -> None:
        """Rebuild the kernel manager of one container and register it under its kernel id."""
        info = await asyncio.to_thread(read_connection_info, container, rec.kernel_id)
        result = await asyncio.to_thread(launch_result, host, container, rec, {n: info[n] for n in KERNEL_PORT_NAMES})
        kernel_id = rec.kernel_id
        km = mkm.kernel_manager_factory(
            connection_file=os.path.join(mkm.connection_dir, f"kernel-{kernel_id}.json"),
            parent=mkm,
            log=mkm.log,
            kernel_name=self._kernel_name(rec),
            kernel_spec_manager=mkm.kernel_spec_manager,
        )
        km.kernel_id = kernel_id
        km.load_connection_info({**info, **result.ports, "ip": result.address})
        km.write_connection_file()
        km.provisioner = KernelProvisionerFactory.instance(parent=mkm.parent).create_provisioner_instance(
            kernel_id, km.kernel_spec, parent=km
        )
        # what get_provisioner_info() would have saved (the base class reads kernel_id and connection_info)
        await km.provisioner.load_provisioner_info(
            {**result.to_info(), "host": host.name, "kernel_id": kernel_id, "connection_info": km.get_connection_info()}
        )
        km.ready.set_result(None)
        self._register(mkm, km, kernel_id)
        await asyncio.to_thread(hold_for, host, kernel_id)  # released by its provisioner's cleanup

    @staticmethod
    def _register(mkm: Any, km: Any, kernel_id: str) -> None:
        """What MappingKernelManager.start_kernel records for a kernel it started."""
        km._attempted_start = True
        mkm._kernels[kernel_id] = km
        mkm._kernel_connections[kernel_id] = 0
        km.execution_state, km.reason, km.last_activity = "idle", "", datetime.now(timezone.utc)
        km.start_restarter()
        km._connect_control_socket()
        mkm._kernel_ports[kernel_id] = km.ports
        mkm.start_watching_activity(kernel_id)
        mkm.add_restart_callback(kernel_id, lambda: mkm._handle_kernel_died(kernel_id), "dead")
