"""The trail as people read it: objects by their codes, only what changed, filters, keyset pages.

The codes, the finding of a typed code and the viewer's time zone belong to the features above
audit, which builds on none of them: create_app hands them over as a Directory (lims/find.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from lims.actors import Actor, Role
from lims.audit.models import Action, AuditEvent
from lims.audit.services.reading import types_of
from lims.errors import InvalidInput, NotFound

# How people call what an audit type names, where the type's own name is not the lab's word.
KIND_WORDS = {
    "specimen": "primary tube",
    "print_job": "print job",
    "consent_event": "consent",
    "consent_document": "consent form",
}

Ref = tuple[str, str]  # (audit type, object id) as the trail stores them


@dataclass(frozen=True)
class Named:
    """A record as people know it: its audit type and id, its code, and where its page is."""

    kind: str  # the audit type: "aliquot", "specimen", "box", ...
    id: int
    code: str  # "NA1-0007 V2", "10000017", "B0000013", "PJ-42"
    detail: str = ""
    route_args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> Ref:
        return self.kind, str(self.id)


@dataclass(frozen=True)
class Directory:
    """What the trail pages need from the features above audit (registered by create_app)."""

    find: Callable[[Session, Actor, str], Sequence[Named]]  # a code to its records
    name: Callable[[Session, Collection[Ref]], dict[Ref, str]]  # refs to codes, in bulk
    zone_of: Callable[[Session, Actor], str]  # the viewer's time zone (their site's)
    to_utc: Callable[[datetime, str], datetime]  # a wall-clock time in a zone, as an instant


@dataclass(frozen=True)
class TrailQuery:
    """The filters; None means any. Times without an offset are the viewer's wall clock."""

    code: str | None = None
    user: str | None = None
    action: str | None = None  # a prefix: "aliquot." or "aliquot.stored"
    object_type: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    before: int | None = None  # keyset cursors: events older than this id ...
    after: int | None = None  # ... or newer than this one
    per_page: int = 50


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any
    had_before: bool  # False: the field is new (a creation shows no "before")


@dataclass(frozen=True)
class TrailRow:
    event: AuditEvent
    code: str  # the object's code, or its stored id where no code is known
    changes: list[Change]


@dataclass(frozen=True)
class TrailPage:
    rows: list[TrailRow]
    newer: int | None  # ?after= for the page of newer events, None on the newest
    older: int | None  # ?before= for the page of older events, None on the oldest
    zone: str  # the time zone the page shows and reads times in
    matched: list[Named]  # what the code filter found (empty: nothing has that code)


def changes(event: AuditEvent) -> list[Change]:
    """What the event changed: fields whose value differs, not those repeated unchanged, nor
    the empty fields a new record is written with (a new tube's unmeasured DIN)."""
    before, after = event.before or {}, event.after or {}
    found = [
        Change(key, before.get(key), value, key in before)
        for key, value in after.items()
        if (key in before and before[key] != value) or (key not in before and value is not None)
    ]
    gone = [Change(key, value, None, True) for key, value in before.items() if key not in after]
    return found + gone


def read_trail(
    session: Session, actor: Actor, *, query: TrailQuery, directory: Directory
) -> TrailPage:
    """One page of the trail, newest first, for the biobank manager (admin) and reviewers."""
    actor.require(Role.REVIEWER)
    zone = directory.zone_of(session, actor)
    conditions, matched = _conditions(session, actor, query, directory, zone)
    stmt = select(AuditEvent).where(*conditions)
    if query.after is not None:  # walking towards newer events: ascending, then turned round
        stmt = stmt.where(AuditEvent.id > query.after).order_by(AuditEvent.id)
    else:
        if query.before is not None:
            stmt = stmt.where(AuditEvent.id < query.before)
        stmt = stmt.order_by(AuditEvent.id.desc())
    # One row more than the page shows tells whether another page follows; no count(*).
    events = list(session.scalars(stmt.limit(query.per_page + 1)))
    has_more = len(events) > query.per_page
    events = events[: query.per_page]
    if query.after is not None:
        events.reverse()
        newer_exists, older_exists = has_more, True
    else:
        newer_exists, older_exists = query.before is not None, has_more
    names = directory.name(session, {(e.canonical_type, e.object_id) for e in events})
    rows = [
        TrailRow(e, names.get((e.canonical_type, e.object_id), e.object_id), changes(e))
        for e in events
    ]
    return TrailPage(
        rows,
        newer=events[0].id if events and newer_exists else None,
        older=events[-1].id if events and older_exists else None,
        zone=zone,
        matched=matched,
    )


def _conditions(
    session: Session, actor: Actor, query: TrailQuery, directory: Directory, zone: str
) -> tuple[list[ColumnElement[bool]], list[Named]]:
    found: list[ColumnElement[bool]] = []
    matched: list[Named] = []
    if query.code:
        try:
            matched = list(directory.find(session, actor, query.code))
        except NotFound:
            matched = []
        found.append(_objects(matched))
    if query.user:
        found.append(AuditEvent.actor_username == query.user.strip())
    if query.action:
        found.append(AuditEvent.action.in_(actions_starting(query.action)))
    if query.object_type:
        found.append(AuditEvent.object_type.in_(types_of(query.object_type)))
    for name, moment in (("since", query.since), ("until", query.until)):
        if moment is None:
            continue
        try:
            instant = directory.to_utc(moment, zone)
        except ValueError as err:  # a wall-clock time the clocks skipped or showed twice
            raise InvalidInput(f"{name}: {err}", field=name) from err
        found.append(
            AuditEvent.occurred_at >= instant
            if name == "since"
            else AuditEvent.occurred_at < instant
        )
    return found, matched


def _objects(matched: Sequence[Named]) -> ColumnElement[bool]:
    """Events on any of the records a code names (under legacy type names too)."""
    if not matched:
        return AuditEvent.id.is_(None)  # the code names nothing: no event can match
    return or_(
        *(
            (AuditEvent.object_type.in_(types_of(n.kind))) & (AuditEvent.object_id == str(n.id))
            for n in matched
        )
    )


def actions_starting(prefix: str) -> list[str]:
    """The known actions a typed prefix names ("aliquot." or "aliquot.st"): an IN list uses the
    action index on both databases, where LIKE would not under PostgreSQL's usual collations."""
    wanted = prefix.strip().lower()
    found = [a.value for a in Action if a.value.startswith(wanted)]
    if not found:
        raise InvalidInput(
            f"No action starts with '{wanted[:40]}'; try e.g. aliquot. or labels.printed",
            field="action",
        )
    return found
