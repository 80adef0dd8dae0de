"""The technician's main screen in a real browser: sign in, scan a box, scan three tubes."""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import Bench, signed_in_page


def _scan(page: Any, code: str) -> None:
    """What a USB scanner does: type into the focused field, then press Enter."""
    page.keyboard.type(code)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_technician_scans_a_box_and_three_tubes_into_a1_a2_a3(
    live_server: Bench, browser: Any
) -> None:
    page = signed_in_page(browser, live_server)

    page.goto(f"{live_server.url}/storage/scan")
    assert page.evaluate("document.activeElement.id") == "code"
    _scan(page, live_server.box)
    assert live_server.box in page.inner_text(".boxinfo")

    for tube in live_server.tubes:
        assert page.evaluate("document.activeElement.id") == "code"  # focus back in the field
        _scan(page, tube)
        assert page.inner_text(".flash.success").startswith(f"{tube} stored at")
    cells = page.locator(".boxgrid a.cell[data-barcode]")
    placed = {cells.nth(i).get_attribute("data-pos"): cells.nth(i).get_attribute("data-barcode")
              for i in range(cells.count())}  # fmt: skip
    assert placed == dict(zip(("A1", "A2", "A3"), live_server.tubes, strict=True))
    assert "just" in (page.get_attribute('[data-pos="A3"]', "class") or "")

    _scan(page, live_server.tubes[0])  # the scanner fires twice
    assert "is already in" in page.inner_text(".flash.warning")
    assert page.locator(".boxgrid a.cell[data-barcode]").count() == 3
    page.close()
