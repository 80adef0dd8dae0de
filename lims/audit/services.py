"""Writing and checking the audit trail. record() never commits: its caller's commit does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from lims.actors import Actor, Role
from lims.audit.models import GENESIS_HASH, Action, AuditEvent
from lims.db import utcnow

# Any constant works; it names the lock that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 7_305_511


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _dump(values: dict[str, Any] | None) -> str | None:
    if values is None:
        return None
    return json.dumps({k: _jsonable(v) for k, v in values.items()}, sort_keys=True, default=str)


def _object_ref(obj: Any) -> tuple[str, str]:
    """An audited object's type and id: tables name themselves; (type, id) tuples pass through."""
    if isinstance(obj, tuple):
        return str(obj[0]), str(obj[1])
    return str(obj.__tablename__).rstrip("s"), str(obj.id)


def record(
    session: Session,
    actor: Actor,
    action: Action,
    obj: Any,
    *,
    before: dict[str, Any] | None = None,
    reason: str | None = None,
    at: datetime | None = None,
    **after: Any,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # Two transactions must not both read the same head; the lock lasts until commit.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})
    session.flush()  # the object needs its id before we can name it
    head = session.scalars(select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1))
    object_type, object_id = _object_ref(obj)
    event = AuditEvent(
        occurred_at=at or utcnow(),
        actor_id=actor.user_id,
        actor_username=actor.username,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before_json=_dump(before),
        after_json=_dump(after) if after else None,
        reason=reason,
        prev_hash=head.first() or GENESIS_HASH,
    )
    event.row_hash = event.compute_hash()
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    events_checked: int
    first_broken_id: int | None
    problem: str | None

    @property
    def is_intact(self) -> bool:
        return self.first_broken_id is None


def verify_chain(session: Session, *, batch_size: int = 5000) -> ChainReport:
    """Walk the chain in id order and report the first row whose links or hash do not hold."""
    expected_prev = GENESIS_HASH
    checked, last_id = 0, 0
    while True:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return ChainReport(checked, None, None)
        for event in rows:
            if event.prev_hash != expected_prev:
                return ChainReport(checked, event.id, "its previous-hash link does not match")
            if event.compute_hash() != event.row_hash:
                return ChainReport(checked, event.id, "its content does not match its hash")
            expected_prev, last_id, checked = event.row_hash, event.id, checked + 1
        session.expunge_all()


def events_for(session: Session, obj: Any) -> list[AuditEvent]:
    """The trail of one object, oldest first (an aliquot's chain of custody reads this)."""
    object_type, object_id = _object_ref(obj)
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
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
        stmt = stmt.where(AuditEvent.object_type == object_type)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page)
    )
    return list(rows), total
