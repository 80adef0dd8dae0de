"""A request whose aliquots have shipped, with a cohort whose records hold every identifying
detail the data set must leave behind (study codes, a NINDS GUID, dates, site names, free text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.auth.models import Site
from lims.auth.services import create_site
from lims.phenotype.models import BodyRegion, FindingKind
from lims.phenotype.services import (
    DiagnosisIn,
    FindingIn,
    ScaleIn,
    VisitPhenotype,
    record_visit_phenotype,
)
from lims.requests.models import ItemStatus, RequestItem, RequestState, SpecimenRequest
from lims.shipments.models import Shipment
from lims.specimens.consent_models import ConsentDocument
from lims.specimens.models import Aliquot, SpecimenType, Subject, TubeType
from lims.specimens.services import PreAnalytics, accession_specimen, set_ninds_guid
from tests.factories import SYSTEM, make_box, make_subject, make_visit
from tests.requests.workflow_factories import approved_request
from tests.shipments.factories import shipped_outbound
from tests.specimens.factories import give_consent, make_consent_form
from tests.storage.factories import stored

FIELDS = ["twstrs2_total", "twstrs_severity", "fh_dystonia", "dx_subtype", "dx_onset_age"]
ASKED = [*FIELDS, "voice_comment", "rater_name"]  # free text, and a field nobody offers
# Planted in the records: none of it may reach a released cell.
NOTES = "Drawn by J. Smith at Rochester on 2026-01-12; patient anxious"
GUID = "NINDSAB123XYZ"


@dataclass
class Shipped:
    request: SpecimenRequest
    shipment: Shipment
    tubes: list[Aliquot]
    subjects: list[Subject]


def _tube(session: Session, tech: Actor, subject: Subject, number: int, on: date) -> Aliquot:
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
            findings=(FindingIn(FindingKind.FAMILY_HISTORY, "fh_dystonia", "Yes"),),
        ),
    )
    return stored(session, tech, box=make_box(session), specimen=specimen)


def cohort(session: Session, tech: Actor) -> tuple[list[Aliquot], list[Subject]]:
    """Three stored serum tubes: one subject at two visits (day 0 and day 65), one at one."""
    form = session.scalar(select(ConsentDocument).where(ConsentDocument.version == "1.0"))
    form = form or make_consent_form(session)
    if session.scalar(select(Site).where(Site.code == "EU1")) is None:
        create_site(session, SYSTEM, code="EU1", name="Klinikum Beispielstadt", country="DE")
    first, second = make_subject(session, site="NA1"), make_subject(session, site="EU1")
    for subject in (first, second):
        give_consent(session, subject, form, date(2026, 1, 5))
    set_ninds_guid(session, SYSTEM, study_code=first.study_code, ninds_guid=GUID)
    tubes = [
        _tube(session, tech, first, 1, date(2026, 1, 12)),
        _tube(session, tech, first, 2, date(2026, 3, 18)),
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
    fields: list[str] = ASKED,
) -> Shipped:
    """A request approved through the services, then shipped with the cohort's tubes."""
    subjects: list[Subject] = []
    if tubes is None:
        tubes, subjects = cohort(session, tech)
    req = approved_request(
        session, investigator, reviewer, admin, files_dir, phenotype_fields=fields
    )
    shipment = shipped_outbound(session, tech, tubes)
    # TODO(#19): reserve, pick and ship through the fulfilment services once `pick` lands.
    req.items = [
        RequestItem(aliquot_id=a.id, status=ItemStatus.SHIPPED, open_aliquot_id=a.id) for a in tubes
    ]
    req.shipment_id, req.state = shipment.id, RequestState.SHIPPED
    session.flush()
    session.refresh(req)
    return Shipped(req, shipment, tubes, subjects)
