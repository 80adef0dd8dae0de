"""The one consent rule: does this subject's consent, as of a date, permit a use?

Requests ask it with a DUO purpose at approval and again at shipment; the bench asks it with a
`BenchWork` before it stores, uses or makes anything from a subject's tubes. Both read the same
append-only consent events, so a withdrawal stops both from the same moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lims.specimens.consent_models import (
    ConsentAnswer,
    ConsentEvent,
    ConsentEventKind,
    StatementKind,
    WithdrawalLevel,
)
from lims.specimens.duo import DYSTONIA_MONDO, DuoTerm, Grant, match
from lims.specimens.models import EnrolmentStatus, Subject


class BenchWork(StrEnum):
    """What the bench does with a subject's material, as the consent rule sees it."""

    CUSTODY = "custody"  # storing, moving, taking out: keeping what exists
    USE = "use"  # new visits and tubes, aliquoting, checking out, using


# The level from which each kind of work stops. "No further contact" stops nothing at the bench:
# existing samples and data are still used (NIHR BioResource; UK Biobank's usual description).
BENCH_STOPPED_FROM = {
    BenchWork.CUSTODY: WithdrawalLevel.NO_FURTHER_USE,
    BenchWork.USE: WithdrawalLevel.NO_FURTHER_ACCESS,
}


@dataclass
class ConsentDecision:
    """The answer: refused when `reasons` is not empty; `for_reviewer` lists the modifiers a
    person must judge (IRB, COL, PUB, ...), which code never decides."""

    on: date
    purpose: DuoTerm | BenchWork
    modifiers: frozenset[DuoTerm] = frozenset()
    reasons: list[str] = field(default_factory=list)
    for_reviewer: list[DuoTerm] = field(default_factory=list)
    event: ConsentEvent | None = None  # the consent in force on the date
    withdrawal: WithdrawalLevel | None = None

    @property
    def permitted(self) -> bool:
        """No reason against it (a reviewer may still have modifiers to check)."""
        return not self.reasons


@dataclass(frozen=True)
class ConsentState:
    """A subject's consent as of a date: the consent in force and the strongest withdrawal."""

    event: ConsentEvent | None
    withdrawal: WithdrawalLevel | None


def consent_events(session: Session, subject: Subject) -> list[ConsentEvent]:
    """A subject's consent events in the order they happened, answers loaded."""
    stmt = (
        select(ConsentEvent)
        .where(ConsentEvent.subject_id == subject.id)
        .options(
            selectinload(ConsentEvent.document),
            selectinload(ConsentEvent.answers).selectinload(ConsentAnswer.statement),
        )
        .order_by(ConsentEvent.occurred_on, ConsentEvent.id)
    )
    return list(session.scalars(stmt))


def consent_state(events: Iterable[ConsentEvent], subject: Subject, on: date) -> ConsentState:
    """What the events say as of `on` (events dated later do not count yet)."""
    given: ConsentEvent | None = None
    levels: list[WithdrawalLevel] = []
    events = list(events)
    for event in events:
        if event.occurred_on > on:
            continue
        if event.kind is ConsentEventKind.WITHDREW and event.withdrawal_level is not None:
            levels.append(event.withdrawal_level)
        elif event.kind is not ConsentEventKind.WITHDREW:
            given = event
    recorded = any(e.kind is ConsentEventKind.WITHDREW for e in events)
    if not subject.has_consent and not recorded:
        # A withdrawal without its event (the migration writes one for older rows; this keeps
        # the rule and Subject.has_consent in agreement whatever wrote the row).
        when = subject.consent_withdrawn_at
        if when is None or when.date() <= on:
            levels.append(WithdrawalLevel.NO_FURTHER_USE)
    strongest = max(levels, key=lambda level: level.rank, default=None)
    return ConsentState(given, strongest)


def withdrawal_levels(session: Session, subject_ids: Iterable[int]) -> dict[int, WithdrawalLevel]:
    """The strongest withdrawal of each subject that has one, in two queries (a box map of 100
    tubes asks once). A subject withdrawn before levels were recorded counts as "no further
    use", as in consent_state."""
    ids = sorted(set(subject_ids))
    if not ids:
        return {}
    levels: dict[int, WithdrawalLevel] = {}
    stmt = select(ConsentEvent.subject_id, ConsentEvent.withdrawal_level).where(
        ConsentEvent.subject_id.in_(ids), ConsentEvent.kind == ConsentEventKind.WITHDREW
    )
    for subject_id, level in session.execute(stmt):
        if level is not None and (subject_id not in levels or level.rank > levels[subject_id].rank):
            levels[subject_id] = level
    withdrawn = EnrolmentStatus.CONSENT_WITHDRAWN  # what Subject.has_consent reads
    old = select(Subject.id).where(Subject.id.in_(ids), Subject.enrolment_status == withdrawn)
    for subject_id in session.scalars(old):
        levels[subject_id] = WithdrawalLevel.NO_FURTHER_USE
    return levels


def grant_of(event: ConsentEvent) -> Grant:
    """The DUO terms a consent event's answers grant."""
    permissions, diseases, restrictions, refused = set(), set(), set(), set()
    for answer in event.answers:
        statement = answer.statement
        term = statement.duo_id
        if term is None:
            continue
        if statement.kind is StatementKind.PERMISSION and answer.answer:
            permissions.add(term)
            if term is DuoTerm.DS:
                diseases.add(statement.disease_id or DYSTONIA_MONDO)
        elif (
            statement.kind is StatementKind.RESTRICTION and answer.answer == statement.restricts_on
        ):
            restrictions.add(term)
        elif statement.kind is StatementKind.REQUIRED_FOR and not answer.answer:
            refused.add(term)
    return Grant(
        frozenset(permissions), frozenset(diseases), frozenset(restrictions), frozenset(refused)
    )


def consent_permits(
    session: Session,
    subject: Subject,
    *,
    on: date,
    purpose: DuoTerm | BenchWork,
    modifiers: Iterable[DuoTerm] = (),
    disease: str | None = DYSTONIA_MONDO,
) -> ConsentDecision:
    """Does this subject's consent, as of `on`, permit `purpose` with `modifiers`? And why not.

    `modifiers` are the DUO terms the proposed use declares about itself (NCU: non-commercial;
    NPU: a not-for-profit user; GSO: a genetic study). `disease` is the MONDO id a DS purpose
    is restricted to (dystonia unless told otherwise).
    """
    if isinstance(purpose, BenchWork):
        # The bench needs only the withdrawals: one light query per check, not the answers.
        stmt = select(ConsentEvent).where(
            ConsentEvent.subject_id == subject.id, ConsentEvent.kind == ConsentEventKind.WITHDREW
        )
        events: list[ConsentEvent] = list(session.scalars(stmt))
    else:
        events = consent_events(session, subject)
    state = consent_state(events, subject, on)
    declared = frozenset(modifiers)
    decision = ConsentDecision(
        on, purpose, declared, event=state.event, withdrawal=state.withdrawal
    )
    code, level = subject.study_code, state.withdrawal
    if isinstance(purpose, BenchWork):
        stopped_from = BENCH_STOPPED_FROM[purpose]
        if level is not None and level.rank >= stopped_from.rank:
            decision.reasons.append(f"{code} has withdrawn consent ({level.label})")
        return decision
    if level is not None and level.rank >= WithdrawalLevel.NO_FURTHER_ACCESS.rank:
        decision.reasons.append(f"{code} withdrew consent ({level.label}) on or before {on}")
    if state.event is None:
        decision.reasons.append(f"{code} has no consent recorded as of {on}")
        return decision
    found = match(grant_of(state.event), purpose=purpose, modifiers=declared, disease=disease)
    decision.reasons.extend(found.reasons)
    decision.for_reviewer.extend(found.for_reviewer)
    return decision
