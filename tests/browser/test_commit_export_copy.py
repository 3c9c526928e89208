"""The sidebar's commit, export and copy dialogs end to end: a real browser on a real ``jupyter lab``
and real daemons, each driven from the sidebar's own buttons.

1. "Save as image…" on a running kernel (CommitDialog): a bad tag comes back in the dialog with the
   server's message; a good one commits the kernel's container, with the file the kernel wrote;
   saving again under that tag brings the dialog back with the next free version.
2. "Export…" on an environment (ExportDialog): the text of each format is the server's export, the
   Copy button puts it on the clipboard; an environment gone in the meantime is explained in the
   dialog.
3. "Copy to host…" on an image (CopyImageDialog): from the local daemon to the ``nogpu`` netns
   daemon, where the image then is; a copy to an unreachable host fails in the notification.
"""

from __future__ import annotations

import os

import pytest
import yaml
from playwright.sync_api import expect

from jupyter_gpu_kernels.daemon.commits import BASE_IMAGE, COMMITTED_FROM

from ..support.image import file_in_image
from ..support.tags import remove_tags
from .test_sidebar import SIDEBAR, open_panel

pytestmark = [pytest.mark.browser, pytest.mark.docker]

COMMIT_REPO = "jgk-browser-commit"
COPY_REF = "jgk-browser-copy:v1"
COMMIT_TIMEOUT = 180_000  # docker commit of a kernel container: seconds here, a minute on a loaded CI machine

START = """async ([name, image]) => {
  const s = window.jupyterapp.serviceManager.serverSettings;
  const headers = {Authorization: 'token ' + s.token, 'Content-Type': 'application/json'};
  const r = await fetch(s.baseUrl + 'gpu-kernels/api/environments',
                        {method: 'POST', headers, body: JSON.stringify({name, image})});
  if (!r.ok) throw new Error('environment not created: ' + await r.text());
  await window.jupyterapp.serviceManager.kernelspecs.refreshSpecs();
  const k = await window.jupyterapp.serviceManager.kernels.startNew({name: 'gpu-' + name});
  return k.id;
}"""

EXECUTE = """async ([id, name, code]) => {
  const k = window.jupyterapp.serviceManager.kernels.connectTo({model: {id, name: 'gpu-' + name}});
  const reply = await k.requestExecute({code}).done;
  k.dispose();
  return reply.content.status;
}"""


@pytest.fixture
def commit_tags(docker_client):
    """The tags the commit test may create, removed before and after it."""
    tags = [f"{COMMIT_REPO}:v1", f"{COMMIT_REPO}:v2"]
    remove_tags(docker_client, *tags)
    yield tags
    remove_tags(docker_client, *tags)


def open_dialog(page, item, action: str, body: str):
    """Click the ``action`` button of a sidebar ``item``; the dialog whose body has class ``body``."""
    item.scroll_into_view_if_needed()
    item.locator(action).click()
    dialog = page.locator(".jp-Dialog", has=page.locator(body))
    expect(dialog).to_be_visible()
    return dialog


def commit_dialog(page, kernel_item):
    return open_dialog(page, kernel_item, ".jp-GPUKernels-commit", ".jp-GPUKernels-commitDialog")


def test_commit_a_running_kernel_from_the_kernels_list(
    browser_page, shot, start_lab, test_image, docker_client, commit_tags
):
    page = browser_page
    lab = start_lab({})
    open_panel(page, lab)
    kernel_id = page.evaluate(START, ["commitenv", test_image])
    try:
        assert (
            page.evaluate(
                EXECUTE, [kernel_id, "commitenv", "with open('/tmp/state.txt', 'w') as f: f.write('kept by commit')"]
            )
            == "ok"
        )
        page.evaluate("() => window.jupyterapp.commands.execute('gpu-kernels:refresh')")
        item = page.locator(f"{SIDEBAR} li.jp-GPUKernels-kernel[data-kernel-id='{kernel_id}']")
        expect(item.locator(".jp-GPUKernels-commit")).to_have_count(1, timeout=90_000)

        # a bad tag: the dialog comes back with the server's message, and nothing is created
        dialog = commit_dialog(page, item)
        expect(dialog.locator("input[name='tag']")).to_have_value("commitenv:saved")
        dialog.locator("input[name='tag']").fill("Bad Tag!")
        dialog.get_by_role("button", name="Save").click()
        error = dialog.locator(".jp-GPUKernels-error[role='alert']")
        expect(error).to_contain_text("invalid image reference 'Bad Tag!'")
        expect(dialog.locator("input[name='tag']")).to_have_value("Bad Tag!")
        shot("commit-bad-tag")

        # a good tag and a message: committed, and the result says what changed
        tag = commit_tags[0]
        dialog.locator("input[name='tag']").fill(tag)
        dialog.locator("input[name='message']").fill("state file")
        dialog.get_by_role("button", name="Save").click()
        saved = page.locator(".jp-Dialog", has=page.locator(".jp-GPUKernels-commitResult"))
        expect(saved).to_contain_text(f"Saved {tag}", timeout=COMMIT_TIMEOUT)
        # the "Saving kernel … as …" notification shown while the daemon commits is gone
        expect(page.locator(".Toastify__toast", has_text="Saving kernel")).to_have_count(0)
        expect(saved.locator(".jp-GPUKernels-commitResult")).to_contain_text("/tmp/state.txt")
        shot("commit-saved")
        saved.get_by_role("button", name="OK").click()
        expect(saved).to_have_count(0)

        image = docker_client.images.get(tag)
        assert image.labels[BASE_IMAGE] == test_image and image.labels[COMMITTED_FROM] == kernel_id
        assert image.attrs["Comment"] == "state file"
        assert file_in_image(docker_client, tag, "/tmp/state.txt") == b"kept by commit"

        # the same tag again: the dialog comes back with the next free version, which then saves
        dialog = commit_dialog(page, item)
        dialog.locator("input[name='tag']").fill(tag)
        dialog.get_by_role("button", name="Save").click()
        expect(dialog.locator("input[name='tag']")).to_have_value(commit_tags[1])
        expect(dialog).to_contain_text(f"“{tag}” exists already on this host")
        shot("commit-next-version")
        dialog.get_by_role("button", name="Save").click()
        saved = page.locator(".jp-Dialog", has=page.locator(".jp-GPUKernels-commitResult"))
        expect(saved).to_contain_text(f"Saved {commit_tags[1]}", timeout=COMMIT_TIMEOUT)
        saved.get_by_role("button", name="OK").click()
        assert docker_client.images.get(commit_tags[1]).labels[COMMITTED_FROM] == kernel_id
    finally:
        page.evaluate("(id) => window.jupyterapp.serviceManager.kernels.shutdown(id)", kernel_id)


def export_dialog(page, name: str):
    item = page.locator(f"{SIDEBAR} .jp-GPUKernels-env[data-environment='{name}']")
    return open_dialog(page, item, ".jp-GPUKernels-exportEnv", ".jp-GPUKernels-exportDialog")


def test_export_an_environment_from_the_environments_list(browser_page, shot, start_lab, test_image):
    page = browser_page
    lab = start_lab({})
    lab.api(
        "/gpu-kernels/api/environments",
        "POST",
        {"name": "exportenv", "image": test_image, "memory": "1g", "gpus": "none"},
    )
    lab.api("/gpu-kernels/api/environments", "POST", {"name": "goneenv", "image": test_image})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab.url)
    open_panel(page, lab)

    dialog = export_dialog(page, "exportenv")
    text = dialog.locator(".jp-GPUKernels-exportText")
    run = lab.api("/gpu-kernels/api/environments/exportenv/export?format=run")
    assert run["warning"] is None and "--memory" in run["text"] and run["image"] in run["text"]
    expect(text).to_have_text(run["text"])
    expect(dialog.locator(".jp-GPUKernels-error")).to_have_count(0)
    shot("export-run")

    dialog.locator("input[name='format'][value='compose']").check()
    compose = lab.api("/gpu-kernels/api/environments/exportenv/export?format=compose")["text"]
    expect(text).to_have_text(compose)
    services = yaml.safe_load(text.inner_text())["services"]
    assert [s["image"] for s in services.values()] == [run["image"]]
    dialog.locator(".jp-GPUKernels-copy").click()
    expect(dialog.locator(".jp-GPUKernels-copy")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == compose
    shot("export-compose")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)

    # removed elsewhere (another tab, the CLI) while the sidebar still lists it: the dialog says so
    lab.api("/gpu-kernels/api/environments/goneenv", "DELETE")
    dialog = export_dialog(page, "goneenv")
    expect(dialog.locator(".jp-GPUKernels-error[role='alert']")).to_contain_text("goneenv")
    expect(text).to_have_text("")
    shot("export-gone")
    dialog.get_by_role("button", name="Close").click()


@pytest.fixture
def copy_ref(docker_client, plain_image, nogpu_daemon):
    """A tag of the plain test image on the local daemon, absent from the nogpu daemon."""
    docker_client.images.get(plain_image).tag(*COPY_REF.split(":"))
    remove_tags(nogpu_daemon.client, COPY_REF)
    yield COPY_REF
    remove_tags(docker_client, COPY_REF)
    remove_tags(nogpu_daemon.client, COPY_REF)


def copy_dialog(page, image_item):
    return open_dialog(page, image_item, ".jp-GPUKernels-copyImage", ".jp-GPUKernels-copyDialog")


def test_copy_an_image_to_another_host_from_the_images_list(
    browser_page, shot, start_lab, nogpu_daemon, docker_client, copy_ref
):
    page = browser_page
    # "dead": a host whose daemon socket does not exist, so a copy to it must fail (a short path:
    # the toast shows the first 140 characters of the message)
    lab = start_lab(
        {"nogpu": (nogpu_daemon.url, nogpu_daemon.client), "dead": (f"unix:///tmp/jgk-nd-{os.getpid()}.sock", None)}
    )
    open_panel(page, lab)
    panel = page.locator(SIDEBAR)
    expect(panel.get_by_label("Docker host")).to_have_value("local")
    panel.get_by_label("Filter images").fill(copy_ref)
    item = panel.locator(f"li.jp-GPUKernels-image[data-image='{copy_ref}']")
    expect(item).to_have_count(1, timeout=60_000)

    dialog = copy_dialog(page, item)
    target = dialog.locator("select[name='to']")
    expect(target.locator("option")).to_have_text(["nogpu", "dead"])  # reachable hosts first
    target.select_option("nogpu")
    shot("copy-dialog")
    dialog.get_by_role("button", name="Copy").click()
    toast = page.locator(".Toastify__toast", has_text=f"Copied {copy_ref} from local to nogpu")
    expect(toast).to_be_visible(timeout=180_000)
    assert nogpu_daemon.client.images.get(copy_ref).id == docker_client.images.get(copy_ref).id
    shot("copy-done")

    # the target's image list has it too
    panel.get_by_label("Docker host").select_option("nogpu")
    expect(panel.locator(f"li.jp-GPUKernels-image[data-image='{copy_ref}']")).to_have_count(1, timeout=60_000)

    # to a host that cannot be reached: the notification says the copy failed, and why
    panel.get_by_label("Docker host").select_option("local")
    item = panel.locator(f"li.jp-GPUKernels-image[data-image='{copy_ref}']")
    expect(item).to_have_count(1, timeout=60_000)
    dialog = copy_dialog(page, item)
    dialog.locator("select[name='to']").select_option("dead")
    dialog.get_by_role("button", name="Copy").click()
    failed = page.locator(".Toastify__toast", has_text=f"Copying {copy_ref} to dead failed")
    expect(failed).to_be_visible(timeout=120_000)
    expect(failed).to_contain_text(f"Docker host 'dead' (unix:///tmp/jgk-nd-{os.getpid()}.sock) is not reachable")
    shot("copy-failed")
