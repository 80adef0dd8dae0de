"""A scanned list in a real browser: each scan (code + Enter) joins the list instead of
submitting; then the whole list is checked out on dry ice at once (issue #16)."""

from __future__ import annotations

import os
from typing import Any

from tests.ui.conftest import Bench, signed_in_page


def _store_all(page: Any, bench: Bench) -> None:
    """The seeded tubes go into the seeded box through the bench screen, as in the lab."""
    page.goto(f"{bench.url}/storage/scan")
    for code in (bench.box, *bench.tubes):
        page.keyboard.type(code)
        with page.expect_navigation():
            page.keyboard.press("Enter")


def test_a_technician_checks_out_three_scanned_tubes_on_dry_ice(
    live_server: Bench, browser: Any
) -> None:
    page = signed_in_page(browser, live_server)
    _store_all(page, live_server)

    page.goto(f"{live_server.url}/storage/tubes?step=check-out")
    assert page.evaluate("document.activeElement.id") == "scan"
    assert page.is_visible("[data-for-step=check-out]")
    assert not page.is_visible("[data-for-step=use]")  # only the chosen step's fields show
    for code in live_server.tubes:
        page.keyboard.type(code)
        page.keyboard.press("Enter")  # joins the list; the page does not submit
    assert page.url.endswith("/storage/tubes?step=check-out")
    assert page.input_value("#barcodes").split() == list(live_server.tubes)
    assert page.inner_text("[data-list-count]") == "3"

    page.keyboard.type(live_server.tubes[0])  # the scanner fires twice
    page.keyboard.press("Enter")
    assert "already in the list" in page.inner_text("[data-list-note]")
    assert page.inner_text("[data-list-count]") == "3"

    page.check("input[name=condition][value=on_dry_ice]")
    if shots := os.environ.get("LIMS_SCREENSHOTS"):  # the picture in the user guide
        page.screenshot(path=f"{shots}/tube-list.png", full_page=True)
    with page.expect_navigation():
        page.click("form[data-tube-list] button[type=submit]")
    assert page.inner_text(".flash.success").startswith("3 tubes checked out")

    page.goto(f"{live_server.url}/aliquots/{live_server.tubes[1]}")
    assert "checked out" in page.inner_text("h1")
    assert "out on dry ice" in page.inner_text("main")
    page.close()
