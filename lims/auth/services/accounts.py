"""User accounts and sites: opening, deactivating, reactivating and unlocking them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.auth import timezones
from lims.auth.models import ApiToken, SignInAttempt, Site, User
from lims.auth.services.signing_in import Throttle, hash_password, locked_usernames
from lims.auth.services.tokens import revoke_all
from lims.db import utcnow
from lims.errors import Conflict, InvalidInput, NotFound

MIN_PASSWORD_LENGTH = 10


def create_site(
    session: Session,
    actor: Actor,
    *,
    code: str,
    name: str,
    country: str,
    time_zone: str | None = None,
) -> Site:
    """Add a collecting centre; its time zone defaults from its country where it has only one."""
    actor.require(Role.ADMIN)
    code = code.strip().upper()
    zone = _checked_zone(time_zone) if time_zone else timezones.zone_for_country(country)
    if session.scalar(select(Site).where(Site.code == code)):
        raise Conflict(f"Site {code} already exists", field="code")
    site = Site(code=code, name=name.strip(), country=country.strip().upper(), time_zone=zone)
    session.add(site)
    audit.record(
        session, actor, Action.SITE_CREATED, site, code=code, name=site.name, time_zone=zone
    )
    session.commit()
    return site


def set_site_time_zone(session: Session, actor: Actor, *, code: str, time_zone: str) -> Site:
    """Say which wall clock a site's times are read on (stored instants do not move)."""
    actor.require(Role.ADMIN)
    zone = _checked_zone(time_zone)
    site = find_site(session, code, field="code")
    session.refresh(site, with_for_update=True)
    before = site.time_zone
    site.time_zone = zone
    audit.record(
        session,
        actor,
        Action.SITE_TIME_ZONE_SET,
        site,
        before={"time_zone": before},
        time_zone=zone,
    )
    session.commit()
    return site


def list_sites_for_admin(session: Session, actor: Actor) -> list[Site]:
    """Every site with its time zone, for the administrator's sites page."""
    actor.require(Role.ADMIN)
    return list(session.scalars(select(Site).order_by(Site.code)))


def _checked_zone(name: str) -> str:
    zone = name.strip()
    if problem := timezones.zone_problem(zone):
        raise InvalidInput(problem, field="time_zone")
    return zone


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
    _check_password(password)
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"User {username} already exists", field="username")
    site = find_site(session, site_code, field="site") if site_code else None
    user = User(
        username=username,
        password_hash=hash_password(password),
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


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )


def set_password(session: Session, actor: Actor, *, username: str, password: str) -> User:
    """Give an account a new password; its open sessions end (an admin, or the user)."""
    user = find_user(session, username)
    if user.id != actor.user_id:
        actor.require(Role.ADMIN)
    _check_password(password)
    user.password_hash = hash_password(password)
    user.session_generation += 1
    audit.record(session, actor, Action.USER_PASSWORD_CHANGED, user)
    session.commit()
    return user


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"User {username} does not exist")
    return user


@dataclass(frozen=True)
class AccountStatus:
    """A row of the administrator's user list."""

    user: User
    is_locked: bool
    active_tokens: int


def list_accounts(
    session: Session, actor: Actor, *, throttle: Throttle, now: datetime | None = None
) -> list[AccountStatus]:
    """Every account with what an administrator acts on: active, locked, tokens in use."""
    actor.require(Role.ADMIN)
    now = now or utcnow()
    locked = locked_usernames(session, throttle=throttle, now=now)
    token_counts = session.execute(
        select(ApiToken.user_id, func.count())
        .where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .group_by(ApiToken.user_id)
    )
    tokens: dict[int, int] = {user_id: count for user_id, count in token_counts}
    users = session.scalars(select(User).order_by(User.username))
    return [AccountStatus(u, u.username in locked, tokens.get(u.id, 0)) for u in users]


def deactivate_user(
    session: Session, actor: Actor, *, username: str, now: datetime | None = None
) -> User:
    """Close an account: its sessions end and its tokens are revoked at once."""
    actor.require(Role.ADMIN)
    user = find_user(session, username)
    if user.id == actor.user_id:
        raise Conflict("You cannot deactivate your own account", field="username")
    if not user.is_active:
        raise Conflict(f"{user.username} is already deactivated", field="username")
    user.is_active = False
    user.session_generation += 1
    revoked = revoke_all(session, user, now or utcnow())
    audit.record(
        session,
        actor,
        Action.USER_DEACTIVATED,
        user,
        before={"is_active": True},
        is_active=False,
        tokens_revoked=revoked,
    )
    session.commit()
    return user


def reactivate_user(session: Session, actor: Actor, *, username: str) -> User:
    """Open a deactivated account again (its old sessions and tokens stay ended)."""
    actor.require(Role.ADMIN)
    user = find_user(session, username)
    if user.is_active:
        raise Conflict(f"{user.username} is already active", field="username")
    user.is_active = True
    audit.record(
        session, actor, Action.USER_REACTIVATED, user, before={"is_active": False}, is_active=True
    )
    session.commit()
    return user


def revoke_user_tokens(
    session: Session, actor: Actor, *, username: str, now: datetime | None = None
) -> int:
    """An admin revokes every usable token of a user; returns how many."""
    actor.require(Role.ADMIN)
    user = find_user(session, username)
    revoked = revoke_all(session, user, now or utcnow())
    if revoked:
        audit.record(session, actor, Action.TOKEN_REVOKED, ("user", user.username), tokens=revoked)
    session.commit()
    return len(revoked)


def unlock_user(session: Session, actor: Actor, *, username: str) -> User:
    """Lift the sign-in throttle from a user, from every address."""
    actor.require(Role.ADMIN)
    user = find_user(session, username)
    attempts = delete(SignInAttempt).where(SignInAttempt.username == user.username)
    cleared: int = session.execute(attempts).rowcount  # type: ignore[attr-defined]
    audit.record(session, actor, Action.USER_UNLOCKED, user, attempts_cleared=cleared)
    session.commit()
    return user
