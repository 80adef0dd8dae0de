"""A whole investigator request in a real browser (issue 19): feasibility, the request with its
protocol PDF, review and approval, the pick by scan, packing and shipping, the delivery, and
the investigator's download of the de-identified data set."""

from __future__ import annotations

import csv
import io
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from lims import create_app
from lims.actors import Actor, Role
from lims.db import make_engine
from tests.conftest import DatabaseMaker
from tests.factories import make_user
from tests.requests.release_factories import cohort
from tests.requests.workflow_factories import PDF
from tests.shipments.factories import biorepository, institution
from tests.ui.conftest import Bench, signed_in_page

# Set LIMS_SCREENSHOTS=docs/user/img to refresh the pictures in docs/user/requests-walkthrough.md.
SCREENSHOTS = os.environ.get("LIMS_SCREENSHOTS")
FIELDS_SHOT = "request-fields.png"  # docs/user/requests.md


@dataclass(frozen=True)
class Lab:
    bench: Bench
    tubes: tuple[str, ...]
    protocol: Path


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, databases: DatabaseMaker) -> Iterator[Lab]:
    here = tmp_path_factory.mktemp("ui-request")
    url = databases.migrated("sqlite", "ui_request_walk")
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        tech = Actor.of(make_user(session, "tech", Role.TECHNICIAN))
        for name, role in (("investigator", Role.INVESTIGATOR), ("reviewer", Role.REVIEWER)):
            make_user(session, name, role)
        make_user(session, "admin", Role.ADMIN)
        tubes, _ = cohort(session, tech)
        barcodes = tuple(t.barcode for t in tubes)
        biorepository(session)
        institution(session)
    engine.dispose()
    (protocol := here / "protocol.pdf").write_bytes(PDF)
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "ui-tests-only",
            "REQUEST_FILES_DIR": here / "request-files",
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Lab(Bench(f"http://127.0.0.1:{server.server_port}", "", barcodes), barcodes, protocol)
    server.shutdown()
    thread.join(10)
    app.extensions["lims_engine"].dispose()


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def _submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def _as(browser: Any, lab: Lab, username: str) -> Any:
    page = signed_in_page(browser, lab.bench, username=username, timeout_ms=15000)
    page.set_viewport_size({"width": 1200, "height": 900})
    return page


def test_an_investigator_goes_from_feasibility_to_the_data_set(lab: Lab, browser: Any) -> None:
    url = lab.bench.url
    # Feasibility: the investigator asks with the criteria form and gets protected counts.
    page = _as(browser, lab, "investigator")
    page.goto(f"{url}/requests/feasibility")
    page.select_option('select[name="purpose.term"]', "DS")
    page.check('input[name="specimen_types"][value="serum"]')
    _submit(page, "form.criteria-form button.primary")
    assert "Protected counts" in page.inner_text("section.answer")
    assert "fewer than 5" in page.inner_text("table.counts tfoot")
    _shot(page, "walkthrough-feasibility.png")

    # The request: a draft with the criteria, the protocol PDF attached, then submitted.
    page.goto(f"{url}/requests/new")
    page.fill("#title", "Serum biomarkers of cervical dystonia progression")
    page.fill("#aims", "Find serum markers that follow TWSTRS severity across visits.")
    page.select_option('select[name="purpose.term"]', "DS")
    page.eval_on_selector('input[name="purpose.modifiers"][value="NCU"]', "e => e.checked = true")
    page.check('input[name="specimen_types"][value="serum"]')
    page.fill("#quantity_ul", "200")
    page.check('input[name="allow_last_aliquot"]')
    for name in ("twstrs2_total", "fh_dystonia", "dx_subtype", "weeks_since_toxin"):
        page.check(f'input[name="phenotype_fields"][value="{name}"]')
    page.click("#phenotype_fields details summary >> nth=3")  # the TWSTRS items, by hand
    page.check('input[name="phenotype_fields"][value="twstrs_sev_a1"]')
    if SCREENSHOTS:
        page.locator("#phenotype_fields").screenshot(path=str(Path(SCREENSHOTS) / FIELDS_SHOT))
    _submit(page, 'button:has-text("Save draft")')
    code = page.inner_text("h1 code")
    page.set_input_files('input[name="file"]', str(lab.protocol))
    _submit(page, 'button:has-text("Attach PDF")')
    _submit(page, 'button:has-text("Submit for review")')
    assert "submitted" in page.inner_text("h1")
    _shot(page, "walkthrough-submitted.png")
    page.close()

    # Review: a reviewer starts it and votes; the admin records the decision.
    page = _as(browser, lab, "reviewer")
    page.goto(f"{url}/requests/{code}")
    _submit(page, 'button:has-text("Start review")')
    page.fill("#comment", "Sound design; the visits span enough time.")
    page.select_option("#vote", "approve")
    _submit(page, 'button:has-text("Send")')
    _shot(page, "walkthrough-review.png")
    page.close()
    page = _as(browser, lab, "admin")
    page.goto(f"{url}/requests/{code}")
    page.select_option("#decision", "approved")
    page.fill("#decision-note", "Approved by the access committee")
    _submit(page, 'button:has-text("Record decision")')
    assert "approved" in page.inner_text("h1")
    page.close()

    # Fulfilment: the technician reserves the pick list, picks by scanning, packs and ships.
    page = _as(browser, lab, "tech")
    page.goto(f"{url}/pick-lists/{code}")
    _shot(page, "walkthrough-pick-list.png")
    _submit(page, 'button:has-text("Reserve these")')
    page.goto(f"{url}/pick-lists/{code}/pick")
    for barcode in lab.tubes:
        page.fill("#code", barcode)
        with page.expect_navigation():
            page.press("#code", "Enter")
    assert "3 of 3" in page.inner_text("#pick-progress")
    _shot(page, "walkthrough-pick.png")
    page.goto(f"{url}/pick-lists/{code}")
    page.select_option('select[name="to_address_id"]', label=_institution(page))
    _submit(page, 'button:has-text("Pack the picked tubes")')
    page.fill('input[name="courier"]', "FedEx")
    page.fill('input[name="tracking_number"]', "7712 3456 8890")
    page.fill('input[name="dry_ice_kg"]', "5")
    _submit(page, 'form.ship-form button:has-text("Ship")')
    # The delivery, confirmed from the request's release page.
    page.goto(f"{url}/requests/{code}/release")
    _shot(page, "walkthrough-delivery.png")
    page.fill('textarea[name="notes"]', "signed for by the lab manager")
    _submit(page, 'button:has-text("Confirm delivery")')
    assert page.inner_text("#release-items").count("released") == 6  # item and aliquot
    page.close()

    # The investigator downloads the de-identified data set.
    page = _as(browser, lab, "investigator")
    page.goto(f"{url}/requests/{code}/release")
    _shot(page, "walkthrough-release.png")
    with page.expect_download() as download:
        page.click('a:has-text("Data set (CSV)")')
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert sorted(r["barcode"] for r in rows) == sorted(lab.tubes)
    assert {r["fh_dystonia"] for r in rows} == {"1"} and rows[0]["subject"] != rows[0]["barcode"]
    page.close()


def _institution(page: Any) -> str:
    options = page.eval_on_selector_all(
        'select[name="to_address_id"] option', "els => els.map(e => e.textContent.trim())"
    )
    return next(o for o in options if "Example University" in o)
