"""The GPU Kernels sidebar end to end: a real browser (Debian's Chromium through Playwright)
on a real ``jupyter lab`` whose kernels run on a real dockerd with the fake NVIDIA toolkit.

Screenshots of every step go to tests/artifacts/browser/ (with JGK_DOCS_SCREENSHOTS=1 they are
also copied to docs/screenshots/).
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from jupyter_gpu_kernels.daemon.labels import KERNEL_ID

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.gpu_fake]

SIDEBAR = "#jupyter-gpu-kernels-sidebar"
ENV_NAME = "sidebar-test"


def wait_for(predicate, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def widen_left_area(page, x: int) -> None:
    """Drag the handle between the left area and the main area to ``x`` (as a user would)."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = handle.bounding_box()
    assert box, "no split handle next to the left area"
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(x, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()


def open_lab(page, lab) -> None:
    page.goto(f"{lab.url}/lab?token={lab.token}")
    # the app is up when our plugin's panel tab is in the left sidebar
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started", timeout=60_000)
    page.wait_for_selector(f".jp-SideBar.jp-mod-left [data-id='{SIDEBAR[1:]}']", timeout=60_000)


def open_panel(page, lab, width: int = 380):
    """Open the lab, then our panel from its tab, and widen the left area to ``width``; the panel."""
    open_lab(page, lab)
    page.click(f".jp-SideBar.jp-mod-left [data-id='{SIDEBAR[1:]}']")
    panel = page.locator(SIDEBAR)
    expect(panel).to_be_visible()
    widen_left_area(page, width)
    return panel


def wait_for_notebook_kernel(page, kernel_name: str, timeout: float) -> str:
    """Wait until the current notebook's kernel is ``kernel_name`` and idle; its kernel id."""
    page.wait_for_function(
        """([name]) => {
        const w = window.jupyterapp.shell.currentWidget;
        const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
        return k && k.name === name && k.status === 'idle';
    }""",
        arg=[kernel_name],
        timeout=timeout,
    )
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.id")


def test_sidebar_environment_notebook_gpu_holder_shutdown(browser_page, shot, lab, fake_gpu_daemon):
    page = browser_page
    image = fake_gpu_daemon.test_image

    # 1. open the panel from its tab; pick the fake-GPU host; four GPU cards
    open_lab(page, lab)
    page.click(f".jp-SideBar.jp-mod-left [data-id='{SIDEBAR[1:]}']")
    panel = page.locator(SIDEBAR)
    expect(panel).to_be_visible()
    widen_left_area(page, 380)
    host_select = panel.get_by_label("Docker host")
    expect(host_select.locator("option[value='fakegpu']")).to_have_count(1)
    host_select.select_option("fakegpu")
    status = panel.locator(".jp-GPUKernels-hostStatus[data-host='fakegpu']")
    expect(status).to_contain_text("reachable")
    expect(status).to_contain_text("GPU driver: yes")
    cards = panel.locator(".jp-GPUKernels-gpu")
    expect(cards).to_have_count(4, timeout=30_000)
    expect(panel.locator(".jp-GPUKernels-gpu.jp-mod-free")).to_have_count(4)
    # the test image is listed with its ipykernel mark
    images = panel.locator(".jp-GPUKernels-image")
    expect(images.filter(has_text=image).locator(".jp-GPUKernels-kernelMark.jp-mod-yes")).to_have_count(
        1, timeout=30_000
    )
    shot("panel-gpus")

    # 2. free GPUs picked on the cards preselect those devices in the environment form
    cards.filter(has_text="GPU 1").get_by_role("checkbox").check()
    cards.filter(has_text="GPU 3").get_by_role("checkbox").check()
    panel.get_by_role("button", name="New environment on GPU 1, 3").click()
    dialog = page.locator(".jp-Dialog.jp-GPUKernels-envDialog")
    form = dialog.locator("form.jp-GPUKernels-envForm")
    expect(form.get_by_label("Pick")).to_be_checked()
    for index, checked in (("0", False), ("1", True), ("2", False), ("3", True)):
        expect(form.get_by_label(f"GPU {index}", exact=True)).to_be_checked(checked=checked)
    shot("pick-gpus")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)

    # 3. new environment: test image, 1 GPU; first with a bad memory value
    panel.locator(".jp-GPUKernels-addEnv").click()
    expect(form).to_be_visible()
    form.locator("input[name='name']").fill(ENV_NAME)
    form.locator("input[name='image']").fill(image)
    expect(form.locator("select[name='host']")).to_have_value("fakegpu")
    form.get_by_label("Count").check()
    form.locator("input[name='gpuCount']").fill("1")
    form.locator("input[name='memory']").fill("lots")
    dialog.get_by_role("button", name="Create").click()
    error = form.locator(".jp-GPUKernels-fieldError[data-field='memory']")  # the dialog stays open
    expect(error).to_be_visible()
    expect(error).to_contain_text("lots")
    expect(form.locator("input[name='memory']")).to_have_attribute("aria-invalid", "true")
    shot("validation-error")

    form.locator("input[name='memory']").fill("1g")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_have_count(0)
    env_item = panel.locator(f".jp-GPUKernels-env[data-environment='{ENV_NAME}']")
    expect(env_item).to_be_visible()
    expect(env_item).to_contain_text("fakegpu")
    expect(env_item).to_contain_text("1 GPU")
    env = lab.api(f"/gpu-kernels/api/environments/{ENV_NAME}")
    assert (env["image"], env["host"], env["gpus"], env["memory"]) == (image, "fakegpu", "1", "1g")
    # the kernelspec is known to the frontend right away
    page.wait_for_function(f"() => !!window.jupyterapp.serviceManager.kernelspecs.specs.kernelspecs['gpu-{ENV_NAME}']")
    shot("environment-created")

    # 4. "New notebook": an untitled notebook with the environment's kernel
    env_item.get_by_role("button", name="New notebook").click()
    nb = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    expect(nb).to_be_visible()
    page.wait_for_function(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
            return k && k.name === 'gpu-%s' && k.status === 'idle';
        }"""
        % ENV_NAME,
        timeout=90_000,
    )
    kernel_id = page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.id")
    nb_path = page.evaluate("() => window.jupyterapp.shell.currentWidget.context.path")
    assert nb_path.endswith(".ipynb")

    # 5. run a cell printing the GPU the container got
    nb.locator(".jp-Cell .cm-content").first.click()
    page.keyboard.type("import os; print(os.environ['NVIDIA_VISIBLE_DEVICES'])")
    page.keyboard.press("Shift+Enter")
    output = nb.locator(".jp-OutputArea-output").first
    expect(output).to_have_text(re.compile(r"^\s*\d+\s*$"), timeout=30_000)
    gpu = output.inner_text().strip()

    # 6. the holder shows on that GPU's card (and only there), and in the status bar
    card = panel.locator(f".jp-GPUKernels-gpu[data-gpu-index='{gpu}']")
    holder = card.locator(f".jp-GPUKernels-holder[data-kernel-id='{kernel_id}']")
    expect(holder).to_be_visible(timeout=20_000)
    expect(holder).to_contain_text(nb_path.rsplit("/", 1)[-1])
    expect(card).to_have_class(re.compile(r"jp-mod-busy"))
    expect(panel.locator(".jp-GPUKernels-holder")).to_have_count(1)
    status_item = page.locator(".jp-GPUKernels-statusItem")
    expect(status_item).to_have_text(re.compile(rf"fakegpu · .*{re.escape(image.split(':')[0])}.* · GPU {gpu}$"))
    # the environment's definition is in the notebook metadata
    meta = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.model.getMetadata('jupyter_gpu_kernels')")
    assert meta and meta["environment"] == ENV_NAME and meta["image"] == image and meta["host"] == "fakegpu"
    running = panel.locator(f".jp-GPUKernels-kernel[data-kernel-id='{kernel_id}']")
    expect(running).to_contain_text(f"GPU {gpu}")
    container = fake_gpu_daemon.client.containers.get(f"jupyter-kernel-{kernel_id}")
    assert container.labels[KERNEL_ID] == kernel_id
    card.scroll_into_view_if_needed()
    shot("notebook-holder-status")

    # 7. clicking the holder opens (activates) its notebook
    page.evaluate("async () => { await window.jupyterapp.commands.execute('launcher:create'); }")
    holder.get_by_role("button").click()
    page.wait_for_function(
        f"() => window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.context"
        f" && window.jupyterapp.shell.currentWidget.context.path === {nb_path!r}"
    )

    # 8. shut the kernel down from the running-kernels list: the container is gone
    running.locator(".jp-GPUKernels-shutdown").click()
    expect(running).to_have_count(0, timeout=30_000)
    wait_for(
        lambda: not fake_gpu_daemon.client.containers.list(all=True, filters={"label": f"{KERNEL_ID}={kernel_id}"}),
        30,
        "the kernel container to be removed",
    )
    expect(panel.locator(".jp-GPUKernels-holder")).to_have_count(0, timeout=20_000)
    expect(panel.locator(".jp-GPUKernels-gpu.jp-mod-free")).to_have_count(4)
    # the notebook notices: no kernel container (hence no GPU) any more
    expect(status_item).not_to_contain_text(f"GPU {gpu}", timeout=20_000)
    shot("kernel-shut-down")

    # 8b. "Use for current notebook": the same notebook gets a new kernel in the environment
    env_item.get_by_role("button", name="Use for current notebook").click()
    page.wait_for_function(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
            return k && k.name === 'gpu-%s' && k.status === 'idle' && w.context.path === %r;
        }"""
        % (ENV_NAME, nb_path),
        timeout=90_000,
    )
    new_kernel = page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.id")
    assert new_kernel != kernel_id
    assert fake_gpu_daemon.client.containers.get(f"jupyter-kernel-{new_kernel}").labels[KERNEL_ID] == new_kernel
    rerun = panel.locator(f".jp-GPUKernels-kernel[data-kernel-id='{new_kernel}']")
    expect(rerun).to_be_visible(timeout=20_000)
    rerun.locator(".jp-GPUKernels-shutdown").click()
    expect(rerun).to_have_count(0, timeout=30_000)
    wait_for(
        lambda: not fake_gpu_daemon.client.containers.list(all=True, filters={"label": f"{KERNEL_ID}={new_kernel}"}),
        30,
        "the second kernel container to be removed",
    )

    # 9. edit the environment, then delete it (its kernelspec goes away)
    env_item.get_by_title(f"Edit {ENV_NAME}").click()
    edit = page.locator(".jp-Dialog.jp-GPUKernels-envDialog")
    expect(edit.locator("input[name='memory']")).to_have_value("1g")
    expect(edit.locator("input[name='name']")).to_have_count(0)  # no renaming
    edit.locator("input[name='memory']").fill("2g")
    edit.get_by_role("button", name="Save").click()
    expect(edit).to_have_count(0)
    expect(env_item).to_contain_text("2g RAM")
    assert lab.api(f"/gpu-kernels/api/environments/{ENV_NAME}")["memory"] == "2g"
    env_item.get_by_title(f"Delete {ENV_NAME}").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
    expect(env_item).to_have_count(0)
    page.wait_for_function(f"() => !window.jupyterapp.serviceManager.kernelspecs.specs.kernelspecs['gpu-{ENV_NAME}']")

    # 10. the panel is restored on reload
    page.reload()
    open_lab(page, lab)
    expect(page.locator(SIDEBAR)).to_be_visible()
    expect(page.locator(SIDEBAR).get_by_label("Docker host")).to_have_value("fakegpu")

    errors = [e for e in page.console_errors if "gpu-kernels" in e.lower() or "GPUKernels" in e]
    assert not errors, errors
    shot.publish()


def test_hosts_errors_are_explained(browser_page, shot, start_lab, nogpu_daemon):
    """A host without the NVIDIA toolkit and an unreachable one: both say what is wrong and how
    to fix it; a failed image pull says why."""
    page = browser_page
    lab = start_lab(
        {
            "nogpu": (nogpu_daemon.url, nogpu_daemon.client),
            "offline": ("unix:///run/jgk-test/no-such-daemon.sock", None),
        }
    )
    open_lab(page, lab)
    page.click(f".jp-SideBar.jp-mod-left [data-id='{SIDEBAR[1:]}']")
    panel = page.locator(SIDEBAR)
    widen_left_area(page, 380)
    host_select = panel.get_by_label("Docker host")

    host_select.select_option("nogpu")
    status = panel.locator(".jp-GPUKernels-hostStatus[data-host='nogpu']")
    expect(status).to_contain_text("reachable")
    expect(status).to_contain_text("GPU driver: no")
    expect(status.locator(".jp-GPUKernels-warning")).to_contain_text("No NVIDIA Container Toolkit on this host")
    expect(status.locator(".jp-GPUKernels-hint")).to_contain_text("install the NVIDIA Container Toolkit")
    expect(panel.locator(".jp-GPUKernels-gpusSection")).to_contain_text("No GPUs usable on nogpu")
    # the taller host status pushes the sections down, but they still fit in the window
    titles = panel.locator(".jp-AccordionPanel-title")
    expect(titles.filter(has_text="Running kernels")).to_have_count(1)
    # the last shown section: "Running kernels", or "Orphaned containers" when the daemon has orphans
    last_title = panel.locator(".jp-AccordionPanel-title:visible").last
    wait_for(lambda: last_title.bounding_box()["y"] + 32 <= page.viewport_size["height"], 5, "the sections to fit")

    # a pull that cannot work fails with the daemon's reason
    panel.get_by_label("Image to pull").fill("localhost:1/nothing:1")
    panel.get_by_role("button", name="Pull").click()
    failed = panel.locator(".jp-GPUKernels-pull[data-status='failed']")
    expect(failed).to_be_visible(timeout=30_000)
    expect(failed).to_contain_text("localhost:1/nothing:1")
    # and a bad reference is refused before any pull starts
    panel.get_by_label("Image to pull").fill("Not An Image")
    panel.get_by_role("button", name="Pull").click()
    expect(panel.locator(".jp-GPUKernels-imagesSection .jp-GPUKernels-error")).to_contain_text(
        "invalid image reference"
    )
    shot("no-gpu-driver")

    host_select.select_option("offline")
    status = panel.locator(".jp-GPUKernels-hostStatus[data-host='offline']")
    expect(status).to_contain_text("unreachable")
    expect(status.locator(".jp-GPUKernels-error")).to_be_visible()
    expect(status.locator(".jp-GPUKernels-hint")).to_contain_text("Fix:")
    shot("unreachable-host")

    # the selected host is remembered across reloads (the default would be "local"): it is
    # in the workspace on the server, and the reloaded page selects it
    wait_for(
        lambda: (
            lab.api("/lab/api/workspaces/default")["data"].get("jupyter-gpu-kernels:sidebar", {}).get("host")
            == "offline"
        ),
        15,
        "the workspace to record the selected host",
    )
    page.reload()
    open_lab(page, lab)
    expect(page.locator(SIDEBAR).get_by_label("Docker host")).to_have_value("offline")
    shot.publish()
