"""The streamed inventory export owns its database session: it checks the role before the first
byte and leaves no connection idle in transaction, whether the body is read to the end or the
client goes away halfway.

The connection test needs the app's own engine and pool (not the rolled-back `session` fixture,
which shares one connection), so it runs on a PostgreSQL database of its own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lims import create_app
from lims.actors import Actor, Role
from lims.storage.services import AliquotFilter, export_inventory
from lims.storage.services.export import LINES_PER_CHUNK
from tests.conftest import DatabaseMaker, bearer, sign_in
from tests.factories import make_aliquots, make_user

PROBLEM = "application/problem+json"
ALIQUOTS = 1100
assert ALIQUOTS > LINES_PER_CHUNK
IDLE_IN_TRANSACTION = (
    "select count(*) from pg_stat_activity "
    "where datname = current_database() and state like 'idle in transaction%'"
)
CONNECTIONS = (
    "select count(*) from pg_stat_activity "
    "where datname = current_database() and pid <> pg_backend_pid()"
)


@pytest.fixture(scope="module")
def real_app(databases: DatabaseMaker) -> Iterator[tuple[Flask, str]]:
    """The app as it runs in production: its own engine and pool on a database of its own."""
    url = databases.migrated("postgresql", "lims_export_streams")
    app = create_app({"TESTING": True, "SECRET_KEY": "test-only", "DATABASE_URL": url})
    with app.extensions["lims_session_factory"]() as setup:
        make_user(setup, "tech", Role.TECHNICIAN)
        for _ in range(ALIQUOTS // 100):  # more than one chunk, so a stream can be cut short
            make_aliquots(setup, 100, volume_ul=50)  # 5 mL of a 6 mL tube
    engine: Engine = app.extensions["lims_engine"]
    yield app, engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    engine.dispose()


def _count(monitor: psycopg.Connection[Any], query: str) -> int:
    row = monitor.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def test_fifty_exports_leave_no_connection_idle_in_transaction(
    real_app: tuple[Flask, str],
) -> None:
    app, dsn = real_app
    client = app.test_client()
    sign_in(client, "tech")
    counts = []
    # One monitoring connection for the whole test: a closed one lingers briefly in
    # pg_stat_activity and would look like growth.
    monitor = psycopg.connect(dsn, autocommit=True)
    for n in range(50):
        response = client.get("/aliquots/export.csv", buffered=False)
        if n % 2:  # the client reads the first chunk, then goes away
            first = next(iter(response.response))
            assert first.startswith(b"barcode,subject")
            response.close()
        else:
            rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
            assert len(rows) == ALIQUOTS + 1
        counts.append(_count(monitor, CONNECTIONS))
        assert _count(monitor, IDLE_IN_TRANSACTION) == 0, f"after export {n + 1}"
    monitor.close()
    assert max(counts[10:]) <= max(counts[:10]), f"connections grew: {counts}"


def test_an_export_over_the_api_streams_the_same_csv(real_app: tuple[Flask, str]) -> None:
    app, dsn = real_app
    client = app.test_client()
    response = client.get(
        "/api/v1/aliquots/export.csv?specimen_type=serum", headers=bearer(client, "tech")
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert len(response.get_data(as_text=True).splitlines()) == ALIQUOTS + 1
    with psycopg.connect(dsn, autocommit=True) as monitor:
        assert _count(monitor, IDLE_IN_TRANSACTION) == 0


def test_an_investigator_is_refused_before_the_stream_begins(
    client: FlaskClient, investigator: Actor
) -> None:
    response = client.get("/api/v1/aliquots/export.csv", headers=bearer(client, "investigator"))
    assert response.status_code == 403 and response.mimetype == PROBLEM
    sign_in(client, "investigator")
    page = client.get("/aliquots/export.csv")
    assert page.status_code == 403 and page.mimetype == "text/html"


def test_the_role_is_checked_when_the_export_is_asked_for_not_when_it_is_read(
    investigator: Actor,
) -> None:
    def no_session() -> Session:
        raise AssertionError("a refused export must not open a session")

    with pytest.raises(Exception, match="may not"):
        export_inventory(no_session, investigator, filters=AliquotFilter())
