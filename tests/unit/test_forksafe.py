"""Fork safety (forksafe.py): after ``os.fork`` every lock of the package's modules is a fresh,
unlocked one in the child, even when another thread of the parent held it at the fork.

The locks are found by looking, not from a list: every module of the package is imported and
each lock it holds (module globals, attributes of its classes and of its module-level objects,
locks kept in module-level dicts) is taken by a parent thread while the test forks. A module
that keeps a lock and does not register its reset with ``forksafe.register`` fails here.
"""

import importlib
import json
import os
import pkgutil
import threading

import pytest

import jupyter_gpu_kernels
from jupyter_gpu_kernels import forksafe

LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def _modules() -> list:
    names = [
        m.name
        for m in pkgutil.walk_packages(jupyter_gpu_kernels.__path__, "jupyter_gpu_kernels.")
        if not m.name.endswith("__main__")
    ]
    return [importlib.import_module(n) for n in names]


def _locks(module) -> dict[str, object]:
    """``path -> lock`` for every lock ``module`` owns, ``path`` being how to find it again."""
    found: dict[str, object] = {}
    for name, value in list(vars(module).items()):
        if isinstance(value, LOCK_TYPES):
            found[name] = value
        elif isinstance(value, dict):
            found.update({f"{name}[{k!r}]": v for k, v in value.items() if isinstance(v, LOCK_TYPES)})
        elif getattr(type(value), "__module__", None) == module.__name__ or (
            isinstance(value, type) and value.__module__ == module.__name__
        ):
            attrs = vars(value) if isinstance(value, type) or hasattr(value, "__dict__") else {}
            found.update({f"{name}.{a}": v for a, v in list(attrs.items()) if isinstance(v, LOCK_TYPES)})
    return found


def _lookup(module, path: str):
    """The object at ``path`` in the child (None when its container was emptied: fine too)."""
    if "[" in path:
        name, key = path.split("[", 1)
        return getattr(module, name, {}).get(eval(key[:-1]))  # noqa: S307 — our own repr of a str key
    obj = module
    for part in path.split("."):
        obj = getattr(obj, part, None)
    return obj


def _locks_held_in_child(modules) -> list[str]:
    """Fork while a parent thread holds every lock; the child names each one it finds still held."""
    held = {m.__name__: _locks(m) for m in modules}
    unique = list({id(lock): lock for locks in held.values() for lock in locks.values()}.values())
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        for lock in unique:
            assert lock.acquire(timeout=5), lock
        taken.set()
        release.wait()
        for lock in unique:
            lock.release()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert taken.wait(10)
    read, write = os.pipe()
    try:
        pid = os.fork()
        if pid == 0:  # the child: report, then leave without running pytest's teardown
            try:
                stuck = []
                for module in modules:
                    for path in held[module.__name__]:
                        lock = _lookup(module, path)
                        if lock is None:
                            continue
                        if lock.acquire(blocking=False):
                            lock.release()
                        else:
                            stuck.append(f"{module.__name__}.{path}")
                os.write(write, json.dumps(stuck).encode())
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read) as f:
            report = f.read()
        os.waitpid(pid, 0)
    finally:
        release.set()
        holder.join(10)
    return json.loads(report)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_every_lock_is_fresh_in_a_forked_child():
    modules = _modules()
    # locks made on demand exist only after a first use: make one of each kind
    from jupyter_gpu_kernels.daemon import derive, wheels

    derive._locks.setdefault("test-forksafe", threading.Lock())
    wheels._locks.setdefault("test-forksafe", threading.Lock())
    counted = sum(len(_locks(m)) for m in modules)
    assert counted >= 12, f"only {counted} locks found: the search is broken"
    stuck = _locks_held_in_child(modules)
    assert not stuck, "still held in a forked child (register a reset with forksafe.register):\n" + "\n".join(stuck)


def test_registered_callbacks_belong_to_their_modules():
    """forksafe.py knows no module: each callback is defined in the module whose state it resets."""
    _modules()
    owners = {c.__module__ for c in forksafe.registered()}
    assert "jupyter_gpu_kernels.forksafe" not in owners
    for name in ("daemon.disowned", "daemon.derive", "daemon.wheels", "kernel.progress", "hosts.transport"):
        assert f"jupyter_gpu_kernels.{name}" in owners, name
