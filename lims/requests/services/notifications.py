"""In-application notifications: a request moved, a reviewer commented (issue 19).

notify and notify_roles add rows in the caller's transaction (they never commit); the reads
and mark_read are the signed-in user's own: nobody reads or marks another's notifications.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from lims.actors import Actor, Role
from lims.auth.models import User
from lims.db import utcnow
from lims.errors import Forbidden
from lims.requests.models import Notification, SpecimenRequest

MESSAGE_MAX = 300  # Notification.message's column


def notify(
    session: Session, user_ids: Iterable[int], req: SpecimenRequest | None, message: str
) -> None:
    """Tell these users something, once each, in the caller's transaction."""
    for user_id in dict.fromkeys(user_ids):
        session.add(
            Notification(
                user_id=user_id,
                request_id=req.id if req is not None else None,
                message=message[:MESSAGE_MAX],
            )
        )


def notify_roles(
    session: Session, roles: Sequence[Role], req: SpecimenRequest | None, message: str
) -> None:
    """Tell every active user holding one of these roles (reviewers and admins of a submission)."""
    stmt = select(User.id).where(User.role.in_(roles), User.is_active.is_(True)).order_by(User.id)
    notify(session, session.scalars(stmt), req, message)


def _own(actor: Actor) -> int:
    if actor.user_id is None:
        raise Forbidden("Notifications belong to a signed-in user")
    return actor.user_id


# Built once: every page's header asks it (building a statement per request costs more than
# running this one; docs/benchmarks.md, issue #20).
_UNREAD = select(func.count()).where(
    Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None)
)


def unread_count(session: Session, actor: Actor) -> int:
    """How many of the actor's notifications are unread (the header's badge)."""
    return session.scalar(_UNREAD, {"user_id": _own(actor)}) or 0


@dataclass(frozen=True)
class NotificationRow:
    id: int
    message: str
    request_code: str | None
    created_at: datetime
    read_at: datetime | None


def list_notifications(
    session: Session, actor: Actor, *, unread_only: bool = False, limit: int = 100
) -> list[NotificationRow]:
    """The actor's notifications, newest first, each with its request's code."""
    stmt = (
        select(Notification, SpecimenRequest.code)
        .outerjoin(SpecimenRequest, Notification.request_id == SpecimenRequest.id)
        .where(Notification.user_id == _own(actor))
    )
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    rows = session.execute(stmt.order_by(Notification.id.desc()).limit(limit))
    return [NotificationRow(n.id, n.message, code, n.created_at, n.read_at) for n, code in rows]


def mark_read(
    session: Session,
    actor: Actor,
    *,
    ids: Sequence[int] | None = None,
    at: datetime | None = None,
) -> int:
    """Mark the actor's notifications read (these ids, or all); returns how many changed.

    Not audited: reading a message changes nothing anyone else relies on.
    """
    stmt = (
        update(Notification)
        .where(Notification.user_id == _own(actor), Notification.read_at.is_(None))
        .values(read_at=at or utcnow())
    )
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    result = session.execute(stmt.execution_options(synchronize_session="fetch"))
    changed = int(getattr(result, "rowcount", 0) or 0)  # a CursorResult for an UPDATE
    session.commit()
    return changed
