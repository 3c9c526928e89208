"""The admin KernelPolicy and the container boundary, attacked end to end (issue #11, part 2).

A real Jupyter server (pytest-jupyter's ``jp_fetch``) and the real daemon. The policy comes from
a SYSTEM config dir (``jp_system_config_path``); the user's config dir (``JUPYTER_CONFIG_DIR``)
tries to override it. The server's root dir is the user's HOME (the common default), which holds
the user's Jupyter config and data dirs. The server runs as root here, so the admin config sets
``allow_root_user = False`` and the kernels' user to 1000:1000.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_gpu_kernels.daemon import labels as L
from jupyter_gpu_kernels.kernel.kernelspecs import install, kernel_json

pytestmark = pytest.mark.docker

USER_OVERRIDE = {
    "KernelPolicy": {
        "allowed_images": ["*"],
        "allowed_mount_sources": ["/"],
        "allow_root_user": True,
        "allowed_capabilities": ["ALL"],
    },
    "GPUKernelsImagePolicy": {"allowed_images": []},
}


@pytest.fixture
def jp_root_dir(jp_home_dir):
    os.chmod(jp_home_dir, 0o777)  # the kernel's uid 1000 writes notebooks here
    return jp_home_dir


@pytest.fixture
def jp_config_dir(jp_home_dir):
    d = jp_home_dir / ".jupyter"
    d.mkdir(exist_ok=True)
    (d / "jupyter_server_config.json").write_text(json.dumps(USER_OVERRIDE))  # the user's attempt
    return d


@pytest.fixture
def jp_data_dir(jp_home_dir):
    d = jp_home_dir / ".local" / "share" / "jupyter"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture
def jp_server_config(jp_system_config_path, test_image):
    (jp_system_config_path / "jupyter_server_config.json").write_text(
        json.dumps(
            {"KernelPolicy": {"allowed_images": [test_image], "allow_root_user": False, "max_gpus_per_kernel": 1}}
        )
    )
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}},
        "GPUDockerProvisioner": {"user": "1000:1000"},
    }


async def call(jp_fetch, *parts, method="GET", body=None, expect=200, params=None):
    try:
        r = await jp_fetch(
            *parts,
            method=method,
            body=None if body is None else json.dumps(body),
            allow_nonstandard_methods=True,
            params=params,
        )
        code, data = r.code, r.body
    except HTTPClientError as e:
        code, data = e.code, (e.response.body if e.response else b"")
    assert code == expect, (code, data)
    return json.loads(data) if data else None


def ours(kernel_leftovers, client):
    """Kernel containers made by this process (the in-process server): the daemon is shared with
    concurrent sessions and a developer's own server, whose kernels are not this test's."""
    me = f"{socket.gethostname()}:{os.getpid()}"
    return [c for c in kernel_leftovers(client) if (c.labels or {}).get(L.SERVER) == me]


def nothing_left(jp_serverapp, docker_client, kernel_leftovers, jp_runtime_dir):
    assert not jp_serverapp.kernel_manager.list_kernel_ids()
    assert not ours(kernel_leftovers, docker_client), "no container"
    assert not [f for f in os.listdir(jp_runtime_dir) if f.startswith("kernel-")], "no connection file"


@pytest.mark.parametrize(
    "field,value,rule",
    [
        ("mounts", ["/:/host"], "allowed_mount_sources"),
        ("mounts", ["/var/run/docker.sock:/var/run/docker.sock"], "allowed_mount_sources"),
        ("mounts", ["/etc:/etc2:ro"], "allowed_mount_sources"),
        ("mounts", ["{home}:/.jupyter-gpu-kernels"], "connection directory"),
        ("mounts", ["{home}/.jupyter:/cfg"], "kernels may not see"),
        ("image", "{plain}", "KernelPolicy.allowed_images"),
    ],
)
async def test_rest_environment_attacks_are_refused(
    jp_fetch,
    jp_home_dir,
    test_image,
    plain_image,
    field,
    value,
    rule,
    jp_serverapp,
    docker_client,
    kernel_leftovers,
    jp_runtime_dir,
):
    fill = lambda v: v.format(home=jp_home_dir, plain=plain_image)  # noqa: E731
    value = [fill(v) for v in value] if isinstance(value, list) else fill(value)
    body = {"name": "evil", "image": test_image, field: value}
    out = await call(jp_fetch, "gpu-kernels", "api", "environments", method="POST", body=body, expect=403)
    assert rule in out["message"], out
    assert "evil" not in [
        e["name"] for e in (await call(jp_fetch, "gpu-kernels", "api", "environments"))["environments"]
    ]
    nothing_left(jp_serverapp, docker_client, kernel_leftovers, jp_runtime_dir)


@pytest.mark.parametrize(
    "config,rule",
    [
        ({"user": "0"}, "KernelPolicy.allow_root_user"),
        ({"user": "root"}, "KernelPolicy.allow_root_user"),
        ({"cap_drop": []}, "KernelPolicy.allowed_capabilities"),
        ({"mounts": ["/:/host"]}, "KernelPolicy.allowed_mount_sources"),
        ({"gpus": "nvidia.com/gpu=all"}, "KernelPolicy.max_gpus_per_kernel"),  # issue #19, 3: counted as one
    ],
)
async def test_a_planted_user_kernelspec_cannot_leave_the_policy(
    jp_fetch, test_image, config, rule, jp_serverapp, docker_client, kernel_leftovers, jp_runtime_dir
):
    spec = kernel_json("sneaky", {})
    spec["metadata"]["kernel_provisioner"] = {
        "provisioner_name": "gpu-docker-provisioner",
        "config": {"image": test_image, **config},
    }
    install("sneaky", spec, user=True)  # ~/.local/share/jupyter/kernels, as a kernel could
    out = await call(jp_fetch, "api", "kernels", method="POST", body={"name": "sneaky"}, expect=403)
    assert rule in out["message"], out
    nothing_left(jp_serverapp, docker_client, kernel_leftovers, jp_runtime_dir)


@pytest.mark.parametrize("name", ["NVIDIA_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"])
async def test_gpu_choosing_variables_are_reserved(
    jp_fetch, test_image, name, jp_serverapp, docker_client, kernel_leftovers, jp_runtime_dir
):
    """Issue #19, 3: with the NVIDIA runtime, NVIDIA_VISIBLE_DEVICES=all in a kernel's env gave it every GPU
    past the allocator and max_gpus_per_kernel; an environment or a kernelspec setting one is refused."""
    out = await call(
        jp_fetch,
        "gpu-kernels",
        "api",
        "environments",
        method="POST",
        body={"name": "evil", "image": test_image, "env": {name: "all"}},
        expect=400,
    )
    assert f"environment variable {name} is reserved" in out["message"] and out.get("field") == "env", out
    spec = kernel_json("sneaky", {})
    spec["metadata"]["kernel_provisioner"] = {
        "provisioner_name": "gpu-docker-provisioner",
        "config": {"image": test_image, "env": {name: "all"}},
    }
    install("sneaky", spec, user=True)
    out = await call(jp_fetch, "api", "kernels", method="POST", body={"name": "sneaky"}, expect=400)
    assert f"environment variable {name} is reserved" in out["message"], out
    nothing_left(jp_serverapp, docker_client, kernel_leftovers, jp_runtime_dir)


async def test_user_hosts_file_cannot_run_commands(jp_fetch, jp_config_dir, tmp_path):
    marker = tmp_path / "pwned"
    (jp_config_dir / "gpu_kernels").mkdir(exist_ok=True)
    (jp_config_dir / "gpu_kernels" / "hosts.json").write_text(
        json.dumps(
            {
                "hosts": {
                    "evil": {
                        "url": "ssh://nobody@127.0.0.1:1",
                        "options": {"ssh_options": [f"-oProxyCommand=touch {marker}"]},
                    }
                }
            }
        )
    )
    out = await call(jp_fetch, "gpu-kernels", "api", "hosts")
    assert "evil" in [h["name"] for h in out["hosts"]]
    await asyncio.sleep(1)
    assert not marker.exists(), "the ProxyCommand from the user's file ran"


async def test_the_user_config_dir_cannot_widen_the_allowlist(jp_fetch, plain_image, docker_client):
    from jupyter_gpu_kernels.daemon import interpreters

    plain_id = docker_client.images.get(plain_image).id
    interpreters.forget(plain_id)
    out = await call(jp_fetch, "gpu-kernels", "api", "hosts", "local", "images", params={"detect": "1"})
    row = next(i for i in out["images"] if i["id"] == plain_id)
    assert row["allowed"] is False
    assert interpreters.cached(plain_id) == (False, None), "a disallowed image was probed"
    out = await call(
        jp_fetch,
        "gpu-kernels",
        "api",
        "hosts",
        "local",
        "images",
        "pull",
        method="POST",
        body={"image": plain_image},
        expect=403,
    )
    assert "KernelPolicy.allowed_images" in out["message"]


async def test_kernel_cannot_write_the_servers_files_but_can_write_notebooks(
    jp_fetch, jp_home_dir, test_image, jp_serverapp, docker_client, kernel_leftovers
):
    await call(
        jp_fetch,
        "gpu-kernels",
        "api",
        "environments",
        method="POST",
        body={"name": "plain", "image": test_image},
        expect=201,
    )
    kernel = await call(jp_fetch, "api", "kernels", method="POST", body={"name": "gpu-plain"}, expect=201)
    km = jp_serverapp.kernel_manager.get_kernel(kernel["id"])
    code = (
        "import os, json\n"
        "res = {}\n"
        f"for p in [{str(jp_home_dir / '.jupyter' / 'gpu_kernels' / 'hosts.json')!r},"
        f" {str(jp_home_dir / '.local' / 'share' / 'jupyter' / 'kernels' / 'x' / 'kernel.json')!r},"
        f" {str(jp_home_dir / '.ssh' / 'config')!r}, {str(jp_home_dir / '.pip' / 'pip.conf')!r},"
        f" {str(jp_home_dir / '.local' / 'bin' / 'ssh')!r},"
        f" {str(jp_home_dir / '.local' / 'lib' / 'python3.11' / 'site-packages' / 'x.pth')!r},"
        f" {str(jp_home_dir / 'notebook.txt')!r}]:\n"
        "    try:\n"
        "        os.makedirs(os.path.dirname(p), exist_ok=True); open(p, 'w').write('x'); res[p] = 'ok'\n"
        "    except OSError as e:\n"
        "        res[p] = type(e).__name__\n"
        "print(json.dumps(res))\n"
    )

    kc = km.client()  # the server's manager is async, so is its client
    kc.start_channels()
    stdout: list[str] = []

    def hook(msg):
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            stdout.append(msg["content"]["text"])

    try:
        await kc.wait_for_ready(60)
        reply = await kc.execute_interactive(code, output_hook=hook, timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        out = {"stdout": "".join(stdout)}
        res = json.loads(out["stdout"].strip().splitlines()[-1])
    finally:
        kc.stop_channels()
        await call(jp_fetch, "api", "kernels", kernel["id"], method="DELETE", expect=204)
    assert res.pop(str(jp_home_dir / "notebook.txt")) == "ok"
    assert (jp_home_dir / "notebook.txt").read_text() == "x"
    assert all(v != "ok" for v in res.values()), res
    assert not (jp_home_dir / ".jupyter" / "gpu_kernels" / "hosts.json").exists()
    assert not (jp_home_dir / ".ssh" / "config").exists()
    assert not ours(kernel_leftovers, docker_client)
