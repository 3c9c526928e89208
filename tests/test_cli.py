"""The CLI end to end (real daemon where it needs one): every subcommand, good and bad input."""

from __future__ import annotations

import json

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
    assert cli.main(["install", "torch", "--image", "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime", "--gpus", "device=0,2",
                     "--memory", "16g", "--cpus", "4", "--shm-size", "8g", "--mount", f"{tmp_path}:/data:ro",
                     "--env", "A=1", "--display-name", "PyTorch", "--user"]) == 0
    spec = KernelSpecManager().get_kernel_spec("torch")
    assert spec.display_name == "PyTorch" and spec.argv[-1] == "{connection_file}"
    prov = spec.metadata["kernel_provisioner"]
    assert prov["provisioner_name"] == "gpu-docker-provisioner"
    assert prov["config"] == {"image": "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime", "host": "local",
                              "gpus": "device=0,2", "memory": "16g", "cpus": 4.0, "shm_size": "8g",
                              "mounts": [f"{tmp_path}:/data:ro"], "env": {"A": "1"}}
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
    for bad, msg in ((["box2", "gpu-box"], "invalid Docker host URL"), (["local", "ssh://x"], "built in"),
                     (["UPPER", "ssh://x"], "invalid host name"),
                     (["plain", "tcp://10.1.2.3:2375"], "must use TLS")):
        assert cli.main(["hosts", "add", *bad]) == 2
        assert msg in capsys.readouterr().err
    assert cli.main(["hosts", "remove", "box"]) == 0
    assert cli.main(["hosts", "remove", "box"]) == 2
    assert cli.main(["hosts", "remove", "local"]) == 2


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
    assert "[  ok] host local" in report and "no GPU driver" in report and test_image in report

    assert cli.main(["envs", "remove", "cpu"]) == 0
    assert cli.main(["envs", "remove", "cpu"]) == 2
    assert "no environment named 'cpu'" in capsys.readouterr().err


def test_doctor_reports_unreachable_host(jdirs, capsys, tmp_path):
    assert cli.main(["hosts", "add", "gone", f"unix://{tmp_path}/none.sock"]) == 0
    assert cli.main(["doctor", "--host", "gone"]) == 1
    report = out(capsys)
    assert "[FAIL] host gone" in report and "fix:" in report
