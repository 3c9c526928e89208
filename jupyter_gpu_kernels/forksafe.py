"""Fork safety: a registry of what a forked child (``ProcessPoolExecutor`` with the 'fork'
context, papermill workers) must not inherit from its parent, run by an ``os.register_at_fork``
hook.

After ``fork()`` only the forking thread exists in the child. Locks another thread held at that
moment stay held forever, worker threads (the event loop's default executor, SSH watchdogs, the
lease renewer) are gone while their pools still count them as idle, and cached docker clients
share their sockets with the parent. So each module that owns such state (a lock, a cache of
clients or tunnels) resets it itself: it calls :func:`register` at import with a callback that
makes new locks and empties its caches, and the child runs every callback. This module knows
none of them (it imports nothing of the package). The inherited, not running event loop of the
forking thread gets a new default executor here (``asyncio.to_thread`` on the old one would
queue work for threads that do not exist: the hang of issue #14). zmq's ``Context.instance()``
already makes a new context in a child (it checks the pid).

The hook is installed once, by the first :func:`register` (or :func:`install`).
"""

from __future__ import annotations

import asyncio
import os
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

_installed = False
_callbacks: list[Callable[[], None]] = []
_registry_lock = threading.Lock()


def register(callback: Callable[[], None]) -> Callable[[], None]:
    """Run ``callback`` in every forked child (once per callback; usable as a decorator).
    The callback must only replace its own module's state: new locks, empty caches."""
    with _registry_lock:
        if callback not in _callbacks:
            _callbacks.append(callback)
    install()
    return callback


def registered() -> list[Callable[[], None]]:
    """The callbacks a child runs, in registration order (for tests and diagnostics)."""
    return list(_callbacks)


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
    global _registry_lock
    _registry_lock = threading.Lock()
    for callback in list(_callbacks):
        callback()
    _fresh_default_executor()


def install() -> None:
    """Register :func:`reset_in_child` once per process (a no-op where ``fork`` does not exist)."""
    global _installed
    if _installed or not hasattr(os, "register_at_fork"):
        return
    os.register_at_fork(after_in_child=reset_in_child)
    _installed = True
