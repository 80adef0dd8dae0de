"""Every database test runs on SQLite and on PostgreSQL, each inside a rolled-back transaction."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lims import create_app
from lims.actors import Actor, Role
from lims.auth.services import signing_in
from lims.cli import alembic_config
from lims.db import make_engine
from tests.databases import PostgresUnavailable, postgres_factory
from tests.factories import DEMO_PASSWORD, make_user

REQUIRE_ALL = os.environ.get("LIMS_REQUIRE_ALL") == "1"

# The suite hashes thousands of passwords (every user fixture, every sign-in): scrypt at n = 2**10
# costs 3 ms where the production cost (n = 2**15) costs 100 ms, and the code path is the same.
# test_services checks that the production setting is the full cost.
signing_in.PASSWORD_HASH_METHOD = "scrypt:1024:8:1"


_TEMPLATE = "lims_template"


class DatabaseMaker:
    """Makes empty databases by name, per dialect; PostgreSQL starts at most once per run."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self._pg: Callable[[str, str | None], str] | None = None
        self._migrated: set[str] = set()
        self._pg_error: str | None = None
        self._cleanup: list[Callable[[], None]] = []

    def url(self, dialect: str, name: str) -> str:
        if dialect == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.sqlite3')}"
        if self._pg is None and self._pg_error is None:
            try:
                self._pg, stop = postgres_factory()
                self._cleanup.append(stop)
            except PostgresUnavailable as err:
                self._pg_error = str(err)
        if self._pg is None:
            reason = f"PostgreSQL unavailable: {self._pg_error}"
            if REQUIRE_ALL:
                pytest.fail(reason + " (LIMS_REQUIRE_ALL=1)")
            pytest.skip(reason)
        return self._pg(name, None)

    def migrated(self, dialect: str, name: str) -> str:
        """An empty database at the head revision: a copy of one migrated at the first call.

        Migrating costs about 2 s of CPU; copying a file, or CREATE DATABASE ... TEMPLATE on
        PostgreSQL, a fraction of that. tests/test_migrations.py runs the migrations themselves.
        """
        if dialect not in self._migrated:
            command.upgrade(alembic_config(self.url(dialect, _TEMPLATE)), "head")
            self._migrated.add(dialect)
        if dialect == "sqlite":
            shutil.copyfile(self.tmp / f"{_TEMPLATE}.sqlite3", self.tmp / f"{name}.sqlite3")
            return self.url(dialect, name)
        assert self._pg is not None
        return self._pg(name, _TEMPLATE)

    def close(self) -> None:
        for stop in self._cleanup:
            stop()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseMaker]:
    maker = DatabaseMaker(tmp_path_factory.mktemp("db"))
    yield maker
    maker.close()


_engines: dict[str, Engine] = {}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, databases: DatabaseMaker) -> Engine:
    """A database migrated to head with Alembic, built once per run for each dialect."""
    dialect: str = request.param
    if dialect not in _engines:
        _engines[dialect] = make_engine(databases.migrated(dialect, "lims_test"))
    return _engines[dialect]


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Session]:
    """A session whose commits become savepoints of one outer transaction, rolled back after."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


def app_on(session: Session) -> Flask:
    """The app for tests, every request on `session`."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-only",
            "SESSION_FACTORY": lambda: session,
            "LOGIN_MAX_FAILURES": 3,
        }
    )


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with rolled_back(engine) as db:
        yield db


@pytest.fixture
def app(session: Session) -> Flask:
    return app_on(session)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin(session: Session) -> Actor:
    return Actor.of(make_user(session, "admin", Role.ADMIN))


@pytest.fixture
def tech(session: Session) -> Actor:
    return Actor.of(make_user(session, "tech", Role.TECHNICIAN))


@pytest.fixture
def investigator(session: Session) -> Actor:
    return Actor.of(make_user(session, "investigator", Role.INVESTIGATOR))


@pytest.fixture
def reviewer(session: Session) -> Actor:
    return Actor.of(make_user(session, "reviewer", Role.REVIEWER))


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page embeds in its forms."""
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no csrf_token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def bearer(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/tokens", json={"username": username, "password": password})
    assert response.status_code == 201, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['token']}"}
