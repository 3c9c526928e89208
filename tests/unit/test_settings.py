"""Settings made once and found through the parent chain; typed kernel settings; renamed config sections.

Pure: no Docker daemon, no server (config files in a temporary config directory).
"""

from __future__ import annotations

import json
import logging
import os

import pytest
from traitlets.config import Config

from jupyter_gpu_kernels.environments import GPUKernelsEnvironments, build_environment
from jupyter_gpu_kernels.errors import SpecError
from jupyter_gpu_kernels.hosts.registry import DockerHosts, GPUKernelsHosts
from jupyter_gpu_kernels.policy import GPUKernelsImagePolicy
from jupyter_gpu_kernels.settings import Settings
from jupyter_gpu_kernels.specs.gpus import GPURequest
from jupyter_gpu_kernels.specs.resources import Mount
from jupyter_gpu_kernels.specs.settings import KernelSettings, format_size


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    """An isolated Jupyter config directory (no system or env config path either)."""
    d = tmp_path / "config"
    d.mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(d))
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "")
    monkeypatch.setattr("jupyter_core.paths.ENV_CONFIG_PATH", [])
    monkeypatch.setattr("jupyter_core.paths.SYSTEM_CONFIG_PATH", [])
    Settings.reset()
    yield d
    Settings.reset()


# ------------------------------------------------------------------ KernelSettings
@pytest.mark.parametrize(
    "config",
    [
        {"image": "python:3.12"},
        {"image": "ghcr.io/org/img:1", "host": "gpu-box", "gpus": "device=0,2", "gpu_sharing": True},
        {"image": "python:3.12", "gpus": 2, "memory": "1.5g", "shm_size": "512m", "cpus": "0.5"},
        {
            "image": "python:3.12",
            "memory": 8 * 1024**3 + 1,
            "mounts": ["volume:vol:/data:ro", "/tmp:/scratch"],
            "env": {"A": 1, "B": "x=y"},
            "pull_policy": "ALWAYS",
            "environment": "torch",
        },
        {"image": "python:3.12", "gpus": "nvidia.com/gpu=0,nvidia.com/gpu=1", "cpus": 3},
    ],
)
def test_round_trip(config):
    s = KernelSettings.from_config(config)
    again = KernelSettings.from_config(s.to_config())
    assert again == s
    assert again.to_config() == s.to_config()
    json.dumps(s.to_config())  # JSON-able


def test_typed_values():
    s = KernelSettings.from_config(
        {
            "image": "python:3.12",
            "gpus": "2",
            "memory": "8g",
            "cpus": "2",
            "mounts": ["volume:vol:/data:ro"],
            "env": {"N": 3},
        }
    )
    assert s.gpus == GPURequest("count", count=2)
    assert s.memory == 8 * 1024**3 and s.cpus == 2.0 and s.shm_size is None
    assert s.mounts == (Mount("vol", "/data", True),) and s.env == {"N": "3"}
    assert s.host == "local" and s.pull_policy == "" and s.gpu_sharing is False
    assert s.to_config() == {
        "image": "python:3.12",
        "host": "local",
        "gpus": "2",
        "memory": "8g",
        "cpus": 2.0,
        "mounts": ["volume:vol:/data:ro"],
        "env": {"N": "3"},
    }
    assert format_size(1536 * 1024**2) == "1536m" and format_size(5 * 1024**2 + 1) == "5242881b"


@pytest.mark.parametrize(
    "config,field",
    [
        ({}, "image"),
        ({"image": "Bad Image"}, "image"),
        ({"image": "python:3", "gpus": "two"}, "gpus"),
        ({"image": "python:3", "memory": "lots"}, "memory"),
        ({"image": "python:3", "memory": 1000}, "memory"),
        ({"image": "python:3", "shm_size": "1k"}, "shm_size"),
        ({"image": "python:3", "cpus": "many"}, "cpus"),
        ({"image": "python:3", "cpus": True}, "cpus"),
        ({"image": "python:3", "mounts": "/a:/b"}, "mounts"),
        ({"image": "python:3", "mounts": ["/a"]}, "mounts"),
        ({"image": "python:3", "env": {"1X": "y"}}, "env"),
        ({"image": "python:3", "env": ["A=1"]}, "env"),
        ({"image": "python:3", "pull_policy": "sometimes"}, "pull_policy"),
        ({"image": "python:3", "gpu_sharing": "yes"}, "gpu_sharing"),
        ({"image": "python:3", "host": "Not A Host"}, "host"),
        ({"image": "python:3", "colour": "blue"}, "colour"),
    ],
)
def test_every_bad_value_names_its_field(config, field):
    with pytest.raises(SpecError) as e:
        KernelSettings.from_config(config)
    assert e.value.field == field


def test_mount_sources_are_checked_only_when_asked(tmp_path):
    config = {"image": "python:3", "mounts": [f"{tmp_path}/missing:/data"]}
    s = KernelSettings.from_config(config)  # remote hosts: a path there
    with pytest.raises(SpecError, match="does not exist") as e:
        s.check_local_mounts()
    assert e.value.field == "mounts"
    with pytest.raises(SpecError, match="does not exist"):
        KernelSettings.from_config(config, check_mounts=True)


def test_environment_is_validated_once_and_its_kernelspec_carries_to_config():
    env = build_environment("torch", {"image": "python:3.12", "gpus": 1, "memory": "2g", "env": {"A": "1"}}, "user")
    assert env.settings.gpus == GPURequest("count", count=1) and env.settings.memory == 2 * 1024**3
    assert env.settings.environment == "torch"
    config = env.kernel_spec().metadata["kernel_provisioner"]["config"]
    assert config == env.settings.to_config()
    assert KernelSettings.from_config(config) == env.settings
    assert env.to_json()["memory"] == "2g" and env.stored()["gpus"] == "1"  # as the user wrote it
    with pytest.raises(SpecError) as e:
        build_environment("bad", {"image": "python:3.12", "memory": "lots"}, "user")
    assert e.value.field == "memory"


def test_orphan_timeout_reaches_the_kernelspec_and_the_provisioner(tmp_path, monkeypatch, capsys):
    """An environment's orphan_timeout (REST field or `envs add --orphan-timeout`) is validated and
    becomes the provisioner config of its kernelspec; unset keeps the provisioner's default."""
    from jupyter_gpu_kernels import cli
    from jupyter_gpu_kernels.kernel.provisioner import GPUDockerProvisioner

    env = build_environment("short", {"image": "python:3.12", "orphan_timeout": 5}, "user")
    config = env.kernel_spec().metadata["kernel_provisioner"]["config"]
    assert config["orphan_timeout"] == 5.0
    assert GPUDockerProvisioner(config=Config({"GPUDockerProvisioner": config})).orphan_timeout == 5.0
    assert "orphan_timeout" not in build_environment("dflt", {"image": "python:3.12"}, "user").settings.to_config()
    assert KernelSettings.from_config({"image": "x", "orphan_timeout": "0"}).orphan_timeout == 0.0
    for bad in (-1, "nan", "1e9", True, "²", 10**9):
        with pytest.raises(SpecError) as e:
            build_environment("bad", {"image": "python:3.12", "orphan_timeout": bad}, "user")
        assert e.value.field == "orphan_timeout", bad
    for var, sub in (("JUPYTER_DATA_DIR", "data"), ("JUPYTER_CONFIG_DIR", "config")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    assert cli.main(["envs", "add", "quick", "--image", "python:3.12", "--orphan-timeout", "7"]) == 0
    stored = json.loads((tmp_path / "config" / "gpu_kernels" / "environments.json").read_text())
    assert stored["environments"]["quick"]["orphan_timeout"] == 7.0
    assert cli.main(["envs", "add", "bad", "--image", "python:3.12", "--orphan-timeout", "-3"]) == 2
    assert "orphan_timeout" in capsys.readouterr().err


def test_entrypoint_round_trips_through_settings_environment_and_cli(tmp_path, monkeypatch, capsys):
    """entrypoint: unset keeps the image's (not in the config), [] clears it, a list replaces it; an
    environment's reaches its kernelspec and the provisioner; `envs add/edit --entrypoint` (JSON or words)."""
    from jupyter_gpu_kernels import cli
    from jupyter_gpu_kernels.kernel.provisioner import GPUDockerProvisioner

    for value in ([], ["tini", "-g", "--"]):
        ks = KernelSettings.from_config({"image": "x", "entrypoint": value})
        assert ks.entrypoint == tuple(value) and ks.to_config()["entrypoint"] == value
        assert KernelSettings.from_config(ks.to_config()) == ks
    assert "entrypoint" not in KernelSettings.from_config({"image": "x", "entrypoint": None}).to_config()
    for bad in ("sh -c", ["sh", 5], {"a": 1}, 3):
        with pytest.raises(SpecError) as e:
            KernelSettings.from_config({"image": "x", "entrypoint": bad})
        assert e.value.field == "entrypoint", bad
    env = build_environment("noep", {"image": "python:3.12", "entrypoint": []}, "user")
    config = env.kernel_spec().metadata["kernel_provisioner"]["config"]
    assert config["entrypoint"] == [] and env.to_json()["entrypoint"] == []
    assert GPUDockerProvisioner(config=Config({"GPUDockerProvisioner": config})).entrypoint == []
    for var, sub in (("JUPYTER_DATA_DIR", "data"), ("JUPYTER_CONFIG_DIR", "config")):
        monkeypatch.setenv(var, str(tmp_path / sub))

    def stored():
        return json.loads((tmp_path / "config" / "gpu_kernels" / "environments.json").read_text())

    assert cli.main(["envs", "add", "ep", "--image", "python:3.12", "--entrypoint", "[]"]) == 0
    assert stored()["environments"]["ep"]["entrypoint"] == []
    assert cli.main(["envs", "edit", "ep", "--entrypoint", "tini -g --"]) == 0
    assert stored()["environments"]["ep"]["entrypoint"] == ["tini", "-g", "--"]
    assert cli.main(["envs", "edit", "ep", "--entrypoint", '["/bin/sh", "-c"]']) == 0
    assert stored()["environments"]["ep"]["entrypoint"] == ["/bin/sh", "-c"]
    assert cli.main(["envs", "edit", "ep", "--entrypoint", "null"]) == 0
    assert stored()["environments"]["ep"]["entrypoint"] is None
    assert cli.main(["envs", "edit", "ep", "--entrypoint", '["sh", 5]']) == 2
    assert "entrypoint" in capsys.readouterr().err


def test_a_broken_admin_environment_is_skipped_with_a_warning(config_dir, caplog):
    store = GPUKernelsEnvironments(
        config=Config(
            {
                "GPUKernelsEnvironments": {
                    "environments": {"ok": {"image": "python:3.12"}, "broken": {"image": "python:3.12", "gpus": "two"}}
                }
            }
        )
    )
    with caplog.at_level(logging.WARNING):
        assert [e.name for e in store.all()] == ["ok"]
    assert "broken" in caplog.text and "GPU spec" in caplog.text


# ------------------------------------------------------------------ section names
@pytest.mark.parametrize(
    "cls,old,trait,value",
    [
        (GPUKernelsHosts, "DockerHosts", "local_url", "unix:///old.sock"),
        (GPUKernelsEnvironments, "Environments", "environments", {"e": {"image": "python:3.12"}}),
        (GPUKernelsImagePolicy, "ImagePolicy", "allowed_images", ["python:*"]),
    ],
)
def test_old_section_names_still_work_and_warn(cls, old, trait, value, caplog):
    with (
        caplog.at_level(logging.WARNING),
        pytest.warns(DeprecationWarning, match=f"c.{old} is deprecated.*c.{cls.__name__}"),
    ):
        obj = cls(config=Config({old: {trait: value}}))
    assert getattr(obj, trait) == value
    assert f"c.{cls.__name__}" in caplog.text
    # the new name wins over the old one
    new_value = type(value)() if not isinstance(value, str) else "unix:///new.sock"
    with pytest.warns(DeprecationWarning):
        both = cls(config=Config({old: {trait: value}, cls.__name__: {trait: new_value}}))
    assert getattr(both, trait) == new_value


def test_new_section_names_do_not_warn(recwarn):
    GPUKernelsHosts(config=Config({"GPUKernelsHosts": {"local_url": "unix:///x.sock"}}))
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]
    assert DockerHosts is GPUKernelsHosts  # the old import name


# ------------------------------------------------------------------ Settings
class Node:
    def __init__(self, parent=None, config=None):
        self.parent, self.config = parent, config or Config()


def test_for_parent_finds_the_attached_settings_up_the_chain(config_dir):
    server = Node()
    settings = Settings(Config({"GPUKernelsHosts": {"local_url": "unix:///server.sock"}})).attach(server)
    provisioner = Node(Node(Node(server)))  # provisioner → KernelManager → MultiKernelManager → ServerApp
    assert Settings.for_parent(provisioner) is settings
    assert Settings.for_parent(provisioner).hosts.get("local").url == "unix:///server.sock"
    assert settings.environments.hosts is settings.hosts  # one registry, passed down
    assert settings.environments.image_policy is settings.image_policy


def test_for_parent_finds_it_in_the_web_app_settings(config_dir):
    settings = Settings(Config())
    server = Node()
    server.web_app = type("WebApp", (), {"settings": {"gpu_kernels_settings": settings}})()
    assert Settings.for_parent(Node(Node(server))) is settings


def test_outside_a_server_one_settings_per_process_from_the_config_files(config_dir):
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"GPUKernelsHosts": {"hosts": {"box": {"url": "ssh://me@box"}}}})
    )
    first = Settings.for_parent(Node())
    assert first.hosts.get("box").url == "ssh://me@box"
    assert Settings.for_parent(Node(Node())) is first is Settings.for_process()
    # a changed config file is read again
    path = config_dir / "jupyter_server_config.json"
    path.write_text(json.dumps({"GPUKernelsHosts": {"hosts": {"box": {"url": "ssh://me@box2"}}}}))
    os.utime(path, ns=(os.stat(path).st_mtime_ns + 10**9,) * 2)
    second = Settings.for_process()
    assert second is not first and second.hosts.get("box").url == "ssh://me@box2"
    Settings.reset()
    assert Settings.for_process() is not second


def test_a_parent_config_goes_on_top_of_the_files(config_dir, tmp_path, monkeypatch):
    admin = tmp_path / "admin"  # the image policy is read from admin config dirs only (#11)
    admin.mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(admin))
    (admin / "jupyter_server_config.json").write_text(
        json.dumps({"GPUKernelsImagePolicy": {"allowed_images": ["python:*"]}})
    )
    km = Node(config=Config({"GPUKernelsImagePolicy": {"allowed_images": ["busybox"]}}))
    settings = Settings.for_parent(Node(km))
    assert settings.image_policy.allowed_images == ["busybox"]
    assert Settings.for_parent(km) is settings  # made once for that object
    assert Settings.for_process().image_policy.allowed_images == ["python:*"]


def test_another_kernel_spec_manager_is_wrapped_with_a_clear_warning(config_dir, caplog):
    from types import SimpleNamespace

    from jupyter_client.kernelspec import KernelSpecManager

    from jupyter_gpu_kernels.environments import GPUKernelSpecManager, install_kernelspec_manager

    class CustomKSM(KernelSpecManager):
        pass

    custom = CustomKSM()
    from traitlets.config import LoggingConfigurable

    app = LoggingConfigurable(log=logging.getLogger("test-serverapp"))  # stands for the ServerApp
    app.kernel_spec_manager = custom
    app.kernel_manager = SimpleNamespace(kernel_spec_manager=custom)
    app.web_app = SimpleNamespace(settings={"kernel_spec_manager": custom})
    store = GPUKernelsEnvironments(
        config=Config({"GPUKernelsEnvironments": {"environments": {"e": {"image": "python:3.12"}}}})
    )
    with caplog.at_level(logging.WARNING):
        ksm = install_kernelspec_manager(app, store)
    assert isinstance(ksm, GPUKernelSpecManager) and ksm.wrapped is custom and ksm.environments is store
    assert app.kernel_spec_manager is ksm and app.kernel_manager.kernel_spec_manager is ksm
    assert app.web_app.settings["kernel_spec_manager"] is ksm
    assert "CustomKSM" in caplog.text and "GPUKernelSpecManager" in caplog.text and "wrapping" in caplog.text
    assert "gpu-e" in ksm.find_kernel_specs()
    assert install_kernelspec_manager(app, store) is ksm  # idempotent
