"""The consent rule of lims.specimens (consent_permits), compiled into SQL for one purpose.

consent_permits answers for one subject in Python; a feasibility count or a pick list over
200,000 visits cannot ask it subject by subject. This module states the same rule as SQL
conditions on `subjects`, for a DUO purpose as of a date. It must agree with consent_permits on
every subject and purpose: tests/requests/test_criteria_consent.py checks both on the demo
subjects for every purpose and modifier set it tries, and a change to either must keep them so.

The rule, as consent_permits applies it (lims/specimens/services/permits.py, duo.match):
1. a withdrawal at "no further access" or "no further use" dated on or before the day refuses
   (and a subject marked withdrawn before levels were recorded counts as "no further use");
2. the consent in force is the latest consent or re-consent dated on or before the day; none
   refuses;
3. its answers must grant a permission covering the purpose (GRU covers HMB covers DS; for DS
   only a DS grant for the purpose's disease, or a broader grant, will do);
4. a POA purpose is refused by an NPOA restriction; a modifier the purpose declares is refused
   when the participant said no to it (GSO); NCU, NPU and NPUNCU restrictions refuse unless the
   purpose declares the use they allow. Other modifiers (IRB, COL, PUB, ...) go to a reviewer and
   refuse nothing here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, and_, false, func, not_, or_, select

from lims.requests.criteria.document import Purpose
from lims.specimens.consent_models import (
    ConsentAnswer,
    ConsentEvent,
    ConsentEventKind,
    ConsentStatement,
    StatementKind,
)
from lims.specimens.duo import COVERED_BY, DECIDABLE, DYSTONIA_MONDO, DuoTerm
from lims.specimens.models import EnrolmentStatus, Subject, WithdrawalLevel

STOPS_RESEARCH = (WithdrawalLevel.NO_FURTHER_ACCESS, WithdrawalLevel.NO_FURTHER_USE)


def consent_allows(purpose: Purpose, *, on: date) -> ColumnElement[bool]:
    """A condition on `subjects`: their consent, as of `on`, permits this purpose."""
    return and_(_not_withdrawn(on), Subject.id.in_(_granting_subjects(purpose, on)))


def _not_withdrawn(on: date) -> ColumnElement[bool]:
    # NOT IN, not NOT EXISTS: PostgreSQL misjudged the withdrawals as 4 rows (its three
    # conditions are not independent), chose a nested loop and compared 22,000 subjects with
    # 430 withdrawals one by one: 240 ms of 1.4 s at 50,000 subjects. NOT IN over a non-null
    # column is the same test and always runs as one hashed list (bench/feasibility.py).
    withdrew = ConsentEvent.kind == ConsentEventKind.WITHDREW
    stopped = select(ConsentEvent.subject_id).where(
        withdrew,
        ConsentEvent.occurred_on <= on,
        ConsentEvent.withdrawal_level.in_(STOPS_RESEARCH),
    )
    # consent_state: a subject marked withdrawn with no withdrawal event at all counts as "no
    # further use" from consent_withdrawn_at (its UTC date), or always when that is unknown.
    next_midnight = datetime.combine(on + timedelta(days=1), time(0), tzinfo=UTC)
    unrecorded = and_(
        Subject.enrolment_status == EnrolmentStatus.CONSENT_WITHDRAWN,
        Subject.id.not_in(select(ConsentEvent.subject_id).where(withdrew)),
        or_(Subject.consent_withdrawn_at.is_(None), Subject.consent_withdrawn_at < next_midnight),
    )
    return and_(Subject.id.not_in(stopped), not_(unrecorded))


def _granting_subjects(purpose: Purpose, on: date) -> Select[tuple[int]]:
    """Subjects whose consent in force on `on` grants the purpose: one pass over the events."""
    ranked = (
        select(
            ConsentEvent.id.label("event_id"),
            ConsentEvent.subject_id.label("subject_id"),
            func.row_number()
            .over(
                partition_by=ConsentEvent.subject_id,
                order_by=(ConsentEvent.occurred_on.desc(), ConsentEvent.id.desc()),
            )
            .label("rank"),
        )
        .where(ConsentEvent.kind != ConsentEventKind.WITHDREW, ConsentEvent.occurred_on <= on)
        .subquery("in_force")
    )
    event_id = ranked.c.event_id

    def answered(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        return (
            select(ConsentAnswer.id)
            .join(ConsentStatement, ConsentAnswer.statement_id == ConsentStatement.id)
            .where(ConsentAnswer.event_id == event_id, *conditions)
            .exists()
        )

    term, kind, said = ConsentStatement.duo_id, ConsentStatement.kind, ConsentAnswer.answer
    covering = COVERED_BY.get(purpose.term, frozenset())
    broader = [t for t in covering if t is not DuoTerm.DS]
    granted: list[ColumnElement[bool]] = [term.in_(broader)] if broader else []
    if DuoTerm.DS in covering:
        disease = func.coalesce(ConsentStatement.disease_id, DYSTONIA_MONDO)
        granted.append(and_(term == DuoTerm.DS, disease == purpose.disease))
    conditions: list[ColumnElement[bool]] = [
        # < 2, not == 1: the same rows, but PostgreSQL guesses an equality on a window's output
        # keeps 1 row in 200, planned nested loops for 250 subjects, and got 44,000: 670 ms
        # instead of 440 for the eligible visits at 50,000 subjects (bench/feasibility.py).
        ranked.c.rank < 2,
        # a modifier is never a purpose (parse_criteria refuses it): nothing grants one
        answered(kind == StatementKind.PERMISSION, said.is_(True), or_(*granted))
        if granted
        else false(),
    ]
    restricting = said == ConsentStatement.restricts_on
    if purpose.term is DuoTerm.POA:
        npoa = and_(kind == StatementKind.RESTRICTION, restricting, term == DuoTerm.NPOA)
        conditions.append(~answered(npoa))
    if purpose.modifiers:
        refused = and_(
            kind == StatementKind.REQUIRED_FOR, said.is_(False), term.in_(purpose.modifiers)
        )
        conditions.append(~answered(refused))
    unmet = [
        code
        for code, needs in DECIDABLE.items()
        if not any(need <= purpose.modifiers for need in needs)
    ]
    if unmet:
        conditions.append(
            ~answered(kind == StatementKind.RESTRICTION, restricting, term.in_(unmet))
        )
    return select(ranked.c.subject_id).where(*conditions)
