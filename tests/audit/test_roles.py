"""The production split on PostgreSQL: an owner runs the migrations, a runtime role runs the app
and can only append to the audit trail (docs/operations.md, Roles)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Engine, make_url, select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from lims import create_app
from lims.actors import Actor
from lims.audit.models import Action, AuditEvent
from lims.audit.services import record, verify_chain
from lims.cli import alembic_config
from lims.db import make_engine
from tests.conftest import DatabaseMaker

OWNER, RUNTIME = "lims_owner_t", "lims_runtime_t"


def _as(url: str, role: str) -> str:
    return make_url(url).set(username=role).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def runtime_engine(databases: DatabaseMaker) -> Iterator[Engine]:
    """A database migrated by its owner, and an engine that connects as the runtime role."""
    url = databases.url("postgresql", "lims_roles")
    admin = make_engine(url)
    with admin.begin() as conn:
        for role in (OWNER, RUNTIME):
            conn.execute(
                text(
                    f"DO $$ BEGIN CREATE ROLE {role} LOGIN; "
                    "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
                )
            )
        conn.execute(text(f"ALTER DATABASE lims_roles OWNER TO {OWNER}"))
    admin.dispose()
    owner_url = _as(url, OWNER)
    command.upgrade(alembic_config(owner_url), "head")
    app = create_app({"TESTING": True, "SECRET_KEY": "test-only", "DATABASE_URL": owner_url})
    granted = app.test_cli_runner().invoke(args=["db", "grant-runtime-role", RUNTIME])
    assert granted.exit_code == 0, granted.output
    app.extensions["lims_engine"].dispose()
    engine = make_engine(_as(url, RUNTIME))
    yield engine
    engine.dispose()


def test_the_runtime_role_appends_to_the_trail_and_works_the_other_tables(
    runtime_engine: Engine,
) -> None:
    with Session(runtime_engine) as session:
        event = record(session, Actor.system("cli"), Action.SITE_CREATED, ("site", "X"), code="X")
        session.execute(text("UPDATE users SET is_active = is_active"))
        session.commit()

        assert session.scalar(select(AuditEvent.id).where(AuditEvent.id == event.id))
        assert verify_chain(session).is_intact


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET reason = 'edited'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
        "ALTER TABLE audit_events DISABLE TRIGGER ALL",
        "DROP TABLE audit_events",
    ],
)
def test_the_runtime_role_cannot_change_the_trail_or_its_guard(
    runtime_engine: Engine, statement: str
) -> None:
    with runtime_engine.connect() as conn, pytest.raises(ProgrammingError) as refused:
        conn.execute(text(statement))

    assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value)


def test_granting_to_the_owner_of_the_trail_is_refused(runtime_engine: Engine) -> None:
    url = runtime_engine.url.set(username=OWNER).render_as_string(hide_password=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "test-only", "DATABASE_URL": url})

    result = app.test_cli_runner().invoke(args=["db", "grant-runtime-role", OWNER])

    app.extensions["lims_engine"].dispose()
    assert result.exit_code == 1
    assert "must not own the tables" in result.output
