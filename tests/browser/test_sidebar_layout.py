"""The sidebar's layout measured in a real browser (issue #13): the image list starts below its filter
box and is visible in the panel, and a long error message wraps instead of overflowing sideways.

Geometry is read from Chromium's layout (bounding boxes, ``elementFromPoint``, scroll widths) on a
real ``jupyter lab`` listing the main daemon's images, in a narrow left area (300 px), where clipping
and horizontal overflow show first, with every section expanded
and nothing scrolled.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .test_sidebar import open_panel

pytestmark = [pytest.mark.browser, pytest.mark.docker]

LONG_REF = "NOT_AN_IMAGE_" + "X" * 300  # one long word: only overflow-wrap can break it


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box, f"{locator} has no box (not rendered)"
    return box


def test_image_rows_below_the_filter_and_long_errors_wrap(browser_page, shot, start_lab, test_image):
    page = browser_page
    lab = start_lab({})
    panel = open_panel(page, lab, width=300)
    section = panel.locator(".jp-GPUKernels-imagesSection")
    rows = section.locator(".jp-GPUKernels-image")
    expect(rows.filter(has_text=test_image)).to_have_count(1, timeout=30_000)
    first = rows.first  # visible as the panel opens: all sections expanded, nothing scrolled
    filter_box = _box(section.locator(".jp-GPUKernels-filter"))
    row = _box(first)
    assert row["y"] >= filter_box["y"] + filter_box["height"] - 0.5, (
        f"the first image row (top {row['y']}) starts under the filter box (bottom "
        f"{filter_box['y'] + filter_box['height']})"
    )
    visible = _box(section)  # the section clips its content: the row must be inside it and the panel
    outer = _box(panel)
    for name, area in (("images section", visible), ("panel", outer)):
        assert area["x"] - 0.5 <= row["x"] and row["x"] + row["width"] <= area["x"] + area["width"] + 0.5, (
            f"the first image row {row} sticks out of the {name} {area} sideways"
        )
        assert area["y"] - 0.5 <= row["y"] and row["y"] + row["height"] <= area["y"] + area["height"] + 0.5, (
            f"the first image row {row} is not inside the visible {name} {area}"
        )
    # nothing is drawn over the row: the element at its centre is the row or inside it
    covered = first.evaluate(
        "el => { const r = el.getBoundingClientRect();"
        " const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
        " return el.contains(hit) ? '' : (hit ? hit.className || hit.tagName : 'nothing'); }"
    )
    assert covered == "", f"the first image row is covered by {covered!r}"
    shot("images-below-filter")

    # a long error message wraps: its element does not overflow horizontally, nor does the section
    panel.get_by_label("Image to pull").fill(LONG_REF)
    panel.get_by_role("button", name="Pull").click()
    error = section.locator(".jp-GPUKernels-error").filter(has_text="invalid image reference")
    expect(error).to_be_visible(timeout=15_000)
    widths = error.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1], (
        f"the error message overflows sideways: scrollWidth {widths[0]} > clientWidth {widths[1]}"
    )
    err = _box(error)
    assert err["x"] + err["width"] <= visible["x"] + visible["width"] + 0.5, (
        f"the error {err} is wider than the section {visible}"
    )
    assert err["height"] > 2 * _box(first)["height"] * 0.5, "the long error did not wrap onto several lines"
    widths = section.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1], f"the images section overflows sideways: {widths[0]} > {widths[1]}"
    shot("long-error-wraps")
    shot.publish()
