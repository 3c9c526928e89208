"""The Orphaned containers section, in a real browser against a real ``jupyter lab``: two real
orphans (a client process started their kernels on the main daemon and exited without shutting
them down, tests/support/orphans.py) are listed with their gone owner; a row's Remove removes only
that container, "Remove all" the rest, and the section hides when none are left."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ..support.orphans import container_states, orphan_maker
from .test_sidebar import open_panel

pytestmark = [pytest.mark.browser, pytest.mark.docker]


@pytest.fixture
def make_orphans(tmp_path, test_image, docker_client):
    yield from orphan_maker(tmp_path, test_image, docker_client)


def test_remove_one_orphan_then_all_from_the_sidebar(browser_page, shot, start_lab, docker_client, make_orphans):
    page = browser_page
    one, two = make_orphans(2)
    lab = start_lab({})
    panel = open_panel(page, lab)
    section = panel.locator(".jp-GPUKernels-orphansSection")
    rows = {k: section.locator(f"li.jp-GPUKernels-orphan[data-kernel-id='{k}']") for k in (one, two)}
    for row in rows.values():
        expect(row).to_be_visible(timeout=60_000)
        expect(row).to_contain_text("gone for")
        expect(row).to_contain_text("removed after 600 s")
    shot("orphans-listed")

    rows[one].get_by_role("button", name="Remove").click()
    expect(rows[one]).to_have_count(0, timeout=60_000)
    expect(rows[two]).to_be_visible()
    assert container_states(docker_client, [one, two]) == {two: "running"}, "only that row's container is gone"

    section.get_by_role("button", name="Remove all").click()
    expect(rows[two]).to_have_count(0, timeout=60_000)
    assert container_states(docker_client, [one, two]) == {}
    # no orphans left on the daemon: the section hides (unless another process left one meanwhile)
    expect(section).to_be_hidden(timeout=30_000)
    assert not page.console_errors, page.console_errors
