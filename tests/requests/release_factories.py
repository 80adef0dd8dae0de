"""A request whose aliquots have shipped, with a cohort whose records hold every identifying
detail the data set must leave behind (study codes, a NINDS GUID, dates, site names, free text).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.auth.models import Site
from lims.auth.services import create_site
from lims.phenotype.models import BodyRegion, FindingKind, TreatmentKind
from lims.phenotype.services import (
    DiagnosisIn,
    FindingIn,
    ScaleIn,
    TreatmentIn,
    VisitPhenotype,
    record_visit_phenotype,
)
from lims.requests.models import SpecimenRequest
from lims.requests.services.fulfilment import confirm_pick, reserve_pick_list
from lims.requests.services.outbound import pack_request_shipment, ship_request
from lims.shipments.models import Shipment
from lims.specimens.consent_models import ConsentDocument
from lims.specimens.duo import DuoTerm
from lims.specimens.models import Aliquot, Dystonia, Sex, SpecimenType, Subject, TubeType
from lims.specimens.services import (
    PreAnalytics,
    accession_specimen,
    register_subject,
    set_ninds_guid,
)
from tests.factories import SYSTEM, make_box, make_site, make_visit
from tests.requests.workflow_factories import approved_request
from tests.shipments.factories import biorepository, institution
from tests.specimens.factories import give_consent, make_consent_form
from tests.storage.factories import stored

FIELDS = ["twstrs2_total", "twstrs_severity", "fh_dystonia", "dx_subtype", "dx_onset_age"]
FIELDS += ["weeks_since_toxin", "gen_result_thap1", "gen_result_other"]
CRITERIA: dict[str, Any] = {
    "purpose": {"term": "DS", "modifiers": ["NCU"]},
    "specimen_types": ["serum"],
}
SHIPPED_AT = datetime(2026, 3, 24, 14, 0, tzinfo=UTC)  # a Tuesday, after the last visit
# Planted in the records: none of it may reach a released cell.
NOTES = "Drawn by J. Smith at Rochester on 2026-01-12; patient anxious"
GUID = "NINDSAB123XYZ"


_codes = (f"{n:04d}" for n in itertools.count(9001))


@dataclass
class Shipped:
    request: SpecimenRequest
    shipment: Shipment
    tubes: list[Aliquot]
    subjects: list[Subject]


def _tube(
    session: Session,
    tech: Actor,
    subject: Subject,
    number: int,
    on: date,
    *,
    toxin: tuple[TreatmentIn, ...] = (),
    genetic: tuple[FindingIn, ...] = (),
) -> Aliquot:
    make_visit(session, subject, number, visit_on=on)
    specimen = accession_specimen(
        session,
        SYSTEM,
        study_code=subject.study_code,
        visit_number=number,
        specimen_type=SpecimenType.WHOLE_BLOOD,
        tube_type=TubeType.SST,
        pre=PreAnalytics(collected_at=datetime(on.year, on.month, on.day, 14, tzinfo=UTC)),
        volume_ml=6.0,
        notes=NOTES,
    )
    record_visit_phenotype(
        session,
        tech,
        study_code=subject.study_code,
        visit_number=number,
        phenotype=VisitPhenotype(
            diagnoses=(
                DiagnosisIn(subject.primary_diagnosis, (BodyRegion.NECK,), "torticollis", 47),
            ),
            scales=(ScaleIn("twstrs2", {}, Decimal(30 + number), rater="Dr. Jane Rater"),),
            findings=(FindingIn(FindingKind.FAMILY_HISTORY, "fh_dystonia", "Yes"), *genetic),
            treatments=toxin,
        ),
    )
    return stored(session, tech, box=make_box(session), specimen=specimen)


def cohort(session: Session, tech: Actor) -> tuple[list[Aliquot], list[Subject]]:
    """Three stored serum tubes: one subject at two visits (day 0 and day 65), one at one."""
    form = session.scalar(select(ConsentDocument).where(ConsentDocument.version == "1.0"))
    form = form or make_consent_form(session)
    make_site(session, "NA1")
    if session.scalar(select(Site).where(Site.code == "EU1")) is None:
        create_site(session, SYSTEM, code="EU1", name="Klinikum Beispielstadt", country="DE")
    first, second = (
        register_subject(
            session,
            SYSTEM,
            study_code=code,
            site_code=code[:3],
            sex=Sex.FEMALE,
            primary_diagnosis=Dystonia.CERVICAL,
            birth_year=born,
        )
        for code, born in ((f"NA1-{next(_codes)}", 1931), (f"EU1-{next(_codes)}", 1979))
    )
    for subject in (first, second):
        give_consent(session, subject, form, date(2026, 1, 5))
    set_ninds_guid(session, SYSTEM, study_code=first.study_code, ninds_guid=GUID)
    # Injections are reported at the visit after them: the first subject's second visit reports
    # one 14 days before the first visit and one 45 days before the second (6 whole weeks).
    toxin = tuple(
        TreatmentIn(TreatmentKind.BOTULINUM_TOXIN, "onabotulinumtoxinA", on, repeat_instance=n)
        for n, on in ((1, date(2025, 12, 29)), (2, date(2026, 2, 1)))
    )
    genetic = (
        FindingIn(FindingKind.GENETIC_TEST, "THAP1 (DYT6)", "No variant found"),
        FindingIn(FindingKind.GENETIC_TEST, "test #2", "Uncertain significance"),
    )
    tubes = [
        _tube(session, tech, first, 1, date(2026, 1, 12), genetic=genetic),
        _tube(session, tech, first, 2, date(2026, 3, 18), toxin=toxin),
        _tube(session, tech, second, 1, date(2026, 2, 2)),
    ]
    return tubes, [first, second]


def shipped_request(
    session: Session,
    *,
    investigator: Actor,
    reviewer: Actor,
    admin: Actor,
    tech: Actor,
    files_dir: Path,
    tubes: list[Aliquot] | None = None,
    fields: list[str] = FIELDS,
) -> Shipped:
    """A request approved, reserved, picked, packed and shipped through the services."""
    subjects: list[Subject] = []
    if tubes is None:
        tubes, subjects = cohort(session, tech)
    req = approved_request(
        session,
        investigator,
        reviewer,
        admin,
        files_dir,
        criteria=CRITERIA,
        purpose=DuoTerm.DS,
        purpose_modifiers=[DuoTerm.NCU],
        quantity_ul=200.0,
        allow_last_aliquot=True,  # one tube per visit in the cohort
        phenotype_fields=fields,
    )
    reserve_pick_list(session, tech, request=req.code, aliquot_ids=[t.id for t in tubes])
    for tube in tubes:
        confirm_pick(session, tech, request=req.code, barcode=tube.barcode, picked_at=SHIPPED_AT)
    biorepository(session)
    shipment = pack_request_shipment(
        session, tech, request=req.code, to_address_id=institution(session).id
    )
    ship_request(
        session,
        tech,
        request=req.code,
        courier="FedEx",
        tracking_number="7712",
        shipped_at=SHIPPED_AT,
        dry_ice_kg=5.0,
    )
    return Shipped(req, shipment, tubes, subjects)
