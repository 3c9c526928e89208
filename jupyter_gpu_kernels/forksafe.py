"""Fork safety: what a forked child (``ProcessPoolExecutor`` with the 'fork' context, papermill
workers) must not inherit from its parent, reset by an ``os.register_at_fork`` hook.

After ``fork()`` only the forking thread exists in the child. Locks another thread held at that
moment stay held forever, worker threads (the event loop's default executor, SSH watchdogs, the
lease renewer) are gone while their pools still count them as idle, and cached docker clients
share their sockets with the parent. The child hook therefore, for each of our modules that is
loaded (looked up in ``sys.modules``, never imported here, so this module imports none of them):
new locks, no cached docker clients / failures / allocators / SSH tunnels; and the inherited,
not running event loop of the forking thread gets a new default executor (``asyncio.to_thread``
on the old one would queue work for threads that do not exist: the hang of issue #14).
zmq's ``Context.instance()`` already makes a new context in a child (it checks the pid).

Installed once by :func:`install` (called when :mod:`.hosts.transport` is imported; the
provisioner and everything that talks to a daemon import it). Touches module globals only.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

PKG = __name__.rsplit(".", 1)[0]
_installed = False


def _module(name: str):  # type: ignore[no-untyped-def]
    return sys.modules.get(f"{PKG}.{name}")


def _reset_modules() -> None:
    transport = _module("hosts.transport")
    if transport is not None:  # cached clients share their sockets with the parent: new ones here
        transport._lock = threading.Lock()
        transport._clients = {}
        transport._failures = {}
    ssh = _module("hosts.ssh")
    if ssh is not None:  # the parent's masters and forwards belong to the parent (its watchdog threads)
        ssh._lock = threading.Lock()
        ssh._tunnels = {}
    allocator = _module("daemon.allocator")
    if allocator is not None:  # a thread lock held by a parent thread would never be released here
        cls = allocator.GPUAllocator
        cls._guard = threading.Lock()
        cls._instances = {}
    for name in ("daemon.interpreters", "daemon.networks"):
        mod = _module(name)
        if mod is not None and hasattr(mod, "_lock"):
            mod._lock = threading.Lock()
    settings = _module("settings")
    if settings is not None and hasattr(settings.Settings, "_lock"):
        settings.Settings._lock = threading.Lock()
    leases = _module("daemon.leases")
    if leases is not None:
        if hasattr(leases, "_owner_lock"):
            leases._owner_lock = threading.Lock()
        keeper = getattr(leases, "keeper", None)
        if keeper is not None and hasattr(keeper, "_lock"):
            keeper._lock = threading.Lock()


def _fresh_default_executor() -> None:
    """The forking thread's event loop, if it has one that is not running: a new default executor."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            loop = asyncio.get_event_loop_policy().get_event_loop()
    except Exception:  # no loop in this thread (and none may be created here)
        return
    if not loop.is_closed() and not loop.is_running():
        loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="asyncio"))


def reset_in_child() -> None:
    """The ``after_in_child`` hook (also callable by hand after a fork done another way)."""
    _reset_modules()
    _fresh_default_executor()


def install() -> None:
    """Register :func:`reset_in_child` once per process (a no-op where ``fork`` does not exist)."""
    global _installed
    if _installed or not hasattr(os, "register_at_fork"):
        return
    os.register_at_fork(after_in_child=reset_in_child)
    _installed = True
