"""The labextension's jest unit tests (labextension/test/*.spec.ts), run from pytest so that
``bash tests/run.sh`` runs them too.

It runs ``jlpm test`` in labextension/ and fails with jest's output when jest fails. When the
node modules are missing or older than yarn.lock it installs them first (``jlpm install
--immutable``: exactly yarn.lock); it never skips. Needs Node.js and ``jlpm`` (JupyterLab's
pinned yarn), which the editable install also needs. No Docker, no server: runs without the lock.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

LABEXT = Path(__file__).resolve().parents[2] / "labextension"
JEST_TIMEOUT = 240
INSTALL_TIMEOUT = 600


def _jlpm() -> str:
    jlpm = shutil.which("jlpm")
    if not jlpm or not shutil.which("node"):
        pytest.fail(
            "the labextension unit tests need Node.js and jlpm (JupyterLab's yarn): "
            "`apt-get install nodejs` and `pip install -e '.[test]'` (tests/run.sh does both)",
            pytrace=False,
        )
    return jlpm


def _run(cmd: list[str], timeout: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": "true", "FORCE_COLOR": "0", "NO_COLOR": "1"}
    try:
        return subprocess.run(cmd, cwd=LABEXT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout or ""
        pytest.fail(f"`{' '.join(cmd)}` in {LABEXT} ran over {timeout} s:\n{out}", pytrace=False)


def _modules_current() -> bool:
    """node_modules has jest and was installed after the last change of yarn.lock."""
    state = LABEXT / "node_modules" / ".yarn-state.yml"
    jest = LABEXT / "node_modules" / ".bin" / "jest"
    return state.is_file() and jest.exists() and state.stat().st_mtime >= (LABEXT / "yarn.lock").stat().st_mtime


@pytest.fixture(scope="module")
def node_modules() -> str:
    jlpm = _jlpm()
    if not _modules_current():
        done = _run([jlpm, "install", "--immutable"], INSTALL_TIMEOUT)
        if done.returncode != 0:
            pytest.fail(
                f"`jlpm install --immutable` in {LABEXT} failed ({done.returncode}):\n"
                f"{done.stdout[-6000:]}\n{done.stderr[-4000:]}",
                pytrace=False,
            )
    return jlpm


def test_jest_unit_tests_pass(node_modules):
    done = _run([node_modules, "test", "--ci"], JEST_TIMEOUT)
    output = f"{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, f"jest failed ({done.returncode}):\n{output[-12000:]}"
    # a run that found no spec files is no pass
    assert "Tests:" in output and " passed" in output, output[-4000:]
