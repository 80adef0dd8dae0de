"""Accounts and sites by their names, for the audit trail; the zone a user reads times in."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.auth.models import Site, User
from lims.auth.timezones import DEFAULT_ZONE


def account_codes(
    session: Session, refs: Collection[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Usernames and site codes for the users and sites among `refs`, in bulk.

    Sign-in events name the user by username already (a failed sign-in may name no account).
    """
    user_ids = {int(i) for kind, i in refs if kind == "user" and i.isdigit()}
    site_ids = {int(i) for kind, i in refs if kind == "site" and i.isdigit()}
    found: dict[tuple[str, str], str] = {}
    if user_ids:
        stmt = select(User.id, User.username).where(User.id.in_(user_ids))
        found |= {("user", str(i)): name for i, name in session.execute(stmt)}
    if site_ids:
        stmt = select(Site.id, Site.code).where(Site.id.in_(site_ids))
        found |= {("site", str(i)): code for i, code in session.execute(stmt)}
    return found


def viewer_zone(session: Session, actor: Actor) -> str:
    """The time zone a user reads and types times in: their site's, or UTC without a site."""
    if actor.site_id is None:
        return DEFAULT_ZONE
    zone = session.scalar(select(Site.time_zone).where(Site.id == actor.site_id))
    return zone or DEFAULT_ZONE
