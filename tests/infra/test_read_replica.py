"""Reads from a real hot standby (issue 20): GETs read the standby, writes go to the primary, a
user's read after their own write sees it even while the standby's replay is paused, and a
standby that is down sends reads back to the primary."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims import create_app
from lims.actors import Actor, Role
from lims.cli import alembic_config
from lims.db import WAL_MARK, make_engine
from lims.storage.services import create_freezer
from tests.conftest import bearer
from tests.databases import ThrowawayCluster
from tests.factories import make_user
from tests.replicas import Standby, primary_and_standby

DB = "lims_replica"


@dataclass
class Pair:
    primary: ThrowawayCluster
    standby: Standby
    tech: Actor


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    primary, standby = primary_and_standby()
    url = primary.create_database(DB)
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        tech = Actor.of(make_user(session, "tech", Role.TECHNICIAN))
    engine.dispose()
    standby.catch_up()
    yield Pair(primary, standby, tech)
    standby.stop()
    primary.stop()


@pytest.fixture(scope="module")
def app_and_token(pair: Pair) -> Iterator[tuple[Flask, str]]:
    app = create_app(
        {
            "DATABASE_URL": pair.primary.url(DB),
            "DATABASE_REPLICA_URL": pair.standby.url(DB),
            "SECRET_KEY": "replica-test-only",
            "TESTING": True,
        }
    )
    yield app, bearer(app.test_client(), "tech")["Authorization"]
    for key in ("lims_engine", "lims_replica_engine"):
        app.extensions[key].dispose()


@pytest.fixture
def client(app_and_token: tuple[Flask, str]) -> FlaskClient:
    """A client of its own (its own cookie) with the token; the standby counts as up again."""
    app, token = app_and_token
    app.extensions["lims_replica_down_until"] = 0.0
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = token
    return client


def _store_freezer_behind_the_apps_back(pair: Pair, name: str) -> None:
    engine = make_engine(pair.primary.url(DB))
    with Session(engine) as session:
        create_freezer(session, pair.tech, name=name, temperature_c=-80, room="B1", site_code=None)
    engine.dispose()


def _freezers(client: FlaskClient) -> list[str]:
    response = client.get("/api/v1/freezers")
    assert response.status_code == 200, response.get_data(as_text=True)
    return [f["name"] for f in response.get_json()["items"]]


@pytest.fixture
def paused(pair: Pair) -> Iterator[None]:
    pair.standby.catch_up()
    pair.standby.execute("SELECT pg_wal_replay_pause()")
    yield
    pair.standby.execute("SELECT pg_wal_replay_resume()")
    pair.standby.catch_up()


def test_a_read_goes_to_the_standby_which_is_a_server_in_recovery(
    pair: Pair, client: FlaskClient, paused: None
) -> None:
    _store_freezer_behind_the_apps_back(pair, "Not yet replayed")

    assert "Not yet replayed" not in _freezers(client)  # the standby has not replayed it
    assert pair.standby.execute("SELECT pg_is_in_recovery()") is True


def test_a_write_goes_to_the_primary_and_the_writers_next_read_sees_it_while_replay_is_paused(
    pair: Pair, client: FlaskClient, paused: None
) -> None:
    response = client.post(
        "/api/v1/freezers", json={"name": "Just stored", "temperature_c": -80, "room": "B2"}
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    assert "Just stored" in _freezers(client)


def test_once_the_standby_has_replayed_the_write_reads_go_back_to_it(
    pair: Pair, client: FlaskClient
) -> None:
    client.post("/api/v1/freezers", json={"name": "Replayed", "temperature_c": -80, "room": "B3"})
    pair.standby.catch_up()
    pair.standby.execute("SELECT pg_wal_replay_pause()")
    try:
        _store_freezer_behind_the_apps_back(pair, "Written after the pause")
        names = _freezers(client)
        with client.session_transaction() as cookie:
            mark = cookie.get(WAL_MARK)
    finally:
        pair.standby.execute("SELECT pg_wal_replay_resume()")

    assert "Replayed" in names and "Written after the pause" not in names
    assert mark is None  # the standby has it: the cookie no longer needs the mark


def test_with_the_standby_down_reads_fall_back_to_the_primary(
    pair: Pair, client: FlaskClient
) -> None:
    pair.standby.stop()
    try:
        _store_freezer_behind_the_apps_back(pair, "Read from the primary")
        names = _freezers(client)
    finally:
        pair.standby.start()

    assert "Read from the primary" in names
