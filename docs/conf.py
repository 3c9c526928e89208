"""Sphinx configuration for the jupyter-gpu-kernels documentation.

Build with ``python -m sphinx -b html docs docs/_build/html`` after
``pip install -r docs/requirements.txt``. The package itself need not be
installed: the version is read from ``labextension/package.json``, the single
source of the project version.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

project = "jupyter-gpu-kernels"
author = "jupyter-gpu-kernels contributors"
copyright = "jupyter-gpu-kernels contributors"  # noqa: A001

try:
    release = json.loads((ROOT / "labextension" / "package.json").read_text())["version"]
except (OSError, ValueError, KeyError):
    release = "0.0.0"
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "requirements.txt", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = [
    "colon_fence",
    "deflist",
]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"jupyter-gpu-kernels {release}"
