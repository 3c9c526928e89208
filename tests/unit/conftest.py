"""tests/unit: the tests that need no Docker daemon, no browser and no network namespace.

``python -m pytest tests/unit`` (or ``bash tests/run.sh tests/unit``, which then starts no daemon
and builds no image) runs them on any machine with the package installed, Node.js and jlpm for
the labextension's jest tests, and PyPI once for the cached musl wheels. The root
``tests/conftest.py`` still applies (its fixtures are lazy: none of them starts a daemon unless a
test asks for it).

A test here that asks for a Docker fixture or carries a Docker/browser marker would start (or
fail for the lack of) a daemon, so collection refuses it and names it: such a test belongs in
``tests/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# The root conftest's fixtures that reach a Docker daemon (directly or through another fixture).
DOCKER_FIXTURES = frozenset(
    {
        "docker_daemon",
        "docker_client",
        "test_image",
        "plain_image",
        "fake_gpu_daemon",
        "nogpu_daemon",
        "cuda_image",
        "no_leftovers",
    }
)
DOCKER_MARKERS = frozenset({"docker", "gpu_fake", "remote", "browser"})


def _needs_docker(item: pytest.Item) -> list[str]:
    fixtures = sorted(DOCKER_FIXTURES.intersection(getattr(item, "fixturenames", ())))
    markers = sorted({m.name for m in item.iter_markers()} & DOCKER_MARKERS)
    return [f"fixture {name}" for name in fixtures] + [f"marker {name}" for name in markers]


def pytest_collection_modifyitems(config, items):
    offenders = []
    for item in items:
        if HERE not in Path(item.path).resolve().parents:
            continue
        why = _needs_docker(item)
        if why:
            offenders.append(f"{item.nodeid}: {', '.join(why)}")
    if offenders:
        raise pytest.UsageError(
            "tests/unit is for tests that need no Docker daemon, browser or network namespace; "
            "move these to tests/ (or drop what they ask for):\n  " + "\n  ".join(offenders)
        )
