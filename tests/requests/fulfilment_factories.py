"""A small collection and an approved request to fulfil, reached through the services."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.requests.models import SpecimenRequest
from lims.specimens.consent_models import ConsentDocument
from lims.specimens.duo import DuoTerm
from lims.specimens.models import Aliquot, Visit
from lims.storage.models import Box
from lims.storage.services import check_in, check_out
from tests.requests.criteria_factories import stored, subject, visit
from tests.requests.workflow_factories import approved_request
from tests.specimens.factories import make_consent_form

# Serum for dystonia research, non-commercial: what every subject of the collection consented to.
CRITERIA: dict[str, Any] = {
    "purpose": {"term": "DS", "modifiers": ["NCU"]},
    "specimen_types": ["serum"],
}


@dataclass
class Collection:
    form: ConsentDocument
    visits: list[Visit]
    tubes: dict[int, list[Aliquot]]  # by visit id, in the order stored


def collection(
    session: Session, boxes: list[Box], tubes_per_visit: list[int], volume_ul: int = 250
) -> Collection:
    """One subject per entry, one visit each, with that many serum tubes stored; visit n's tubes
    go into boxes[n % len(boxes)]."""
    form = make_consent_form(session)
    visits, tubes = [], {}
    for n, count in enumerate(tubes_per_visit):
        at = visit(session, subject(session, form))
        visits.append(at)
        tubes[at.id] = stored(session, at, boxes[n % len(boxes)], count=count, volume_ul=volume_ul)
    return Collection(form, visits, tubes)


def thawed(session: Session, actor: Actor, tube: Aliquot, times: int = 1) -> None:
    """The tube went out thawed and came back `times` times: one freeze-thaw cycle each."""
    for _ in range(times):
        check_out(session, actor, barcode=tube.barcode)
        check_in(session, actor, barcode=tube.barcode)


def request_to_fulfil(
    session: Session,
    investigator: Actor,
    reviewer: Actor,
    admin: Actor,
    files_dir: Path,
    **values: Any,
) -> SpecimenRequest:
    fields: dict[str, Any] = {
        "criteria": CRITERIA,
        "purpose": DuoTerm.DS,
        "purpose_modifiers": [DuoTerm.NCU],
        "quantity_ul": 200.0,
    }
    return approved_request(session, investigator, reviewer, admin, files_dir, **(fields | values))
