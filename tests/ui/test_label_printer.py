"""Printing to a network printer in a real browser: set it up, pick it, scan, Enter prints."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.network_printer import listening_printer
from tests.ui.conftest import Bench, signed_in_page

# Set to docs/user/img to refresh the pictures in docs/user/labels.md.
SHOTS = os.environ.get("LIMS_DOC_SCREENSHOTS")


def test_an_admin_sets_up_a_printer_and_a_scan_then_enter_prints_on_it(
    live_server: Bench, browser: Any
) -> None:
    with listening_printer() as printer:
        admin = signed_in_page(browser, live_server, username="admin")
        admin.goto(f"{live_server.url}/labels/printers")
        admin.fill("#new-name", "Bench Zebra")
        admin.fill("#new-host", "127.0.0.1")
        admin.fill("#new-port", str(printer.port))
        admin.fill("#new-x_offset_mm", "0.5")
        with admin.expect_navigation():
            admin.click("#add-printer button[type=submit]")
        assert "Printer Bench Zebra set up (127.0.0.1:" in admin.inner_text(".flash.success")
        if SHOTS:
            admin.set_viewport_size({"width": 1366, "height": 900})
            admin.screenshot(path=str(Path(SHOTS) / "printers-page.png"), full_page=True)
        admin.close()

        page = signed_in_page(browser, live_server)
        page.goto(f"{live_server.url}/labels/print")
        page.select_option(
            "#printer_id", label=page.locator("#printer_id option").nth(1).inner_text()
        )
        with page.expect_navigation():
            page.click("#printer-choice button[type=submit]")
        for tube in live_server.tubes[:2]:
            assert page.evaluate("document.activeElement.id") == "scan"
            page.keyboard.type(tube)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.inner_text(".flash.success").startswith("Sent 1 label to Bench Zebra")
        received = printer.wait_for(2)
        if SHOTS:
            page.set_viewport_size({"width": 1366, "height": 900})
            page.screenshot(path=str(Path(SHOTS) / "labels-printer.png"), full_page=True)
        page.close()

    # Each job holds its tube's ID (as the DataMatrix data and the text line), and only that.
    sent = [tube for job in received for tube in live_server.tubes if tube.encode() in job]
    assert sent == list(live_server.tubes[:2])
