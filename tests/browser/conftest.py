"""Fixtures of the browser tests: Debian's Chromium, and a real ``jupyter lab`` subprocess
whose Docker hosts include the fake-GPU daemon.

``chromium``   path of the Chromium binary (``$JGK_TEST_CHROMIUM``, else /usr/bin/chromium); a
               missing browser FAILS the test (tests/run.sh installs it). Playwright's own
               browser download is never used.
``start_lab``  ``start_lab({name: (url, docker_client)})`` starts a real ``jupyter lab`` (free port,
               token, isolated Jupyter dirs and root dir, ``window.jupyterapp`` exposed) that loads
               the labextension built in this checkout (``jupyter_gpu_kernels/labextension``) and
               knows those Docker hosts (added with the real CLI).
``lab``        such a lab with the host ``fakegpu`` (the fake-GPU daemon).
``browser_page`` a 1280x800 Playwright page (sync API); ``shot(name)`` saves numbered screenshots
               to ``tests/artifacts/browser/``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import jupyter_gpu_kernels
from jupyter_gpu_kernels.daemon.labels import SERVER as SERVER_LABEL

from ..support.servers import api_json, free_port, stop_process

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts" / "browser"
DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"
LABEXT_BUILD = Path(jupyter_gpu_kernels.__file__).resolve().parent / "labextension"
LABEXT_SOURCES = REPO / "labextension"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def chromium() -> str:
    path = os.environ.get("JGK_TEST_CHROMIUM") or "/usr/bin/chromium"
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"Chromium is not available at {path}: the browser tests need Debian's chromium "
            "(`apt-get install chromium`, which `bash tests/run.sh` does) or JGK_TEST_CHROMIUM=/path. "
            "Playwright's own browser download is not used.",
            pytrace=False,
        )
    return path


def _check_labextension_build() -> None:
    """The tests load the build in this checkout: it must exist and be newer than the sources."""
    entry = LABEXT_BUILD / "package.json"
    hint = "build it with `cd labextension && jlpm build:prod` (or `pip install -e .`)"
    if not entry.is_file():
        pytest.fail(f"the labextension is not built ({entry} is missing): {hint}", pytrace=False)
    built = min(p.stat().st_mtime for p in (LABEXT_BUILD / "static").glob("remoteEntry.*.js"))
    sources = [p for d in ("src", "style", "schema") for p in (LABEXT_SOURCES / d).rglob("*") if p.is_file()]
    stale = [p for p in sources if p.stat().st_mtime > built + 1]
    if stale:
        pytest.fail(
            f"the labextension build is older than its sources ({', '.join(str(p.relative_to(REPO)) for p in stale[:3])}): {hint}",
            pytrace=False,
        )


@dataclass
class Lab:
    url: str
    token: str
    root_dir: Path
    env: dict
    proc: subprocess.Popen
    log_path: Path
    user_settings: Path = field(default=Path())

    def api(self, path: str, method: str = "GET", body: dict | None = None):
        return api_json(self.url, self.token, path, method, body, timeout=30)

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


@pytest.fixture
def start_lab(tmp_path_factory, docker_daemon, docker_client, kernel_leftovers):
    """``start_lab({"name": url, ...})`` -> a running :class:`Lab` with those user Docker hosts
    (added with the real CLI); every lab is stopped, and its kernel containers checked, at the end."""
    started: list[tuple[Lab, list]] = []

    def start(hosts: dict[str, tuple[str, object]]) -> Lab:
        _check_labextension_build()
        tmp = tmp_path_factory.mktemp("lab")
        dirs = {name: tmp / name for name in ("config", "data", "runtime", "root", "labext", "home")}
        for d in dirs.values():
            d.mkdir()
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "HOME": str(dirs["home"]),
            "DOCKER_HOST": docker_daemon.url,
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("JUPYTER_PATH", None)
        for name, (url, _client) in hosts.items():
            subprocess.run(
                [sys.executable, "-m", "jupyter_gpu_kernels.cli.app", "hosts", "add", name, url],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
        # this checkout's labextension build first (it shadows an installed copy of the same name)
        (dirs["labext"] / "jupyter-gpu-kernels").symlink_to(LABEXT_BUILD, target_is_directory=True)
        settings = dirs["config"] / "lab" / "user-settings"
        _write(settings / "jupyter-gpu-kernels" / "plugin.jupyterlab-settings", {"refreshInterval": 2})
        # no news/update toasts over the screenshots (and no network)
        _write(
            settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
            {"fetchNews": "false", "checkForUpdates": False},
        )
        port, token = free_port(), uuid.uuid4().hex
        (dirs["config"] / "jupyter_server_config.py").write_text(
            "c.ServerApp.ip = '127.0.0.1'\n"
            f"c.ServerApp.port = {port}\n"
            "c.ServerApp.port_retries = 0\n"
            f"c.IdentityProvider.token = {token!r}\n"
            f"c.ServerApp.root_dir = {str(dirs['root'])!r}\n"
            "c.ServerApp.open_browser = False\n"
            "c.ServerApp.allow_root = True\n"
            "c.LabApp.expose_app_in_browser = True\n"
            f"c.LabApp.extra_labextensions_path = [{str(dirs['labext'])!r}]\n"
            "c.LabApp.news_url = None\n"
            "c.LabApp.check_for_updates_class = 'jupyterlab.NeverCheckForUpdate'\n"
        )
        clients = [docker_client] + [c for _, c in hosts.values() if c is not None]
        log_path = tmp / "jupyter-lab.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root"],
                env=env,
                cwd=dirs["root"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = Lab(f"http://127.0.0.1:{port}", token, dirs["root"], env, proc, log_path, settings)
        started.append((server, clients))
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{server.log_tail()}", pytrace=False)
            try:
                server.api("/api/status")
                return server
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer within 90 s:\n{server.log_tail()}", pytrace=False)
                time.sleep(0.25)

    yield start

    problems = []
    for server, clients in started:
        # a clean stop shuts down the kernels (and so removes their containers)
        stop_process(server.proc, grace=30)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(server.log_path, ARTIFACTS / f"jupyter-lab-{server.url.rsplit(':', 1)[1]}.log")
        for client in clients:
            # only this lab's containers: other test sessions may share the daemons
            for c in kernel_leftovers(client):
                if c.labels.get(SERVER_LABEL, "").endswith(f":{server.proc.pid}"):
                    problems.append(c.name)
                    c.remove(force=True, v=True)
    assert not problems, f"jupyter lab left kernel containers behind: {problems}"


@pytest.fixture
def lab(start_lab, fake_gpu_daemon):
    """A lab whose hosts are ``local`` and ``fakegpu`` (4 fake GPUs)."""
    return start_lab({"fakegpu": (fake_gpu_daemon.url, fake_gpu_daemon.client)})


class Shots:
    """Numbered screenshots of one test in tests/artifacts/browser/ (1280x800 PNG)."""

    def __init__(self, page, prefix: str):
        self.page = page
        self.prefix = prefix
        self.n = 0
        self.paths: list[Path] = []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob(f"{prefix}-*.png"):
            old.unlink()

    def __call__(self, name: str) -> Path:
        self.n += 1
        path = ARTIFACTS / f"{self.prefix}-{self.n:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        self.paths.append(path)
        return path

    def publish(self) -> None:
        """With JGK_DOCS_SCREENSHOTS=1, copy the screenshots to docs/screenshots/ (committed)."""
        if os.environ.get("JGK_DOCS_SCREENSHOTS") != "1":
            return
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for path in self.paths:
            shutil.copy(path, DOCS_SCREENSHOTS / path.name)


@pytest.fixture
def browser_page(chromium, request):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.set_default_timeout(30_000)
            # Assertions wait 15 s, not Playwright's 5 s: on a loaded 2-core CI machine a REST call
            # behind a UI change (a daemon list, a refusal) can take that long. Slow operations
            # (a commit, a pull, a kernel start) pass their own, longer timeouts.
            expect.set_options(timeout=15_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.console_errors = errors  # type: ignore[attr-defined]
            yield page
        finally:
            if getattr(request.node, "rep_call_failed", False):
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                try:
                    page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"))
                except Exception:  # noqa: BLE001 - best effort
                    pass
            browser.close()


@pytest.fixture
def shot(browser_page, request):
    """``shot("name")`` saves the next numbered screenshot (``<test>-NN-name.png``, where <test>
    is the first word of the test's name); ``shot.publish()`` copies them to docs/screenshots/."""
    return Shots(browser_page, request.node.name.removeprefix("test_").split("_")[0])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item.rep_call_failed = True
