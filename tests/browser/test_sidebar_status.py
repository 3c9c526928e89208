"""What the sidebar shows of what the server knows, in a real browser on a real ``jupyter lab``:
a kernel OOM-killed at its 200m memory limit → a notification naming the notebook and the
reason, and the reason in its running-kernels row; its container log (a line the kernel wrote
to stderr) in the "Show log" view; the CUDA requirement of an image that needs a newer CUDA than
the fake-GPU host's fake driver, with the warning badge.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .test_sidebar import SIDEBAR, open_lab, wait_for, wait_for_notebook_kernel

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.gpu_fake]


def test_oom_notification_log_and_cuda_badge(browser_page, shot, lab, fake_gpu_daemon, cuda_image):
    page = browser_page
    lab.api(
        "/gpu-kernels/api/environments",
        "POST",
        {"name": "small", "image": fake_gpu_daemon.test_image, "host": "fakegpu", "gpus": "none", "memory": "200m"},
    )
    open_lab(page, lab)
    page.locator(f".jp-SideBar.jp-mod-left [data-id='{SIDEBAR[1:]}']").click()
    panel = page.locator(SIDEBAR)
    panel.get_by_label("Docker host").select_option("fakegpu")

    # the CUDA requirement of the image, with the warning that the fake driver cannot meet it
    item = panel.locator(f".jp-GPUKernels-image[data-image='{cuda_image}']")
    expect(item).to_be_visible(timeout=60_000)
    cuda = item.locator(".jp-GPUKernels-cuda")
    expect(cuda).to_contain_text("needs CUDA >=13.1")
    expect(cuda).to_have_class(re.compile(r"jp-mod-warn"))
    expect(cuda).to_contain_text("supports CUDA 12.4")
    shot("cuda-requirement")

    # a notebook with the 200m kernel; a cell writes to stderr, then one allocates 1 GB
    page.evaluate("""async () => {
        const app = window.jupyterapp;
        const m = await app.commands.execute('docmanager:new-untitled', {path: '', type: 'notebook'});
        await app.commands.execute('docmanager:open', {path: m.path, factory: 'Notebook',
                                                        kernel: {name: 'gpu-small'}});
    }""")
    kernel_id = wait_for_notebook_kernel(page, "gpu-small", timeout=90_000)
    nb_name = page.evaluate("() => window.jupyterapp.shell.currentWidget.context.path").rsplit("/", 1)[-1]
    nb = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    nb.locator(".jp-Cell .cm-content").first.click()
    # the kernel process's own stderr (the container log), not ipykernel's captured sys.stderr
    page.keyboard.type(
        "import os; os.write(os.open('/proc/1/fd/2', os.O_WRONLY), b'jgk-stderr-marker\\n'); print('written')"
    )
    page.keyboard.press("Shift+Enter")
    expect(nb.locator(".jp-OutputArea-output").first).to_contain_text("written", timeout=30_000)

    # the log view shows the stderr line from the container's log
    row = panel.locator(f".jp-GPUKernels-kernel[data-kernel-id='{kernel_id}']")
    expect(row).to_be_visible(timeout=30_000)
    row.get_by_role("button", name="Show log").click()
    log = page.locator(f".jp-GPUKernels-log[data-kernel-id='{kernel_id}']")
    expect(log).to_be_visible(timeout=20_000)
    expect(log).to_contain_text("jgk-stderr-marker", timeout=20_000)
    shot("kernel-log")

    page.evaluate(f"""async () => {{
        const w = [...window.jupyterapp.shell.widgets('main')].find(w => w.context && w.context.path.endsWith({nb_name!r}));
        window.jupyterapp.shell.activateById(w.id);
        w.sessionContext.session.kernel.requestExecute({{code: "x = bytearray(1024 ** 3)"}});
    }}""")
    toast = page.locator(".Toastify__toast", has_text=f"kernel of {nb_name} OOM-killed at its 200 MiB memory limit")
    expect(toast).to_be_visible(timeout=60_000)
    expect(toast).to_contain_text("restarted")
    expect(row.locator(".jp-GPUKernels-kernelDeath")).to_contain_text("OOM-killed", timeout=30_000)
    shot("oom-notification")
    expect(page.locator(".Toastify__toast", has_text="OOM-killed")).to_have_count(1)
    assert fake_gpu_daemon.client.containers.get(f"jupyter-kernel-{kernel_id}")  # on the fake-GPU host
    # restarted (the restart still happens); then shut down, so nothing is left behind
    wait_for(
        lambda: lab.api(f"/api/kernels/{kernel_id}").get("execution_state") in ("idle", "busy"),
        90,
        "the restarted kernel",
    )
    wait_for(lambda: _delete(lab, kernel_id), 60, "the kernel's shutdown")


def _delete(lab, kernel_id: str) -> bool:
    """DELETE the kernel; False while jupyter_client refuses it mid-restart (its MultiKernelManager
    raises InvalidStateError on a pending `ready` future: a 500)."""
    import urllib.error

    try:
        lab.api(f"/api/kernels/{kernel_id}", "DELETE")
    except urllib.error.HTTPError as e:
        if e.code == 500:
            return False
        raise
    return True
