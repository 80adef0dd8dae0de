"""A busy bench over HTTP: 20 requests at once on one aliquot, through a real threaded server.

This is the shape in which the lost updates were found (issue #14): each request is its own
connection to the server, and each server thread its own database connection, on the embedded
SQLite file that `make run` uses and on PostgreSQL.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from lims import create_app
from lims.actors import Actor, Role
from lims.audit.models import Action, AuditEvent
from lims.audit.services import verify_chain
from lims.db import make_engine
from lims.specimens.models import Aliquot
from lims.storage.services import check_out, store_aliquot
from tests.conftest import DatabaseMaker
from tests.factories import DEMO_PASSWORD, make_aliquot, make_box, make_user

ATTEMPTS = 20


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    database_url: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, databases: DatabaseMaker) -> Iterator[Server]:
    url = databases.migrated(request.param, "lims_http_race")
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        make_user(session, "tech", Role.TECHNICIAN)
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "http-race-only", "TESTING": False})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    status, body = _post(base, "/api/v1/tokens", {"username": "tech", "password": DEMO_PASSWORD})
    assert status == 201, body
    yield Server(base, body["token"], url)
    httpd.shutdown()
    thread.join(10)
    app.extensions["lims_engine"].dispose()


def _post(
    base: str, path: str, body: dict[str, object], token: str | None = None
) -> tuple[int, dict[str, object]]:
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def _stored_aliquot(server: Server, volume_ul: int, *, checked_out: bool = False) -> str:
    engine = make_engine(server.database_url)
    with Session(engine, expire_on_commit=False) as session:
        tech = Actor.of(make_user(session, "tech", Role.TECHNICIAN))
        box, aliquot = make_box(session), make_aliquot(session, volume_ul=volume_ul)
        store_aliquot(session, tech, barcode=aliquot.barcode, box_id=box.id, position="A1")
        if checked_out:  # material is drawn from a tube on the bench, not in the freezer
            check_out(session, tech, barcode=aliquot.barcode)
    engine.dispose()
    return aliquot.barcode


def _at_once(server: Server, path: str, body: dict[str, object]) -> Counter[int]:
    barrier = threading.Barrier(ATTEMPTS)
    statuses: list[int] = []

    def bench() -> None:
        barrier.wait()
        statuses.append(_post(server.url, path, body, server.token)[0])

    threads = [threading.Thread(target=bench) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return Counter(statuses)


def _trail(server: Server, barcode: str) -> tuple[int, list[str], bool]:
    engine = make_engine(server.database_url)
    with Session(engine) as session:
        aliquot = session.scalars(select(Aliquot).where(Aliquot.barcode == barcode)).one()
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type == "aliquot", AuditEvent.object_id == str(aliquot.id))
                .order_by(AuditEvent.id)
            )
        )
        volume_ul = aliquot.volume_ul
        intact = verify_chain(session).is_intact
    engine.dispose()
    return volume_ul, actions, intact


def test_twenty_check_outs_at_once_over_http_give_one_200_and_nineteen_409s(
    server: Server,
) -> None:
    barcode = _stored_aliquot(server, 500)

    statuses = _at_once(
        server, f"/api/v1/aliquots/{barcode}/check-out", {"condition": "on_dry_ice"}
    )

    assert statuses == Counter({200: 1, 409: ATTEMPTS - 1}), statuses
    _, actions, intact = _trail(server, barcode)
    assert actions.count(Action.ALIQUOT_CHECKED_OUT) == 1
    assert intact


def test_twenty_uses_of_ten_microlitres_at_once_over_http_add_up(server: Server) -> None:
    barcode = _stored_aliquot(server, 500, checked_out=True)

    statuses = _at_once(server, f"/api/v1/aliquots/{barcode}/use", {"volume_ul": 10})

    assert statuses == Counter({200: ATTEMPTS}), statuses
    volume_ul, actions, intact = _trail(server, barcode)
    assert volume_ul == 500 - 10 * ATTEMPTS
    assert actions.count(Action.ALIQUOT_VOLUME_USED) == ATTEMPTS
    assert intact
