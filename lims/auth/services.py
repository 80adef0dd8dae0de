"""Accounts: creating users, signing in (throttled), and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action, AuditEvent
from lims.auth.models import ApiToken, Site, User
from lims.db import utcnow
from lims.errors import Conflict, InvalidInput, NotAuthenticated, TooManyAttempts

MIN_PASSWORD_LENGTH = 10
# scrypt, werkzeug's default: memory-hard, and no extra dependency.
_HASH_METHOD = "scrypt"
# Checked against when the username is unknown, so both paths take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method=_HASH_METHOD)


def create_site(session: Session, actor: Actor, *, code: str, name: str, country: str) -> Site:
    """Add a collecting centre."""
    actor.require(Role.ADMIN)
    code = code.strip().upper()
    if session.scalar(select(Site).where(Site.code == code)):
        raise Conflict(f"Site {code} already exists", field="code")
    site = Site(code=code, name=name.strip(), country=country.strip().upper())
    session.add(site)
    audit.record(session, actor, Action.SITE_CREATED, site, code=code, name=site.name)
    session.commit()
    return site


def find_site(session: Session, code: str, *, field: str = "site_code") -> Site:
    """A collecting centre by its code as typed ("na1" is NA1); `field` names the input."""
    site = session.scalar(select(Site).where(Site.code == code.strip().upper()))
    if site is None:
        raise InvalidInput(f"Site {code} does not exist", field=field)
    return site


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: Role,
    site_code: str | None = None,
) -> User:
    """Open an account; the password is stored only as a scrypt hash."""
    actor.require(Role.ADMIN)
    username = username.strip().lower()
    if len(username) < 2:
        raise InvalidInput("A username needs at least 2 characters", field="username")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"User {username} already exists", field="username")
    site = find_site(session, site_code, field="site") if site_code else None
    user = User(
        username=username,
        password_hash=generate_password_hash(password, method=_HASH_METHOD),
        role=role,
        site=site,
    )
    session.add(user)
    audit.record(
        session,
        actor,
        Action.USER_CREATED,
        user,
        username=username,
        role=role,
        site=site.code if site else None,
    )
    session.commit()
    return user


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    now: datetime | None = None,
    max_failures: int = 5,
    window_minutes: int = 15,
) -> User:
    """Check a username and password, refusing after too many recent failures."""
    now = now or utcnow()
    username = username.strip().lower()
    since = now - timedelta(minutes=window_minutes)
    if _failures_since_last_success(session, username, since) >= max_failures:
        raise TooManyAttempts(
            f"Too many failed sign-ins for {username}; wait {window_minutes} minutes or ask "
            "an administrator"
        )
    user = session.scalar(select(User).where(User.username == username))
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not valid or not user.is_active:
        who = Actor(user_id=None, username=username, role=Role.INVESTIGATOR)
        audit.record(session, who, Action.USER_SIGN_IN_FAILED, ("user", username), at=now)
        session.commit()
        raise NotAuthenticated("Unknown username or wrong password", field="password")
    audit.record(session, Actor.of(user), Action.USER_SIGNED_IN, ("user", username), at=now)
    session.commit()
    return user


def _failures_since_last_success(session: Session, username: str, since: datetime) -> int:
    last_success = session.scalar(
        select(func.max(AuditEvent.id)).where(
            AuditEvent.action == Action.USER_SIGNED_IN,
            AuditEvent.object_type == "user",
            AuditEvent.object_id == username,
        )
    )
    stmt = select(func.count()).where(
        AuditEvent.action == Action.USER_SIGN_IN_FAILED,
        AuditEvent.object_type == "user",
        AuditEvent.object_id == username,
        AuditEvent.occurred_at >= since,
        AuditEvent.id > (last_success or 0),
    )
    return session.scalar(stmt) or 0


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


def user_for_token(session: Session, token: str, *, now: datetime | None = None) -> User:
    """The active user a bearer token belongs to, or NotAuthenticated."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _sha256(token)))
    if row is None or row.expires_at <= (now or utcnow()):
        raise NotAuthenticated("The token is unknown or has expired; get a new one")
    if not row.user.is_active:
        raise NotAuthenticated("This account is deactivated")
    return row.user


def load_user(session: Session, user_id: str) -> User | None:
    """Flask-Login's user loader: only active accounts stay signed in."""
    try:
        user = session.get(User, int(user_id))
    except ValueError:
        return None
    return user if user is not None and user.is_active else None


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
