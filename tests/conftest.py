"""Shared fixtures: a real Docker daemon, the test images, and a fake-GPU daemon.

Session fixtures (all real, nothing mocked):

``docker_daemon``     :class:`tests.support.dockerd.Daemon` - a reachable dockerd (reused, or started
                      as root on Debian and stopped at session end if this session started it).
``docker_client``     docker-py ``DockerClient`` for it. At session end, kernel containers
                      (label ``org.jupyter.gpu-kernels.kernel-id``) this session left behind are
                      removed and reported as an error.
``test_image``        tag of the ipykernel test image in that daemon (built/imported once; see
                      tests/support/image.py): ``jupyter-gpu-kernels-test:ipykernel-<host version>``.
``plain_image``       tag of the python3-only image without ipykernel.
``fake_gpu_daemon``   :class:`tests.support.netns_daemon.NetnsDaemon` with the fake NVIDIA toolkit
                      (4 fake GPUs), its own netns, containers reachable from the host at their
                      bridge IPs; both images loaded (``.test_image``, ``.plain_image``).
                      ``.url``, ``.client``, ``.set_fake_gpus()``, ``.hook_invocations()``.
``nogpu_daemon``      the same without any NVIDIA hook: GPU requests fail at start with
                      ``could not select device driver "" with capabilities: [[gpu]]``.

Function fixtures: ``no_leftovers`` (asserts the test left no kernel containers on the main
daemon, nor on the fake-GPU daemon if the session uses it), ``kernel_leftovers`` (a callable:
``kernel_leftovers(client)`` -> list of kernel containers on that daemon).

Rule: a test that needs Docker is never skipped. If a daemon or image cannot be provided, the
fixture FAILS with a message that says what is missing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) from anywhere
    sys.path.insert(0, str(_ROOT))

from tests.support.leftovers import (  # noqa: E402
    LeftoverTracker,
    created_here,
    describe,
    kernel_containers,
)

# jp_fetch, jp_ws_fetch, jp_serverapp, jp_environ, ... for the server tests.
pytest_plugins = ["pytest_jupyter.jupyter_server"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_HINT = (
    "Tests that need Docker are never skipped. Run `bash tests/run.sh` as root on Debian (it installs "
    "and starts what is needed), or start a Docker daemon / set DOCKER_HOST and build the images with "
    "`python -m tests.support.image build`."
)


def _unavailable(what: str, err: BaseException | str) -> None:
    pytest.fail(f"{what} is not available: {err}\n{_HINT}", pytrace=False)


def _check_leftovers(tracker: LeftoverTracker, where: str) -> None:
    if os.environ.get("JGK_TEST_IGNORE_LEFTOVERS") == "1":
        return
    try:
        left = tracker.check_and_remove()
    except Exception as e:  # daemon gone: nothing we can check
        print(f"[jgk-test] could not check leftovers on {where}: {e}", file=sys.stderr)
        return
    if left:
        pytest.fail(
            f"kernel containers or volumes left behind on {where} at the end of the session (now removed):\n  "
            + "\n  ".join(left),
            pytrace=False,
        )


# --------------------------------------------------------------------------- the main daemon
@pytest.fixture(scope="session")
def docker_daemon():
    from tests.support.dockerd import DockerUnavailable, ensure_dockerd

    daemon, err = None, None
    try:
        daemon = ensure_dockerd()
    except DockerUnavailable as e:
        err = str(e)
    except Exception as e:  # noqa: BLE001 - anything else still means "missing", never a skip
        err = f"{type(e).__name__}: {e}"
    if daemon is None:
        _unavailable("A Docker daemon", err)
    yield daemon
    if os.environ.get("JGK_TEST_KEEP_DOCKERD") != "1":
        daemon.stop()  # only if this session started it


@pytest.fixture(scope="session")
def docker_client(docker_daemon):
    client = docker_daemon.client()
    tracker = LeftoverTracker(client)
    yield client
    _check_leftovers(tracker, f"the main daemon ({docker_daemon.url})")


@pytest.fixture(scope="session")
def test_image(docker_client):
    from tests.support.image import ensure_test_image

    try:
        return ensure_test_image(docker_client)
    except Exception as e:  # noqa: BLE001
        err = f"{type(e).__name__}: {e}"
    _unavailable("The ipykernel test image", err)


@pytest.fixture(scope="session")
def plain_image(docker_client):
    from tests.support.image import ensure_plain_image

    try:
        return ensure_plain_image(docker_client)
    except Exception as e:  # noqa: BLE001
        err = f"{type(e).__name__}: {e}"
    _unavailable("The plain (no ipykernel) test image", err)


# --------------------------------------------------------------------------- extra daemons
def _netns_daemon(base: str, fake_gpu: bool, first_index: int):
    from tests.support.netns_daemon import start_netns_daemon

    try:
        return start_netns_daemon(base, fake_gpu=fake_gpu, first_index=first_index)
    except Exception as e:  # noqa: BLE001
        err = f"{type(e).__name__}: {e}"
    _unavailable(f"The {base!r} Docker daemon (own network namespace, fake_gpu={fake_gpu}; needs root)", err)


@pytest.fixture(scope="session")
def fake_gpu_daemon():
    daemon = _netns_daemon("fakegpu", True, 1)
    tracker = LeftoverTracker(daemon.client)
    yield daemon
    try:
        _check_leftovers(tracker, f"the fake-GPU daemon ({daemon.url})")
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def nogpu_daemon():
    daemon = _netns_daemon("nogpu", False, 2)
    tracker = LeftoverTracker(daemon.client)
    yield daemon
    try:
        _check_leftovers(tracker, f"the no-GPU daemon ({daemon.url})")
    finally:
        daemon.stop()


@pytest.fixture
def cuda_image(fake_gpu_daemon):
    """The ipykernel test image on the fake-GPU daemon, needing a newer CUDA than its fake driver."""
    from tests.support.image import build_cuda_image

    return build_cuda_image(fake_gpu_daemon.client, fake_gpu_daemon.test_image)


# --------------------------------------------------------------------------- leftovers
@pytest.fixture
def kernel_leftovers():
    """``kernel_leftovers(client)`` -> kernel containers (any state) on that daemon."""
    return kernel_containers


@pytest.fixture
def no_leftovers(request, docker_client):
    """Fail the test if it leaves kernel containers behind (main daemon, and the fake-GPU
    daemon when this session uses it)."""
    clients = {"main daemon": docker_client}
    if "fake_gpu_daemon" in request.fixturenames:
        clients["fake-GPU daemon"] = request.getfixturevalue("fake_gpu_daemon").client
    before = {where: {c.id for c in kernel_containers(cl)} for where, cl in clients.items()}
    yield
    problems = []
    for where, cl in clients.items():
        left = [c for c in kernel_containers(cl) if c.id not in before[where] and created_here(c)]
        problems += [f"{where}: {describe(c)}" for c in left]
    assert not problems, "kernel containers left behind:\n  " + "\n  ".join(problems)


# --------------------------------------------------------------------------- pytest_jupyter vs browser tests
_OWN_AUTOUSE = ("jp_asyncio_loop", "jp_server_cleanup")


def _is_browser_test(request) -> bool:
    """Marked ``browser`` and not using pytest_jupyter's own server fixtures."""
    if request.node.get_closest_marker("browser") is None:
        return False
    return not any(n.startswith("jp_") and n not in _OWN_AUTOUSE for n in request.fixturenames)


@pytest.fixture(autouse=True)
def jp_asyncio_loop(request):
    """Override of pytest_jupyter's autouse loop fixture: same behaviour, except that tests marked
    ``browser`` (Playwright, which runs its own loop, and a server of their own) get no loop forced
    on them."""
    if _is_browser_test(request):
        yield None
        return
    import warnings

    from jupyter_core.utils import ensure_event_loop

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*WindowsSelectorEventLoopPolicy.*", category=DeprecationWarning)
        loop = ensure_event_loop(prefer_selector_loop=True)
    yield loop
    loop.close()


@pytest.fixture(autouse=True)
def jp_server_cleanup(request, jp_asyncio_loop):
    """Override of pytest_jupyter's autouse ServerApp cleanup; skipped for ``browser`` tests
    (it would tear down a ServerApp singleton such tests may keep for the whole session)."""
    yield
    if jp_asyncio_loop is None:
        return
    from jupyter_server.serverapp import ServerApp

    if not ServerApp.initialized():
        ServerApp.clear_instance()
        return
    app = ServerApp.instance()
    try:
        jp_asyncio_loop.run_until_complete(app._cleanup())
    except (RuntimeError, SystemExit) as e:
        print("ignoring cleanup error", e)
    if hasattr(app, "kernel_manager"):
        app.kernel_manager.context.destroy()
    ServerApp.clear_instance()


def pytest_report_header(config):
    from tests.support.dockerd import GPU_ENV, gpu_mode_requested

    return [
        f"jupyter-gpu-kernels tests: CI={IN_CI}; Docker-backed tests fail (never skip) when Docker is unavailable",
        f"default daemon GPU mode ({GPU_ENV}): {'on, fake NVIDIA toolkit' if gpu_mode_requested() else 'off'}",
    ]
