from __future__ import annotations

import itertools

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import GENESIS_HASH, Action, AuditEvent
from lims.audit.services import events_for, record, verify_chain
from tests.factories import make_subject


def test_each_event_links_to_the_previous_one(session: Session, tech: Actor) -> None:
    subject = make_subject(session)
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.row_hash for a, b in itertools.pairwise(events))
    assert [e.action for e in events_for(session, subject)] == [Action.SUBJECT_REGISTERED]
    assert verify_chain(session).is_intact


def test_the_database_refuses_to_update_or_delete_an_event(session: Session, tech: Actor) -> None:
    make_subject(session)
    for statement in ("UPDATE audit_events SET reason = 'edited'", "DELETE FROM audit_events"):
        nested = session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        nested.rollback()
    assert session.scalar(select(AuditEvent.reason).where(AuditEvent.reason == "edited")) is None


def _tamper(session: Session, event_id: int) -> None:
    """What an attacker with database rights could do: lift the guard and edit a row."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
    session.execute(
        text('UPDATE audit_events SET after_json = \'{"sex": "male"}\' WHERE id = :id'),
        {"id": event_id},
    )
    session.expire_all()


def test_a_tampered_row_is_found_and_named(session: Session, tech: Actor, app: Flask) -> None:
    make_subject(session)
    make_subject(session)
    target = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == Action.SUBJECT_REGISTERED)
        .order_by(AuditEvent.id)
    ).first()
    assert target is not None
    _tamper(session, target.id)

    report = verify_chain(session)
    assert report.first_broken_id == target.id
    assert report.problem == "its content does not match its hash"

    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {target.id}" in result.output


def test_a_removed_row_breaks_the_next_link(session: Session, tech: Actor) -> None:
    make_subject(session)
    make_subject(session)
    ids = session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_delete"))
    session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[2]})
    report = verify_chain(session)
    assert report.first_broken_id == ids[3]
    assert "previous-hash" in (report.problem or "")


def test_the_cli_reports_an_intact_chain(session: Session, tech: Actor, app: Flask) -> None:
    record(session, tech, Action.SITE_CREATED, ("site", "X"), code="X")
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "audit chain intact" in result.output
