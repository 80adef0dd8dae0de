from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit import keys
from lims.audit.models import AuditEvent
from lims.audit.services import chain_head, check_checkpoint, take_checkpoint, verify_chain
from tests.conftest import bearer
from tests.factories import make_subject


def _delete_newest(session: Session, count: int) -> None:
    """What the table's owner can do: lift the guard and drop events from the end."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_delete"))
    newest = session.scalars(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(count))
    for event_id in list(newest):
        session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": event_id})
    session.expire_all()


def test_verify_prints_the_head(session: Session, tech: Actor, app: Flask) -> None:
    make_subject(session)
    head = chain_head(session)

    result = app.test_cli_runner().invoke(args=["audit", "verify"])

    assert result.exit_code == 0, result.output
    assert f"head: event {head.id}, hash {head.row_hash}" in result.output


def test_deleting_the_newest_events_is_caught_by_the_checkpoint(
    session: Session, tech: Actor, app: Flask, tmp_path: Path
) -> None:
    make_subject(session)
    make_subject(session)
    kept = tmp_path / "checkpoint.json"
    runner = app.test_cli_runner()
    taken = runner.invoke(args=["audit", "checkpoint", "--out", str(kept)])
    assert taken.exit_code == 0, taken.output
    assert runner.invoke(args=["audit", "verify", "--since-checkpoint", str(kept)]).exit_code == 0

    _delete_newest(session, 2)

    assert verify_chain(session).is_intact  # a chain cut short is still a valid chain
    result = runner.invoke(args=["audit", "verify", "--since-checkpoint", str(kept)])
    assert result.exit_code == 1
    assert "NOT matched: the trail is behind the checkpoint" in result.output


def test_a_checkpoint_with_an_edited_head_fails_its_signature(
    session: Session, tech: Actor, app: Flask, tmp_path: Path
) -> None:
    make_subject(session)
    kept = tmp_path / "checkpoint.json"
    data = json.loads(take_checkpoint(session).to_json())
    kept.write_text(json.dumps({**data, "head_id": data["head_id"] - 1}))

    result = app.test_cli_runner().invoke(args=["audit", "verify", "--since-checkpoint", str(kept)])

    assert result.exit_code == 1
    assert "signature does not match" in result.output


def test_a_trail_that_grew_after_the_checkpoint_still_matches_it(
    session: Session, tech: Actor
) -> None:
    make_subject(session)
    checkpoint = take_checkpoint(session)
    make_subject(session)

    assert check_checkpoint(session, checkpoint) is None


def test_a_trail_that_diverged_at_the_checkpoint_is_named(session: Session, tech: Actor) -> None:
    make_subject(session)
    checkpoint = take_checkpoint(session)
    # The same head id with another hash, signed with the key: what a diverged trail looks like.
    other = replace(checkpoint, head_hash="f" * 64)
    forged = replace(other, signature=keys.active().sign(other.signed_content()))

    assert check_checkpoint(session, checkpoint) is None
    assert "diverges from the checkpoint" in (check_checkpoint(session, forged) or "")


def test_the_api_verification_reports_the_head(
    session: Session, admin: Actor, client: FlaskClient
) -> None:
    make_subject(session)
    head = chain_head(session)

    response = client.get("/api/v1/audit-events/verification", headers=bearer(client, "admin"))

    body = response.get_json()
    assert response.status_code == 200 and body["is_intact"]
    assert body["head_id"] > head.id  # signing in for the token is audited too
    assert body["head_hash"] == chain_head(session).row_hash
