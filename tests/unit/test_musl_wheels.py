"""musl images (Alpine) get musllinux wheels (issue #13): the probe says which C library the image's
Python runs on, and the server's real ``pip download`` then fetches wheels for that platform.

No Alpine image is built here: its root file system comes only from Alpine's CDN, which the test
machines cannot reach (see docs/images.md). What is tested is the part that decides: the probe code
run by a real interpreter, the platform tags, and pip choosing musllinux extension modules (served
from wheels downloaded from PyPI once into the test cache, as for the glibc derived-image tests).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from jupyter_gpu_kernels.daemon import interpreters
from jupyter_gpu_kernels.daemon.wheels import ipykernel_wheels, platform_args, platform_for

from ..kernel_helpers import isolated_jupyter_dirs
from ..support.image import ensure_ipykernel_wheels


def test_probe_reports_the_c_library_of_the_interpreter_it_runs_in():
    out = subprocess.run([sys.executable, "-c", interpreters._PROBE_CODE], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["libc"] == "glibc" and data["executable"] == sys.executable  # this machine is Debian


def test_platform_tags_follow_the_c_library():
    assert platform_for({"Architecture": "amd64"}) == "manylinux2014_x86_64"
    assert platform_for({"Architecture": "amd64"}, "glibc") == "manylinux2014_x86_64"
    assert platform_for({"Architecture": "arm64"}, "musl") == "musllinux_1_2_aarch64"
    assert platform_args("musllinux_1_2_x86_64") == [
        "--platform",
        "musllinux_1_2_x86_64",
        "--platform",
        "musllinux_1_1_x86_64",
    ]
    assert platform_args("manylinux2014_x86_64") == ["--platform", "manylinux2014_x86_64"]


def test_cached_answers_of_an_older_probe_are_probed_again(tmp_path, monkeypatch):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    monkeypatch.setattr(interpreters, "_loaded", False)
    monkeypatch.setattr(interpreters, "_cache", {})
    path = interpreters._cache_file()
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "sha256:old": {"path": "/usr/bin/python3", "version": "3.12.8", "ipykernel": ""},
                "sha256:new": {"path": "/usr/bin/python3", "version": "3.12.8", "ipykernel": "", "libc": "musl"},
                "sha256:none": None,
            }
        )
    )
    assert interpreters.cached("sha256:old") == (False, None)  # no libc: unknown, so a new probe runs
    assert interpreters.cached("sha256:new") == (
        True,
        interpreters.Interpreter("/usr/bin/python3", "3.12.8", "", "musl"),
    )
    assert interpreters.cached("sha256:none") == (True, None)


def test_musl_interpreter_gets_musllinux_extension_wheels(tmp_path, monkeypatch):
    platform = platform_for({"Architecture": "amd64"}, "musl")
    served = ensure_ipykernel_wheels("3.12", platform)
    isolated_jupyter_dirs(tmp_path, monkeypatch)  # an empty server-side wheel cache
    monkeypatch.setenv("PIP_FIND_LINKS", str(served))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    got = ipykernel_wheels("3.12.8", platform)
    assert got.name == "cp312-musllinux_1_2_x86_64"
    names = sorted(p.name for p in got.glob("*.whl"))
    binary = [n for n in names if not n.endswith(("-none-any.whl",))]
    for project in ("pyzmq", "tornado", "psutil"):
        assert any(n.startswith(project + "-") for n in binary), f"no {project} wheel in {names}"
    wrong = [n for n in binary if "musllinux" not in n]
    assert not wrong, f"extension wheels that a musl Python cannot load: {wrong}"
    with pytest.raises(Exception, match="musllinux"):  # a platform pip has nothing for says which one
        monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
        ipykernel_wheels("3.13.1", platform)
