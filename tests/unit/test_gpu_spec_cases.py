"""The GPU-spec table (jupyter_gpu_kernels/specs/gpu_spec_cases.json) against the Python parser
and describer; labextension/test/gpuSpecCases.spec.ts checks the sidebar against the same file,
so the two cannot disagree on what a spec means or how it is named."""

import json
from pathlib import Path

import pytest

import jupyter_gpu_kernels
from jupyter_gpu_kernels.errors import SpecError
from jupyter_gpu_kernels.specs.gpus import GPURequest, describe_gpus, parse_gpus

TABLE = Path(jupyter_gpu_kernels.__file__).parent / "specs" / "gpu_spec_cases.json"
CASES = json.loads(TABLE.read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[repr(c["spec"]) for c in CASES])
def test_python_reads_each_spec_as_the_table_says(case):
    if case["kind"] == "invalid":
        with pytest.raises(SpecError) as e:
            parse_gpus(case["spec"])
        assert repr(case["spec"]) in str(e.value) or "GPU spec" in str(e.value)
        return
    request = parse_gpus(case["spec"])
    assert request == GPURequest(case["kind"], count=case.get("count", 0), devices=tuple(case.get("devices", ())))
    assert describe_gpus(request) == case["label"]
    assert parse_gpus(str(request)) == request  # the normalized spec means the same


def test_the_table_covers_every_kind():
    assert {c["kind"] for c in CASES} == {"none", "all", "count", "devices", "cdi", "invalid"}


def test_installed_kernelspecs_name_gpus_as_the_sidebar_does(tmp_path, monkeypatch, capsys):
    """`jupyter gpu-kernels install` names a spec without GPUs "no GPU" (it said "CPU", and "GPU 0" for 0)."""
    from jupyter_gpu_kernels import cli
    from jupyter_gpu_kernels.settings import Settings

    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "")
    monkeypatch.setattr("jupyter_core.paths.ENV_CONFIG_PATH", [])
    monkeypatch.setattr("jupyter_core.paths.SYSTEM_CONFIG_PATH", [])
    Settings.reset()
    for name, gpus, label in (("t0", "0", "no GPU"), ("t2", "2", "2 GPUs"), ("td", "device=0,2", "GPUs 0, 2")):
        argv = ["install", name, "--image", "python:3.12", "--gpus", gpus, "--prefix", str(tmp_path / "prefix")]
        assert cli.main(argv) == 0, capsys.readouterr().err
        spec = json.loads((tmp_path / "prefix" / "share" / "jupyter" / "kernels" / name / "kernel.json").read_text())
        assert spec["display_name"] == f"python:3.12 ({label})", spec
    Settings.reset()
