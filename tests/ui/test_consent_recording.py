"""Recording a signed consent on the subject page in a real browser."""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import Bench, signed_in_page


def test_a_technician_records_a_consent_with_one_statement_declined(
    live_server: Bench, browser: Any
) -> None:
    page = signed_in_page(browser, live_server)
    page.goto(f"{live_server.url}/subjects/{live_server.subject}")
    assert "No consent recorded" in page.inner_text("#consent")

    page.click("details.record-consent summary")
    page.fill("#f-consented_on", "2023-02-01")
    for radio in page.locator('.record-consent input[type="radio"][value="yes"]').all():
        radio.check()
    page.check('input[name="answer_genetic"][value="no"]')
    with page.expect_navigation():
        page.click("text=Record consent")

    assert "recorded for UIC-0001" in page.inner_text(".flash.success")
    answers = page.inner_text("table.consent-answers")
    assert "My DNA may be stored and studied in genetic research." in answers
    row = page.locator("table.consent-answers tr", has_text="genetic research").inner_text()
    assert row.split("\t")[-1].strip() == "no"
    permits = page.inner_text("table.consent-permits")
    assert "GRU · general research use" in permits
    page.close()
