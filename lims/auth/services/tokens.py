"""API bearer tokens: issuing, finding, listing and revoking them. Only hashes are stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.auth.models import ApiToken, User
from lims.db import utcnow
from lims.errors import Conflict, NotAuthenticated, NotFound


def issue_token(
    session: Session, user: User, *, hours: int, now: datetime | None = None
) -> tuple[str, ApiToken]:
    """A new bearer token for an authenticated user; only its hash is kept."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        token_sha256=_sha256(token),
        user=user,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(row)
    audit.record(
        session,
        Actor.of(user),
        Action.TOKEN_ISSUED,
        ("user", user.username),
        expires_at=row.expires_at,
        at=now,
    )
    session.commit()
    return token, row


# The user in the same query: every API request asks this, and a second round trip was a
# measurable share of a lookup. Built once: building it and its cache key per request was a
# tenth of the check's CPU (docs/benchmarks.md, issue #20).
_BY_SHA256 = (
    select(ApiToken)
    .where(ApiToken.token_sha256 == bindparam("sha256"))
    .options(joinedload(ApiToken.user, innerjoin=True))
)


def find_token(session: Session, token: str, *, now: datetime | None = None) -> ApiToken:
    """The usable token row of a bearer token of an active user, or NotAuthenticated."""
    row = session.scalar(_BY_SHA256, {"sha256": _sha256(token)})
    if row is None or not row.is_usable(now or utcnow()):
        raise NotAuthenticated("The token is unknown, revoked or expired; get a new one")
    if not row.user.is_active:
        raise NotAuthenticated("This account is deactivated")
    return row


def user_for_token(session: Session, token: str, *, now: datetime | None = None) -> User:
    """The active user a bearer token belongs to, or NotAuthenticated."""
    return find_token(session, token, now=now).user


def list_tokens(session: Session, actor: Actor, *, now: datetime | None = None) -> list[ApiToken]:
    """The actor's own tokens that still work, newest first."""
    stmt = (
        select(ApiToken)
        .where(
            ApiToken.user_id == actor.user_id,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > (now or utcnow()),
        )
        .order_by(ApiToken.id.desc())
    )
    return list(session.scalars(stmt))


def revoke_token(
    session: Session, actor: Actor, *, token_id: int, now: datetime | None = None
) -> ApiToken:
    """Revoke one token: one's own, or anyone's for an admin."""
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != actor.user_id and actor.role is not Role.ADMIN):
        raise NotFound(f"You have no token {token_id}")  # others' token ids stay unconfirmed
    if row.revoked_at is not None:
        raise Conflict(f"Token {token_id} was already revoked")
    row.revoked_at = now or utcnow()
    audit.record(session, actor, Action.TOKEN_REVOKED, ("user", row.user.username), token_id=row.id)
    session.commit()
    return row


def revoke_all(session: Session, user: User, now: datetime) -> list[int]:
    rows = session.scalars(
        select(ApiToken).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now
        )
    ).all()
    for row in rows:
        row.revoked_at = now
    return [row.id for row in rows]


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
