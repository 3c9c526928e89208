"""The backend contract (daemon/backend.py) matches its users and its engine implementation.

Static checks, no Docker: every ``self.ops.<name>`` the launcher and the watcher call is a
method of :class:`KernelBackend` (and every method of it is called somewhere); ContainerOps has
each of them with the same parameters; the contract module imports no docker. The behaviour
every backend must show is checked against real daemons in tests/test_backend_conformance.py.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from jupyter_gpu_kernels.daemon.backend import KernelBackend
from jupyter_gpu_kernels.daemon.containers import ContainerOps
from jupyter_gpu_kernels.kernel.provisioner import GPUDockerProvisioner

PACKAGE = Path(__file__).resolve().parents[2] / "jupyter_gpu_kernels"
CALLERS = [PACKAGE / "kernel" / name for name in ("launcher.py", "watch.py", "provisioner.py")]
CONTRACT = sorted(name for name, v in vars(KernelBackend).items() if inspect.isfunction(v) and not name.startswith("_"))


def _ops_calls() -> set[str]:
    """Names used as ``self.ops.<name>`` in the callers."""
    used = set()
    for path in CALLERS:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "ops"
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id == "self"
            ):
                used.add(node.attr)
    return used


def test_contract_lists_exactly_what_the_callers_use():
    used = _ops_calls()
    assert used, "no self.ops.<method> calls found: the callers moved"
    assert used - set(CONTRACT) == set(), f"called on self.ops but not in KernelBackend: {used - set(CONTRACT)}"
    assert set(CONTRACT) - used == set(), f"in KernelBackend but never called: {set(CONTRACT) - used}"


@pytest.mark.parametrize("name", CONTRACT)
def test_container_ops_has_each_method_with_the_contract_parameters(name):
    assert callable(getattr(ContainerOps, name, None)), f"ContainerOps lacks {name}"
    want = list(inspect.signature(getattr(KernelBackend, name)).parameters)
    have = list(inspect.signature(getattr(ContainerOps(None), name)).parameters)
    assert have == want[1:], f"ContainerOps.{name}{have} differs from KernelBackend.{name}{want[1:]}"


@pytest.mark.parametrize("name", CONTRACT)
def test_each_contract_method_says_who_calls_it(name):
    doc = inspect.getdoc(getattr(KernelBackend, name)) or ""
    assert any(who in doc for who in ("Launcher", "Watcher")), f"KernelBackend.{name} does not say who calls it"


def test_engine_and_provisioner_default_satisfy_the_contract():
    assert isinstance(ContainerOps(None), KernelBackend)
    assert isinstance(GPUDockerProvisioner().ops, KernelBackend)


def test_contract_module_imports_no_docker():
    tree = ast.parse((PACKAGE / "daemon" / "backend.py").read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in names if m.split(".")[0] == "docker"], names
