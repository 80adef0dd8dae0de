"""Subjects with consent, visits, phenotype and stored tubes, for the criteria engine's tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from lims.phenotype.models import BodyRegion, TreatmentKind
from lims.phenotype.services import (
    DiagnosisIn,
    ScaleIn,
    TreatmentIn,
    VisitPhenotype,
    record_visit_phenotype,
)
from lims.specimens.consent_models import ConsentDocument
from lims.specimens.models import Aliquot, Dystonia, Sex, SpecimenType, Subject, TubeType, Visit
from lims.specimens.services import accession_specimen, register_subject, register_visit
from lims.storage.models import Box
from lims.storage.services import store_aliquot
from tests.factories import SYSTEM, make_aliquots, make_box, make_site
from tests.specimens.factories import give_consent, worked_example

ASKED_ON = date(2026, 6, 1)
HMB = {"term": "HMB"}
_seq = iter(range(1, 10**6))


def subject(
    session: Session,
    form: ConsentDocument,
    *,
    site: str = "NA1",
    diagnosis: Dystonia = Dystonia.CERVICAL,
    sex: Sex = Sex.FEMALE,
    birth_year: int | None = 1970,
    consented_on: date = date(2023, 1, 5),
    **answers: bool,
) -> Subject:
    """A registered subject who consented on `form` (yes to everything unless told)."""
    make_site(session, site)
    registered = register_subject(
        session,
        SYSTEM,
        study_code=f"{site}-{next(_seq):04d}",
        site_code=site,
        sex=sex,
        primary_diagnosis=diagnosis,
        birth_year=birth_year,
    )
    give_consent(session, registered, form, consented_on, **answers)
    return registered


def visit(session: Session, who: Subject, number: int = 1, on: date = date(2024, 3, 1)) -> Visit:
    return register_visit(
        session, SYSTEM, study_code=who.study_code, visit_number=number, visit_on=on
    )


def stored(
    session: Session,
    at: Visit,
    box: Box,
    *,
    count: int = 1,
    specimen_type: SpecimenType = SpecimenType.SERUM,
    volume_ul: int = 250,
    late: bool = False,
) -> list[Aliquot]:
    """Aliquots of a new tube drawn at the visit (9:00 UTC; SPREC SER-SST-A-B-N-B-A, or C
    for the pre-centrifugation delay when `late`), stored in the box."""
    drawn = datetime.combine(at.visit_on, time(9, 0), tzinfo=UTC)
    pre = worked_example(drawn)
    if late:  # 3 h before the spin instead of 45 min: element 3 is C, not A
        pre = replace(pre, processing_started_at=drawn + timedelta(hours=3),
                      processed_at=drawn + timedelta(hours=4))  # fmt: skip
    tube = accession_specimen(
        session,
        SYSTEM,
        study_code=at.subject.study_code,
        visit_number=at.visit_number,
        specimen_type=SpecimenType.WHOLE_BLOOD,
        tube_type=TubeType.SST,
        pre=pre,
        volume_ml=8.0,
        now=drawn + timedelta(days=1),
    )
    tubes = make_aliquots(
        session, count, specimen=tube, specimen_type=specimen_type, volume_ul=volume_ul
    )
    for tube in tubes:
        store_aliquot(session, SYSTEM, barcode=tube.barcode, box_id=box.id)
    return tubes


def phenotype(
    session: Session,
    at: Visit,
    *,
    dystonia: Dystonia = Dystonia.CERVICAL,
    regions: tuple[BodyRegion, ...] = (BodyRegion.NECK,),
    onset_age: int | None = None,
    scores: dict[str, float] | None = None,
    toxin_on: tuple[date, ...] = (),
) -> None:
    """Record a diagnosis, imported scale totals and toxin injections at the visit."""
    record_visit_phenotype(
        session,
        SYSTEM,
        study_code=at.subject.study_code,
        visit_number=at.visit_number,
        phenotype=VisitPhenotype(
            diagnoses=(DiagnosisIn(dystonia, regions, age_at_onset_years=onset_age),),
            scales=tuple(
                ScaleIn(scale_id, {}, imported_total=Decimal(str(total)))
                for scale_id, total in (scores or {}).items()
            ),
            treatments=tuple(
                TreatmentIn(
                    TreatmentKind.BOTULINUM_TOXIN, "onabotulinumtoxinA", given_on=day,
                    dose_units=Decimal(200), repeat_instance=n,
                )
                for n, day in enumerate(toxin_on, start=1)
            ),
        ),
    )  # fmt: skip


def a_box(session: Session) -> Box:
    return make_box(session, rows=10, cols=10)
