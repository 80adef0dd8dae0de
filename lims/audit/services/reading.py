"""Reading the trail: one object's history (the audit page reads it in trail.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.audit.models import LEGACY_TYPES, AuditEvent
from lims.audit.services.recording import object_ref


def types_of(object_type: str) -> list[str]:
    """A type and the legacy names its rows were stored under."""
    return [object_type, *LEGACY_TYPES.get(object_type, ())]


def events_for(session: Session, obj: Any) -> list[AuditEvent]:
    """The trail of one object, oldest first (an aliquot's chain of custody reads this)."""
    object_type, object_id = object_ref(obj)
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.object_type.in_(types_of(object_type)), AuditEvent.object_id == object_id)
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(stmt))
