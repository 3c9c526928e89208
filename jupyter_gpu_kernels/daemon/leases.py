"""Owner leases: which process owns a kernel container, and whether that owner is still there.

Every kernel container carries its owner's identity in labels (via
:class:`~.records.KernelContainer`: ``server`` = "hostname:pid", ``owner-start`` = the process's
start time, ``owner-id`` = the lease id, ``orphan-timeout``). Labels cannot change after a
container is created, so the *current* holder of a lease id lives in a lease object on the daemon:
a tiny named volume ``jupyter-gpu-kernels-lease-<owner id>-<seq>`` whose labels name the holder
(hostname, pid, start time) and whose ``CreatedAt`` (the daemon's clock) is the last renewal. A
renewal creates the next volume and only then removes the older ones, so a lease never vanishes
between two renewals. Every daemon this process has a kernel on is renewed every
``RENEW_INTERVAL`` seconds by one daemon thread (:class:`LeaseKeeper`); when its last kernel
there is cleaned up (:func:`release_for`) renewing stops, so no connection (an SSH master) to a
host without our kernels is kept or reopened.

Liveness (:func:`owner_state`): when the holder runs on this machine, ``/proc`` decides (pid
alive with the same start time); otherwise the lease must have been renewed within
``LEASE_TTL``. A server persists its lease id in its runtime dir (per root dir and port), so a
restarted server holds the same lease and adopts its kernels (server/adoption.py).

Called by the provisioner (``hold_for`` after a launch, ``release_for`` at cleanup), adoption, planning (``current_owner`` for the labels),
the server extension (``set_owner_id``) and the reaper. Touches only lease volumes.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .. import forksafe
from .labels import PREFIX

LEASE_LABEL = f"{PREFIX}.lease"  # value: the owner id
HOLDER_HOST = f"{PREFIX}.lease-host"
HOLDER_PID = f"{PREFIX}.lease-pid"
HOLDER_START = f"{PREFIX}.lease-start"
VOLUME_PREFIX = "jupyter-gpu-kernels-lease-"
RENEW_INTERVAL = 10.0
LEASE_TTL = 3 * RENEW_INTERVAL

log = logging.getLogger(__name__)


def process_start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot, with the boot id ('' where unknown)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        return ""
    fields = stat[stat.rindex(")") + 2 :].split()
    return f"{boot}:{fields[19]}"  # field 22 of stat(5): starttime


def process_alive(pid: int, start: str) -> bool:
    """Is ``pid`` on this machine the process that started at ``start`` (a reused pid is not)?"""
    if pid <= 0:
        return False
    now = process_start_time(pid)
    if not now:
        return False
    return not start or now == start


@dataclass(frozen=True)
class Owner:
    """One lease holder: this process, under a lease id."""

    owner_id: str
    hostname: str
    pid: int
    start: str

    @property
    def server(self) -> str:
        return f"{self.hostname}:{self.pid}"


_owner_id: str | None = None
_owner_pid: int | None = None
_owner_lock = threading.Lock()


def set_owner_id(owner_id: str) -> None:
    """A server's persisted lease id (server/adoption.py); call before any kernel starts."""
    global _owner_id
    with _owner_lock:
        _owner_id = owner_id


def current_owner() -> Owner:
    """This process as a lease holder (a random lease id unless a server set one; a forked child
    gets its own)."""
    global _owner_id, _owner_pid
    with _owner_lock:
        if _owner_id is None or _owner_pid != os.getpid():
            if _owner_pid is not None and _owner_pid != os.getpid():
                _owner_id = None  # a forked child
            _owner_id = _owner_id or f"c-{uuid.uuid4().hex[:16]}"
            _owner_pid = os.getpid()
        return Owner(_owner_id, socket.gethostname(), os.getpid(), process_start_time(os.getpid()))


def _parse_time(text: str) -> float:
    """RFC 3339 (Docker's CreatedAt / SystemTime, nanoseconds allowed) → epoch seconds."""
    text = text.strip().replace("Z", "+00:00")
    if "." in text:
        head, _, rest = text.partition(".")
        frac = "".join(c for c in rest if c.isdigit())[:6]
        tz = rest[len("".join(c for c in rest if c.isdigit())) :]
        text = f"{head}.{frac}{tz}"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def daemon_now(client: Any) -> float:
    """The daemon's clock (leases are compared with it, so clock skew between machines does not matter)."""
    try:
        return _parse_time(client.info()["SystemTime"])
    except Exception:
        return time.time()


@dataclass(frozen=True)
class Lease:
    owner_id: str
    hostname: str
    pid: int
    start: str
    renewed: float  # epoch seconds, daemon clock


def read_leases(client: Any) -> dict[str, Lease]:
    """The newest lease per owner id on this daemon."""
    out: dict[str, Lease] = {}
    for v in client.volumes.list(filters={"label": LEASE_LABEL}):
        attrs = v.attrs or {}
        labels = attrs.get("Labels") or {}
        try:
            lease = Lease(
                labels[LEASE_LABEL],
                labels.get(HOLDER_HOST, ""),
                int(labels.get(HOLDER_PID) or 0),
                labels.get(HOLDER_START, ""),
                _parse_time(attrs.get("CreatedAt", "")),
            )
        except (KeyError, ValueError):
            continue
        if lease.owner_id not in out or out[lease.owner_id].renewed < lease.renewed:
            out[lease.owner_id] = lease
    return out


def renew(client: Any, owner: Owner) -> None:
    """Create the next lease volume for ``owner``, then remove the older ones."""
    name = f"{VOLUME_PREFIX}{owner.owner_id}-{time.time_ns()}"
    client.volumes.create(
        name=name,
        labels={
            LEASE_LABEL: owner.owner_id,
            HOLDER_HOST: owner.hostname,
            HOLDER_PID: str(owner.pid),
            HOLDER_START: owner.start,
        },
    )
    for v in client.volumes.list(filters={"label": f"{LEASE_LABEL}={owner.owner_id}"}):
        if v.name != name:
            try:
                v.remove()
            except Exception:  # removed by someone else meanwhile
                pass


def drop_stale_leases(client: Any, keep: set[str]) -> None:
    """Remove lease volumes of owners no kernel names any more (the reaper's housekeeping)."""
    for v in client.volumes.list(filters={"label": LEASE_LABEL}):
        if ((v.attrs or {}).get("Labels") or {}).get(LEASE_LABEL) not in keep:
            try:
                v.remove()
            except Exception:
                pass


def owner_state(rec: Any, lease: Lease | None, now: float, hostname: str | None = None) -> tuple[bool, float, str]:
    """(alive, since, who) for a kernel record: whether its owner is there, since when (epoch
    seconds, daemon clock) it is gone, and the holder's description for messages."""
    hostname = hostname or socket.gethostname()
    if lease is not None:
        host, pid, start, since = lease.hostname, lease.pid, lease.start, lease.renewed
    else:
        host, _, pid_text = rec.server.rpartition(":")
        pid = int(pid_text) if pid_text.isdigit() else 0
        start, since = rec.owner_start, _parse_time(rec.started) if rec.started else now
    who = f"{host}:{pid}"
    if host == hostname:
        return process_alive(pid, start), since, who
    if lease is None:
        return False, since, who
    return now - lease.renewed <= LEASE_TTL, lease.renewed + LEASE_TTL, who


class LeaseKeeper:
    """Renews this process's lease on every daemon it has kernels on (one daemon thread)."""

    def __init__(self) -> None:
        self._clients: dict[str, Callable[[], Any]] = {}
        self._holders: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def hold(self, key: str, client_factory: Callable[[], Any], holder: str = "") -> None:
        """Renew now on this daemon, and from now on every ``RENEW_INTERVAL`` seconds while
        ``holder`` (a kernel id) or another holder has not released it (:meth:`release`)."""
        with self._lock:
            if self._pid != os.getpid():  # a forked child: its own keeper, its own lease
                self._clients, self._holders, self._thread, self._pid = {}, {}, None, os.getpid()
            self._clients[key] = client_factory  # the newest host definition wins
            self._holders.setdefault(key, set()).add(holder)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="jgk-lease", daemon=True)
                self._thread.start()
        renew(client_factory(), current_owner())

    def release(self, key: str, holder: str = "") -> None:
        """``holder`` no longer needs the lease on this daemon; the last one gone stops the renewals."""
        with self._lock:
            holders = self._holders.get(key)
            if holders is None:
                return
            holders.discard(holder)
            if not holders:
                del self._holders[key]
                self._clients.pop(key, None)

    def held(self) -> set[str]:
        """The daemons (host names) renewed now."""
        with self._lock:
            return set(self._clients)

    def _run(self) -> None:
        while True:
            time.sleep(RENEW_INTERVAL)
            with self._lock:
                factories = list(self._clients.values())
            for factory in factories:
                try:
                    renew(factory(), current_owner())
                except Exception as e:  # daemon unreachable: the next round tries again
                    log.debug("lease renewal failed: %s", e)


keeper = LeaseKeeper()


def _reset_after_fork() -> None:
    """A forked child: new locks (a parent thread may hold one); the keeper sees the new pid itself."""
    global _owner_lock
    _owner_lock = threading.Lock()
    keeper._lock = threading.Lock()


forksafe.register(_reset_after_fork)


def hold_for(host: Any, holder: str = "") -> None:
    """Hold this process's lease on ``host``'s daemon for ``holder`` (a kernel started there); never raises."""
    from ..hosts.transport import connect

    try:
        keeper.hold(host.name, lambda: connect(host), holder)
    except Exception as e:  # the kernel runs; the next renewal round tries again
        log.warning("could not renew the owner lease on host %r: %s", host.name, e)


def release_for(host: Any, holder: str = "") -> None:
    """``holder``'s kernel on ``host`` is gone: stop renewing there once no other kernel holds it."""
    keeper.release(host.name, holder)
