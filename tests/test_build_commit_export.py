"""Issue #12 (part 1): build from a Dockerfile, commit a kernel's container, export an environment.

Real daemons throughout: builds on the local daemon and on the SSH test host (context uploaded
through the tunnel), kernels from the built and the committed image, the exported ``docker run``
line run by the real docker CLI, the REST routes through a real Jupyter server.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess

import docker.errors
import pytest
import yaml

from jupyter_gpu_kernels import cli
from jupyter_gpu_kernels.daemon.builds import next_tag
from jupyter_gpu_kernels.daemon.commits import BASE_IMAGE, COMMITTED_FROM
from jupyter_gpu_kernels.daemon.labels import ENVIRONMENT, KERNEL_ID

from .kernel_helpers import install_spec, isolated_jupyter_dirs, run_cell, start_kernel, stop_kernel
from .support.admin_hosts import admin_host
from .support.image import file_in_image
from .support.tags import remove_tags as remove_images

pytestmark = pytest.mark.docker
REPO = "jgk-test-build"


def write_context(directory, base: str, run: str = "echo built > /tmp/marker") -> str:
    directory.mkdir(exist_ok=True)
    (directory / "Dockerfile").write_text(f"FROM {base}\nCOPY . /opt/ctx/\nRUN {run}\n")
    (directory / "keep.txt").write_text("keep")
    (directory / "secret.txt").write_text("must not reach the context")
    (directory / ".dockerignore").write_text("secret.txt\n")
    return str(directory)


def expected_pin(client, ref: str) -> str:
    """A RepoDigest when the image has one (another test may have pushed it), else the image id."""
    image = client.images.get(ref)
    return (image.attrs.get("RepoDigests") or [image.id])[0]


@pytest.fixture
def jdirs(tmp_path, monkeypatch):
    isolated_jupyter_dirs(tmp_path, monkeypatch)


@pytest.fixture
def built(docker_client):
    refs: list[str] = []
    yield refs
    remove_images(docker_client, *refs)


def test_next_tag():
    assert [next_tag(t) for t in ("v1", "1.1", "v9", "2024-01", "latest", "1.1-cuda")] == [
        "v2",
        "1.2",
        "v10",
        "2024-02",
        "latest-2",
        "1.2-cuda",
    ]


def test_build_kernel_commit_and_kernel_from_commit(
    jdirs, tmp_path, docker_client, test_image, built, capsys, no_leftovers
):
    tag, committed = f"{REPO}:v1", f"{REPO}:committed-v1"
    built += [tag, f"{REPO}:v2", committed]
    ctx = write_context(tmp_path / "ctx", test_image)
    assert cli.main(["build", ctx, "--tag", tag]) == 0
    out, err = capsys.readouterr()
    assert "Step 1/3 : FROM" in err and "Step 3/3 : RUN echo built" in err, err
    assert f"New environment: jupyter gpu-kernels envs add {REPO} --image {tag}" in out
    image = docker_client.images.get(tag)

    # the tag exists: refused (nothing rebuilt), with the next version suggested
    assert cli.main(["build", ctx, "--tag", tag]) == 1
    assert f"'{REPO}:v2'" in capsys.readouterr().err and docker_client.images.get(tag).id == image.id

    install_spec("built", tag, "--user")
    km, kc = start_kernel("built")
    try:
        r = run_cell(
            kc,
            "import os; print(sorted(os.listdir('/opt/ctx')), open('/tmp/marker').read().strip())\n"
            "with open('/tmp/state.txt', 'w') as f: f.write('kept by commit')",
        )
        assert r["stdout"].split("] ")[1].strip() == "built"
        assert "'keep.txt'" in r["stdout"] and "secret.txt" not in r["stdout"], r["stdout"]
        assert cli.main(["commit", km.kernel_id[:8], "--tag", committed, "--message", "state file"]) == 0
        out = capsys.readouterr().out
    finally:
        stop_kernel(km, kc, now=True)
    assert "added" in out and "/tmp/state.txt" in out and "Dockerfile" in out, out
    labels = docker_client.images.get(committed).labels
    assert labels[BASE_IMAGE] == tag and labels[COMMITTED_FROM] == km.kernel_id
    assert labels.get(KERNEL_ID) == "", "a container run from the image by hand is not a kernel"
    assert docker_client.images.get(committed).attrs["Comment"] == "state file"

    install_spec("fromcommit", committed, "--user")
    km, kc = start_kernel("fromcommit")
    try:
        assert run_cell(kc, "print(open('/tmp/state.txt').read())")["stdout"] == "kept by commit\n"
    finally:
        stop_kernel(km, kc, now=True)


def test_failed_build_leaves_no_tag_nor_containers(jdirs, tmp_path, docker_client, test_image, built, capsys):
    tag = f"{REPO}:fails"
    built.append(tag)
    ctx = write_context(tmp_path / "bad", test_image, run="false")
    before = {c.id for c in docker_client.containers.list(all=True)}
    assert cli.main(["build", ctx, "--tag", tag]) == 1
    err = capsys.readouterr().err
    assert "build of" in err and "step 3/3" in err and "Traceback" not in err, err
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(tag)
    assert {c.id for c in docker_client.containers.list(all=True)} == before


def test_build_and_commit_refusals(jdirs, tmp_path, docker_client, test_image, capsys):
    ctx = write_context(tmp_path / "ctx", test_image)
    assert cli.main(["build", ctx, "--tag", "Bad Tag"]) == 2
    assert cli.main(["build", str(tmp_path / "nowhere"), "--tag", f"{REPO}:x"]) == 2
    assert cli.main(["build", ctx]) == 2
    assert cli.main(["build", ctx, "--tag", f"{REPO}:x", "--build-arg", "novalue"]) == 2
    assert (
        cli.main(["build", ctx, "--tag", f"{REPO}:refused", "--GPUKernelsImagePolicy.allowed_images=['other/*']"]) == 1
    )
    assert "not allowed" in capsys.readouterr().err
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(f"{REPO}:refused")
    assert cli.main(["commit", "0000nokernel", "--tag", f"{REPO}:c"]) == 1
    assert "no kernel" in capsys.readouterr().err


def _inspect_created(line: str, name: str, command: list[str]) -> dict:
    """The exported ``docker run`` line, as ``docker create --name NAME … IMAGE COMMAND``: its inspect."""
    args = shlex.split(line)
    assert args[:4] == ["docker", "run", "--rm", "-it"]
    args = ["docker", "create", *args[4:]]
    at = args.index("--name")
    args[at + 1] = name
    image_at = max(i for i, a in enumerate(args) if a.startswith("sha256:") or "@sha256:" in a)
    args = [*args[: image_at + 1], *command]
    subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(subprocess.run(["docker", "inspect", name], check=True, capture_output=True, text=True).stdout)[0]


def test_export_run_line_runs_with_its_limits(request, jdirs, tmp_path, docker_client, test_image, capsys):
    volume = f"jgk-export-test-{os.getpid()}"
    docker_client.containers.run(
        test_image,
        ["python3", "-c", "open('/v/x.txt', 'w').write('mounted')"],
        user="0",
        volumes={volume: {"bind": "/v", "mode": "rw"}},
        remove=True,
    )
    request.addfinalizer(lambda: docker_client.volumes.get(volume).remove(force=True))
    assert (
        cli.main(
            [
                "envs",
                "add",
                "share",
                "--image",
                test_image,
                "--gpus",
                "device=0,2",
                "--memory",
                "256m",
                "--cpus",
                "0.5",
                "--shm-size",
                "64m",
                "--mount",
                f"volume:{volume}:/data:ro",
                "--env",
                "A=b c",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert cli.main(["envs", "export", "share", "--format", "run"]) == 0
    line = capsys.readouterr().out.strip()
    image_id = docker_client.images.get(test_image).id
    assert expected_pin(docker_client, test_image) in line and "'\"device=0,2\"'" in line, line
    name = f"jgk-export-test-{os.getpid()}"
    try:
        c = _inspect_created(line, name, ["python3", "-c", "print(1)"])
        hc = c["HostConfig"]
        assert c["Image"] == image_id
        assert hc["Memory"] == 256 * 1024**2 and hc["NanoCpus"] == 5 * 10**8 and hc["ShmSize"] == 64 * 1024**2
        assert hc["DeviceRequests"][0]["DeviceIDs"] == ["0", "2"] and hc["DeviceRequests"][0]["Capabilities"] == [
            ["gpu"]
        ]
        assert f"{volume}:/data:ro" in hc["Binds"] and hc["Init"] is True and hc["CapDrop"] == ["ALL"]
        assert hc["SecurityOpt"] == ["no-new-privileges"] and c["Config"]["User"] == f"{os.getuid()}:{os.getgid()}"
        assert "A=b c" in c["Config"]["Env"]
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)

    # without GPUs (this daemon has none) the line really runs: the mount, limits and user inside
    assert cli.main(["envs", "edit", "share", "--gpus", "none"]) == 0
    capsys.readouterr()
    assert cli.main(["envs", "export", "share"]) == 0
    args = shlex.split(capsys.readouterr().out.strip())
    args = [a for a in args[:-3] if a != "-it"] + [
        "python3",
        "-c",
        "import os; print(open('/data/x.txt').read(), os.getuid(), os.environ['A'])",
    ]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["mounted", str(os.getuid()), "b", "c"]


def test_export_compose_dockerfile_json(jdirs, docker_client, test_image, capsys):
    assert cli.main(["envs", "add", "comp", "--image", test_image, "--gpus", "2", "--memory", "1g", "--cpus", "2"]) == 0
    capsys.readouterr()
    assert cli.main(["envs", "export", "comp", "--format", "compose"]) == 0
    service = yaml.safe_load(capsys.readouterr().out)["services"]["comp"]
    image_id = expected_pin(docker_client, test_image)
    assert service["image"] == image_id
    assert service["deploy"]["resources"]["reservations"]["devices"] == [
        {"driver": "nvidia", "capabilities": ["gpu"], "count": 2}
    ]
    assert service["deploy"]["resources"]["limits"] == {"memory": "1g", "cpus": "2"}
    assert service["cap_drop"] == ["ALL"] and service["init"] is True and service["shm_size"] == "2g"
    assert cli.main(["envs", "edit", "comp", "--gpus", "device=1"]) == 0
    capsys.readouterr()
    assert cli.main(["envs", "export", "comp", "--format", "compose"]) == 0
    devices = yaml.safe_load(capsys.readouterr().out)["services"]["comp"]["deploy"]["resources"]["reservations"]
    assert devices["devices"][0]["device_ids"] == ["1"]
    assert cli.main(["envs", "export", "comp", "--format", "dockerfile"]) == 0
    text = capsys.readouterr().out
    assert f"FROM {image_id}\n" in text and "ipykernel" in text
    assert cli.main(["envs", "export", "comp", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["image"] == test_image and data["gpus"] == "device=1" and data["pinned_image"] == image_id
    assert cli.main(["envs", "export", "comp", "--format", "helm"]) == 2
    assert cli.main(["envs", "export", "nope"]) == 1


# --------------------------------------------------------------------------- REST
@pytest.fixture
def jp_server_config(test_image):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}},
        "GPUKernelsImagePolicy": {"allowed_images": [test_image, f"{REPO}:*"]},
    }


async def call(jp_fetch, *parts, method="GET", body=None, expect=200, **params):
    from tornado.httpclient import HTTPClientError

    try:
        r = await jp_fetch(
            "gpu-kernels",
            "api",
            *parts,
            method=method,
            params=params or None,
            body=None if body is None else json.dumps(body),
        )
    except HTTPClientError as e:
        assert e.code == expect, (e.code, e.response.body if e.response else None)
        return json.loads(e.response.body)
    assert r.code == expect, (r.code, r.body)
    return json.loads(r.body)


async def test_rest_build_commit_export(jp_fetch, jp_root_dir, tmp_path, docker_client, test_image, built):
    tag = f"{REPO}:rest-v1"
    built += [tag]
    write_context(jp_root_dir / "image", test_image)
    started = await call(
        jp_fetch, "hosts", "local", "images", "build", method="POST", body={"path": "image", "tag": tag}, expect=202
    )
    for _ in range(600):
        state = await call(jp_fetch, "hosts", "local", "images", "builds", started["id"])
        if state["status"] != "running":
            break
        await asyncio.sleep(0.1)
    assert state["status"] == "done", state
    assert (state["step"], state["steps"]) == (3, 3) and any("Step 2/3 : COPY" in ln for ln in state["log"])
    assert state["image_id"] == docker_client.images.get(tag).id
    # again: refused with the next version; outside the root: 403; not allowed: 403; bad body: 400
    reply = await call(
        jp_fetch, "hosts", "local", "images", "build", method="POST", body={"path": "image", "tag": tag}, expect=409
    )
    assert f"{REPO}:rest-v2" in reply["message"]
    write_context(tmp_path / "outside", test_image)
    for path in (str(tmp_path / "outside"), "../outside", "/etc"):
        await call(
            jp_fetch,
            "hosts",
            "local",
            "images",
            "build",
            method="POST",
            body={"path": path, "tag": f"{REPO}:x"},
            expect=403,
        )
    await call(
        jp_fetch,
        "hosts",
        "local",
        "images",
        "build",
        method="POST",
        body={"path": "image", "tag": "other:x"},
        expect=403,
    )
    await call(
        jp_fetch,
        "hosts",
        "local",
        "images",
        "build",
        method="POST",
        body={"path": "nope", "tag": f"{REPO}:x"},
        expect=400,
    )
    await call(jp_fetch, "hosts", "local", "images", "builds", "nope", expect=404)
    await call(jp_fetch, "kernels", "0000", "commit", method="POST", body={"tag": f"{REPO}:c"}, expect=404)

    await call(jp_fetch, "environments", method="POST", body={"name": "rest", "image": tag, "gpus": "1"}, expect=201)
    export = await call(jp_fetch, "environments", "rest", "export", format="run")
    assert export["image"] == state["image_id"] and "--gpus 1" in export["text"] and export["warning"] is None
    compose = yaml.safe_load((await call(jp_fetch, "environments", "rest", "export", format="compose"))["text"])
    assert compose["services"]["rest"]["deploy"]["resources"]["reservations"]["devices"][0]["count"] == 1
    await call(jp_fetch, "environments", "rest", "export", format="helm", expect=400)
    await call(jp_fetch, "environments", "nope", "export", expect=404)


async def test_rest_commit_of_a_server_kernel(jp_fetch, docker_client, test_image, built, no_leftovers):
    tag = f"{REPO}:rest-commit"
    built.append(tag)
    await call(jp_fetch, "environments", method="POST", body={"name": "c", "image": test_image}, expect=201)
    r = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "gpu-c"}))
    kid = json.loads(r.body)["id"]
    try:
        reply = await call(
            jp_fetch, "kernels", kid, "commit", method="POST", body={"tag": tag, "message": "m"}, expect=201
        )
        assert reply["kernel_id"] == kid and reply["base_image"] == test_image and "Dockerfile" in reply["hint"]
        labels = docker_client.images.get(tag).labels
        assert labels[COMMITTED_FROM] == kid and labels[ENVIRONMENT] == "c"
        await call(jp_fetch, "kernels", kid, "commit", method="POST", body={"tag": "other:x"}, expect=403)
    finally:
        await jp_fetch("api", "kernels", kid, method="DELETE")


# --------------------------------------------------------------------------- remote
@pytest.mark.remote
def test_build_on_ssh_host_uploads_through_the_tunnel(tmp_path, monkeypatch, capsys):
    from jupyter_gpu_kernels.hosts import ssh
    from tests.support.remote_host import start_remote_host

    isolated_jupyter_dirs(tmp_path, monkeypatch)
    monkeypatch.setenv("JGK_SSH_DIR", f"/tmp/jgk-ssh-test-{os.getpid()}")
    try:
        remote = start_remote_host(fake_gpu=False)
    except Exception as e:
        pytest.fail(f"the simulated remote host could not be started: {e}", pytrace=False)
    try:
        admin_host(tmp_path, monkeypatch, "far", remote.url, remote.ssh_options, remote.remote_socket)
        remove_images(remote.daemon.client, f"{REPO}:remote")  # the remote daemon's images outlive a run
        ctx = write_context(tmp_path / "ctx", remote.daemon.test_image, run="ls /opt/ctx > /tmp/listing")
        assert cli.main(["build", ctx, "--tag", f"{REPO}:remote", "--host", "far"]) == 0
        out, err = capsys.readouterr()
        assert "Step 3/3 : RUN" in err and "--host far" in out
        names = file_in_image(remote.daemon.client, f"{REPO}:remote", "/tmp/listing").decode().split()
        assert "keep.txt" in names and "secret.txt" not in names, names
    finally:
        remove_images(remote.daemon.client, f"{REPO}:remote")
        ssh.close_all()
        remote.stop()
