"""Writing the audit trail. record() and record_many() never commit: their caller's commit does."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any, NamedTuple

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit import keys
from lims.audit.models import (
    GENESIS_HASH,
    HASHED_COLUMNS,
    Action,
    AuditEvent,
    chain_hash,
)
from lims.bulk_copy import Row, write_rows
from lims.db import utcnow

# Any constant works; it names the lock that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 7_305_511


def _jsonable(value: Any) -> Any:
    """What json cannot write itself (str and int enums it writes as their values)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)  # Decimal and anything else, as text


# json.dumps(values, sort_keys=True, default=_jsonable) builds this encoder on every call: 1 of
# the 5 us an event's JSON costs in a 184,000-event import (2026-12-02). Same output.
_ENCODER = json.JSONEncoder(sort_keys=True, default=_jsonable)


def _dump(values: Mapping[str, Any] | None) -> str | None:
    if values is None:
        return None
    return _ENCODER.encode(values)


def audit_type(model: type) -> str:
    """The audit type a class declares (`__audit_type__ = "box"`); nothing derives it."""
    declared = model.__dict__.get("__audit_type__")
    if not isinstance(declared, str):
        raise TypeError(
            f"{model.__name__} is audited but declares no audit type: "
            f'add __audit_type__ = "..." to the class'
        )
    return declared


def ref(model: type, object_id: object) -> tuple[str, str]:
    """(type, id) of a row known only by its id, as record_many takes it."""
    return audit_type(model), str(object_id)


def object_ref(obj: Any) -> tuple[str, str]:
    """An audited object's type and id: (type, id) tuples pass through."""
    if isinstance(obj, tuple):
        return str(obj[0]), str(obj[1])
    return audit_type(type(obj)), str(obj.id)


class Event(NamedTuple):
    """One event for record_many: the object is a declared model instance or a (type, id).

    A NamedTuple, not a frozen dataclass: an import builds 71,000 of them, in 0.07 s instead of
    0.25 s (timeit, 2026-12-01).
    """

    action: Action
    obj: Any
    after: Mapping[str, Any] | None = None
    before: Mapping[str, Any] | None = None
    reason: str | None = None


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
    _lock_chain(session)
    session.flush()  # the object needs its id before we can name it
    keyring = keys.active()
    object_type, object_id = object_ref(obj)
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
        prev_hash=_head_hash(session),
        key_id=keyring.current_id,
    )
    event.row_hash = event.compute_hash(keyring.current)
    session.add(event)
    session.flush()
    return event


def record_many(
    session: Session, actor: Actor, events: Sequence[Event], *, at: datetime | None = None
) -> None:
    """Append a batch of events in list order, in the caller's transaction (imports use it).

    One pass hashes the chain and one COPY (PostgreSQL) or executemany (SQLite) inserts it:
    building an ORM object per event cost more than the inserts for a 50,000-row import (about
    71,000 events).
    """
    _lock_chain(session)
    session.flush()
    keyring = keys.active()
    key, key_id = keyring.current, keyring.current_id
    occurred_at = at or utcnow()
    prev_hash = _head_hash(session)
    # Before the COPY: an undeclared class refused midway would abort the transaction.
    refs = [object_ref(event.obj) for event in events]

    def chained() -> Iterator[Row]:
        nonlocal prev_hash
        for event, (object_type, object_id) in zip(events, refs, strict=True):
            row: dict[str, Any] = {
                "occurred_at": occurred_at,
                "actor_id": actor.user_id,
                "actor_username": actor.username,
                "action": event.action.value,
                "object_type": object_type,
                "object_id": object_id,
                "before_json": _dump(event.before),
                "after_json": _dump(event.after) if event.after else None,
                "reason": event.reason,
                "prev_hash": prev_hash,
                "key_id": key_id,
            }
            prev_hash = row["row_hash"] = chain_hash(row, key)
            yield tuple(row.values())

    if events:
        # Rows go in in list order, so the ids rise along the chain that verify_chain walks
        # (COPY, like an executemany, takes each row's id from the sequence in turn). COPY on
        # PostgreSQL: an executemany is planned and run row by row, a third of the server's
        # time in a 184,000-event phenotype import (bench/phenotype_import.py, 2026-12-02).
        # Each row is hashed as the COPY takes it, so the server inserts the rows sent while
        # the client hashes the next: of the 2.2 s the server spent on a 50,000-row aliquot
        # import's 71,000 events, 0.5 s was left after the last row was sent (2026-12-02).
        write_rows(session, AuditEvent, _COLUMNS, chained())


# The order of the row dicts above.
_COLUMNS = (*HASHED_COLUMNS, "prev_hash", "key_id", "row_hash")


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # Two transactions must not both read the same head; the lock lasts until commit.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})


def _head_hash(session: Session) -> str:
    head = session.scalars(select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1))
    return head.first() or GENESIS_HASH
