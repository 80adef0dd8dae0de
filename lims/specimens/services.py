"""Subjects, visits, accessioning primary tubes and processing them into aliquots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lims import audit
from lims.audit.models import Action
from lims.auth.models import Actor, Role, Site
from lims.errors import Conflict, InvalidInput, NotFound
from lims.specimens import barcodes
from lims.specimens.models import (
    Aliquot,
    AliquotStatus,
    BarcodeCounter,
    Dystonia,
    Sex,
    Specimen,
    SpecimenType,
    Subject,
    Temperature,
    TubeType,
    Visit,
)

STAFF = (Role.TECHNICIAN, Role.REVIEWER)


def issue_serials(session: Session, name: str, count: int) -> range:
    """Reserve `count` consecutive serials; the row update serialises two benches."""
    if session.get(BarcodeCounter, name) is None:
        session.add(BarcodeCounter(name=name, next_value=1))
        session.flush()
    stmt = (
        update(BarcodeCounter)
        .where(BarcodeCounter.name == name)
        .values(next_value=BarcodeCounter.next_value + count)
        .returning(BarcodeCounter.next_value)
    )
    end = session.execute(stmt).scalar_one()
    return range(end - count, end)


def find_aliquot(session: Session, actor: Actor, barcode: str) -> Aliquot:
    """The aliquot with this scanned or typed barcode, refusing a wrong check digit."""
    actor.require(*STAFF)
    code = barcodes.normalise(barcode)
    if problem := barcodes.check_problem(code):
        raise InvalidInput(problem, field="barcode")
    aliquot = session.scalar(select(Aliquot).where(Aliquot.barcode == code))
    if aliquot is None:
        raise NotFound(f"No aliquot has barcode {code}", field="barcode")
    return aliquot


def register_subject(
    session: Session,
    actor: Actor,
    *,
    study_code: str,
    site_code: str,
    sex: Sex,
    primary_diagnosis: Dystonia,
    ninds_guid: str | None = None,
) -> Subject:
    """Enrol a participant under a study code (no names, record numbers or birth dates)."""
    actor.require(Role.TECHNICIAN)
    code = study_code.strip().upper()
    if session.scalar(select(Subject).where(Subject.study_code == code)):
        raise Conflict(f"Subject {code} is already registered", field="study_code")
    site = session.scalar(select(Site).where(Site.code == site_code.strip().upper()))
    if site is None:
        raise InvalidInput(f"Site {site_code} does not exist", field="site_code")
    subject = Subject(
        study_code=code,
        site=site,
        sex=sex,
        primary_diagnosis=primary_diagnosis,
        ninds_guid=ninds_guid or None,
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


def register_visit(
    session: Session, actor: Actor, *, study_code: str, visit_number: int, visit_on: date
) -> Visit:
    """Record a study visit at which specimens are collected."""
    actor.require(Role.TECHNICIAN)
    subject = get_subject(session, actor, study_code)
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


@dataclass(frozen=True)
class PreAnalytics:
    """What happened to a primary tube between the arm and the freezer (biospecimens.md §1)."""

    collected_at: datetime
    received_at: datetime | None = None
    processing_started_at: datetime | None = None
    pre_processing_temperature: Temperature | None = None
    centrifuge_g: int | None = None
    centrifuge_minutes: int | None = None
    centrifuge_temperature: Temperature | None = None
    centrifuge_braked: bool | None = None
    processed_at: datetime | None = None
    storage_temperature_c: int | None = None


def accession_specimen(
    session: Session,
    actor: Actor,
    *,
    visit_id: int,
    specimen_type: SpecimenType,
    tube_type: TubeType,
    pre: PreAnalytics,
    volume_ml: float | None = None,
    barcode: str | None = None,
) -> Specimen:
    """Register a primary tube collected at a visit, with its pre-analytical data."""
    actor.require(Role.TECHNICIAN)
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"Visit {visit_id} does not exist", field="visit_id")
    _check_times(pre)
    code = _take_barcode(session, barcode)
    specimen = Specimen(
        barcode=code,
        visit=visit,
        specimen_type=specimen_type,
        tube_type=tube_type,
        volume_ml=volume_ml,
        **vars(pre),
    )
    session.add(specimen)
    audit.record(
        session,
        actor,
        Action.SPECIMEN_ACCESSIONED,
        specimen,
        barcode=code,
        visit=visit.label,
        specimen_type=specimen_type,
        tube_type=tube_type,
        collected_at=pre.collected_at,
    )
    session.commit()
    return specimen


def _check_times(pre: PreAnalytics) -> None:
    for name in ("received_at", "processing_started_at", "processed_at"):
        value = getattr(pre, name)
        if value is not None and value < pre.collected_at:
            raise InvalidInput(
                f"{name} ({value:%Y-%m-%d %H:%M}) is before the collection time "
                f"({pre.collected_at:%Y-%m-%d %H:%M})",
                field=name,
            )


def _take_barcode(session: Session, barcode: str | None) -> str:
    """A pre-printed barcode as it is (after checks), or a newly issued one."""
    if barcode is None:
        return barcodes.aliquot_barcode(issue_serials(session, "aliquot", 1)[0])
    code = barcodes.normalise(barcode)
    if problem := barcodes.check_problem(code):
        raise InvalidInput(problem, field="barcode")
    taken = session.scalar(select(Aliquot.id).where(Aliquot.barcode == code)) or session.scalar(
        select(Specimen.id).where(Specimen.barcode == code)
    )
    if taken:
        raise Conflict(f"Barcode {code} is already in use", field="barcode")
    return code


def aliquot_specimen(
    session: Session,
    actor: Actor,
    *,
    specimen_id: int,
    specimen_type: SpecimenType,
    count: int,
    volume_ul: int,
    barcodes_given: list[str] | None = None,
    parent_barcode: str | None = None,
    concentration_ng_ul: float | None = None,
    a260_280: float | None = None,
) -> list[Aliquot]:
    """Split a primary tube (or a parent aliquot, e.g. DNA stock) into `count` aliquots."""
    actor.require(Role.TECHNICIAN)
    specimen = session.get(Specimen, specimen_id)
    if specimen is None:
        raise NotFound(f"Specimen {specimen_id} does not exist", field="specimen_id")
    if not specimen.visit.subject.has_consent:
        raise Conflict(
            f"{specimen.visit.subject.study_code} has withdrawn consent; "
            "no new aliquots may be made",
            field="specimen_id",
        )
    if not 1 <= count <= 100:
        raise InvalidInput(f"count must be 1 to 100, not {count}", field="count")
    if volume_ul <= 0:
        raise InvalidInput(f"volume_ul must be above 0, not {volume_ul}", field="volume_ul")
    parent = find_aliquot(session, actor, parent_barcode) if parent_barcode else None
    if barcodes_given is not None and len(barcodes_given) != count:
        raise InvalidInput(
            f"{len(barcodes_given)} barcodes given for {count} aliquots", field="barcodes"
        )
    codes = (
        [_take_barcode(session, c) for c in barcodes_given]
        if barcodes_given
        else [barcodes.aliquot_barcode(s) for s in issue_serials(session, "aliquot", count)]
    )
    made = [
        Aliquot(
            barcode=code,
            is_issued_barcode=barcodes_given is None,
            specimen=specimen,
            parent=parent,
            specimen_type=specimen_type,
            volume_ul=volume_ul,
            concentration_ng_ul=concentration_ng_ul,
            a260_280=a260_280,
            status=AliquotStatus.RECEIVED,
        )
        for code in codes
    ]
    session.add_all(made)
    for aliquot in made:
        audit.record(
            session,
            actor,
            Action.ALIQUOT_CREATED,
            aliquot,
            barcode=aliquot.barcode,
            specimen=specimen.barcode,
            parent=parent_barcode,
            specimen_type=specimen_type,
            volume_ul=volume_ul,
        )
    session.commit()
    return made
