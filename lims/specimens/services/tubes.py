"""Accessioning: registering the primary tubes collected at a visit, with pre-analytics."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lims import audit
from lims.actors import STAFF, Actor, Role
from lims.audit.models import Action
from lims.auth import timezones
from lims.auth.models import Site
from lims.db import utcnow
from lims.errors import InvalidInput, NotFound, field_label
from lims.specimens import sprec
from lims.specimens.models import (
    Aliquot,
    CollectionOutcome,
    Specimen,
    SpecimenType,
    Temperature,
    TubeType,
    UncollectedTube,
)
from lims.specimens.quality import InterferenceGrade
from lims.specimens.services.common import (
    checked_code,
    lock_subject,
    require_consent,
    take_barcodes,
)
from lims.specimens.services.plausibility import DEFAULT_LIMITS, Limits, check_times
from lims.specimens.services.subjects import find_visit

# Bounds a typing slip would cross, not lab rules: ranges seen in SOPs are far inside them.
CENTRIFUGE_G_MAX = 100_000
CENTRIFUGE_MINUTES_MAX = 240
STORAGE_TEMPERATURE_RANGE_C = (-200, 8)
CLOTTING_MINUTES_MAX = 24 * 60


@dataclass(frozen=True)
class PreAnalytics:
    """What happened to a primary tube between the arm and the freezer: what SPREC codes
    (Betsou et al., "Standard PREanalytical Code Version 3.0", Biopreserv Biobank 2018;16(1))."""

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
    # Issue #16: element 5 and serum quality (hemolysis, lipemia, icterus; fasting; clotting).
    is_second_spun: bool | None = None
    hemolysis: InterferenceGrade | None = None
    lipemia: InterferenceGrade | None = None
    icterus: InterferenceGrade | None = None
    is_fasting: bool | None = None
    clotting_minutes: int | None = None

    def as_columns(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# Read on the processing lab's clock; the collection is read on the collecting site's.
PROCESSING_TIMES = ("received_at", "processing_started_at", "processed_at")


def in_utc(
    pre: PreAnalytics, *, collection_zone: str, processing_zone: str
) -> tuple[PreAnalytics, list[tuple[str, str]]]:
    """The times as UTC instants, and (field, message) for each wall-clock time that names no
    instant or two (a daylight-saving change); with problems, do not use the times returned."""
    instants: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for name in ("collected_at", *PROCESSING_TIMES):
        if (value := getattr(pre, name)) is None:
            continue
        zone = collection_zone if name == "collected_at" else processing_zone
        try:
            instants[name] = timezones.to_utc(value, zone)
        except timezones.WallClockError as err:
            problems.append((name, str(err)))
    return replace(pre, **instants), problems


def processing_site(session: Session, actor: Actor) -> Site | None:
    """The processing lab: the site of the technician who records the tube; None (the
    collecting site) for an account with no site, such as an administrator's."""
    return session.get(Site, actor.site_id) if actor.site_id is not None else None


def accession_specimen(
    session: Session,
    actor: Actor,
    *,
    study_code: str,
    visit_number: int,
    specimen_type: SpecimenType,
    tube_type: TubeType,
    pre: PreAnalytics,
    volume_ml: float | None = None,
    barcode: str | None = None,
    notes: str | None = None,
    now: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Specimen:
    """Register a primary tube collected at a visit, with its pre-analytical data and SPREC."""
    actor.require(Role.TECHNICIAN)
    visit = find_visit(session, actor, study_code=study_code, visit_number=visit_number)
    require_consent(lock_subject(session, visit.subject_id), "accessioning a tube")
    lab = processing_site(session, actor)
    site = visit.subject.site
    pre, problems = in_utc(
        pre, collection_zone=site.time_zone, processing_zone=(lab or site).time_zone
    )
    _refuse(problems)
    check_pre_analytics(pre)
    check_times(pre.as_columns(), visit_on=visit.visit_on, now=now or utcnow(), limits=limits)
    if volume_ml is not None and volume_ml <= 0:
        raise InvalidInput(
            f"{field_label('volume_ml')} must be above 0, not {volume_ml}", field="volume_ml"
        )
    (code,) = take_barcodes(session, [barcode] if barcode else None, 1, field="barcode")
    specimen = Specimen(
        barcode=code,
        visit=visit,
        specimen_type=specimen_type,
        tube_type=tube_type,
        volume_ml=volume_ml,
        sprec_code=sprec.tube_code(pre, tube_type),
        sprec_version=sprec.FLUID_VERSION,
        notes=(notes or "").strip() or None,
        processing_site=lab,
        **pre.as_columns(),
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
        volume_ml=volume_ml,
        sprec_code=specimen.sprec_code,
        sprec_version=sprec.FLUID_VERSION,
        processing_site=lab.code if lab else None,
        notes=specimen.notes,
        **pre.as_columns(),
    )
    session.commit()
    return specimen


def record_uncollected_tube(
    session: Session,
    actor: Actor,
    *,
    study_code: str,
    visit_number: int,
    specimen_type: SpecimenType,
    tube_type: TubeType,
    outcome: CollectionOutcome,
    reason: str | None,
) -> UncollectedTube:
    """Record that a tube the visit called for was not collected, or was missed, and why.

    It is not a tube: no barcode, nothing to store, so no consent check (it records that
    nothing was taken). The reason is required: "not collected" without why helps no one."""
    actor.require(Role.TECHNICIAN)
    why = (reason or "").strip()
    if not why:
        raise InvalidInput(f"Say why the tube was {outcome.label}", field="reason")
    visit = find_visit(session, actor, study_code=study_code, visit_number=visit_number)
    planned = UncollectedTube(
        visit=visit,
        specimen_type=specimen_type,
        tube_type=tube_type,
        outcome=outcome,
        reason=why,
    )
    session.add(planned)
    session.flush()
    audit.record(
        session,
        actor,
        Action.TUBE_NOT_COLLECTED,
        planned,
        reason=why,
        visit=visit.label,
        outcome=outcome,
        specimen_type=specimen_type,
        tube_type=tube_type,
    )
    session.commit()
    return planned


def pre_analytics_problems(pre: PreAnalytics) -> list[tuple[str, str]]:
    """(field, message) for each recorded value that cannot be right."""
    problems: list[tuple[str, str]] = []
    for name in ("received_at", "processing_started_at", "processed_at"):
        value = getattr(pre, name)
        if value is not None and value < pre.collected_at:
            problems.append(
                (
                    name,
                    f"{name} ({value:%Y-%m-%d %H:%M} UTC) is before the collection time "
                    f"({pre.collected_at:%Y-%m-%d %H:%M} UTC)",
                )
            )
    started, done = pre.processing_started_at, pre.processed_at
    if started is not None and done is not None and done < started:
        problems.append(
            (
                "processed_at",
                f"processed_at ({done:%Y-%m-%d %H:%M} UTC) is before processing started",
            )
        )
    if pre.centrifuge_g is not None and not 0 < pre.centrifuge_g <= CENTRIFUGE_G_MAX:
        problems.append(("centrifuge_g", f"{pre.centrifuge_g} g is not a centrifugal force"))
    minutes = pre.centrifuge_minutes
    if minutes is not None and not 0 < minutes <= CENTRIFUGE_MINUTES_MAX:
        problems.append(("centrifuge_minutes", f"{minutes} min is not a centrifugation time"))
    clotting = pre.clotting_minutes
    if clotting is not None and not 0 <= clotting <= CLOTTING_MINUTES_MAX:
        problems.append(("clotting_minutes", f"{clotting} min is not a clotting time"))
    low, high = STORAGE_TEMPERATURE_RANGE_C
    storage = pre.storage_temperature_c
    if storage is not None and not low <= storage <= high:
        problems.append(
            (
                "storage_temperature_c",
                f"{storage} °C is not a storage temperature ({low} to {high})",
            )
        )
    return problems


def check_pre_analytics(pre: PreAnalytics) -> None:
    _refuse(pre_analytics_problems(pre))


def _refuse(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise InvalidInput(
            "; ".join(m for _, m in problems),
            errors=[{"field": f, "message": m} for f, m in problems],
        )


def get_specimen(session: Session, actor: Actor, barcode: str) -> Specimen:
    """A primary tube by its scanned barcode, with its aliquots."""
    actor.require(*STAFF)
    code = checked_code(barcode)
    specimen = session.scalar(
        select(Specimen)
        .where(Specimen.barcode == code)
        .options(selectinload(Specimen.aliquots).selectinload(Aliquot.children))
    )
    if specimen is None:
        raise NotFound(f"No primary tube has barcode {code}", field="barcode")
    return specimen
