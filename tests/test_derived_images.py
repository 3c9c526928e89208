"""Images without ipykernel run kernels through a thin derived image (issue #13; real dockerd, real kernels).

The base images are shapes of the ``plain`` test image (Debian python3, no ipykernel) with a module
only they have (``jgk_base_only``): ``base-module`` (with pip) and ``no-pip``. The shapes
``stale-ipykernel`` and ``stale-ipykernel-no-pip`` of the ipykernel test image lie in their metadata
(ipykernel's module deleted, its dist-info kept; jupyter_client broken). The server's ``pip
download`` is real; it is served from a wheel directory downloaded once into the test cache
(``PIP_FIND_LINKS`` + ``PIP_NO_INDEX``), so no test needs PyPI after the first run. The build itself
runs with network none.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager

from jupyter_gpu_kernels import cli
from jupyter_gpu_kernels.daemon import derive as derived
from jupyter_gpu_kernels.daemon.images import list_images
from jupyter_gpu_kernels.daemon.interpreters import find_interpreter
from jupyter_gpu_kernels.daemon.wheels import cache_root
from jupyter_gpu_kernels.errors import ImageError

from .kernel_helpers import install_spec, isolated_jupyter_dirs, our_containers, run_cell, start_kernel, stop_kernel
from .support.image import ensure_ipykernel_wheels, ensure_shape_image

pytestmark = pytest.mark.docker

PROVE = (
    "import sys, jgk_base_only, ipykernel; "
    "print(sys.executable, jgk_base_only.WHERE.replace(' ', '_'), ipykernel.__file__)"
)


@pytest.fixture(scope="module")
def bases(docker_client, plain_image):
    tags = {s: ensure_shape_image(docker_client, s) for s in ("base-module", "no-pip", "no-python")}
    for tag in tags.values():  # a derived image left by an earlier run would hide the build
        image = docker_client.images.get(tag)
        if derived.find_derived(docker_client, image.id) is not None:
            derived.remove_derived(docker_client, tag)
    found = find_interpreter(docker_client, docker_client.images.get(tags["base-module"]).id)
    assert found.libc == "glibc", found  # Debian: manylinux wheels (a musl image gets musllinux ones)
    version = found.version
    tags["wheels"] = str(ensure_ipykernel_wheels(".".join(version.split(".")[:2])))
    yield tags
    for shape in ("base-module", "no-pip"):
        if derived.find_derived(docker_client, docker_client.images.get(tags[shape]).id) is not None:
            derived.remove_derived(docker_client, tags[shape])


@pytest.fixture
def jdirs(tmp_path, monkeypatch, bases):
    isolated_jupyter_dirs(tmp_path, monkeypatch)  # also an empty server-side wheel cache
    monkeypatch.setenv("PIP_FIND_LINKS", bases["wheels"])
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


@pytest.fixture
def no_leftovers(docker_client, bases):
    """No kernel container of these tests' images is left (others may run kernels on this daemon meanwhile)."""

    def mine() -> set[str]:
        return {
            c.name
            for c in our_containers(docker_client)
            if c.labels.get("org.jupyter.gpu-kernels.image") in bases.values()
        }

    before = mine()
    yield
    left = mine() - before
    assert not left, f"containers left behind: {left}"


def _events(docker_client, since: int, **filters) -> list:
    return list(docker_client.events(since=since, until=int(time.time()) + 1, decode=True, filters=filters))


def _derived_tags(docker_client, since: float) -> list:
    """Tag events of derived ipykernel images after ``since`` (time.time(); events carry nanoseconds), only
    those (other sessions on the shared daemon tag images too)."""
    return [
        e
        for e in _events(docker_client, int(since) - 1, type="image", event="tag")
        if int(e.get("timeNano", 0)) > since * 1e9
        and str((e.get("Actor") or {}).get("Attributes", {}).get("name", "")).startswith(
            "jupyter-gpu-kernels/ipykernel"
        )
    ]


def test_kernel_start_builds_the_derived_image_once_and_runs_the_images_interpreter(
    bases, jdirs, docker_client, no_leftovers
):
    base = docker_client.images.get(bases["base-module"])
    assert derived.find_derived(docker_client, base.id) is None
    install_spec("derive", bases["base-module"])
    km, kc = start_kernel("derive")
    try:
        made = derived.find_derived(docker_client, base.id)
        assert made is not None, "no derived image was built"
        tag = f"jupyter-gpu-kernels/ipykernel:{base.id[7:19]}-py3.11"
        assert made.tags == [tag]
        labels = made.labels
        assert labels[derived.PYTHON_LABEL] == "/usr/bin/python3" and labels[derived.IPYKERNEL_LABEL]
        container = docker_client.containers.get(km.provisioner.container_id)
        assert container.image.id == made.id
        out = run_cell(kc, PROVE)
        assert out["status"] == "ok", out
        exe, where, ipk = out["stdout"].split()
        assert exe == "/usr/bin/python3" and where == "base_image"
        assert ipk.startswith("/usr/local/lib/python3.11/dist-packages/ipykernel/")  # the image's pip installed it
        assert list(cache_root().glob("cp311-*/ipykernel-*.whl")), "the server did not cache the wheels"
    finally:
        stop_kernel(km, kc)
    rows = {r["id"]: r for r in list_images(docker_client)}
    assert rows[made.id]["derived_from"] == base.id and rows[made.id]["has_ipykernel"] is True
    since = time.time()
    km, kc = start_kernel("derive")  # again: the derived image is reused, nothing is built
    try:
        assert docker_client.containers.get(km.provisioner.container_id).image.id == made.id
        assert run_cell(kc, PROVE)["status"] == "ok"
    finally:
        stop_kernel(km, kc)
    assert not _derived_tags(docker_client, since), "the second start built an image"


def test_pipless_image_gets_ipykernel_unpacked_and_derived_images_are_removable(
    bases, jdirs, docker_client, no_leftovers, capsys
):
    base = docker_client.images.get(bases["no-pip"])
    assert cli.main(["images", "derive", bases["no-pip"]]) == 0
    made = derived.find_derived(docker_client, base.id)
    assert made is not None and f"Built {made.tags[0]}" in capsys.readouterr().out
    assert cli.main(["images", "derive", bases["no-pip"]]) == 0
    assert "Already there" in capsys.readouterr().out
    install_spec("nopip", bases["no-pip"])
    km, kc = start_kernel("nopip")
    try:
        out = run_cell(kc, PROVE + "; import importlib.util as u; print(u.find_spec('pip'))")
        assert out["status"] == "ok", out
        exe, where, ipk, pip = out["stdout"].split()
        assert exe == "/usr/bin/python3" and where == "base_image" and pip == "None"
        assert ipk.startswith(derived.SITE_DIR + "/ipykernel/")
    finally:
        stop_kernel(km, kc)
    assert cli.main(["images", "remove-derived", bases["no-pip"]]) == 0
    assert derived.find_derived(docker_client, base.id) is None
    assert not [i for i in docker_client.images.list() if made.tags[0] in i.tags]


@pytest.fixture(scope="module")
def stale(docker_client, test_image):
    """The ipykernel test image slimmed so that its metadata lies: ipykernel's module deleted, its
    dist-info kept, and a broken jupyter_client (dist-info intact) first on sys.path; with pip and without."""
    tags = {s: ensure_shape_image(docker_client, s) for s in ("stale-ipykernel", "stale-ipykernel-no-pip")}

    def clear():
        for tag in tags.values():
            if derived.find_derived(docker_client, docker_client.images.get(tag).id) is not None:
                derived.remove_derived(docker_client, tag)

    clear()  # a derived image left by an earlier run would hide the build
    yield tags
    clear()


STALE_PROVE = "import ipykernel, jupyter_client; print(ipykernel.__file__, jupyter_client.__version__)"


def test_image_whose_metadata_claims_ipykernel_gets_the_whole_closure(stale, bases, jdirs, docker_client, no_leftovers):
    """pip would find ipykernel and jupyter_client 'already satisfied' from the image's dist-info; the
    derived image installs the wheels' whole closure anyway, and its copies win over the image's."""
    wheels = {p.name.split("-")[0]: p.name.split("-")[1] for p in Path(bases["wheels"]).glob("*.whl")}
    for shape, where in (
        ("stale-ipykernel", "/usr/local/lib/python3.11/dist-packages/ipykernel/"),
        ("stale-ipykernel-no-pip", derived.SITE_DIR + "/ipykernel/"),
    ):
        name = shape.replace("-", "")
        install_spec(name, stale[shape])
        km, kc = start_kernel(name)
        try:
            image = docker_client.containers.get(km.provisioner.container_id).image
            assert image.id == derived.find_derived(docker_client, docker_client.images.get(stale[shape]).id).id
            out = run_cell(kc, STALE_PROVE)
            assert out["status"] == "ok", out
            ipk, jc = out["stdout"].split()
            assert ipk.startswith(where) and jc == wheels["jupyter_client"], (shape, out)
        finally:
            stop_kernel(km, kc)


def test_image_without_python_is_refused_before_anything_exists(bases, jdirs, docker_client, no_leftovers):
    install_spec("nopy", bases["no-python"])
    since = int(time.time())
    with pytest.raises(ImageError, match="has no Python"):
        KernelManager(kernel_name="nopy").start_kernel()
    assert not _events(
        docker_client, since, type="container", event="create", label="org.jupyter.gpu-kernels.kernel-id"
    )
    assert not _derived_tags(docker_client, since)
    assert derived.find_derived(docker_client, docker_client.images.get(bases["no-python"]).id) is None


def test_failed_derive_leaves_no_tag_and_no_temp_dir(bases, jdirs, docker_client, monkeypatch, tmp_path):
    import tempfile

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    for shape in ("base-module", "no-pip"):
        if derived.find_derived(docker_client, docker_client.images.get(bases[shape]).id) is not None:
            derived.remove_derived(docker_client, bases[shape])
    since = int(time.time())
    # pip (on the server) finds no wheels: nothing is built, no partial wheel cache
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    with pytest.raises(ImageError, match="could not download ipykernel wheels"):
        derived.derive(docker_client, bases["base-module"])
    assert not [p for p in cache_root().iterdir()] if cache_root().exists() else True, "partial wheel cache"
    # the build fails (pip required, the image has none): no tag, no build context left
    monkeypatch.setenv("PIP_FIND_LINKS", bases["wheels"])
    with pytest.raises(ImageError, match="build of .* failed"):
        derived.derive(docker_client, bases["no-pip"], install="pip")
    assert not list(tmp.iterdir()), "a temporary directory was left behind"
    for shape in ("base-module", "no-pip"):
        assert derived.find_derived(docker_client, docker_client.images.get(bases[shape]).id) is None
    assert not _events(docker_client, since, type="image", event="tag")


# ------------------------------------------------------------------ through the server
@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"jupyter_gpu_kernels": True}}}


def _fresh_no_pip_base(bases, docker_client, monkeypatch):
    """The no-pip base image with no derived image yet, the server's pip served from the test wheels."""
    monkeypatch.setenv("PIP_FIND_LINKS", bases["wheels"])
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    base = docker_client.images.get(bases["no-pip"])
    if derived.find_derived(docker_client, base.id) is not None:
        derived.remove_derived(docker_client, bases["no-pip"])
    return base


async def _derive_through_rest(jp_fetch, image: str) -> dict:
    """POST images/derive (202), then poll the job until it is no longer running; the last job record."""
    import asyncio
    import json

    r = await jp_fetch(
        "gpu-kernels", "api", "hosts", "local", "images", "derive", method="POST", body=json.dumps({"image": image})
    )
    assert r.code == 202
    job = json.loads(r.body)
    while job["status"] == "running":
        await asyncio.sleep(0.5)
        r = await jp_fetch("gpu-kernels", "api", "hosts", "local", "images", "derives", job["id"])
        job = json.loads(r.body)
    return job


async def test_rest_derive_is_pollable_and_removable(jp_fetch, jp_environ, bases, docker_client, monkeypatch):
    import json

    base = _fresh_no_pip_base(bases, docker_client, monkeypatch)
    job = await _derive_through_rest(jp_fetch, bases["no-pip"])
    assert job["status"] == "done", job
    made = derived.find_derived(docker_client, base.id)
    assert made is not None and job["image_id"] == made.id
    r = await jp_fetch("gpu-kernels", "api", "hosts", "local", "images")
    rows = (
        {i["id"]: i for i in json.loads(r.body)["images"]}
        if isinstance(json.loads(r.body), dict)
        else {i["id"]: i for i in json.loads(r.body)}
    )
    assert rows[made.id]["derived_from"] == base.id
    r = await jp_fetch(
        "gpu-kernels", "api", "hosts", "local", "images", "derive", method="DELETE", params={"image": bases["no-pip"]}
    )
    assert json.loads(r.body)["removed"] == made.tags
    assert derived.find_derived(docker_client, base.id) is None


async def test_derive_runs_no_pip_code_or_config_the_user_can_write(
    jp_fetch, jp_environ, jp_root_dir, jp_home_dir, bases, docker_client, monkeypatch
):
    """Issue #19, 1: the server fetches wheels with pip; a ``pip.py`` put into its root (its working
    directory) through the contents API, and pip config files under the user's HOME (``~/.pip``,
    ``~/.config/pip``: a kernel with root = HOME could write them), are neither run nor read."""
    import json

    _fresh_no_pip_base(bases, docker_client, monkeypatch)
    monkeypatch.chdir(jp_root_dir)
    marker = jp_root_dir / "pwned"
    planted = f"open({str(marker)!r}, 'w').write('pip.py ran')\nraise SystemExit(3)\n"
    await jp_fetch(
        "api",
        "contents",
        "pip.py",
        method="PUT",
        body=json.dumps({"type": "file", "format": "text", "content": planted}),
    )
    assert (jp_root_dir / "pip.py").is_file()
    for conf in (jp_home_dir / ".pip" / "pip.conf", jp_home_dir / ".config" / "pip" / "pip.conf"):
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(f"[global]\nlog = {marker}.{conf.parent.name}.log\n")  # pip appends its log there if read
    try:
        job = await _derive_through_rest(jp_fetch, bases["no-pip"])
        assert job["status"] == "done", job
        assert list(cache_root().glob("*/ipykernel-*.whl")), "pip did not run (the wheels were already cached)"
        assert not list(jp_root_dir.glob("pwned*")), [p.read_text() for p in jp_root_dir.glob("pwned*")]
    finally:
        derived.remove_derived(docker_client, bases["no-pip"])
