"""The header's find box and the audit trail's filter in a real browser, at a 1366 px screen."""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import Bench, signed_in_page


def test_a_scanned_barcode_in_the_header_find_box_opens_its_tube(
    live_server: Bench, browser: Any
) -> None:
    page = signed_in_page(browser, live_server)
    page.goto(f"{live_server.url}/storage/")

    page.click("#find-q")
    page.keyboard.type(live_server.tubes[1])  # what a USB scanner does: the code, then Enter
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.url == f"{live_server.url}/aliquots/{live_server.tubes[1]}"
    assert live_server.tubes[1] in page.inner_text("h1")
    page.close()


def test_the_audit_trail_filters_by_barcode_and_fits_a_1366_px_screen(
    live_server: Bench, browser: Any
) -> None:
    page = signed_in_page(browser, live_server, username="admin")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/audit/")

    page.fill("#trail-code", live_server.tubes[0])
    page.fill("#trail-action", "aliquot.")
    with page.expect_navigation():
        page.press("#trail-action", "Enter")

    objects = page.locator("table.trail tbody tr td:nth-child(4)").all_inner_texts()
    assert objects and all(text.endswith(live_server.tubes[0]) for text in objects)
    assert page.input_value("#trail-code") == live_server.tubes[0]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.close()
