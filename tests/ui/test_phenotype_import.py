"""In a real browser: preview and import the sample REDCap export, then open a timeline."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from lims import create_app
from lims.actors import Role
from lims.db import make_engine
from phenotype_link.redcap.sample import visit_dates
from tests.conftest import DatabaseMaker
from tests.factories import make_subject, make_user, make_visit
from tests.ui.conftest import Bench, signed_in_page

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "redcap" / "sample-export-raw.csv"


@pytest.fixture(scope="module")
def sample_server(databases: DatabaseMaker) -> Iterator[Bench]:
    """A live server whose database holds the subjects and visits the sample names."""
    url = databases.migrated("sqlite", "ui_phenotype")
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        make_user(session, "tech", Role.TECHNICIAN)
        subjects = {}  # the subjects and visits the sample names, on its dates
        for (code, number), on in sorted(visit_dates().items()):
            if code not in subjects:
                subjects[code] = make_subject(session, study_code=code)
            make_visit(session, subjects[code], number, on)
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "ui-tests-only"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Bench(f"http://127.0.0.1:{server.server_port}", "", ())
    server.shutdown()
    thread.join(10)
    app.extensions["lims_engine"].dispose()


def test_the_sample_export_is_previewed_imported_and_shown_on_a_timeline(
    sample_server: Bench, browser: Any
) -> None:
    page = signed_in_page(browser, sample_server, timeout_ms=20_000)

    page.goto(f"{sample_server.url}/phenotype/import")
    page.set_input_files("#f-file", str(SAMPLE))
    page.click("form[data-progress] button[type=submit]")
    page.locator("#import-result h2", has_text="Preview: nothing written yet").wait_for()

    page.set_input_files("#f-file", str(SAMPLE))
    page.check("#f-import")
    page.click("form[data-progress] button[type=submit]")
    page.locator("#import-result h2", has_text="Imported").wait_for()
    assert "0 to change" in page.inner_text("#import-result")

    page.goto(f"{sample_server.url}/subjects/EU1-0002/timeline")
    assert page.locator("#visit-2").is_visible()
    assert page.locator("figure.scale-chart svg").count() >= 1
    page.close()
