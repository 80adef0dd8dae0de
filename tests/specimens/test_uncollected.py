"""A planned tube that was not collected, or whose collection was missed, is recorded at
accession with why (issue #16); it never existed, so it has no barcode and no aliquots."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.services import events_for
from lims.errors import Forbidden, InvalidInput
from lims.specimens.models import CollectionOutcome, SpecimenType, TubeType
from lims.specimens.services import record_uncollected_tube
from tests.conftest import bearer, csrf_token, sign_in
from tests.factories import make_visit


def test_a_tube_not_collected_is_recorded_with_why_and_audited(
    session: Session, tech: Actor
) -> None:
    visit = make_visit(session)
    planned = record_uncollected_tube(
        session,
        tech,
        study_code=visit.subject.study_code,
        visit_number=visit.visit_number,
        specimen_type=SpecimenType.SERUM,
        tube_type=TubeType.SST,
        outcome=CollectionOutcome.NOT_COLLECTED,
        reason="difficult draw; second tube not filled",
    )
    assert visit.uncollected == [planned] and visit.specimens == []
    (event,) = events_for(session, planned)
    assert (event.action, event.reason) == (
        "uncollected_tube.recorded",
        "difficult draw; second tube not filled",
    )
    assert event.after is not None and event.after["outcome"] == "not_collected"


def test_a_missed_collection_needs_a_reason(session: Session, tech: Actor) -> None:
    visit = make_visit(session)
    with pytest.raises(InvalidInput, match="Say why the tube was missed"):
        record_uncollected_tube(
            session,
            tech,
            study_code=visit.subject.study_code,
            visit_number=visit.visit_number,
            specimen_type=SpecimenType.WHOLE_BLOOD,
            tube_type=TubeType.PED,
            outcome=CollectionOutcome.MISSED,
            reason="  ",
        )
    assert visit.uncollected == []


def test_a_reviewer_cannot_record_an_uncollected_tube(session: Session, reviewer: Actor) -> None:
    visit = make_visit(session)
    with pytest.raises(Forbidden):
        record_uncollected_tube(
            session,
            reviewer,
            study_code=visit.subject.study_code,
            visit_number=visit.visit_number,
            specimen_type=SpecimenType.WHOLE_BLOOD,
            tube_type=TubeType.PED,
            outcome=CollectionOutcome.MISSED,
            reason="participant did not come",
        )


def test_the_accession_page_records_it_and_the_subject_page_shows_it(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    visit = make_visit(session)
    code = visit.subject.study_code
    sign_in(client, "tech")
    page = f"/subjects/{code}/visits/{visit.visit_number}/accession"
    form = {"outcome": "missed", "tube_type": "PED", "specimen_type": "whole_blood"}
    token = csrf_token(client, page)
    refused = client.post(
        f"/subjects/{code}/visits/{visit.visit_number}/uncollected",
        data={**form, "reason": "", "csrf_token": token},
    )
    assert refused.status_code == 422 and visit.uncollected == []
    done = client.post(
        f"/subjects/{code}/visits/{visit.visit_number}/uncollected",
        data={**form, "reason": "participant did not come", "csrf_token": token},
    )
    assert done.status_code == 302
    html = client.get(f"/subjects/{code}").get_data(as_text=True)
    assert "missed" in html and "participant did not come" in html


def test_the_api_records_an_uncollected_tube(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    visit = make_visit(session)
    body = {
        "study_code": visit.subject.study_code,
        "visit_number": visit.visit_number,
        "specimen_type": "serum",
        "tube_type": "SST",
        "outcome": "not_collected",
        "reason": "tube broke before the draw",
    }
    response = client.post("/api/v1/uncollected-tubes", json=body, headers=bearer(client, "tech"))
    assert response.status_code == 201
    assert response.get_json()["outcome"] == "not_collected"
    visit_out = client.get(
        f"/api/v1/subjects/{visit.subject.study_code}", headers=bearer(client, "tech")
    ).get_json()
    assert visit_out["visits"][0]["uncollected"][0]["reason"] == "tube broke before the draw"
