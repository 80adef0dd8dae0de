"""API tokens can be listed and revoked: one's own, or anyone's by an admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import AuditEvent
from lims.auth.models import User
from lims.auth.services import issue_token, revoke_token, user_for_token
from lims.errors import Conflict, NotAuthenticated, NotFound
from tests.conftest import bearer


def _token_revocations(session: Session, username: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "token.revoked", AuditEvent.object_id == username
            )
        )
    )


def test_a_revoked_token_is_refused(session: Session, tech: Actor) -> None:
    user = session.get(User, tech.user_id)
    assert user is not None
    t0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    token, row = issue_token(session, user, hours=12, now=t0)
    revoke_token(session, tech, token_id=row.id, now=t0 + timedelta(hours=1))
    with pytest.raises(NotAuthenticated, match="revoked"):
        user_for_token(session, token, now=t0 + timedelta(hours=2))
    with pytest.raises(Conflict, match="already revoked"):
        revoke_token(session, tech, token_id=row.id)


def test_a_user_lists_their_own_working_tokens_without_the_secret(
    client: FlaskClient, tech: Actor, admin: Actor
) -> None:
    headers = bearer(client, "tech")
    bearer(client, "tech")
    bearer(client, "admin")
    response = client.get("/api/v1/tokens", headers=headers)
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert len(items) == 2
    assert set(items[0]) == {"id", "created_at", "expires_at", "revoked_at"}


def test_deleting_the_current_token_signs_the_client_out(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    headers = bearer(client, "tech")
    response = client.delete("/api/v1/tokens/current", headers=headers)
    assert response.status_code == 200 and response.get_json()["revoked_at"]
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
    assert len(_token_revocations(session, "tech")) == 1


def test_a_user_revokes_their_own_token_by_id_but_not_anothers(
    client: FlaskClient, session: Session, tech: Actor, reviewer: Actor
) -> None:
    mine, theirs = bearer(client, "tech"), bearer(client, "reviewer")
    their_id = client.get("/api/v1/tokens", headers=theirs).get_json()["items"][0]["id"]
    my_id = client.get("/api/v1/tokens", headers=mine).get_json()["items"][0]["id"]

    refused = client.delete(f"/api/v1/tokens/{their_id}", headers=mine)
    assert refused.status_code == 404 and refused.mimetype == "application/problem+json"
    assert client.get("/api/v1/me", headers=theirs).status_code == 200

    assert client.delete(f"/api/v1/tokens/{my_id}", headers=mine).status_code == 200
    assert client.get("/api/v1/me", headers=mine).status_code == 401


def test_an_admin_revokes_anyones_token(
    client: FlaskClient, session: Session, tech: Actor, admin: Actor
) -> None:
    theirs = bearer(client, "tech")
    their_id = client.get("/api/v1/tokens", headers=theirs).get_json()["items"][0]["id"]
    response = client.delete(f"/api/v1/tokens/{their_id}", headers=bearer(client, "admin"))
    assert response.status_code == 200
    assert client.get("/api/v1/me", headers=theirs).status_code == 401
    (event,) = _token_revocations(session, "tech")
    assert event.actor_username == "admin" and event.after == {"token_id": their_id}


def test_an_unknown_token_id_is_a_404(session: Session, tech: Actor) -> None:
    with pytest.raises(NotFound):
        revoke_token(session, tech, token_id=987654)
