"""A live server on a real SQLite file, and headless Chromium driven by Playwright.

The browser tests need what a bare machine may lack (Debian's chromium, Playwright's Python
package). Missing, they are skipped with the reason; under CI (LIMS_REQUIRE_ALL=1, set by
.ci/run, which also installs chromium) a skip becomes a failure.
"""

from __future__ import annotations

import itertools
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
from lims.actors import Role
from lims.db import make_engine
from tests.conftest import DatabaseMaker
from tests.factories import DEMO_PASSWORD, make_aliquots, make_box, make_subject, make_user
from tests.specimens.factories import make_consent_form

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
_servers = itertools.count(1)
REQUIRED = os.environ.get("LIMS_REQUIRE_ALL") == "1"


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (LIMS_REQUIRE_ALL=1: CI must run the browser tests)")
    pytest.skip(reason)


@dataclass(frozen=True)
class Bench:
    """The seeded lab: an empty 9x9 box and three received tubes, as barcodes."""

    url: str
    box: str
    tubes: tuple[str, ...]
    subject: str = "UIC-0001"  # enrolled, no consent recorded yet; a consent form exists


@pytest.fixture(scope="module")
def live_server(databases: DatabaseMaker) -> Iterator[Bench]:
    url = databases.migrated("sqlite", f"ui_{next(_servers)}")
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        make_user(session, "tech", Role.TECHNICIAN)
        make_user(session, "admin", Role.ADMIN)
        box = make_box(session)
        tubes = tuple(a.barcode for a in make_aliquots(session, 3))
        make_subject(session, study_code="UIC-0001")
        make_consent_form(session)
        box_code = box.barcode
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "ui-tests-only"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Bench(f"http://127.0.0.1:{server.server_port}", box_code, tubes)
    server.shutdown()
    thread.join(10)
    app.extensions["lims_engine"].dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright's Python package is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def signed_in_page(
    browser: Any, bench: Bench, *, timeout_ms: int = 5000, username: str = "tech"
) -> Any:
    """A new tab, signed in (as the technician unless told) through the login form."""
    page = browser.new_page()
    page.set_default_timeout(timeout_ms)
    page.goto(f"{bench.url}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.press("#password", "Enter")
    assert page.url == f"{bench.url}/"
    return page
