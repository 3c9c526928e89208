"""Progress in the sidebar, in a real browser on a real ``jupyter lab`` with the main daemon:

- a pull typed into "Image to pull" of an image in a private registry on 127.0.0.1 (with a fresh
  600 MB layer of random bytes this daemon does not have, so the pull lasts seconds) shows its
  bytes and layers in its row while it runs, with a determinate progress bar; then the image is
  listed;
- a kernel started with "New notebook" from an environment whose image has python3 but no ipykernel
  (built FROM the ``plain`` test image, so no derived image exists for it yet) shows the derive phase
  ("adding ipykernel to the image (first use)") in the sidebar's starting row and in the status bar
  while the server builds the derived image (from wheels served locally: ``PIP_FIND_LINKS`` +
  ``PIP_NO_INDEX``); then the kernel is idle, runs a cell in the derived image, and the starting row
  is gone.

What the page rendered is recorded by a MutationObserver (every text the rows had), so the numbers
asserted are what a user saw, not what the REST API says.
"""

from __future__ import annotations

import io
import re
import time

import pytest
from playwright.sync_api import expect

from jupyter_gpu_kernels.daemon import derive as derived
from jupyter_gpu_kernels.daemon.interpreters import find_interpreter

from ..support.image import ensure_ipykernel_wheels
from ..support.tags import remove_tags
from .test_sidebar import SIDEBAR, open_panel, wait_for, wait_for_notebook_kernel

pytestmark = [pytest.mark.browser, pytest.mark.docker]

BIG_BYTES = 600_000_000
DERIVE_TEXT = "adding ipykernel to the image (first use)"

# records every distinct state of the pull rows, the starting rows and the status bar item
WATCH = """() => {
    const seen = window.__jgkSeen = [];
    const keys = new Set();
    const add = entry => {
        const key = JSON.stringify(entry);
        if (!keys.has(key)) { keys.add(key); seen.push(entry); }
    };
    const record = () => {
        for (const el of document.querySelectorAll('%(sidebar)s .jp-GPUKernels-pull')) {
            const bar = el.querySelector('progress');
            add({kind: 'pull', status: el.dataset.status, text: el.textContent,
                 max: bar && bar.hasAttribute('max') ? bar.max : null,
                 value: bar && bar.hasAttribute('max') ? bar.value : null});
        }
        for (const el of document.querySelectorAll('%(sidebar)s .jp-GPUKernels-kernel.jp-mod-starting')) {
            const text = el.querySelector('.jp-GPUKernels-startingText');
            add({kind: 'starting', kernel_id: el.dataset.kernelId, text: text ? text.textContent : ''});
        }
        for (const el of document.querySelectorAll('.jp-GPUKernels-statusItem')) {
            add({kind: 'status', state: el.dataset.state, text: el.textContent});
        }
    };
    new MutationObserver(record).observe(document.body,
        {subtree: true, childList: true, characterData: true, attributes: true});
    record();
}""" % {"sidebar": SIDEBAR}


def _open_panel(page, lab):
    panel = open_panel(page, lab)
    panel.get_by_label("Docker host").select_option("local")
    expect(panel.locator(".jp-GPUKernels-hostStatus[data-host='local']")).to_contain_text("reachable")
    return panel


# ------------------------------------------------------------------ pull progress
@pytest.fixture
def registry():
    from tests.support.registry import registry_or_fail

    yield from registry_or_fail()


@pytest.fixture
def big_pushed(registry, docker_client, test_image):
    """``localhost:PORT/jgk/progress-big:N``: the test image plus a fresh 600 MB layer of random
    bytes, in the registry only (this daemon has neither the tag nor the layer)."""
    tmp = f"jgk-progress-big-tmp:{time.monotonic_ns()}"
    c = docker_client.containers.run(
        test_image, ["sh", "-c", f"head -c {BIG_BYTES} /dev/urandom > /tmp/weights.bin"], detach=True, user="0"
    )
    try:
        assert c.wait(timeout=120)["StatusCode"] == 0
        image = c.commit(repository=tmp.split(":")[0], tag=tmp.split(":")[1])
    finally:
        c.remove(force=True)
    ref = registry.push(docker_client, tmp, f"jgk/progress-big:{time.monotonic_ns()}")
    remove_tags(docker_client, tmp)
    assert image.id not in {i.id for i in docker_client.images.list(all=True)}, "the layer is still here"
    yield ref
    remove_tags(docker_client, ref)


def test_pull_shows_bytes_and_layers_then_the_image(browser_page, shot, start_lab, docker_client, big_pushed):
    page, ref = browser_page, big_pushed
    lab = start_lab({})
    panel = _open_panel(page, lab)
    expect(panel.locator(".jp-GPUKernels-image").first).to_be_visible(timeout=60_000)
    expect(panel.locator(f".jp-GPUKernels-image[data-image='{ref}']")).to_have_count(0)
    page.evaluate(WATCH)

    panel.get_by_label("Image to pull").fill(ref)
    panel.get_by_role("button", name="Pull").click()
    running = panel.locator(".jp-GPUKernels-pull[data-status='running']", has_text=ref)
    # caught while it runs: "Pulling REF: 12% (75/600 MB, 1/3 layers)" and a determinate bar
    expect(running).to_contain_text(re.compile(r"\d+% \(\d+/\d+ MB, \d+/\d+ layers\)"), timeout=120_000)
    shot("pull-running")

    done = panel.locator(".jp-GPUKernels-pull[data-status='done']", has_text=f"Pulled {ref}")
    expect(done).to_be_visible(timeout=240_000)
    item = panel.locator(f".jp-GPUKernels-image[data-image='{ref}']")
    expect(item).to_be_visible(timeout=60_000)
    expect(item.locator(".jp-GPUKernels-kernelMark.jp-mod-yes")).to_have_count(1, timeout=60_000)
    shot("pull-done")
    assert docker_client.images.get(ref)

    pattern = re.compile(rf"Pulling {re.escape(ref)}: (\d+)% \((\d+)/(\d+) MB, (\d+)/(\d+) layers\)")
    seen = [e for e in page.evaluate("() => window.__jgkSeen") if e["kind"] == "pull" and ref in e["text"]]
    shown = [(e, m) for e in seen if e["status"] == "running" and (m := pattern.search(e["text"]))]
    assert shown, f"no bytes progress rendered while the pull ran: {seen}"
    for e, m in shown:
        pct, done_mb, total_mb, layers_done, layers_total = map(int, m.groups())
        assert total_mb >= BIG_BYTES / 1e6, e  # the fresh 600 MB layer is counted
        assert 0 <= pct <= 100 and 0 <= done_mb <= total_mb, e
        assert 1 <= layers_total and 0 <= layers_done <= layers_total, e
        # a determinate bar whose max is the pull's total and whose value is its bytes done
        assert e["max"] and abs(e["max"] / 1e6 - total_mb) <= 1, f"the bar's max is not the pull's total: {e}"
        assert abs(e["value"] / 1e6 - done_mb) <= 1, f"the bar's value is not the bytes done: {e}"
    print("pull states rendered:", [m.group(0) for _, m in shown])
    assert seen[-1]["status"] == "done" and seen[-1]["text"].startswith(f"Pulled {ref}")
    assert not [e for e in seen if e["status"] == "failed"], seen


# ------------------------------------------------------------------ derive progress
@pytest.fixture
def derive_base(docker_client, plain_image, monkeypatch):
    """An image of its own with python3 and no ipykernel (the plain image plus a label: a new image
    id, so no derived image exists for it); the wheels for the lab's ``pip download`` served from the
    test cache. Afterwards the derived image built for it and the tag are removed."""
    tag = f"jgk-test-derive-progress:{time.monotonic_ns()}"
    dockerfile = f"FROM {plain_image}\nLABEL org.jupyter.gpu-kernels.test.derive-progress={tag.split(':')[1]}\n"
    image, _ = docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)
    assert derived.find_derived(docker_client, image.id) is None
    found = find_interpreter(docker_client, image.id)
    assert found is not None and not found.ipykernel, found
    wheels = ensure_ipykernel_wheels(".".join(found.version.split(".")[:2]))
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))  # read by the lab started after this fixture
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    yield tag, image.id
    try:
        if derived.find_derived(docker_client, image.id) is not None:
            derived.remove_derived(docker_client, tag)
    finally:
        remove_tags(docker_client, tag)


def test_kernel_start_shows_the_derive_phase(derive_base, browser_page, shot, start_lab, docker_client):
    page, (tag, base_id) = browser_page, derive_base
    lab = start_lab({})
    lab.api(
        "/gpu-kernels/api/environments",
        "POST",
        {"name": "derive-progress", "image": tag, "host": "local", "gpus": "none"},
    )
    panel = _open_panel(page, lab)
    env_item = panel.locator(".jp-GPUKernels-env[data-environment='derive-progress']")
    expect(env_item).to_be_visible(timeout=30_000)
    page.evaluate(WATCH)

    env_item.get_by_role("button", name="New notebook").click()
    starting = panel.locator(".jp-GPUKernels-kernel.jp-mod-starting")
    # caught while the derived image is built
    expect(starting.locator(".jp-GPUKernels-startingText")).to_have_text(DERIVE_TEXT, timeout=120_000)
    shot("derive-running")

    kernel_id = wait_for_notebook_kernel(page, "gpu-derive-progress", timeout=240_000)
    nb = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    nb.locator(".jp-Cell .cm-content").first.click()
    page.keyboard.type("import sys, ipykernel; print(sys.executable, 6 * 7)")
    page.keyboard.press("Shift+Enter")
    expect(nb.locator(".jp-OutputArea-output").first).to_have_text(
        re.compile(r"^\s*/usr/bin/python3 42\s*$"), timeout=60_000
    )
    expect(starting).to_have_count(0, timeout=30_000)
    expect(panel.locator(f".jp-GPUKernels-kernel[data-kernel-id='{kernel_id}']")).to_be_visible(timeout=30_000)
    shot("derive-done")

    made = derived.find_derived(docker_client, base_id)
    assert made is not None, "no derived image was built"
    assert docker_client.containers.get(f"jupyter-kernel-{kernel_id}").image.id == made.id

    seen = page.evaluate("() => window.__jgkSeen")
    rows = [e for e in seen if e["kind"] == "starting"]
    assert any(e["text"] == DERIVE_TEXT for e in rows), f"the sidebar never showed the derive: {rows}"
    assert {e["kernel_id"] for e in rows} == {kernel_id}, rows
    bar = [e for e in seen if e["kind"] == "status" and e["state"] == "starting"]
    assert f"local · {DERIVE_TEXT}" in [e["text"] for e in bar], f"the status bar never showed the derive: {bar}"

    lab.api(f"/api/kernels/{kernel_id}", "DELETE")
    wait_for(
        lambda: not [c for c in docker_client.containers.list(all=True) if c.name == f"jupyter-kernel-{kernel_id}"],
        60,
        "the kernel's container to go",
    )
