"""Errors as types: each carries its HTTP status and, where it is about one setting, the ``field``;
``errors.http_reply`` is the one mapping to an HTTP status and JSON body. The sidebar's form puts
a message at the field the server names (labextension/src/formState.ts: ``saveError``), so the
server must name it for every bad setting the form has (these cases were the sidebar's regular
expressions over the English messages before). No Docker.
"""

from types import SimpleNamespace

import pytest
from traitlets.config import Config

from jupyter_gpu_kernels.daemon import labels as L
from jupyter_gpu_kernels.daemon.commits import AmbiguousKernelId, KernelNotFound, find_kernel_container
from jupyter_gpu_kernels.environments import EnvironmentNotFound, ReadOnlyEnvironment
from jupyter_gpu_kernels.environments.model import build_environment
from jupyter_gpu_kernels.environments.store import GPUKernelsEnvironments
from jupyter_gpu_kernels.errors import (
    HostError,
    ImageNotAllowedError,
    KernelLaunchError,
    KernelNotReadyError,
    SpecError,
    http_reply,
)
from jupyter_gpu_kernels.settings import Settings

IMAGE = "python:3.12"


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"env": {"1X": "a"}}, "env"),
        ({"memory": "lots"}, "memory"),
        ({"shm_size": "x"}, "shm_size"),
        ({"cpus": "-1"}, "cpus"),
        ({"gpus": "device=a,"}, "gpus"),
        ({"mounts": ["/a"]}, "mounts"),
        ({"pull_policy": "sometimes"}, "pull_policy"),
        ({"entrypoint": "x"}, "entrypoint"),
        ({"display_name": 5}, "display_name"),
        ({"image": "UPPER:case"}, "image"),
    ],
)
def test_each_bad_setting_names_its_field(fields, field):
    with pytest.raises(SpecError) as e:
        build_environment("x", {"image": IMAGE, **fields}, "user")
    assert e.value.field == field
    status, body = http_reply(e.value)
    assert (status, body["field"]) == (400, field) and body["message"] == str(e.value)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "")
    monkeypatch.setattr("jupyter_core.paths.ENV_CONFIG_PATH", [])
    monkeypatch.setattr("jupyter_core.paths.SYSTEM_CONFIG_PATH", [])
    Settings.reset()
    config = Config(
        {
            "GPUKernelsEnvironments": {"environments": {"admin": {"image": IMAGE}}},
            "GPUKernelsImagePolicy": {"allowed_images": [IMAGE]},
        }
    )
    yield Settings(config).environments
    Settings.reset()


def test_store_errors_name_their_field_and_status(store: GPUKernelsEnvironments):
    cases = [
        ("Bad Name", {"image": IMAGE}, "name", 400),
        ("admin", {"image": IMAGE}, "name", 400),  # exists already
        ("x", {"image": IMAGE, "host": "nowhere"}, "host", 400),
        ("x", {"image": "busybox:1"}, "image", 403),  # not in the allowlist
    ]
    for name, data, field, status in cases:
        with pytest.raises(SpecError if field != "image" else ImageNotAllowedError) as e:
            store.create(name, data)
        assert (http_reply(e.value)[0], e.value.field) == (status, field), (name, data, e.value)
    with pytest.raises(ReadOnlyEnvironment) as e:
        store.update("admin", {"memory": "1g"})
    assert http_reply(e.value)[0] == 403
    with pytest.raises(EnvironmentNotFound) as e:
        store.get("nope")
    assert http_reply(e.value)[0] == 404 and "field" not in http_reply(e.value)[1]


def test_http_reply_is_the_one_mapping():
    assert http_reply(HostError("down"))[0] == 503
    assert http_reply(KernelNotReadyError("exited before it was ready"))[0] == 500
    assert http_reply(ValueError("not ours"), 418) == (418, {"message": "not ours", "reason": "not ours"})
    status, body = http_reply(KernelLaunchError("first line\nthe log"))
    assert (status, body["message"], body["reason"]) == (500, "first line\nthe log", "first line")
    assert issubclass(KernelNotReadyError, KernelLaunchError)


def _client(*kernel_ids: str):
    containers = [SimpleNamespace(labels={L.KERNEL_ID: k}) for k in kernel_ids]
    return SimpleNamespace(containers=SimpleNamespace(list=lambda **_kw: containers))


def test_an_ambiguous_kernel_id_is_its_own_type():
    client = _client("abc111", "abc222")
    with pytest.raises(AmbiguousKernelId) as e:
        find_kernel_container(client, "abc")
    assert isinstance(e.value, KernelNotFound) and http_reply(e.value)[0] == 404
    with pytest.raises(KernelNotFound) as e:
        find_kernel_container(client, "zzz")
    assert not isinstance(e.value, AmbiguousKernelId)
    assert find_kernel_container(client, "abc1").labels[L.KERNEL_ID] == "abc111"
