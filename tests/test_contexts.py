"""The 'local' host is the daemon the docker CLI would use: DOCKER_HOST, else the current Docker
context (DOCKER_CONTEXT, else currentContext in $DOCKER_CONFIG/config.json), else the default socket.

Unit tests on context files, and an end-to-end test: a context pointing at another real daemon
(the session's no-GPU netns daemon), with DOCKER_HOST unset, makes `hosts list` and a kernel start
use that daemon."""

from __future__ import annotations

import hashlib
import json

import pytest

from jupyter_gpu_kernels import cli
from jupyter_gpu_kernels.hosts.registry import DockerHosts, default_local_url

from .kernel_helpers import install_spec, isolated_jupyter_dirs, our_containers, run_cell, start_kernel, stop_kernel


def write_context(config_dir, name: str, host: str, current: bool = True) -> None:
    meta = config_dir / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps({"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}})
    )
    if current:
        (config_dir / "config.json").write_text(json.dumps({"auths": {}, "currentContext": name}))


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    d = tmp_path / "docker-config"
    d.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(d))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    return d


def test_resolution_order(docker_config, monkeypatch):
    assert default_local_url() == "unix:///var/run/docker.sock"  # no config.json at all
    write_context(docker_config, "rootless", "unix:///run/user/1000/docker.sock")
    assert default_local_url() == "unix:///run/user/1000/docker.sock"
    write_context(docker_config, "box", "ssh://me@box", current=False)
    monkeypatch.setenv("DOCKER_CONTEXT", "box")  # beats currentContext
    assert default_local_url() == "context://box"  # non-unix endpoints keep the context (its TLS material)
    monkeypatch.setenv("DOCKER_CONTEXT", "default")
    assert default_local_url() == "unix:///var/run/docker.sock"
    monkeypatch.setenv("DOCKER_CONTEXT", "missing")
    assert default_local_url() == "unix:///var/run/docker.sock"
    monkeypatch.setenv("DOCKER_HOST", "unix:///tmp/x.sock")  # beats every context
    assert default_local_url() == "unix:///tmp/x.sock"


@pytest.mark.docker
def test_current_context_is_the_local_host(tmp_path, monkeypatch, docker_config, nogpu_daemon, capsys):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    write_context(docker_config, "other", nogpu_daemon.url)
    local = DockerHosts().get("local")
    assert local.url == nogpu_daemon.url and "Docker context 'other'" in local.description
    capsys.readouterr()
    assert cli.main(["hosts", "list"]) == 0
    listing = capsys.readouterr().out
    assert nogpu_daemon.url in listing, listing
    install_spec("ctx", nogpu_daemon.test_image)
    km, kc = start_kernel("ctx")
    try:
        assert run_cell(kc, "print(6*7)")["stdout"] == "42\n"
        # the kernel runs on the context's daemon
        assert km.provisioner.container_id in {c.id for c in our_containers(nogpu_daemon.client)}
    finally:
        stop_kernel(km, kc, now=True)
    assert not our_containers(nogpu_daemon.client)


def test_install_refuses_an_unknown_host(tmp_path, monkeypatch, capsys):
    isolated_jupyter_dirs(tmp_path, monkeypatch)
    capsys.readouterr()
    assert cli.main(["install", "x", "--image", "python:3.12", "--user", "--host", "nowhere"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown Docker host 'nowhere'" in err
    assert not (tmp_path / "data" / "kernels" / "x").exists()
