"""Reading the trail: one object's history, and the audit page's list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.actors import Actor, Role
from lims.audit.models import LEGACY_TYPES, AuditEvent
from lims.audit.services.recording import object_ref


def _types(object_type: str) -> list[str]:
    """A type and the legacy names its rows were stored under."""
    return [object_type, *LEGACY_TYPES.get(object_type, ())]


def events_for(session: Session, obj: Any) -> list[AuditEvent]:
    """The trail of one object, oldest first (an aliquot's chain of custody reads this)."""
    object_type, object_id = object_ref(obj)
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.object_type.in_(_types(object_type)), AuditEvent.object_id == object_id)
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(stmt))


def list_events(
    session: Session,
    actor: Actor,
    *,
    page: int = 1,
    per_page: int = 50,
    action: str | None = None,
    object_type: str | None = None,
) -> tuple[list[AuditEvent], int]:
    """The audit trail, newest first, for the biobank manager (admin) and reviewers."""
    actor.require(Role.REVIEWER)
    stmt = select(AuditEvent)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type.in_(_types(object_type)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page)
    )
    return list(rows), total
