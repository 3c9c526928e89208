"""Bad input (issue #11): each refused with a 400 naming the field (REST) or one line and exit 2
(CLI), before anything exists; and hand-written files cannot smuggle the same values in.

REST tests run a real Jupyter server (jp_fetch); CLI tests run ``python -m jupyter_gpu_kernels.cli``
as a subprocess with its own config and data dirs; the ssh test runs a recording ``ssh`` on PATH.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_gpu_kernels.errors import HostError, SpecError
from jupyter_gpu_kernels.hosts.registry import DockerHost, check_host_url
from jupyter_gpu_kernels.hosts.ssh import SSHTunnel
from jupyter_gpu_kernels.specs.gpus import parse_gpus
from jupyter_gpu_kernels.specs.resources import parse_cpus, parse_mount, parse_size

IMAGE = "python:3.12"

# (field, value, what the message says)
BAD_FIELDS = [
    ("gpus", "²", "invalid GPU spec"),
    ("gpus", "١", "invalid GPU spec"),
    ("gpus", "device=١", "invalid GPU spec"),
    ("cpus", "nan", "invalid cpus"),
    ("cpus", "inf", "invalid cpus"),
    ("cpus", -1, "invalid cpus"),
    ("cpus", "١", "invalid cpus"),
    ("memory", "nan", "invalid memory limit"),
    ("memory", "-5g", "invalid memory limit"),
    ("shm_size", "1e9", "invalid shm size"),
    ("env", {"A=B": "x"}, "invalid environment variable name"),
    ("env", {"A\n": "x"}, "invalid environment variable name"),
    ("env", {"A": "x\x00y"}, "NUL"),
    ("mounts", ["relative:/x"], "neither an absolute host path nor a named volume"),
    ("mounts", ["volume:bad name:/x"], "not a volume name"),
    ("mounts", ["/tmp\n:/x"], "control characters"),
]


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}}, "ImagePolicy": {"allowed_images": []}}


async def _post(jp_fetch, *parts, body, method="POST"):
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("gpu-kernels", "api", *parts, method=method, body=raw)
    return e.value.code, json.loads(e.value.response.body)


def _kernel_dirs() -> list[str]:
    from jupyter_core.paths import jupyter_data_dir

    kernels = Path(jupyter_data_dir()) / "kernels"
    return sorted(os.listdir(kernels)) if kernels.is_dir() else []


async def test_rest_refuses_bad_fields_naming_them(jp_fetch):
    kernel_dirs = _kernel_dirs()
    for field, value, message in BAD_FIELDS:
        code, reply = await _post(jp_fetch, "environments", body={"name": "x", "image": IMAGE, field: value})
        assert code == 400 and reply["field"] == field and message in reply["message"], (field, value, reply)
    # a bare float body value Python's JSON reader takes: Infinity
    code, reply = await _post(jp_fetch, "environments", body='{"name": "x", "image": "python:3.12", "cpus": Infinity}')
    assert (code, reply["field"]) == (400, "cpus")
    for name in ("x\n", "x\r", "x\x00", "١"):
        code, reply = await _post(jp_fetch, "environments", body={"name": name, "image": IMAGE})
        assert code == 400 and reply["field"] == "name" and "invalid name" in reply["message"], (name, reply)
    code, reply = await _post(jp_fetch, "environments", body={"name": "x", "image": "python:3.12\nx"})
    assert (code, reply["field"]) == (400, "image")
    listed = json.loads((await jp_fetch("gpu-kernels", "api", "environments")).body)["environments"]
    assert listed == [] and _kernel_dirs() == kernel_dirs  # nothing created by any refused request


async def test_rest_refuses_malformed_bodies(jp_fetch):
    await jp_fetch("gpu-kernels", "api", "environments", method="POST", body=json.dumps({"name": "ok", "image": IMAGE}))
    for parts, method in (
        (("environments",), "POST"),
        (("environments", "ok"), "PUT"),
        (("hosts", "local", "images", "pull"), "POST"),
    ):
        for body, message in (
            ("{not json", "not valid JSON"),
            ("[1, 2]", "must be a JSON object"),
            (b"\xff\xfe", "not UTF-8"),
            ('"text"', "must be a JSON object"),
        ):
            code, reply = await _post(jp_fetch, *parts, body=body, method=method)
            assert code == 400 and message in reply["message"], (parts, body, reply)
    env = json.loads((await jp_fetch("gpu-kernels", "api", "environments", "ok")).body)
    assert env["image"] == IMAGE  # unchanged by the refused PUTs


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_PATH": "",
        "JUPYTER_CONFIG_PATH": "",
    }
    return subprocess.run(
        [sys.executable, "-m", "jupyter_gpu_kernels.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


CLI_CASES = [
    ["envs", "add", "x", "--image", IMAGE, "--gpus", "²"],
    ["envs", "add", "x", "--image", IMAGE, "--gpus", "١"],
    ["envs", "add", "x\n", "--image", IMAGE],
    ["envs", "add", "x", "--image", IMAGE, "--cpus", "nan"],
    ["envs", "add", "x", "--image", IMAGE, "--env", "A\n=1"],
    ["envs", "add", "x", "--image", IMAGE, "--mount", "relative:/x"],
    ["install", "k\n", "--user", "--image", IMAGE],
    ["install", "k", "--user", "--image", IMAGE, "--gpus", "²"],
    ["install", "k", "--user", "--image", IMAGE, "--cpus", "inf"],
    ["install", "k", "--user", "--image", IMAGE, "--mount", "relative:/x"],
    ["hosts", "add", "h", "ssh://-oProxyCommand=touch /tmp/jgk-pwned"],
    ["hosts", "add", "h", "ssh://-oProxyCommand=x"],
    ["hosts", "add", "h", "ssh://h;touch"],
    ["hosts", "add", "h", "ssh://-l@h"],
    ["hosts", "add", "h", "unix:///etc/passwd"],
    ["hosts", "add", "h\n", "ssh://gpu-box"],
]


@pytest.mark.parametrize("args", CLI_CASES, ids=[repr(c[2:]) for c in CLI_CASES])
def test_cli_refuses_bad_input_in_one_line(tmp_path, args):
    r = _cli(tmp_path, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    left = [str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()]
    assert not left, left  # no environment, kernelspec or hosts file written


def test_parsers_take_ascii_and_finite_values_only():
    assert parse_gpus("2").count == 2 and parse_gpus("device=0,1").devices == ("0", "1")
    for bad in ("²", "١٢", "device=٠", "device=0\n1", "nvidia.com/gpu=0\nx"):
        with pytest.raises(SpecError):
            parse_gpus(bad)
    assert parse_cpus("0.5") == 0.5 and parse_cpus(2) == 2.0
    for bad in ("nan", "inf", "-inf", float("nan"), float("inf"), -1, "1_0", "١", "1e3", True):
        with pytest.raises(SpecError, match="invalid cpus"):
            parse_cpus(bad)
    for bad in (float("nan"), float("inf"), -1, "8g\n1", "١g"):
        with pytest.raises(SpecError):
            parse_size(bad)
    assert parse_mount("volume:data:/x:ro").is_volume and not parse_mount("/tmp:/x").is_volume


@pytest.mark.parametrize(
    "url",
    [
        "ssh://-oProxyCommand=touch",
        "ssh://h;cmd",
        "ssh://h|x",
        "ssh://h$(id)",
        "ssh://h`id`",
        "ssh://user@-h",
        "ssh://-luser@h",
        "ssh://h ost",
        "ssh://h\nost",
        "ssh://u:pw@h",
        "unix:///etc/passwd",
        "unix://h/x.sock",
        "tcp://-h:2376",
        "tcp://u@h:2376",
        "context://-x",
        "ssh://h/path",
        "ssh://h?x",
        "ftp://h",
    ],
)
def test_host_urls_are_parsed_strictly(url):
    with pytest.raises(SpecError, match="invalid Docker host URL"):
        check_host_url(url)


def test_good_host_urls_still_pass(tmp_path):
    for url in (
        "ssh://me@gpu-box:2222",
        "ssh://gpu-box",
        "ssh://[::1]:22",
        "tcp://10.0.0.5:2376",
        "unix:///var/run/docker.sock",
        f"unix://{tmp_path}/not-yet.sock",
        "context://my-ctx",
    ):
        assert check_host_url(url) == url


def test_ssh_never_takes_the_host_for_an_option(tmp_path, monkeypatch):
    """A recording ``ssh`` on PATH: the destination always follows ``--``; a dash host is refused."""
    log = tmp_path / "argv"
    fake = tmp_path / "bin" / "ssh"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" >> {log}\necho 'fake ssh: no' >&2\nexit 255\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    monkeypatch.setenv("JGK_SSH_DIR", str(tmp_path / "s"))
    with pytest.raises(HostError, match="not reachable"):
        SSHTunnel(DockerHost("box", "ssh://me@gpu-box:2222")).ensure()
    argv = log.read_text().splitlines()
    assert argv[-2:] == ["--", "gpu-box"], argv
    with pytest.raises(HostError):
        SSHTunnel(DockerHost("evil", "ssh://-oProxyCommand=touch@x"))


def _spec(name: str, config: dict, env: dict | None = None) -> None:
    from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json, provisioner_config

    spec = kernel_json(name, provisioner_config(**config))
    if env is not None:
        spec["env"] = env
    install(name, spec, user=True)


@pytest.mark.docker
async def test_jpy_api_token_never_reaches_the_container(
    jp_fetch, test_image, docker_client, monkeypatch, no_leftovers
):
    monkeypatch.setenv("JPY_API_TOKEN", "hub-secret-token")
    monkeypatch.setenv("JPY_PARENT_PID", "1")
    _spec("jpy", {"image": test_image})
    body = {"path": "work/a.ipynb", "type": "notebook", "kernel": {"name": "jpy"}}
    session = json.loads((await jp_fetch("api", "sessions", method="POST", body=json.dumps(body))).body)
    try:
        c = docker_client.containers.get(f"jupyter-kernel-{session['kernel']['id']}")
        env = dict(e.split("=", 1) for e in c.attrs["Config"]["Env"])
        assert "JPY_API_TOKEN" not in env and "JPY_PARENT_PID" not in env
        assert "hub-secret-token" not in json.dumps(c.attrs)
        assert env["JPY_SESSION_NAME"].endswith("work/a.ipynb")
    finally:
        await jp_fetch("api", "sessions", session["id"], method="DELETE")


@pytest.mark.docker
async def test_kernelspec_env_with_a_bad_name_is_refused(jp_fetch, test_image, jp_serverapp, no_leftovers):
    for env, what in (({"A=B": "x"}, "A=B"), ({"A\nB": "x"}, "A\\nB"), ({"A": "x\x00"}, "NUL")):
        _spec("badenv", {"image": test_image}, env=env)
        with pytest.raises(HTTPClientError) as e:
            await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "badenv"}))
        reply = json.loads(e.value.response.body)
        assert e.value.code == 400 and what in reply["message"], reply
        assert not jp_serverapp.kernel_manager.list_kernel_ids()


@pytest.mark.docker
async def test_hand_written_host_with_an_ssh_option_is_skipped(jp_fetch, tmp_path):
    from jupyter_core.paths import jupyter_config_dir

    marker = tmp_path / "pwned"
    hosts = Path(jupyter_config_dir()) / "gpu_kernels" / "hosts.json"
    hosts.parent.mkdir(parents=True, exist_ok=True)
    hosts.write_text(
        json.dumps(
            {
                "hosts": {
                    "evil": {"url": f"ssh://-oProxyCommand=touch {marker}"},
                    "evil2": {"url": f"ssh://-oProxyCommand=touch%20{marker}@x"},
                    "passwd": {"url": "unix:///etc/passwd"},
                }
            }
        )
    )
    listed = json.loads((await jp_fetch("gpu-kernels", "api", "hosts")).body)["hosts"]
    assert [h["name"] for h in listed] == ["local"] and not marker.exists()
