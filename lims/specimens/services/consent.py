"""Consent documents and the consent a participant gives on them (append-only events)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lims import audit
from lims.actors import STAFF, STAFF_AND_ADMIN, Actor, Role
from lims.audit.models import Action, AuditEvent
from lims.audit.services import events_for
from lims.db import get_one
from lims.errors import Conflict, FieldError, InvalidInput, NotFound, plural
from lims.specimens.consent_models import (
    ConsentAnswer,
    ConsentDocument,
    ConsentEvent,
    ConsentEventKind,
    ConsentStatement,
    StatementKind,
)
from lims.specimens.duo import DYSTONIA_MONDO, PERMISSIONS, DuoTerm
from lims.specimens.models import Subject
from lims.specimens.services.common import lock_subject
from lims.specimens.services.permits import (
    ConsentDecision,
    consent_events,
    consent_permits,
    consent_state,
)
from lims.specimens.services.subjects import get_subject


@dataclass(frozen=True)
class StatementSpec:
    """One statement of a new consent document, as an administrator enters it."""

    code: str
    text: str
    kind: StatementKind
    duo_id: DuoTerm | None = None
    disease_id: str | None = None
    restricts_on: bool | None = None


def _statement_problem(spec: StatementSpec) -> str | None:
    """Why a statement's DUO mapping does not fit its kind, or None."""
    term = spec.duo_id
    if spec.kind is StatementKind.PERMISSION:
        if term not in PERMISSIONS:
            return "a permission statement maps to GRU, HMB, DS or POA"
    elif spec.kind in (StatementKind.RESTRICTION, StatementKind.REQUIRED_FOR):
        if term is None or term in PERMISSIONS:
            return f"a {spec.kind} statement maps to a DUO modifier (e.g. NCU, IRB, GSO)"
        if spec.kind is StatementKind.RESTRICTION and spec.restricts_on is None:
            return "say which answer (yes or no) puts the restriction on every use"
    elif term is not None:
        return f"a {spec.kind} statement is not a DUO term"
    return None


def create_consent_document(
    session: Session,
    actor: Actor,
    *,
    name: str,
    version: str,
    effective_on: date,
    irb_reference: str,
    statements: Sequence[StatementSpec],
) -> ConsentDocument:
    """Register an ethics-approved consent form version and its statements (administrator)."""
    actor.require(Role.ADMIN)
    name, version = name.strip(), version.strip()
    if session.scalar(
        select(ConsentDocument).where(
            ConsentDocument.name == name, ConsentDocument.version == version
        )
    ):
        raise Conflict(f"{name} v{version} is already registered", field="version")
    if not statements:
        raise InvalidInput("A consent document needs at least one statement", field="statements")
    problems: list[FieldError] = []
    seen: set[str] = set()
    for n, spec in enumerate(statements):  # fields named as the schema names them
        code = spec.code.strip().lower()
        if code in seen:
            problems.append({"field": f"statements.{n}.code", "message": f"{code} twice"})
        seen.add(code)
        if problem := _statement_problem(spec):
            problems.append({"field": f"statements.{n}.duo_id", "message": f"{code}: {problem}"})
    if problems:
        raise InvalidInput(f"{plural(len(problems), 'problem')} in the statements", errors=problems)
    document = ConsentDocument(
        name=name, version=version, effective_on=effective_on, irb_reference=irb_reference.strip()
    )
    for n, spec in enumerate(statements, start=1):
        ds = spec.duo_id is DuoTerm.DS
        document.statements.append(
            ConsentStatement(
                position=n,
                code=spec.code.strip().lower(),
                text=spec.text.strip(),
                kind=spec.kind,
                duo_id=spec.duo_id,
                disease_id=(spec.disease_id or DYSTONIA_MONDO) if ds else None,
                restricts_on=spec.restricts_on if spec.kind is StatementKind.RESTRICTION else None,
            )
        )
    session.add(document)
    audit.record(
        session,
        actor,
        Action.CONSENT_DOCUMENT_CREATED,
        document,
        name=name,
        version=version,
        effective_on=effective_on,
        irb_reference=document.irb_reference,
        statements=[f"{s.code}={s.duo_id.name if s.duo_id else s.kind}" for s in statements],
    )
    session.commit()
    return document


def list_consent_documents(session: Session, actor: Actor) -> list[ConsentDocument]:
    """Consent documents, newest effective first, with their statements."""
    actor.require(*STAFF_AND_ADMIN)
    stmt = (
        select(ConsentDocument)
        .options(selectinload(ConsentDocument.statements))
        .order_by(ConsentDocument.effective_on.desc(), ConsentDocument.id.desc())
    )
    return list(session.scalars(stmt))


def get_consent_document(session: Session, actor: Actor, document_id: int) -> ConsentDocument:
    """One consent document with its statements, for staff and administrators."""
    actor.require(*STAFF_AND_ADMIN)
    stmt = (
        select(ConsentDocument)
        .where(ConsentDocument.id == document_id)
        .options(selectinload(ConsentDocument.statements))
    )
    if (document := session.scalar(stmt)) is None:
        raise NotFound(f"No consent document has id {document_id}", field="document_id")
    return document


def _answers(
    document: ConsentDocument, given: Mapping[str, bool]
) -> list[tuple[ConsentStatement, bool]]:
    """Every statement of the document with its answer, or every field that is missing."""
    codes = {s.code for s in document.statements}
    problems: list[FieldError] = [
        {"field": f"answer_{s.code}", "message": f"answer yes or no: {s.text}"}
        for s in document.statements
        if s.code not in given
    ]
    problems += [
        {"field": f"answer_{code}", "message": f"{document.label} has no statement {code}"}
        for code in sorted(set(given) - codes)
    ]
    if problems:
        raise InvalidInput(
            f"{plural(len(problems), 'answer')} missing or unknown for {document.label}",
            errors=problems,
        )
    return [(s, given[s.code]) for s in document.statements]


def record_consent(
    session: Session,
    actor: Actor,
    *,
    study_code: str,
    document_id: int,
    consented_on: date,
    answers: Mapping[str, bool],
) -> ConsentEvent:
    """Record that a subject signed a consent document, with their answer to each statement."""
    actor.require(Role.TECHNICIAN)
    subject = lock_subject(session, get_subject(session, actor, study_code).id)
    document = get_one(session, ConsentDocument, document_id, label="Consent document")
    if document.effective_on > consented_on:
        raise InvalidInput(
            f"{document.label} took effect on {document.effective_on}, after {consented_on}",
            field="consented_on",
        )
    pairs = _answers(document, answers)
    events = consent_events(session, subject)
    if withdrawn := [e for e in events if e.kind is ConsentEventKind.WITHDREW]:
        last = withdrawn[-1]
        raise Conflict(
            f"{subject.study_code} withdrew consent on {last.occurred_on}; "
            "a new consent after a withdrawal is a new enrolment, not recorded here",
            field="study_code",
        )
    given = [e for e in events if e.kind is not ConsentEventKind.WITHDREW]
    kind = ConsentEventKind.RECONSENTED if given else ConsentEventKind.CONSENTED
    event = ConsentEvent(subject=subject, kind=kind, occurred_on=consented_on, document=document)
    event.answers = [ConsentAnswer(statement=s, answer=a) for s, a in pairs]
    session.add(event)
    audit.record(
        session,
        actor,
        Action.CONSENT_RECORDED,
        event,
        subject=subject.study_code,
        kind=kind,
        document=document.label,
        consented_on=consented_on,
        answers={s.code: a for s, a in pairs},
    )
    session.commit()
    return event


# What the subject page asks: each permission, and a genetic health study (HMB with GSO), which
# is where the answer to the genetic-research statement shows.
SUMMARY_PURPOSES: tuple[tuple[DuoTerm, frozenset[DuoTerm]], ...] = (
    (DuoTerm.GRU, frozenset()),
    (DuoTerm.HMB, frozenset()),
    (DuoTerm.DS, frozenset()),
    (DuoTerm.POA, frozenset()),
    (DuoTerm.HMB, frozenset({DuoTerm.GSO})),
)


@dataclass(frozen=True)
class Recorded:
    """Who recorded a consent event and when (from the audit trail), and for a withdrawal the
    instant it took effect; the pages show them on the site's clock."""

    at: datetime
    by: str
    withdrawn_at: datetime | None = None


def _recorded(
    session: Session, subject: Subject, events: Sequence[ConsentEvent]
) -> dict[int, Recorded]:
    """Each consent event's audit entry: consents are audited as themselves; a withdrawal as a
    change of the subject, the n-th withdrawal event matching the n-th such entry (both are
    appended in the one transaction of withdraw_consent)."""
    found: dict[int, Recorded] = {}
    ids = [str(e.id) for e in events if e.kind is not ConsentEventKind.WITHDREW]
    if ids:
        stmt = select(AuditEvent).where(
            AuditEvent.object_type == ConsentEvent.__audit_type__,
            AuditEvent.object_id.in_(ids),
            AuditEvent.action == Action.CONSENT_RECORDED,
        )
        for row in session.scalars(stmt):
            found[int(row.object_id)] = Recorded(row.occurred_at, row.actor_username)
    withdrawn = sorted((e for e in events if e.kind is ConsentEventKind.WITHDREW), key=_id)
    trail = [
        r for r in events_for(session, subject) if r.action == Action.SUBJECT_CONSENT_WITHDRAWN
    ]
    for event, row in zip(withdrawn, trail, strict=False):
        when = (row.after or {}).get("withdrawn_at")
        instant = datetime.fromisoformat(when) if isinstance(when, str) else None
        found[event.id] = Recorded(row.occurred_at, row.actor_username, instant)
    return found


def _id(event: ConsentEvent) -> int:
    return event.id


@dataclass(frozen=True)
class ConsentSummary:
    """A subject's consent for the subject page and the API: the history, the consent in force
    today, and what it permits for each DUO permission."""

    subject: Subject
    events: list[ConsentEvent]
    current: ConsentEvent | None
    permits: list[ConsentDecision]
    documents: list[ConsentDocument]
    recorded: dict[int, Recorded]  # by ConsentEvent.id

    @property
    def given(self) -> list[ConsentEvent]:
        """The consents given (first and re-consents), oldest first."""
        return [e for e in self.events if e.kind is not ConsentEventKind.WITHDREW]

    @property
    def withdrawals(self) -> list[ConsentEvent]:
        return [e for e in self.events if e.kind is ConsentEventKind.WITHDREW]

    def matrix(self) -> list[tuple[ConsentStatement, list[bool | None]]]:
        """Statements (by code, across versions) x the answers at each consent given; None
        where that version did not ask the statement."""
        given = self.given
        rows: dict[str, ConsentStatement] = {}
        for event in given:
            for answer in sorted(event.answers, key=lambda a: a.statement.position):
                rows.setdefault(answer.statement.code, answer.statement)
        answers = [{a.statement.code: a.answer for a in e.answers} for e in given]
        return [(st, [a.get(code) for a in answers]) for code, st in rows.items()]


def consent_summary(
    session: Session, actor: Actor, subject: Subject, *, on: date
) -> ConsentSummary:
    """What the subject page shows of consent, as of `on`."""
    actor.require(*STAFF)
    events = consent_events(session, subject)
    state = consent_state(events, subject, on)
    permits = [
        consent_permits(session, subject, on=on, purpose=purpose, modifiers=modifiers)
        for purpose, modifiers in SUMMARY_PURPOSES
    ]
    documents = list_consent_documents(session, actor)
    recorded = _recorded(session, subject, events)
    return ConsentSummary(subject, events, state.event, permits, documents, recorded)
