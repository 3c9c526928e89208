"""Packaging: the wheel carries the prebuilt labextension and the server-extension switch;
both parts show up enabled in the installed environment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _jupyter(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, timeout=120)
    return ANSI.sub("", out.stdout + out.stderr)


def test_both_extensions_enabled():
    server = _jupyter("server", "extension", "list")
    assert re.search(r"jupyter_gpu_kernels\s+enabled", server), server
    assert re.search(r"jupyter_gpu_kernels [\d.]+\w* OK", server), server
    lab = _jupyter("labextension", "list")
    assert re.search(r"jupyter-gpu-kernels v[\d.]+ enabled\s+OK", lab), lab


def test_wheel_contains_labextension_and_server_config(tmp_path):
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        env=env,
        timeout=900,
    )
    (wheel,) = tmp_path.glob("jupyter_gpu_kernels-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = [n for n in names if ".data/data/" in n]
    prefix = "share/jupyter/labextensions/jupyter-gpu-kernels/"
    assert any(n.endswith(prefix + "package.json") for n in data)
    assert any(n.endswith(prefix + "install.json") for n in data)
    assert any(re.search(prefix + r"static/remoteEntry\.[0-9a-f]+\.js$", n) for n in data)
    assert any(n.endswith("etc/jupyter/jupyter_server_config.d/jupyter_gpu_kernels.json") for n in data)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "gpu-docker-provisioner = jupyter_gpu_kernels.kernel.provisioner:GPUDockerProvisioner" in text
    assert "jupyter-gpu-kernels = jupyter_gpu_kernels.cli:main" in text
