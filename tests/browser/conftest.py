"""Fixtures of the browser tests: Debian's Chromium, and a real ``jupyter lab`` subprocess
whose Docker hosts include the fake-GPU daemon.

``chromium``   path of the Chromium binary (``$JGK_TEST_CHROMIUM``, else /usr/bin/chromium); a
               missing browser FAILS the test (tests/run.sh installs it). Playwright's own
               browser download is never used.
``lab``        a running ``jupyter lab`` (free port, token, isolated Jupyter dirs and root dir,
               ``window.jupyterapp`` exposed) that loads the labextension built in this checkout
               (``jupyter_gpu_kernels/labextension``) and knows the host ``fakegpu``.
``browser_page`` a 1280x800 Playwright page (sync API) logged in to ``lab``; screenshots go to
               ``tests/artifacts/browser/``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import jupyter_gpu_kernels

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        req = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            data = r.read()
        return json.loads(data) if data else None

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


@pytest.fixture
def lab(tmp_path, docker_daemon, fake_gpu_daemon, kernel_leftovers):
    _check_labextension_build()
    dirs = {name: tmp_path / name for name in ("config", "data", "runtime", "root", "labext", "home")}
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
    # the fake-GPU daemon as a user host, written by the real CLI
    subprocess.run(
        [sys.executable, "-m", "jupyter_gpu_kernels.cli", "hosts", "add", "fakegpu", fake_gpu_daemon.url],
        env=env, check=True, capture_output=True, text=True,
    )
    # this checkout's labextension build first (it shadows an installed copy of the same name)
    (dirs["labext"] / "jupyter-gpu-kernels").symlink_to(LABEXT_BUILD, target_is_directory=True)
    settings = dirs["config"] / "lab" / "user-settings"
    _write(settings / "jupyter-gpu-kernels" / "plugin.jupyterlab-settings", {"refreshInterval": 2})
    # no news/update toasts over the screenshots (and no network)
    _write(settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
           {"fetchNews": "false", "checkForUpdates": False})
    port, token = _free_port(), uuid.uuid4().hex
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
    log_path = tmp_path / "jupyter-lab.log"
    before = {c.id for c in kernel_leftovers(fake_gpu_daemon.client)}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root"],
            env=env, cwd=dirs["root"], stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    server = Lab(url, token, dirs["root"], env, proc, log_path, settings)
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{server.log_tail()}", pytrace=False)
        try:
            server.api("/api/status")
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"jupyter lab did not answer within 90 s:\n{server.log_tail()}", pytrace=False)
            time.sleep(0.25)
    try:
        yield server
    finally:
        # a clean stop shuts down the kernels (and so removes their containers)
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        left = [c for c in kernel_leftovers(fake_gpu_daemon.client) if c.id not in before]
        for c in left:
            c.remove(force=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log_path, ARTIFACTS / "jupyter-lab.log")
        assert not left, f"jupyter lab left kernel containers behind: {[c.name for c in left]}"


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
            shutil.copy(path, DOCS_SCREENSHOTS / path.name.split("-", 1)[1])


@pytest.fixture
def browser_page(chromium, lab, request):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.set_default_timeout(30_000)
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
def shot(browser_page):
    """``shot("name")`` saves the next numbered screenshot; ``shot.publish()`` copies them to docs."""
    return Shots(browser_page, "sidebar")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item.rep_call_failed = True
