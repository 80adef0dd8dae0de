"""Enrolling subjects, their visits, finding them, and withdrawal of consent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from lims import audit
from lims.actors import STAFF, Actor, Role
from lims.audit.models import Action
from lims.auth import timezones
from lims.auth.models import Site
from lims.auth.services import find_site
from lims.errors import Conflict, InvalidInput, NotFound, field_label
from lims.specimens.consent_models import ConsentEvent, ConsentEventKind, WithdrawalLevel
from lims.specimens.models import (
    TERMINAL_STATUSES,
    Aliquot,
    Dystonia,
    EnrolmentStatus,
    Sex,
    Specimen,
    Subject,
    Visit,
    study_code_problem,
)
from lims.specimens.services.common import lock_aliquots, lock_subject, locked, require_consent
from lims.specimens.services.permits import consent_events, consent_state
from lims.specimens.services.plausibility import study_code_site_problem


def register_subject(
    session: Session,
    actor: Actor,
    *,
    study_code: str,
    site_code: str,
    sex: Sex,
    primary_diagnosis: Dystonia,
    ninds_guid: str | None = None,
    birth_year: int | None = None,
) -> Subject:
    """Enrol a participant under a study code (no names, record numbers or birth dates)."""
    actor.require(Role.TECHNICIAN)
    code = study_code.strip().upper()
    if problem := study_code_problem(code):
        raise InvalidInput(problem, field="study_code")
    if birth_year is not None and not 1900 <= birth_year <= 2100:
        raise InvalidInput(
            f"Birth year {birth_year} is not between 1900 and 2100", field="birth_year"
        )
    if session.scalar(select(Subject).where(Subject.study_code == code)):
        raise Conflict(f"Subject {code} is already registered", field="study_code")
    site = find_site(session, site_code)
    if problem := study_code_site_problem(code, site.code):
        raise InvalidInput(problem, field="study_code")
    subject = Subject(
        study_code=code,
        site=site,
        sex=sex,
        primary_diagnosis=primary_diagnosis,
        ninds_guid=ninds_guid or None,
        birth_year=birth_year,
    )
    session.add(subject)
    audit.record(
        session,
        actor,
        Action.SUBJECT_REGISTERED,
        subject,
        study_code=code,
        site=site.code,
        sex=sex,
        primary_diagnosis=primary_diagnosis,
        ninds_guid=subject.ninds_guid,
        birth_year=birth_year,
    )
    session.commit()
    return subject


def get_subject(session: Session, actor: Actor, study_code: str) -> Subject:
    """A subject by study code, for staff."""
    actor.require(*STAFF)
    code = study_code.strip().upper()
    subject = session.scalar(select(Subject).where(Subject.study_code == code))
    if subject is None:
        raise NotFound(f"No subject has study code {code}", field="study_code")
    return subject


def subject_record(session: Session, actor: Actor, study_code: str) -> Subject:
    """A subject with visits, tubes and aliquots loaded, for the subject page and the API."""
    actor.require(*STAFF)
    code = study_code.strip().upper()
    stmt = (
        select(Subject)
        .where(Subject.study_code == code)
        .options(
            selectinload(Subject.site),
            selectinload(Subject.visits)
            .selectinload(Visit.specimens)
            .selectinload(Specimen.aliquots)
            .selectinload(Aliquot.children),
        )
    )
    subject = session.scalar(stmt)
    if subject is None:
        raise NotFound(f"No subject has study code {code}", field="study_code")
    return subject


@dataclass(frozen=True)
class SubjectRow:
    subject: Subject
    visits: int
    aliquots: int


def list_subjects(
    session: Session,
    actor: Actor,
    *,
    site_code: str | None = None,
    diagnosis: Dystonia | None = None,
    enrolment_status: EnrolmentStatus | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[SubjectRow], int]:
    """Subjects by study code, filtered by site, diagnosis and enrolment status, one page."""
    actor.require(*STAFF)
    stmt = select(Subject)
    if site_code:
        stmt = stmt.join(Site, Subject.site_id == Site.id).where(
            Site.code == site_code.strip().upper()
        )
    if diagnosis is not None:
        stmt = stmt.where(Subject.primary_diagnosis == diagnosis)
    if enrolment_status is not None:
        stmt = stmt.where(Subject.enrolment_status == enrolment_status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    subjects = list(
        session.scalars(
            stmt.options(selectinload(Subject.site))
            .order_by(Subject.study_code)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    visits, aliquots = _counts(session, [s.id for s in subjects])
    rows = [SubjectRow(s, visits.get(s.id, 0), aliquots.get(s.id, 0)) for s in subjects]
    return rows, total


def list_sites(session: Session, actor: Actor) -> list[Site]:
    """The collecting sites, by code: where a subject is registered, and the subject list's
    site filter. Any signed-in role may read them (a site is not about a participant)."""
    return list(session.scalars(select(Site).order_by(Site.code)))


def _counts(session: Session, subject_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Visits and aliquots per subject, two grouped queries for the whole page."""
    if not subject_ids:
        return {}, {}
    visits = session.execute(
        select(Visit.subject_id, func.count(Visit.id))
        .where(Visit.subject_id.in_(subject_ids))
        .group_by(Visit.subject_id)
    ).all()
    aliquots = session.execute(
        select(Visit.subject_id, func.count(Aliquot.id))
        .join(Specimen, Specimen.visit_id == Visit.id)
        .join(Aliquot, Aliquot.specimen_id == Specimen.id)
        .where(Visit.subject_id.in_(subject_ids))
        .group_by(Visit.subject_id)
    ).all()
    return {s: int(n) for s, n in visits}, {s: int(n) for s, n in aliquots}


def register_visit(
    session: Session, actor: Actor, *, study_code: str, visit_number: int, visit_on: date
) -> Visit:
    """Record a study visit at which specimens are collected."""
    actor.require(Role.TECHNICIAN)
    subject = lock_subject(session, get_subject(session, actor, study_code).id)
    require_consent(subject, "registering a visit")
    if visit_number < 1:
        raise InvalidInput(
            f"{field_label('visit_number')} starts at 1, not {visit_number}", field="visit_number"
        )
    if any(v.visit_number == visit_number for v in subject.visits):
        raise Conflict(
            f"{subject.study_code} already has visit {visit_number}", field="visit_number"
        )
    visit = Visit(subject=subject, visit_number=visit_number, visit_on=visit_on)
    session.add(visit)
    audit.record(
        session,
        actor,
        Action.VISIT_REGISTERED,
        visit,
        subject=subject.study_code,
        visit_number=visit_number,
        visit_on=visit_on,
    )
    session.commit()
    return visit


def find_visit(session: Session, actor: Actor, *, study_code: str, visit_number: int) -> Visit:
    """A subject's visit by its number, as the bench names it ("NA1-0007 V2")."""
    subject = get_subject(session, actor, study_code)
    for visit in subject.visits:
        if visit.visit_number == visit_number:
            return visit
    raise NotFound(
        f"{subject.study_code} has no visit {visit_number}; register it first",
        field="visit_number",
    )


def open_aliquots(subject: Subject) -> list[Aliquot]:
    """The subject's aliquots that still exist (not consumed, disposed, released...)."""
    return [
        aliquot
        for visit in subject.visits
        for specimen in visit.specimens
        for aliquot in sorted(specimen.aliquots, key=lambda a: a.id)
        if aliquot.status not in TERMINAL_STATUSES
    ]


def _lock_what_consent_covers(session: Session, subject: Subject) -> list[Aliquot]:
    """Lock the subject's tubes, then their open aliquots (the usual order), and return those
    aliquots as they stand once every step that checked consent before us has committed."""
    specimens = [s.id for v in subject.visits for s in v.specimens]
    tubes = select(Specimen).where(Specimen.id.in_(specimens)).order_by(Specimen.id)
    session.scalars(locked(tubes)).all()
    ids = session.scalars(select(Aliquot.id).where(Aliquot.specimen_id.in_(specimens))).all()
    lock_aliquots(session, ids)
    return open_aliquots(subject)


@dataclass(frozen=True)
class ConsentWithdrawal:
    subject: Subject
    aliquots_affected: int
    level: WithdrawalLevel = WithdrawalLevel.NO_FURTHER_USE


def withdraw_consent(
    session: Session,
    actor: Actor,
    *,
    study_code: str,
    withdrawn_at: datetime,
    reason: str,
    level: WithdrawalLevel = WithdrawalLevel.NO_FURTHER_USE,
) -> ConsentWithdrawal:
    """Record that a subject withdrew consent at a level. At "no further access" and "no further
    use" every aliquot of theirs is flagged from then on; "no further use" offers disposal."""
    actor.require(Role.TECHNICIAN)
    subject = subject_record(session, actor, study_code)
    subject = lock_subject(session, subject.id)
    earlier = [e for e in consent_events(session, subject) if e.kind is ConsentEventKind.WITHDREW]
    current = consent_state(earlier, subject, date.max).withdrawal
    if current is not None and current.rank >= level.rank:
        when = earlier[-1].occurred_on if earlier else subject.consent_withdrawn_at
        raise Conflict(
            f"{subject.study_code} already withdrew consent"
            + (f" on {when:%Y-%m-%d}" if when else "")
            + f" ({current.label})",
            field="study_code",
        )
    if not reason.strip():
        raise InvalidInput("Give the reason for the withdrawal", field="reason")
    zone = subject.site.time_zone  # a time without an offset is the subject's site's clock
    try:
        withdrawn_at = timezones.to_utc(withdrawn_at, zone)
    except timezones.WallClockError as err:
        raise InvalidInput(str(err), field="withdrawn_at") from None
    stops_use = level.rank >= WithdrawalLevel.NO_FURTHER_ACCESS.rank
    affected = _lock_what_consent_covers(session, subject) if stops_use else []
    before = subject.enrolment_status
    if level is WithdrawalLevel.NO_FURTHER_USE:  # Subject.has_consent follows this level only
        subject.enrolment_status = EnrolmentStatus.CONSENT_WITHDRAWN
        subject.consent_withdrawn_at = withdrawn_at
    session.add(
        ConsentEvent(
            subject=subject,
            kind=ConsentEventKind.WITHDREW,
            occurred_on=timezones.local_date(withdrawn_at, zone),  # the day at the site
            withdrawal_level=level,
            note=reason.strip(),
        )
    )
    audit.record(
        session,
        actor,
        Action.SUBJECT_CONSENT_WITHDRAWN,
        subject,
        before={"enrolment_status": before},
        reason=reason.strip(),
        level=level,
        enrolment_status=subject.enrolment_status,
        withdrawn_at=withdrawn_at,
        aliquots_affected=len(affected),
        aliquot_barcodes=[a.barcode for a in affected],
    )
    session.commit()
    return ConsentWithdrawal(subject, len(affected), level)
