"""One transaction boundary: a failed request leaves nothing behind, and the next one works.

The app under test shares one Session across requests (the `session` fixture), which is exactly
the case where a dirty session would leak from one request into the next.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Blueprint, Flask, jsonify
from flask.testing import FlaskClient
from flask.typing import ResponseReturnValue
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lims.auth.models import Site
from lims.db import close_keeping_statements, get_session, make_engine
from lims.errors import Conflict, LimsError
from lims.web import flash_problem
from tests.conftest import DatabaseMaker

ROOT = Path(__file__).resolve().parents[2]


def _write_then_fail(code: str, error: Exception) -> None:
    """What a service does when it fails late: something is added and flushed, then it raises."""
    session = get_session()
    session.add(Site(code=code, name="Half-written", country="US"))
    session.flush()
    raise error


def _boundary_routes() -> Blueprint:
    bp = Blueprint("boundary_test", __name__)

    @bp.post("/api/v1/test-boundary/<code>")
    def api_fails(code: str) -> ResponseReturnValue:
        _write_then_fail(code, Conflict(f"{code} refused after a flush", field="code"))
        return "unreachable"

    @bp.post("/api/v1/test-boundary/<code>/bug")
    def api_crashes(code: str) -> ResponseReturnValue:
        _write_then_fail(code, RuntimeError("a bug after a flush"))
        return "unreachable"

    @bp.post("/test-boundary/<code>")
    def page_fails(code: str) -> ResponseReturnValue:
        try:
            _write_then_fail(code, Conflict(f"{code} refused after a flush", field="code"))
        except LimsError as err:
            flash_problem(err)
            # The page is rendered from the same session the failed "service" used.
            shown = get_session().scalar(select(func.count()).where(Site.code == code))
            return jsonify(sites_with_code=shown), err.status
        return "unreachable"

    @bp.get("/api/v1/test-boundary/<code>")
    def count(code: str) -> ResponseReturnValue:
        return jsonify(n=get_session().scalar(select(func.count()).where(Site.code == code)))

    return bp


@pytest.fixture
def boundary_app(app: Flask) -> Flask:
    app.register_blueprint(_boundary_routes())
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _sites(session: Session, code: str) -> int:
    return session.scalar(select(func.count()).where(Site.code == code)) or 0


def test_an_api_error_after_a_flush_leaves_no_row_and_the_next_request_works(
    boundary_app: Flask, session: Session
) -> None:
    client: FlaskClient = boundary_app.test_client()

    refused = client.post("/api/v1/test-boundary/ZZ1")

    assert refused.status_code == 409
    assert refused.mimetype == "application/problem+json"
    assert _sites(session, "ZZ1") == 0
    assert client.get("/api/v1/test-boundary/ZZ1").get_json() == {"n": 0}


def test_an_unexpected_error_after_a_flush_leaves_no_row(
    boundary_app: Flask, session: Session
) -> None:
    boundary_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = boundary_app.test_client()

    crashed = client.post("/api/v1/test-boundary/ZZ2/bug")

    assert crashed.status_code == 500
    assert _sites(session, "ZZ2") == 0
    assert client.get("/api/v1/test-boundary/ZZ2").get_json() == {"n": 0}


def test_a_page_that_shows_its_own_error_renders_from_a_clean_session(
    boundary_app: Flask, session: Session
) -> None:
    client = boundary_app.test_client()

    refused = client.post("/test-boundary/ZZ3")

    assert refused.status_code == 409
    assert refused.get_json() == {"sites_with_code": 0}
    assert _sites(session, "ZZ3") == 0


def _views_modules() -> list[Path]:
    lims = ROOT / "lims"
    return sorted({*lims.glob("*/views.py"), *lims.glob("*/views/*.py")})


def _calls(node: ast.AST) -> set[str]:
    return {
        n.func.id if isinstance(n.func, ast.Name) else getattr(n.func, "attr", "")
        for n in ast.walk(node)
        if isinstance(n, ast.Call)
    }


def test_every_view_that_catches_a_lims_error_passes_it_through_the_boundary() -> None:
    """A view answering a failed service with its own page must roll back first (flash_problem
    does), directly or through a helper of its module that calls it."""
    offenders = []
    for path in _views_modules():
        tree = ast.parse(path.read_text())
        helpers = {
            f.name
            for f in ast.walk(tree)
            if isinstance(f, ast.FunctionDef) and "flash_problem" in _calls(f)
        }
        for handler in ast.walk(tree):
            if not isinstance(handler, ast.ExceptHandler) or handler.type is None:
                continue
            caught = ast.unparse(handler.type)
            if "LimsError" not in caught and "Conflict" not in caught:
                continue
            if handler.name is None:  # the error is dropped, not rendered
                continue
            if not ({"flash_problem", *helpers} & _calls(handler)):
                offenders.append(f"{path.relative_to(ROOT)}:{handler.lineno}")
    assert _views_modules(), "no views modules found: the check would pass vacuously"
    assert offenders == []


# How a request's session ends (lims/db.py close_keeping_statements): on PostgreSQL a transaction
# that wrote nothing commits, so psycopg keeps the statements it prepared; any other rolls back.


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def own_engine(request: pytest.FixtureRequest, databases: DatabaseMaker) -> Iterator[Engine]:
    """A database of this module's own: the sessions below commit for real."""
    engine = make_engine(databases.migrated(request.param, "lims_session_ending"))
    yield engine
    engine.dispose()


def _read_barcode(engine: Engine, close: Callable[[Session], None]) -> None:
    session = Session(engine)
    session.scalar(select(Site.id).where(Site.code == "NOPE"))
    close(session)


def _prepared(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        found = connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in found]


@pytest.mark.parametrize("own_engine", ["postgresql"], indirect=True)
def test_a_read_only_transaction_keeps_its_prepared_statements_on_postgresql(
    own_engine: Engine,
) -> None:
    own_engine.dispose()  # one pooled connection, fresh
    for _ in range(7):  # psycopg prepares a statement on its 5th run on a connection
        _read_barcode(own_engine, close_keeping_statements)
    assert any("FROM sites" in statement for statement in _prepared(own_engine))
    # What every read request did before: a rollback, and psycopg deallocated them all.
    own_engine.dispose()
    for _ in range(7):
        _read_barcode(own_engine, lambda session: session.close())
    assert not any("FROM sites" in statement for statement in _prepared(own_engine))


def test_a_transaction_that_wrote_is_rolled_back_not_committed(own_engine: Engine) -> None:
    session = Session(own_engine)
    session.add(Site(code="HALF1", name="Written, never committed", country="US"))
    session.flush()
    close_keeping_statements(session)
    with Session(own_engine) as check:
        assert check.scalar(select(func.count()).where(Site.code == "HALF1")) == 0


def test_a_failed_request_rolls_back_whatever_it_did(own_engine: Engine) -> None:
    session = Session(own_engine)
    session.execute(insert(Site).values(code="HALF2", name="Core insert", country="US"))
    close_keeping_statements(session, failed=True)
    with Session(own_engine) as check:
        assert check.scalar(select(func.count()).where(Site.code == "HALF2")) == 0


def test_a_delete_not_yet_flushed_is_rolled_back_not_committed(own_engine: Engine) -> None:
    with Session(own_engine) as setup:
        setup.add(Site(code="KEEP1", name="Kept", country="US"))
        setup.commit()
    session = Session(own_engine)
    session.delete(session.scalars(select(Site).where(Site.code == "KEEP1")).one())
    close_keeping_statements(session)
    with Session(own_engine) as check:
        assert check.scalar(select(func.count()).where(Site.code == "KEEP1")) == 1


@pytest.mark.parametrize("own_engine", ["postgresql"], indirect=True)  # SQLite: 1 / 0 is NULL
def test_a_transaction_the_database_aborted_is_closed_without_an_error(
    own_engine: Engine,
) -> None:
    # A view that catches a database error and goes on leaves PostgreSQL's transaction aborted:
    # asking it whether it wrote fails too, and the session must still close quietly.
    session = Session(own_engine)
    with pytest.raises(DBAPIError):
        session.execute(text("SELECT 1 / 0"))
    close_keeping_statements(session)
    assert not session.in_transaction()
    with Session(own_engine) as after:
        assert after.scalar(select(func.count()).select_from(Site)) is not None
