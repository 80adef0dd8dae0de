"""Receiving a shipment at the bench in a real browser, by scanning only: the shipment barcode,
then each tube, with the running reconciliation following every scan."""

from __future__ import annotations

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
from tests.shipments.factories import consented_tubes, shipped
from tests.ui.conftest import Bench, signed_in_page

# Set LIMS_SCREENSHOTS=docs/user/img to refresh the picture in docs/user/shipping.md.
SCREENSHOTS = os.environ.get("LIMS_SCREENSHOTS")


@dataclass(frozen=True)
class Arrival:
    bench: Bench
    shipment: str
    tubes: tuple[str, ...]
    stray: str


@pytest.fixture(scope="module")
def arrival(databases: DatabaseMaker) -> Iterator[Arrival]:
    url = databases.migrated("sqlite", "ui_ship")
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        tech = Actor.of(make_user(session, "tech", Role.TECHNICIAN))
        packed = consented_tubes(session, tech, 3)
        tubes = tuple(a.barcode for a in packed)
        stray = consented_tubes(session, tech, 1)[0].barcode
        code = shipped(session, tech, packed).code
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "ui-tests-only"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    bench = Bench(f"http://127.0.0.1:{server.server_port}", "", tubes)
    yield Arrival(bench, code, tubes, stray)
    server.shutdown()
    thread.join(10)
    app.extensions["lims_engine"].dispose()


def _scan(page: Any, code: str) -> None:
    """What a USB scanner does: type into the focused field, then press Enter."""
    assert page.evaluate("document.activeElement.id") == "code"  # focus stays in the field
    page.keyboard.type(code)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _counts(page: Any) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        int(page.inner_text(f'[data-count="{name}"]'))
        for name in ("received", "missing", "unexpected")
    )


def test_a_technician_receives_a_shipment_entirely_by_scanning(
    arrival: Arrival, browser: Any
) -> None:
    page = signed_in_page(browser, arrival.bench)
    page.set_viewport_size({"width": 1280, "height": 860})
    page.goto(f"{arrival.bench.url}/shipments/receive")

    _scan(page, arrival.shipment)
    assert arrival.shipment in page.inner_text(".boxinfo")
    assert _counts(page) == (0, 3, 0)
    first, second, third = arrival.tubes
    _scan(page, first)
    assert page.inner_text(".flash.success").startswith(f"{first} received")
    _scan(page, second)
    _scan(page, arrival.stray)
    assert "not on the manifest" in page.inner_text(".flash.error")
    _scan(page, first)  # the scanner fired twice
    assert "already scanned" in page.inner_text(".flash.warning")
    assert _counts(page) == (2, 1, 1)
    assert third in page.inner_text(".missing") and arrival.stray in page.inner_text(".unexpected")
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "shipping-receive.png"), full_page=True)

    _scan(page, third)
    assert _counts(page) == (3, 0, 1)
    with page.expect_navigation():
        page.click(".complete button")
    assert "received" in page.inner_text(".boxinfo")
    assert page.inner_text(".flash.success").startswith(f"Receipt of {arrival.shipment} completed")
    page.close()
