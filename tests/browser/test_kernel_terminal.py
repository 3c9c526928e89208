"""Issue #12 (part 2) in JupyterLab: the running-kernels list's "Terminal in container" opens an
xterm.js panel on a shell in the kernel's container; typing ``echo $((6*7))`` shows 42 in its rows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .test_sidebar import SIDEBAR, open_lab, widen_left_area

pytestmark = [pytest.mark.browser, pytest.mark.docker]

START = """async (image) => {
  const s = window.jupyterapp.serviceManager.serverSettings;
  const headers = {Authorization: 'token ' + s.token, 'Content-Type': 'application/json'};
  await fetch(s.baseUrl + 'gpu-kernels/api/environments',
              {method: 'POST', headers, body: JSON.stringify({name: 'termenv', image})});
  await window.jupyterapp.serviceManager.kernelspecs.refreshSpecs();
  const k = await window.jupyterapp.serviceManager.kernels.startNew({name: 'gpu-termenv'});
  return k.id;
}"""


def test_terminal_from_the_kernels_list(browser_page, shot, lab, test_image):
    page = browser_page
    open_lab(page, lab)
    page.click(f".jp-SideBar.jp-mod-left [data-id='{SIDEBAR[1:]}']")
    widen_left_area(page, 380)
    kernel_id = page.evaluate(START, test_image)
    try:
        page.evaluate("() => window.jupyterapp.commands.execute('gpu-kernels:refresh')")
        item = page.locator(f"{SIDEBAR} li.jp-GPUKernels-kernel[data-kernel-id='{kernel_id}']")
        expect(item).to_have_count(1, timeout=90_000)
        item.scroll_into_view_if_needed()
        expect(item).to_be_visible()
        item.locator(".jp-GPUKernels-terminalAction").click()
        term = page.locator(f".jp-GPUKernels-terminal[data-kernel-id='{kernel_id}']")
        expect(term.locator(".xterm-rows")).to_contain_text(re.compile(r"[#$] "), timeout=60_000)  # the prompt
        term.locator(".xterm").click()
        page.keyboard.type("echo $((6*7))\n")
        expect(term.locator(".xterm-rows")).to_contain_text("42", timeout=60_000)
        shot("kernel-terminal")
    finally:
        page.evaluate("(id) => window.jupyterapp.serviceManager.kernels.shutdown(id)", kernel_id)
