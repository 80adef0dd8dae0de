"""A long CSV import in a real browser shows its progress, then its result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.factories import DEMO_PASSWORD
from tests.specimens.factories import csv_bytes, import_row
from tests.ui.conftest import Bench, signed_in_page


def _collection_log(study_code: str, tubes: int) -> bytes:
    rows = []
    for t in range(tubes):
        visit = {"study_code": study_code, "visit_number": t + 1, "visit_on": "2026-03-18"}
        for a in range(8):
            rows.append(
                import_row(**visit, tube_barcode=f"UI-T{t:04d}", aliquot_barcode=f"UI-T{t:04d}-{a}")
            )
    return csv_bytes(rows)


def test_an_import_shows_progress_and_then_what_was_imported(
    live_server: Bench, browser: Any, tmp_path: Path
) -> None:
    page = signed_in_page(browser, live_server, timeout_ms=30_000)
    token = page.request.post(
        f"{live_server.url}/api/v1/tokens", data={"username": "tech", "password": DEMO_PASSWORD}
    ).json()
    created = page.request.post(
        f"{live_server.url}/api/v1/subjects",
        headers={"Authorization": f"Bearer {token['token']}"},
        data={
            "study_code": "NA1-0901",
            "site_code": "NA1",
            "sex": "female",
            "primary_diagnosis": "cervical",
        },
    )
    assert created.status == 201, created.text()
    log = tmp_path / "log.csv"
    log.write_bytes(_collection_log("NA1-0901", 250))  # 2,000 aliquots

    page.goto(f"{live_server.url}/specimens/import")
    page.set_input_files("#f-file", str(log))
    page.click("form[data-progress] button[type=submit]")
    progress = page.locator(".progress")
    progress.wait_for(state="visible")
    assert "Importing aliquots" in progress.inner_text()
    progress.wait_for(state="detached")  # not wait_for_function: the CSP refuses eval
    assert "2000" in page.inner_text("main").replace(",", "")
    page.close()
