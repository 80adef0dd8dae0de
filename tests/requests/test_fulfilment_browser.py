"""The pick bench in headless Chromium, as a scanner uses it: the field has the focus, a scan is
the barcode typed and Enter, a wrong tube is refused by name and the field is ready again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from lims import create_app
from lims.actors import Actor, Role
from lims.db import make_engine
from lims.requests.services import reserve_pick_list
from tests.conftest import DatabaseMaker
from tests.factories import make_box, make_user
from tests.requests.fulfilment_factories import collection, request_to_fulfil
from tests.ui.conftest import Bench, browser, signed_in_page  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def picking(
    tmp_path_factory: pytest.TempPathFactory, databases: DatabaseMaker
) -> Iterator[tuple[Bench, str, list[str]]]:
    """A live server whose request REQ-0001 has two tubes reserved; a third tube is not on it."""
    tmp = tmp_path_factory.mktemp("pick")
    url = databases.migrated("sqlite", "ui_picking")
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        tech = Actor.of(make_user(session, "tech", Role.TECHNICIAN))
        people = [
            Actor.of(make_user(session, name, role))
            for name, role in (
                ("investigator", Role.INVESTIGATOR),
                ("reviewer", Role.REVIEWER),
                ("admin", Role.ADMIN),
            )
        ]
        found = collection(session, [make_box(session)], [2, 2])
        req = request_to_fulfil(session, *people, tmp)
        wanted = [
            i.aliquot.barcode for i in reserve_pick_list(session, tech, request=req.code).items
        ]
        stranger = next(
            t.barcode for ts in found.tubes.values() for t in ts if t.barcode not in wanted
        )
        code = req.code
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "ui-tests-only"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Bench(f"http://127.0.0.1:{server.server_port}", "", ()), code, [*wanted, stranger]
    server.shutdown()
    thread.join(10)
    app.extensions["lims_engine"].dispose()


def _scan(page: Any, code: str) -> None:
    assert page.evaluate("document.activeElement.id") == "code", "the scan field lost the focus"
    page.keyboard.type(code)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_technician_picks_by_scanning_and_a_wrong_tube_is_refused_by_name(
    browser: Any,  # noqa: F811 (the fixture)
    picking: tuple[Bench, str, list[str]],
) -> None:
    bench, code, (first, second, stranger) = picking
    page = signed_in_page(browser, bench)
    page.goto(f"{bench.url}/pick-lists/{code}/pick")

    _scan(page, stranger)
    refused = page.locator(".flash.error").inner_text()
    _scan(page, first)
    _scan(page, second)

    assert f"{stranger} is not on the pick list of {code}" in refused
    assert page.locator("#pick-progress").inner_text().startswith("2 of 2 picked")
    assert page.locator(".flash.success").inner_text() == f"{second} picked: 2 of 2 picked"
