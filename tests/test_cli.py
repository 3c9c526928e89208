"""The CLI end to end (real daemon where it needs one): every subcommand, good and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from jupyter_gpu_kernels import cli
from jupyter_gpu_kernels.environments import Environments

from .kernel_helpers import isolated_jupyter_dirs


@pytest.fixture
def jdirs(tmp_path, monkeypatch):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    return tmp_path


def out(capsys) -> str:
    return capsys.readouterr().out


def test_install_list_remove(jdirs, capsys, tmp_path):
    assert (
        cli.main(
            [
                "install",
                "torch",
                "--image",
                "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime",
                "--gpus",
                "device=0,2",
                "--memory",
                "16g",
                "--cpus",
                "4",
                "--shm-size",
                "8g",
                "--mount",
                f"{tmp_path}:/data:ro",
                "--env",
                "A=1",
                "--display-name",
                "PyTorch",
                "--user",
            ]
        )
        == 0
    )
    spec = KernelSpecManager().get_kernel_spec("torch")
    assert spec.display_name == "PyTorch" and spec.argv[-1] == "{connection_file}"
    prov = spec.metadata["kernel_provisioner"]
    assert prov["provisioner_name"] == "gpu-docker-provisioner"
    assert prov["config"] == {
        "image": "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime",
        "host": "local",
        "gpus": "device=0,2",
        "memory": "16g",
        "cpus": 4.0,
        "shm_size": "8g",
        "mounts": [f"{tmp_path}:/data:ro"],
        "env": {"A": "1"},
    }
    out(capsys)
    assert cli.main(["list"]) == 0
    listing = out(capsys)
    assert "torch" in listing and "device=0,2" in listing
    assert cli.main(["list", "--json"]) == 0
    assert "torch" in json.loads(out(capsys))
    assert cli.main(["remove", "torch"]) == 0
    assert "torch" not in KernelSpecManager().find_kernel_specs()
    assert cli.main(["remove", "torch"]) == 1


@pytest.mark.parametrize(
    "args,msg",
    [
        (["--gpus", "lots"], "invalid GPU spec"),
        (["--memory", "8q"], "invalid memory limit"),
        (["--mount", "/nope/nope:/x"], "does not exist"),
        (["--env", "1BAD=x"], "invalid environment variable name"),
        (["--host", "Bad Host"], "invalid host name"),
    ],
)
def test_install_rejects_bad_input(jdirs, capsys, args, msg):
    assert cli.main(["install", "bad", "--image", "python:3.12", "--user", *args]) == 2
    assert msg in capsys.readouterr().err
    assert "bad" not in KernelSpecManager().find_kernel_specs()


def test_hosts(jdirs, capsys):
    assert cli.main(["hosts", "add", "box", "ssh://me@gpu-box:2222", "--description", "the big one"]) == 0
    assert cli.main(["hosts", "list", "--json"]) == 0
    out(capsys)
    assert cli.main(["hosts", "--json"]) == 0
    hosts = {h["name"]: h for h in json.loads(out(capsys))}
    assert hosts["box"]["url"] == "ssh://me@gpu-box:2222" and hosts["box"]["source"] == "user"
    assert hosts["local"]["source"] == "builtin"
    for bad, msg in (
        (["box2", "gpu-box"], "invalid Docker host URL"),
        (["local", "ssh://x"], "built in"),
        (["UPPER", "ssh://x"], "invalid host name"),
        (["plain", "tcp://10.1.2.3:2375"], "must use TLS"),
    ):
        assert cli.main(["hosts", "add", *bad]) == 2
        assert msg in capsys.readouterr().err
    assert cli.main(["hosts", "remove", "box"]) == 0
    assert cli.main(["hosts", "remove", "box"]) == 1  # nothing to remove: a failure, not a usage error
    assert "unknown Docker host 'box'" in capsys.readouterr().err
    assert cli.main(["hosts", "remove", "local"]) == 2  # a name the registry refuses: bad input


@pytest.mark.docker
def test_envs_images_kernels_doctor(jdirs, capsys, test_image, plain_image, docker_client):
    assert cli.main(["envs", "add", "cpu", "--image", test_image, "--memory", "1g", "--description", "plain CPU"]) == 0
    assert cli.main(["envs", "edit", "cpu", "--gpus", "1", "--cpus", "2"]) == 0
    env = Environments().get("cpu")
    assert (env.gpus, env.cpus, env.memory, env.description) == ("1", 2.0, "1g", "plain CPU")
    assert cli.main(["envs", "edit", "cpu", "--gpus", "nope"]) == 2
    assert cli.main(["envs", "add", "cpu", "--image", test_image]) == 2
    out(capsys)
    assert cli.main(["envs"]) == 0
    assert "cpu" in out(capsys)

    assert cli.main(["images", "--json"]) == 0
    images = {t: i for i in json.loads(out(capsys)) for t in i["tags"]}
    assert images[test_image]["has_ipykernel"] and not images[plain_image]["has_ipykernel"]

    assert cli.main(["kernels"]) == 0
    assert cli.main(["doctor"]) == 0
    report = out(capsys)
    # 'local' may or may not have a GPU driver (GPU workstations); either is reported
    assert "[  ok] host local" in report and test_image in report
    assert "GPUs on local" in report

    assert cli.main(["envs", "remove", "cpu"]) == 0
    assert cli.main(["envs", "remove", "cpu"]) == 1
    assert "no environment named 'cpu'" in capsys.readouterr().err


def test_doctor_reports_unreachable_host(jdirs, capsys, tmp_path):
    assert cli.main(["hosts", "add", "gone", f"unix://{tmp_path}/none.sock"]) == 0
    assert cli.main(["doctor", "--host", "gone"]) == 1
    report = out(capsys)
    assert "[FAIL] host gone" in report and "fix:" in report


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The CLI as users run it: a real process."""
    return subprocess.run(
        [sys.executable, "-m", "jupyter_gpu_kernels.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_version_and_subcommand_help():
    from jupyter_gpu_kernels import __version__

    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == __version__
    r = run_cli("install", "--help")
    assert r.returncode == 0
    assert r.stdout.startswith("Usage: jupyter gpu-kernels install NAME --image IMAGE")
    for option in (
        "--image",
        "--gpus",
        "--memory",
        "--mount",
        "--env",
        "--pull-policy",
        "--share-gpus",
        "--user",
        "--sys-prefix",
        "--prefix",
        "--debug",
        "--log-level",
        "--config",
    ):
        assert f"\n{option}" in r.stdout, option
    assert "GPUs: none | all | N" in r.stdout  # every option has its help text
    r = run_cli("hosts", "--help")
    assert r.returncode == 0 and all(f"\n{sub}\n" in r.stdout for sub in ("list", "add", "remove", "check"))


@pytest.mark.parametrize(
    "args,msg",
    [
        (["install", "x", "--image", "python:3.12", "--bogus"], "unrecognized option --bogus"),
        (["install", "x", "--image"], "option --image needs a value"),
        (["install", "--image", "python:3.12"], "missing argument NAME"),
        (["install", "x", "--image", "python:3.12", "--cpus", "many"], "invalid value for --cpus"),
        (["install", "x", "--image", "python:3.12", "--pull-policy", "sometimes"], "invalid value for --pull-policy"),
        (["install", "x", "--image", "python:3.12", "--user", "--prefix", "/tmp/p"], "exclude each other"),
        (["install", "x", "--image", "python:3.12", "--user", "--gpus", "lots"], "invalid GPU spec"),
        (["hosts", "frobnicate"], "unknown subcommand 'frobnicate'"),
        (["copy-image", "python:3.12"], "option --to is required"),
        (["hosts", "--config", "/nonexistent/cfg.py"], "no such file"),
        ([], "missing subcommand"),
    ],
)
def test_usage_error_is_one_line_exit_2(jdirs, args, msg):
    r = run_cli(*args, env={"JUPYTER_DATA_DIR": str(jdirs / "data"), "JUPYTER_CONFIG_DIR": str(jdirs / "config")})
    assert r.returncode == 2, r
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and msg in lines[0], r.stderr
    assert not (jdirs / "data" / "kernels" / "x").exists()


def test_envs_from_notebook_without_tty_or_yes_refuses(jdirs, tmp_path):
    """A notebook is untrusted input: with no terminal to confirm on and no --yes, nothing is created."""
    nb = tmp_path / "evil.ipynb"
    nb.write_text(
        json.dumps(
            {
                "cells": [],
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {
                    "jupyter_gpu_kernels": {
                        "environment": "evil",
                        "image": "python:3.12",
                        "mounts": [f"{tmp_path}:/data"],
                    }
                },
            }
        )
    )
    env = {"JUPYTER_DATA_DIR": str(jdirs / "data"), "JUPYTER_CONFIG_DIR": str(jdirs / "config")}
    r = subprocess.run(
        [sys.executable, "-m", "jupyter_gpu_kernels.cli", "envs", "from-notebook", str(nb)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
    )  # not a TTY
    assert r.returncode != 0, r
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "--yes" in lines[0], r.stderr
    assert f"mount {tmp_path}:/data" in lines[0]  # what it would have created is shown
    assert "Traceback" not in r.stderr and "Added" not in r.stdout
    assert run_cli("envs", "--json", env=env).stdout.count("evil") == 0
    assert not (jdirs / "config" / "gpu_kernels" / "environments.json").exists()
    assert not (jdirs / "data" / "kernels" / "gpu-evil").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["images", "--host", "gone"],
        ["gpus", "--host", "gone"],
        ["pull", "python:3.12", "--host", "gone"],
        ["--debug", "hosts", "check", "gone"],
    ],
)
def test_runtime_failure_is_one_line_exit_1(jdirs, args):
    env = {"JUPYTER_DATA_DIR": str(jdirs / "data"), "JUPYTER_CONFIG_DIR": str(jdirs / "config")}
    assert run_cli("hosts", "add", "gone", "unix:///nonexistent.sock", env=env).returncode == 0
    r = run_cli(*args, env=env)
    assert r.returncode == 1, r
    assert "Traceback" not in r.stderr
    if "check" in args:  # a report on stdout, with the reason
        assert "reachable: False" in r.stdout and "not reachable" in r.stdout
        return
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "not reachable" in lines[0], r.stderr


def test_main_in_process_leaves_no_state(jdirs, capsys):
    """Repeated in-process calls see their own options only, and no app singleton stays behind."""
    from traitlets.config import Application

    assert cli.main(["hosts", "--json"]) == 0
    assert json.loads(out(capsys))
    assert cli.main(["hosts"]) == 0
    assert out(capsys).startswith("NAME")
    assert cli.main(["--help"]) == 0
    assert "Subcommands" in out(capsys)
    assert not Application.initialized()
