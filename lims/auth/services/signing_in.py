"""Signing in (throttled by username and source address) and the life of a session.

auth records its changes with audit.record, in the same transaction: its one import from the
audit feature. audit imports nothing from auth, so there is no cycle; the throttle keeps its own
table (sign_in_attempts) and never reads the trail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.auth.models import AttemptOutcome, SignInAttempt, User
from lims.db import utcnow
from lims.errors import NotAuthenticated, TooManyAttempts

# scrypt with werkzeug's default cost (n = 2**15, r = 8, p = 1: 32 MiB and about 0.1 s of CPU a
# hash): memory-hard, and no extra dependency. The test suite lowers n (tests/conftest.py), since
# it hashes thousands of passwords; a stored hash names its own cost, so checking follows it.
PASSWORD_HASH_METHOD = "scrypt"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_HASH_METHOD)


@cache
def _dummy_hash(method: str) -> str:
    """Checked against when the username is unknown, so both paths take the same time."""
    return generate_password_hash("not-a-real-password", method=method)


@dataclass(frozen=True)
class Throttle:
    """Failed sign-ins allowed within a sliding window before further attempts are refused."""

    max_failures: int = 5  # per username from one source address
    max_failures_per_address: int = 50  # per source address, whatever the usernames
    window_minutes: int = 15

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Throttle:
        return cls(
            max_failures=config["LOGIN_MAX_FAILURES"],
            max_failures_per_address=config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
            window_minutes=config["LOGIN_WINDOW_MINUTES"],
        )


DEFAULT_THROTTLE = Throttle()
# Names the advisory locks of the throttle on PostgreSQL (the audit chain uses a one-key lock,
# a separate key space).
_USERNAME_LOCK, _ADDRESS_LOCK = 7_305_512, 7_305_513


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    source_address: str,
    throttle: Throttle = DEFAULT_THROTTLE,
    now: datetime | None = None,
) -> User:
    """Check a username and password, refusing after too many recent failures."""
    now = now or utcnow()
    username = username.strip().lower()
    attempt = _record_attempt(session, username, source_address[:45], throttle, now)
    if (refusal := _throttle_refusal(session, attempt, throttle)) is not None:
        attempt.outcome = AttemptOutcome.REFUSED
        session.commit()
        raise TooManyAttempts(refusal)
    user = session.scalar(select(User).where(User.username == username))
    stored_hash = user.password_hash if user else _dummy_hash(PASSWORD_HASH_METHOD)
    # Committed as a failure before the (slow, ~0.1 s) password check, which runs outside any
    # transaction: concurrent attempts count this one without waiting for it and no lock is
    # held meanwhile, and a crash mid-check still counts against it.
    session.commit()
    valid = check_password_hash(stored_hash, password)
    if user is None or not valid or not user.is_active:
        who = Actor(user_id=None, username=username, role=Role.INVESTIGATOR)
        audit.record(session, who, Action.USER_SIGN_IN_FAILED, ("user", username), at=now)
        session.commit()
        raise NotAuthenticated("Unknown username or wrong password", field="password")
    attempt.outcome = AttemptOutcome.SUCCEEDED
    session.execute(
        delete(SignInAttempt).where(
            SignInAttempt.username == username,
            SignInAttempt.source_address == attempt.source_address,
            SignInAttempt.outcome != AttemptOutcome.SUCCEEDED,
        )
    )
    audit.record(session, Actor.of(user), Action.USER_SIGNED_IN, ("user", username), at=now)
    session.commit()
    return user


def _record_attempt(
    session: Session, username: str, address: str, throttle: Throttle, now: datetime
) -> SignInAttempt:
    """Insert the attempt (as a failure until proven otherwise), serialised with its peers."""
    if session.get_bind().dialect.name == "postgresql":
        # Attempts on one username, and from one address, count one after another: without the
        # locks 20 concurrent attempts could all count 0 earlier failures. Always username
        # first, then address, so two attempts never wait on each other crosswise.
        lock = text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))")
        session.execute(lock, {"space": _USERNAME_LOCK, "key": username})
        session.execute(lock, {"space": _ADDRESS_LOCK, "key": address})
    # On SQLite a writing transaction holds the database's write lock from BEGIN IMMEDIATE to
    # commit, so the count after the INSERT is serialised the same way.
    since = now - timedelta(minutes=throttle.window_minutes)
    session.execute(
        delete(SignInAttempt).where(
            SignInAttempt.source_address == address, SignInAttempt.attempted_at < since
        )
    )
    attempt = SignInAttempt(
        username=username, source_address=address, attempted_at=now, outcome=AttemptOutcome.FAILED
    )
    session.add(attempt)
    session.flush()
    return attempt


def _throttle_refusal(session: Session, attempt: SignInAttempt, throttle: Throttle) -> str | None:
    """Why this attempt is refused unchecked, or None; the counts include the attempt itself."""
    since = attempt.attempted_at - timedelta(minutes=throttle.window_minutes)
    failed = select(func.count()).where(
        SignInAttempt.source_address == attempt.source_address,
        SignInAttempt.attempted_at >= since,
        SignInAttempt.outcome == AttemptOutcome.FAILED,
    )
    wait = f"wait {throttle.window_minutes} minutes or ask an administrator"
    if (session.scalar(failed.where(SignInAttempt.username == attempt.username)) or 0) > (
        throttle.max_failures
    ):
        return f"Too many failed sign-ins for {attempt.username}; {wait}"
    if (session.scalar(failed) or 0) > throttle.max_failures_per_address:
        return f"Too many failed sign-ins from your address; {wait}"
    return None


def locked_usernames(session: Session, *, throttle: Throttle, now: datetime) -> set[str]:
    """Usernames the throttle refuses from at least one address right now."""
    since = now - timedelta(minutes=throttle.window_minutes)
    stmt = (
        select(SignInAttempt.username)
        .where(SignInAttempt.attempted_at >= since, SignInAttempt.outcome == AttemptOutcome.FAILED)
        .group_by(SignInAttempt.username, SignInAttempt.source_address)
        .having(func.count() >= throttle.max_failures)
    )
    return set(session.scalars(stmt))


# Built once: every page asks it, and Session.get built its statement each time (0.35 ms of CPU
# more per page; docs/benchmarks.md, issue #20).
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


def load_user(session: Session, session_user_id: str) -> User | None:
    """Flask-Login's user loader: an active account whose sessions have not been ended since."""
    user_id, _, generation = session_user_id.partition(".")
    try:
        user = session.scalar(_USER_BY_ID, {"user_id": int(user_id)})
        current = user is not None and user.session_generation == int(generation)
    except ValueError:  # a malformed id, or one from before generations existed
        return None
    return user if user is not None and current and user.is_active else None


def sign_out(session: Session, actor: Actor) -> None:
    """End every session of the user, here and on any other computer (and copied cookies)."""
    user = session.get(User, actor.user_id)
    if user is None:
        return
    user.session_generation += 1
    audit.record(session, actor, Action.USER_SIGNED_OUT, ("user", user.username))
    session.commit()


def session_end(
    *, signed_in_at: float, seen_at: float, now: datetime, idle: timedelta, lifetime: timedelta
) -> str | None:
    """Why a session signed in and last seen at these times (epoch seconds) is over, or None."""
    if now.timestamp() - signed_in_at >= lifetime.total_seconds():
        return f"Your session ended after {_hours(lifetime)}; sign in again."
    if now.timestamp() - seen_at >= idle.total_seconds():
        return f"Your session ended after {_minutes(idle)} without activity; sign in again."
    return None


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} hour{'' if hours == 1 else 's'}"


def _minutes(span: timedelta) -> str:
    minutes = span.total_seconds() / 60
    return f"{minutes:g} minute{'' if minutes == 1 else 's'}"
